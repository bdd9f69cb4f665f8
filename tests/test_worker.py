"""The warm worker (README "Performance"): jobs forked from it behave exactly like jobs
run on their own, and it never outlives the Snakemake run that started it."""

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, Project, tiny_config, write_tiny_idx

RUN = "results/default"
FORKED = re.compile(r"forked from worker (\d+) as process (\d+)")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Project:
    base = tmp_path_factory.mktemp("worker")
    digests = write_tiny_idx(base / "mirror")
    project = Project(base / "work", tiny_config(base / "mirror", digests, epochs=2))
    project.run()
    return project


class Worker:
    """`python -m scratchnet serve` on a socket in a private temporary folder."""

    def __init__(self, folder: Path, env: dict | None = None):
        self.socket = str(folder / "socket")
        self.log = folder / "worker.log"
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "scratchnet", "serve", "--socket", self.socket],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
            )
        deadline = time.monotonic() + 60
        while not os.path.exists(self.socket) and time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.05)
        time.sleep(0.05)  # bound, then listening

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


@pytest.fixture
def worker(tmp_path):
    started = Worker(tmp_path)
    yield started
    started.stop()


def scratchnet(project: Project, *args: str, worker: str = "off", env: dict | None = None):
    return subprocess.run(
        [sys.executable, "-m", "scratchnet", *args],
        cwd=project.root,
        env={**(env or os.environ), "SCRATCHNET_WORKER": worker},
        capture_output=True,
        text=True,
        timeout=120,
    )


def evaluate_args(out: str) -> list[str]:
    data = "results/data/tiny"
    return ["evaluate", f"{RUN}/checkpoints/epoch_002.npz", "--pixels",
            f"{data}/evaluation_pixels.npy", "--index", f"{data}/evaluation_index.npz",
            "--out", out]  # fmt: skip


def test_a_forked_job_writes_the_same_bytes_as_a_job_on_its_own(built, worker):
    served = scratchnet(built, *evaluate_args("served.json"), worker=worker.socket)
    alone = scratchnet(built, *evaluate_args("alone.json"))
    assert served.returncode == 0 and alone.returncode == 0, served.stderr + alone.stderr
    assert FORKED.search(served.stderr) and not FORKED.search(alone.stderr)
    assert int(FORKED.search(served.stderr).group(1)) == worker.process.pid
    assert built.path("served.json").read_bytes() == built.path("alone.json").read_bytes()


def test_errors_keep_their_message_and_exit_code(built, worker):
    missing = scratchnet(built, *evaluate_args("x.json")[:1], "nowhere.npz",
                         *evaluate_args("x.json")[2:], worker=worker.socket)  # fmt: skip
    assert missing.returncode == 1
    assert FORKED.search(missing.stderr) and "nowhere.npz" in missing.stderr
    usage = scratchnet(built, "evaluate", worker=worker.socket)
    assert usage.returncode == 2 and "the following arguments are required" in usage.stderr


def test_without_a_worker_the_job_runs_on_its_own(built, tmp_path):
    result = scratchnet(built, *evaluate_args("x.json"), worker=str(tmp_path / "no-socket"))
    assert result.returncode == 0 and not FORKED.search(result.stderr)


def test_changed_package_files_make_the_worker_refuse(built, tmp_path):
    copy = tmp_path / "package"
    shutil.copytree(REPO / "workflow" / "scratchnet", copy / "scratchnet")
    env = {**os.environ, "PYTHONPATH": str(copy)}
    started = Worker(tmp_path, env)
    try:
        args = evaluate_args("x.json")
        assert FORKED.search(scratchnet(built, *args, worker=started.socket, env=env).stderr)
        os.utime(copy / "scratchnet" / "net.py")  # edited while the worker runs
        after = scratchnet(built, *args, worker=started.socket, env=env)
        assert after.returncode == 0 and not FORKED.search(after.stderr)
        assert "package files changed" in started.log.read_text()
    finally:
        started.stop()


def slow_epoch(project: Project, worker: Worker) -> tuple[subprocess.Popen, int]:
    """A numerical-gradient epoch (minutes) through the worker; the caller and the job's pid."""
    data = "results/data/tiny"
    caller = subprocess.Popen(
        [sys.executable, "-m", "scratchnet", "train-epoch", f"{RUN}/checkpoints/epoch_000.npz",
         "--pixels", f"{data}/pixels.npy", "--labels", f"{data}/labels.npz", "--out", "slow.npz",
         "--losses", "slow.csv", "--gradient", "numerical", "--iters-per-epoch", "100000",
         "--hidden-size", "10", "--weight-init-std", "0.1"],
        cwd=project.root,
        env={**os.environ, "SCRATCHNET_WORKER": worker.socket},
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    match = FORKED.search(caller.stderr.readline())
    assert match, "the job did not go through the worker"
    return caller, int(match.group(2))


def gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while Path(f"/proc/{pid}").exists():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def test_cancelling_the_job_stops_the_forked_process(built, worker):
    caller, job = slow_epoch(built, worker)
    caller.send_signal(signal.SIGTERM)  # how Snakemake cancels a running job
    assert caller.wait(timeout=30) != 0
    assert gone(job)
    assert not built.path("slow.npz").exists()


def test_a_killed_caller_takes_its_job_along(built, worker):
    caller, job = slow_epoch(built, worker)
    caller.kill()  # kill -9: nothing is forwarded, the job notices its caller is gone
    caller.wait(timeout=30)
    assert gone(job)
    assert worker.process.poll() is None  # the worker itself serves on


def forked_jobs(project: Project) -> dict[str, int]:
    """Log name -> pid of the worker that forked the job, for the jobs that went through one."""
    logs = {log.name: FORKED.search(log.read_text()) for log in project.path(RUN).rglob("*.log")}
    return {name: int(match.group(1)) for name, match in logs.items() if match}


def test_snakemake_starts_the_worker_and_stops_it_at_the_end(built):
    built.run("--forcerun", "init_network")  # the whole run again: 14 jobs
    workers = set(forked_jobs(built).values())
    assert workers, "no job went through the worker"
    assert all(gone(pid, within=0) for pid in workers)  # stopped before Snakemake returned
    worker_log = built.path(".snakemake/log/scratchnet-worker.log").read_text()
    socket = re.findall(r"serving on (\S+)", worker_log)[-1]
    assert not Path(socket).parent.exists()
    assert re.findall(r"stopped after (\d+) jobs", worker_log)[-1] != "0"


def test_switched_off_every_job_runs_on_its_own(built):
    env = {**os.environ, "SCRATCHNET_WORKER": "off"}
    result = subprocess.run(
        built.command("--cores", "2", "--forcerun", "init_network"),
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert forked_jobs(built) == {}  # every job of the run wrote a new log
