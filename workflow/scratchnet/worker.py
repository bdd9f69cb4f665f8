"""A warm worker: one process with NumPy, pandas and matplotlib loaded forks each job.

Starting Python and importing those libraries costs about as much as a small job's own
work, and a sweep runs many jobs. While Snakemake runs, it keeps a ``serve`` process
(started by the workflow's ``onstart``) that has imported everything the commands need.
``python -m scratchnet <command>`` first asks it over a Unix socket: the worker forks,
the child takes the caller's stdin/stdout/stderr, working directory, environment and
umask, runs the same ``cli.main`` and reports its exit code. The caller forwards SIGINT,
SIGTERM and SIGHUP to the child, so cancelling a job stops it, and the child ends when
its caller does.

The job then runs exactly the code it would run on its own, in a process of its own,
so outputs are byte-identical. Whenever the worker cannot serve (no socket yet, a SLURM
job, another Python environment or package, package files changed since the worker
started, or a platform without fork and Unix sockets) the command simply runs in its own
process as before. It is switched on for Linux only: on macOS, forking a process that has
loaded the system's BLAS is not safe.

The worker never outlives the Snakemake that started it: it holds the read end of a pipe
whose write end only Snakemake holds, and ends (removing its folder) as soon as that
pipe reports end of file, however Snakemake ended.
"""

import marshal  # not json: built in, and the caller (once per job) imports little
import os
import signal
import socket
import sys

ENV_VAR = "SCRATCHNET_WORKER"
SUPPORTED = sys.platform.startswith("linux")
# The worker serves one request at a time: a caller has this long to send its whole
# request, so no client can hold it; and a caller waits this long for its job to start
# before running the job on its own.
REQUEST_SECONDS = 5.0
ANSWER_SECONDS = 15.0
UNSERVED_COMMANDS = {"serve", "show", "predict", "dataset-entry"}
PACKAGE = os.path.dirname(os.path.realpath(__file__))
_FORWARDED_SIGNALS = ("SIGINT", "SIGTERM", "SIGHUP")


# --- the caller ------------------------------------------------------------------------


def run_in_worker(argv: list[str]) -> int | None:
    """Run the command in the worker; its exit code, or None to run it here instead."""
    path = os.environ.get(ENV_VAR, "")
    if not SUPPORTED or path in ("", "off") or "SLURM_JOB_ID" in os.environ:
        return None
    if not argv or argv[0] in UNSERVED_COMMANDS:
        return None
    conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None  # no worker (yet, or any more)
    try:
        return _ask(conn, argv)
    finally:
        conn.close()


def _ask(conn: socket.socket, argv: list[str]) -> int | None:
    umask = os.umask(0)
    os.umask(umask)
    request = {
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": umask,
        "prefix": sys.prefix,
        "package": PACKAGE,
    }
    socket.send_fds(conn, [b"R"], [0, 1, 2])
    payload = marshal.dumps(request)
    conn.sendall(len(payload).to_bytes(8, "big") + payload)
    replies = _Lines(conn)
    conn.settimeout(ANSWER_SECONDS)
    first = replies.next()
    if first[:1] != ["pid"]:
        return None  # refused (another environment or package, changed code), or busy
    conn.settimeout(None)  # the job itself takes as long as it takes
    child = int(first[1])
    for name in _FORWARDED_SIGNALS:
        signal.signal(getattr(signal, name), lambda received, _frame: _forward(child, received))
    last = replies.next()
    if last[:1] == ["exit"]:
        return int(last[1])
    print(f"scratchnet: worker process {child} ended without an exit code", file=sys.stderr)
    return 1


class _Lines:
    """The worker's reply lines, split into words; [] once the connection is gone."""

    def __init__(self, conn):
        self.conn, self.buffer = conn, b""

    def next(self) -> list[str]:
        while b"\n" not in self.buffer:
            try:
                chunk = self.conn.recv(4096)
            except OSError:
                chunk = b""
            if not chunk:
                return []
            self.buffer += chunk
        line, self.buffer = self.buffer.split(b"\n", 1)
        return line.decode().split()


def _forward(child: int, signum: int) -> None:
    try:
        os.kill(child, signum)
    except ProcessLookupError:
        return  # it has just ended


# --- the worker ----------------------------------------------------------------------------


def serve(socket_path: str, watch_fd: int, log, run_command, libraries: list[str]) -> None:
    """Serve jobs on the Unix socket ``socket_path`` (its folder is created here and
    removed at the end) until SIGTERM or end of file on ``watch_fd``; each job calls
    ``run_command(argv, worker=pid)`` (the command line's ``main``) in a forked child.
    ``libraries`` (provenance.libraries) are imported first: never a module of the
    package that a job would not import itself. One thread: it forks safely."""
    from pathlib import Path

    folder = Path(socket_path).parent
    signal.signal(signal.SIGTERM, _stop)
    served, owned = 0, False
    try:
        _preload(libraries)
        state = _package_state()
        folder.mkdir(mode=0o700)  # fails if it exists: never serve from another's folder
        owned = True
        server = _listening(socket_path)
        served = _serve_forever(server, watch_fd, socket_path, state, log, run_command)
    except _Stopped:
        pass
    finally:
        if owned:
            _remove(folder)
    log(f"stopped after {served} jobs")
    # Snakemake waits for the worker to stop; skip tearing down the loaded libraries
    os._exit(0)


def _remove(folder) -> None:
    """The worker's folder and its socket, if they are there."""
    import contextlib

    for name in ("socket", "socket.binding"):
        (folder / name).unlink(missing_ok=True)
    with contextlib.suppress(OSError):  # already gone
        folder.rmdir()


