from scratchnet.cli import main

raise SystemExit(main())
