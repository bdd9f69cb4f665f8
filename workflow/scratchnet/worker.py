"""A warm worker: one process with NumPy and matplotlib loaded forks each job.

Starting Python and importing NumPy costs ~0.2 s per job, about as long as one
epoch of SGD, and the pipeline runs one job per epoch. While Snakemake runs, it
keeps a ``serve`` process (started by the workflow's ``onstart``) that has
imported everything the commands need. ``python -m scratchnet <command>``
first asks it over a Unix socket: the worker forks, the child takes the
caller's stdin/stdout/stderr, working directory, environment and umask, runs
the same ``cli.main`` and reports its exit code. The caller forwards SIGINT,
SIGTERM and SIGHUP to the child, so cancelling a job stops it.

The job then runs exactly the code it would run on its own, in a process of
its own, so outputs are byte-identical. Whenever the worker cannot serve (no
``SCRATCHNET_WORKER`` socket, ``SCRATCHNET_WORKER=off``, a SLURM job, another
Python environment, package files changed since the worker started) the
command simply runs in its own process as before.

Only the standard library is imported here, and the caller's side uses the C modules
behind ``socket`` and ``signal``: importing those two modules (enum, selectors, ...)
took 18 ms of the 40 ms a caller costs, once per job.
"""

import _signal
import _socket
import marshal  # not json: built in, so the caller imports nothing slow
import os
import struct
import sys

ENV_VAR = "SCRATCHNET_WORKER"
UNSERVED_COMMANDS = {"bench", "serve"}
_FORWARDED_SIGNALS = (_signal.SIGINT, _signal.SIGTERM, _signal.SIGHUP)


# --- the caller ------------------------------------------------------------------------


def run_in_worker(argv: list[str]) -> int | None:
    """Run the command in the worker; its exit code, or None to run it here instead."""
    path = os.environ.get(ENV_VAR, "")
    if path in ("", "off") or "SLURM_JOB_ID" in os.environ:
        return None
    if not argv or argv[0] in UNSERVED_COMMANDS:
        return None
    conn = _socket.socket(_socket.AF_UNIX, _socket.SOCK_STREAM)
    try:
        conn.connect(path)
    except OSError:
        conn.close()
        return None  # no worker (yet, or any more)
    try:
        return _ask(conn, argv)
    finally:
        conn.close()


def _ask(conn: _socket.socket, argv: list[str]) -> int | None:
    umask = os.umask(0)
    os.umask(umask)
    request = {
        "argv": argv,
        "cwd": os.getcwd(),
        "env": dict(os.environ),
        "umask": umask,
        "prefix": sys.prefix,
    }
    stdio = struct.pack("3i", 0, 1, 2)
    conn.sendmsg([b"R"], [(_socket.SOL_SOCKET, _socket.SCM_RIGHTS, stdio)])
    payload = marshal.dumps(request)
    conn.sendall(len(payload).to_bytes(8, "big") + payload)
    replies = _Lines(conn)
    first = replies.next()
    if first[:1] != ["pid"]:
        return None  # refused (another environment, changed code): run it here
    child = int(first[1])
    for signum in _FORWARDED_SIGNALS:
        _signal.signal(signum, lambda received, _frame: _forward(child, received))
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


def _package_state() -> dict[str, int]:
    from pathlib import Path

    package = Path(__file__).resolve().parent
    return {str(p): p.stat().st_mtime_ns for p in sorted(package.glob("*.py"))}


def _preload() -> None:
    """Import what the commands import lazily, so that forked jobs find it loaded."""
    import scratchnet.cli
    from scratchnet import (  # noqa: F401
        aggregate,
        checkpoint,
        dataset,
        download,
        evaluate,
        gradcheck,
        plots,
        train,
    )

    scratchnet.cli.build_parser()


class _Stopped(BaseException):
    """SIGTERM: the run is over (a BaseException, so no request handler swallows it)."""


