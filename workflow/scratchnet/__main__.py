import sys

from scratchnet.worker import run_in_worker

code = run_in_worker(sys.argv[1:])
if code is None:
    from scratchnet.cli import main

    code = main()
raise SystemExit(code)
