# Around a run that executes jobs (not a dry run): folders it cannot write named first, the
# warm worker while jobs run, and the results in the terminal at the end.
#
# The warm worker (workflow/scratchnet/worker.py): one process with NumPy, pandas and
# matplotlib loaded forks each `python -m scratchnet` job, instead of each job starting
# Python and importing them. Jobs run on their own when it is absent or refuses;
# SCRATCHNET_WORKER=off turns it off. It holds the read end of a pipe whose write end only
# this Snakemake process holds, and ends when that closes: it cannot outlive Snakemake.
import os
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from scratchnet import atomic, errors

WORKER = {}
# An optional switch, so not an `envvars:` entry (that would make it required).
WORKER_VARIABLE = "SCRATCHNET_WORKER"
WORKER_LOG = ".snakemake/log/scratchnet-worker.log"


def start_worker():
    from scratchnet.worker import SUPPORTED

    if os.environ.get(WORKER_VARIABLE) == "off" or not SUPPORTED:
        return
    # the worker creates this folder itself (mode 0700) and removes it when it ends
    folder = Path(tempfile.gettempdir()) / f"scratchnet-worker-{secrets.token_hex(8)}"
    socket_path = str(folder / "socket")
    watched, held = os.pipe()  # both ends close on exec: no job inherits them
    os.makedirs(Path(WORKER_LOG).parent, exist_ok=True)
    environment = {
        **os.environ,
        "PYTHONPATH": str(CODE_DIR),
    }  # as every job (common.smk)
    with open(WORKER_LOG, "ab") as log:
        WORKER["process"] = subprocess.Popen(
            [sys.executable, "-m", "scratchnet", "serve", "--socket", socket_path,
             "--watch-fd", str(watched)],
            env=environment,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=[watched],
            start_new_session=True,  # Ctrl-C reaches the jobs, not the worker
        )  # fmt: skip
    os.close(watched)
    WORKER["held"] = held
    # the jobs inherit Snakemake's environment
    os.environ[WORKER_VARIABLE] = socket_path


def stop_worker():
    if "process" in WORKER:
        # end of file for the worker: it removes its folder
        os.close(WORKER.pop("held"))
        WORKER.pop("process").wait(timeout=30)
        os.environ.pop(WORKER_VARIABLE, None)


def print_results():
    """Each run's final and best test accuracy, best first (scratchnet show has more)."""
    from scratchnet.show import NothingToShow, brief

    try:
        print(brief(Path("results")), file=sys.stderr)
    except NothingToShow:
        pass  # a run of only some targets: nothing summarised yet


def require_writable():
    """Name a folder the jobs cannot write to before any job runs (not a traceback from
    the first job that tries)."""
    runs = (layout.run_folder(run) for run in RUNS)
    path = atomic.unwritable([layout.RESULTS, DATA.folder, *runs])
    if path:
        raise WorkflowError(
            f"{path}: not writable, and the workflow writes there; {errors.WRITABLE_FIX}"
        )


def remove_stale_temporaries():
    """Temporary files that killed jobs left (each job's own are removed as it ends)."""
    removed = atomic.remove_stale_temporaries(layout.RESULTS)
    if removed:
        print(
            f"removed {len(removed)} temporary file(s) of ended jobs", file=sys.stderr
        )


def print_causes(logs):
    """At the end of a failed call, each failed job's one-line cause, where a user looks
    (``logs``: Snakemake's log files of the call)."""
    from scratchnet.show import failed_causes

    causes = [cause for log in logs or [] for cause in failed_causes(Path(log))]
    if causes:
        print(
            "Why the jobs failed (each job's log):", *causes, sep="\n", file=sys.stderr
        )


onstart:
    require_writable()
    remove_stale_temporaries()
    start_worker()


onsuccess:
    stop_worker()
    print_results()


onerror:
    stop_worker()
    print_causes(log)