def _stop(_signum, _frame) -> None:
    raise _Stopped


def serve(path: str, log) -> None:
    """Serve jobs on the Unix socket ``path`` until SIGTERM or the parent process ends."""
    import gc
    import signal
    import socket

    _preload()
    # Out of the collector's sight: a full collection in a forked job would otherwise
    # touch every preloaded object, copying ~5,000 shared pages (~50 ms, measured).
    gc.collect()
    gc.freeze()
    state, parent = _package_state(), os.getppid()
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    signal.signal(signal.SIGTERM, _stop)
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    umask = os.umask(0o177)  # only this user may connect: the socket runs their commands
    try:
        server.bind(path)
    finally:
        os.umask(umask)
    server.listen(16)
    server.settimeout(1.0)
    log(f"serving on {path}")
    served = 0
    try:
        while os.getppid() == parent:  # orphaned when Snakemake was killed: stop
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            served += _serve_one(conn, server, state, log)
    except _Stopped:
        pass
    finally:
        server.close()
        os.unlink(path)
        log(f"stopped after {served} jobs")


def _serve_one(conn: _socket.socket, server: _socket.socket, state: dict, log) -> int:
    import socket

    fds: list[int] = []
    try:
        conn.settimeout(5.0)
        _, fds, _, _ = socket.recv_fds(conn, 1, 3)
        request = _receive_request(conn)
        refusal = _refusal(request, state)
        if refusal:
            log(f"refused {request['argv'][:1]}: {refusal}")
            conn.sendall(f"refused {refusal}\n".encode())
            return 0
        sys.stdout.flush()
        sys.stderr.flush()
        if os.fork() == 0:
            server.close()
            _run_child(conn, fds, request)  # never returns
        return 1
    except Exception as error:  # a bad request must not stop the worker
        log(f"dropped a request: {error!r}")
        return 0
    finally:
        for fd in fds:
            os.close(fd)
        conn.close()


def _receive_request(conn: _socket.socket) -> dict:
    stream = conn.makefile("rb")
    size = int.from_bytes(stream.read(8), "big")
    request = marshal.loads(stream.read(size))
    if not isinstance(request, dict):
        raise ValueError("malformed request")
    return request


def _refusal(request: dict, state: dict) -> str:
    if not request.get("argv") or request["argv"][0] in UNSERVED_COMMANDS:
        return f"not a job command: {request.get('argv')}"
    if request.get("prefix") != sys.prefix:
        return f"caller runs Python from {request.get('prefix')}, the worker from {sys.prefix}"
    if _package_state() != state:
        return "package files changed since the worker started"
    return ""


def _run_child(conn: _socket.socket, fds: list[int], request: dict) -> None:
    """In the forked child: become the caller's process, run the command, report, exit."""
    import logging
    import signal
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
        conn.sendall(f"pid {os.getpid()}\n".encode())
        _die_with_caller(conn)
        code = _main(request["argv"], worker=os.getppid())
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


def _die_with_caller(conn: _socket.socket) -> None:
    """End this job if its caller ends first, as a job of its own would end when killed
    (say `kill -9` of Snakemake's process group): the caller never sends more, so the
    connection becomes readable only when the caller is gone."""
    import signal
    import threading

    def watch() -> None:
        try:
            conn.recv(1)
        finally:
            os.kill(os.getpid(), signal.SIGKILL)

    threading.Thread(target=watch, daemon=True).start()


def _main(argv: list[str], worker: int) -> int:
    """cli.main as a process would run it, exit codes of SystemExit included."""
    import traceback

    from scratchnet.cli import main

    try:
        return main(argv, worker=worker)
    except SystemExit as exit_:
        if exit_.code is None or isinstance(exit_.code, int):
            return exit_.code or 0
        print(exit_.code, file=sys.stderr)
        return 1
    except BaseException:
        traceback.print_exc()
        return 1