def _listening(socket_path: str) -> socket.socket:
    """A socket already listening when it appears at ``socket_path``: bound under another
    name and renamed, so no caller can arrive between bind and listen."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    binding = socket_path + ".binding"
    umask = os.umask(0o177)  # only this user may connect: the socket runs their commands
    try:
        server.bind(binding)
    finally:
        os.umask(umask)
    server.listen(16)
    os.rename(binding, socket_path)
    return server


def _serve_forever(
    server: socket.socket, watch_fd: int, socket_path: str, state: dict, log, run_command
) -> int:
    """Answer callers until the pipe ``watch_fd`` reports end of file: Snakemake holds its
    other end, so that happens when Snakemake ends, however it ends."""
    import gc
    import selectors

    # Out of the collector's sight: a full collection in a forked job would otherwise
    # touch every preloaded object and copy the pages they are on.
    gc.collect()
    gc.freeze()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    log(f"serving on {socket_path}")
    served = 0
    with selectors.DefaultSelector() as waiting, server:
        waiting.register(server, selectors.EVENT_READ)
        waiting.register(watch_fd, selectors.EVENT_READ)
        while True:
            for ready, _ in waiting.select():
                if ready.fileobj == watch_fd:
                    if not os.read(watch_fd, 1):
                        return served
                else:
                    conn, _ = server.accept()
                    served += _serve_one(conn, server, state, log, run_command)


def _package_state() -> dict[str, int]:
    from pathlib import Path

    return {str(p): p.stat().st_mtime_ns for p in sorted(Path(PACKAGE).glob("*.py"))}


def _preload(libraries: list[str]) -> None:
    """Import the libraries the jobs use, so that forked jobs find them loaded."""
    import importlib

    for name in libraries:
        importlib.import_module(name)


class _Stopped(BaseException):
    """SIGTERM: the run is over (a BaseException, so no request handler swallows it)."""


def _stop(_signum, _frame) -> None:
    raise _Stopped


def _serve_one(conn: socket.socket, server: socket.socket, state: dict, log, run_command) -> int:
    import time

    fds: list[int] = []
    deadline = time.monotonic() + REQUEST_SECONDS
    try:
        conn.settimeout(REQUEST_SECONDS)
        _, fds, _, _ = socket.recv_fds(conn, 1, 3)
        request = _receive_request(conn, deadline)
        refusal = _refusal(request, state)
        if refusal:
            log(f"refused {request['argv'][:1]}: {refusal}")
            conn.sendall(f"refused {refusal}\n".encode())
            return 0
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            server.close()
            _run_child(conn, fds, request, run_command)  # never returns
        return 1
    except Exception as error:  # a bad request must not stop the worker
        log(f"dropped a request: {error!r}")
        return 0
    finally:
        for fd in fds:
            os.close(fd)
        conn.close()


def _receive_request(conn: socket.socket, deadline: float) -> dict:
    size = int.from_bytes(_received(conn, 8, deadline), "big")
    request = marshal.loads(_received(conn, size, deadline))
    if not isinstance(request, dict):
        raise ValueError("malformed request")
    return request


def _received(conn: socket.socket, size: int, deadline: float) -> bytes:
    """Exactly ``size`` bytes, all of them before ``deadline`` (time.monotonic)."""
    import time

    data = bytearray()
    while len(data) < size:
        left = deadline - time.monotonic()
        if left <= 0:
            raise TimeoutError(f"request not complete within {REQUEST_SECONDS:g} s")
        conn.settimeout(left)
        chunk = conn.recv(min(size - len(data), 1 << 20))
        if not chunk:
            raise ConnectionError("the caller hung up")
        data += chunk
    return bytes(data)


def _refusal(request: dict, state: dict) -> str:
    if not request.get("argv") or request["argv"][0] in UNSERVED_COMMANDS:
        return f"not a job command: {request.get('argv')}"
    if request.get("prefix") != sys.prefix:
        return f"caller runs Python from {request.get('prefix')}, the worker from {sys.prefix}"
    if request.get("package") != PACKAGE:
        return f"caller runs the package in {request.get('package')}, the worker {PACKAGE}"
    if _package_state() != state:
        return "package files changed since the worker started"
    return ""


def _run_child(conn: socket.socket, fds: list[int], request: dict, run_command) -> None:
    """In the forked child: become the caller's process, run the command, report, exit."""
    import logging
    import time

    code = 1
    try:
        for signum in (signal.SIGCHLD, signal.SIGTERM, signal.SIGHUP):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        os.chdir(request["cwd"])
        os.environ.clear()
        os.environ.update(request["env"])
        time.tzset()  # log timestamps in the caller's time zone
        os.umask(request["umask"])
        logging.root.handlers.clear()  # the job configures its own, as a new process would
        conn.settimeout(None)
        try:
            conn.sendall(f"pid {os.getpid()}\n".encode())
        except OSError:
            os._exit(1)  # the caller stopped waiting and runs the job on its own

        _die_with_caller(conn)
        code = _main(run_command, request["argv"], worker=os.getppid())
    except BaseException:  # setting up failed (say, the caller's directory is gone)
        import traceback

        traceback.print_exc()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        try:
            conn.sendall(f"exit {code}\n".encode())
        finally:
            os._exit(code)


def _die_with_caller(conn: socket.socket) -> None:
    """End this job if its caller ends first, as a job of its own would end when killed
    (say `kill -9` of Snakemake's process group): the caller never sends more, so the
    connection becomes readable only when the caller is gone."""
    import threading

    def watch() -> None:
        try:
            conn.recv(1)
        finally:
            os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def _main(run_command, argv: list[str], worker: int) -> int:
    """The command line's main as a process would run it, exit codes of SystemExit included."""
    import traceback

    try:
        return run_command(argv, worker=worker)
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
