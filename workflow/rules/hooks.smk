# Hooks around a run: the warm worker, and a quick exit.
#
# The warm worker (README "Performance"): while Snakemake runs jobs, one process with
# NumPy and the package loaded forks each `python -m scratchnet` job, which saves
# ~0.15 s of start-up per job. Jobs run on their own when it is absent or refuses;
# SCRATCHNET_WORKER=off turns it off.
import shutil
import subprocess
import tempfile
import threading

WORKER = {}
# An optional switch, so not an `envvars:` entry (that would make it required).
WORKER_VARIABLE = "SCRATCHNET_WORKER"


def start_worker():
    if os.environ.get(WORKER_VARIABLE) == "off":
        return
    directory = tempfile.mkdtemp(prefix="scratchnet-worker-")  # private: mode 0700
    socket_path = os.path.join(directory, "socket")
    os.makedirs(".snakemake/log", exist_ok=True)
    with open(".snakemake/log/scratchnet-worker.log", "ab") as log:
        WORKER["process"] = subprocess.Popen(
            [sys.executable, "-m", "scratchnet", "serve", "--socket", socket_path],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches the jobs, not the worker
        )
    WORKER["directory"] = directory
    # the jobs inherit Snakemake's environment
    os.environ[WORKER_VARIABLE] = socket_path


def stop_worker():
    if "process" in WORKER:
        WORKER["process"].terminate()
        WORKER["process"].wait(timeout=10)
        shutil.rmtree(WORKER.pop("directory"), ignore_errors=True)
        os.environ.pop(WORKER_VARIABLE, None)
        del WORKER["process"]


onstart:
    start_worker()


def cancel_pending_timers():
    """Snakemake's job rate limiter leaves a threading.Timer after each scheduling round
    (1 s by default, 10 s in our profile), and Python waits for them before exiting:
    ~0.6 s after the last job by default. The run is over when onsuccess/onerror fire,
    so those timers have nothing left to do."""
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()


onsuccess:
    stop_worker()
    cancel_pending_timers()


onerror:
    stop_worker()
    cancel_pending_timers()
