"""The warm worker: jobs forked from it behave exactly like jobs run on their own, it
serves only its own package and environment, and it never outlives the Snakemake run
that started it, nor leaves its folder behind, however that run ends."""

import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from conftest import REPO, Project, tiny_config, write_tiny_idx
from scratchnet import worker as worker_module

RUN = "results/default"
FORKED = re.compile(r"forked from worker (\d+) as process (\d+)")
LONGER = ("epochs=12", "iters_per_epoch=400")  # a run long enough for the worker to be used
pytestmark = pytest.mark.skipif(not worker_module.SUPPORTED, reason="the worker is Linux only")


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Project:
    base = tmp_path_factory.mktemp("worker")
    digests = write_tiny_idx(base / "mirror")
    project = Project(base / "work", tiny_config(base / "mirror", digests, epochs=2))
    project.run()
    return project


class Worker:
    """`python -m scratchnet serve` in a fresh folder, watching a pipe this test holds."""

    def __init__(self, folder: Path, env: dict | None = None):
        self.socket = str(folder / "worker" / "socket")
        self.log = folder / "worker.log"
        watched, self.held = os.pipe()
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "scratchnet",
                    "serve",
                    "--socket",
                    self.socket,
                    "--watch-fd",
                    str(watched),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                pass_fds=[watched],
            )
        os.close(watched)
        deadline = time.monotonic() + 60
        while not os.path.exists(self.socket) and time.monotonic() < deadline:
            assert self.process.poll() is None, self.log.read_text()
            time.sleep(0.05)

    def stop(self) -> None:
        os.close(self.held)
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
    return [
        "evaluate",
        f"{RUN}/checkpoints/epoch_002.npz",
        "--pixels",
        f"{data}/evaluation_pixels.npy",
        "--index",
        f"{data}/evaluation_index.npz",
        "--out",
        out,
    ]


def test_a_forked_job_writes_the_same_bytes_as_a_job_on_its_own(built, worker):
    served = scratchnet(built, *evaluate_args("served.json"), worker=worker.socket)
    alone = scratchnet(built, *evaluate_args("alone.json"))
    assert served.returncode == 0 and alone.returncode == 0, served.stderr + alone.stderr
    assert FORKED.search(served.stderr) and not FORKED.search(alone.stderr)
    assert int(FORKED.search(served.stderr).group(1)) == worker.process.pid
    assert built.path("served.json").read_bytes() == built.path("alone.json").read_bytes()


def test_errors_keep_their_message_and_exit_code(built, worker):
    args = evaluate_args("x.json")
    missing = scratchnet(built, args[0], "nowhere.npz", *args[2:], worker=worker.socket)
    assert missing.returncode == 1
    assert FORKED.search(missing.stderr) and "nowhere.npz" in missing.stderr
    usage = scratchnet(built, "evaluate", worker=worker.socket)
    assert usage.returncode == 2 and "the following arguments are required" in usage.stderr


def test_without_a_worker_the_job_runs_on_its_own(built, tmp_path):
    result = scratchnet(built, *evaluate_args("x.json"), worker=str(tmp_path / "no-socket"))
    assert result.returncode == 0 and not FORKED.search(result.stderr)


def copied_package(folder: Path) -> dict:
    """An environment that imports a copy of the package from ``folder``."""
    shutil.copytree(REPO / "workflow" / "scratchnet", folder / "scratchnet")
    return {**os.environ, "PYTHONPATH": str(folder)}


def test_changed_package_files_make_the_worker_refuse(built, tmp_path):
    env = copied_package(tmp_path / "package")
    started = Worker(tmp_path, env)
    try:
        args = evaluate_args("x.json")
        assert FORKED.search(scratchnet(built, *args, worker=started.socket, env=env).stderr)
        os.utime(tmp_path / "package" / "scratchnet" / "net.py")  # edited while it runs
        after = scratchnet(built, *args, worker=started.socket, env=env)
        assert after.returncode == 0 and not FORKED.search(after.stderr)
        assert "package files changed" in started.log.read_text()
    finally:
        started.stop()


def test_a_caller_running_another_copy_of_the_package_is_refused(built, worker, tmp_path):
    env = copied_package(tmp_path / "clone")  # a second clone sharing the environment
    result = scratchnet(built, *evaluate_args("x.json"), worker=worker.socket, env=env)
    assert result.returncode == 0 and not FORKED.search(result.stderr)
    assert "caller runs the package in" in worker.log.read_text()


def slow_epoch(project: Project, worker: Worker) -> tuple[subprocess.Popen, int]:
    """A numerical-gradient epoch (minutes) through the worker; the caller and the job's pid."""
    data = "results/data/tiny"
    caller = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scratchnet",
            "train",
            "--previous",
            f"{RUN}/checkpoints/epoch_002.npz",
            "--pixels",
            f"{data}/pixels.npy",
            "--labels",
            f"{data}/labels.npz",
            "--checkpoints",
            "slow.npz",
            "--timing",
            "slow.json",
            "--num-classes",
            "10",
            "--hidden-size",
            "10",
            "--weight-init-std",
            "0.1",
            "--seed",
            "0",
            "--dtype",
            "float32",
            "--learning-rate",
            "2.0",
            "--batch-size",
            "20",
            "--iters-per-epoch",
            "100000",
            "--sampling",
            "replacement",
            "--gradient",
            "numerical",
        ],
        cwd=project.root,
        env={**os.environ, "SCRATCHNET_WORKER": worker.socket},
        stderr=subprocess.PIPE,
        text=True,
    )
    match = FORKED.search(caller.stderr.readline())
    assert match, "the job did not go through the worker"
    return caller, int(match.group(2))


def gone(pid: int, within: float = 10.0) -> bool:
    deadline = time.monotonic() + within
    while Path(f"/proc/{pid}").exists() and not is_zombie(pid):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def is_zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1].startswith("Z")
    except (FileNotFoundError, IndexError):
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


def test_the_worker_ends_and_removes_its_folder_when_the_pipe_closes(tmp_path):
    started = Worker(tmp_path)
    folder = Path(started.socket).parent
    assert folder.is_dir() and oct(folder.stat().st_mode & 0o777) == "0o700"
    os.close(started.held)  # as when Snakemake ends, however it ends
    assert started.process.wait(timeout=10) == 0
    assert not folder.exists()


def test_the_worker_refuses_a_folder_that_already_exists(tmp_path):
    (tmp_path / "worker").mkdir()  # someone else's
    watched, held = os.pipe()
    process = subprocess.run(
        [
            sys.executable,
            "-m",
            "scratchnet",
            "serve",
            "--socket",
            str(tmp_path / "worker" / "socket"),
            "--watch-fd",
            str(watched),
        ],
        pass_fds=[watched],
        capture_output=True,
        text=True,
        timeout=60,
    )
    os.close(held)
    assert process.returncode != 0 and "Traceback" not in process.stderr
    assert (tmp_path / "worker").exists() and not (tmp_path / "worker" / "socket").exists()


def forked_jobs(project: Project, since: float) -> dict[str, int]:
    """Log -> pid of the worker that forked the job, for the jobs written since ``since``
    that went through one."""
    logs = {
        str(log): FORKED.search(log.read_text())
        for log in project.path("results").rglob("*.log")
        if log.stat().st_mtime >= since
    }
    return {name: int(match.group(1)) for name, match in logs.items() if match}


def test_snakemake_starts_the_worker_and_stops_it_at_the_end(built):
    # the whole run again, longer (the worker needs a moment to load NumPy and the rest)
    start = time.time()
    built.run("--forcerun", "prepare", "--config", *LONGER)
    workers = set(forked_jobs(built, start).values())
    assert workers, "no job went through the worker"
    assert all(gone(pid, within=0) for pid in workers)  # stopped before Snakemake returned
    worker_log = built.path(".snakemake/log/scratchnet-worker.log").read_text()
    socket = re.findall(r"serving on (\S+)", worker_log)[-1]
    assert not Path(socket).parent.exists()
    assert re.findall(r"stopped after (\d+) jobs", worker_log)[-1] != "0"


def test_switched_off_every_job_runs_on_its_own(built):
    env = {**os.environ, "SCRATCHNET_WORKER": "off"}
    start = time.time()
    result = subprocess.run(
        built.command("--cores", "2", "--forcerun", "prepare", "--config", *LONGER),
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stderr
    assert forked_jobs(built, start) == {}


def worker_processes() -> set[int]:
    """Processes running `scratchnet serve` (the worker and the jobs it forked)."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and not is_zombie(int(entry.name)):
            try:
                command = (entry / "cmdline").read_bytes().split(b"\0")
            except OSError:
                continue
            if b"serve" in command and b"scratchnet" in command:
                found.add(int(entry.name))
    return found


def worker_folders() -> set[str]:
    return set(glob.glob(os.path.join(tempfile.gettempdir(), "scratchnet-worker-*")))


@pytest.mark.parametrize("after", [0.1, 0.4, 0.8, 1.5, 3.0])
def test_killing_snakemake_at_any_moment_leaves_no_worker_and_no_folder(tmp_path, after):
    digests = write_tiny_idx(tmp_path / "mirror")
    project = Project(tmp_path / "work", tiny_config(tmp_path / "mirror", digests, epochs=3))
    processes, folders = worker_processes(), worker_folders()
    snakemake = subprocess.Popen(
        project.command("--cores", "2"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    time.sleep(after)
    snakemake.kill()  # SIGKILL: no hook of Snakemake runs
    snakemake.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (
        worker_processes() - processes or worker_folders() - folders
    ):
        time.sleep(0.1)
    assert worker_processes() - processes == set()
    assert worker_folders() - folders == set()


def test_importing_the_package_needs_no_fork_and_no_unix_sockets():
    code = (
        "import os, socket, sys; del os.fork; del socket.AF_UNIX; sys.platform = 'win32';"
        "import scratchnet.worker as w; import scratchnet.cli;"
        "assert w.run_in_worker(['evaluate']) is None; print('ok')"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "SCRATCHNET_WORKER": "/nowhere"},
    )
    assert result.stdout.strip() == "ok", result.stderr


def test_a_client_sending_slowly_cannot_hold_the_worker(built, worker):
    import socket
    import threading

    slow = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    slow.connect(worker.socket)
    socket.send_fds(slow, [b"R"], [0, 1, 2])
    stop = threading.Event()

    def drip():  # a byte every second: each receive alone would never time out
        while not stop.wait(1.0):
            try:
                slow.sendall(b"\0")
            except OSError:
                return

    threading.Thread(target=drip, daemon=True).start()
    try:
        served = scratchnet(built, *evaluate_args("served.json"), worker=worker.socket)
    finally:
        stop.set()
        slow.close()
    assert served.returncode == 0, served.stderr
    assert FORKED.search(served.stderr)  # served by the worker once the slow one was dropped
    assert "dropped a request: TimeoutError" in worker.log.read_text()
