"""Downloads against a real HTTP server on 127.0.0.1: every failure moves on, nothing is left."""

import gzip
import hashlib
import json
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from scratchnet.download import DownloadError, Retry, download

PAYLOAD = b"IDX payload " * 1000
SHA = hashlib.sha256(PAYLOAD).hexdigest()
NAME = "file.gz"
FAST = Retry(attempts=2, backoff_s=0.01, timeout_s=0.5)


class Handler(BaseHTTPRequestHandler):
    """/<behaviour>/file.gz serves the file in the way the first path segment says."""

    requests: ClassVar[list[str]] = []

    def log_message(self, *args):  # keep test output clean
        pass

    def _send(self, status: int, body: bytes, length: int | None = None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        Handler.requests.append(self.path)
        kind = self.path.strip("/").split("/")[0]
        good = gzip.compress(PAYLOAD)
        if kind == "good":
            self._send(200, good)
        elif kind == "recompressed":
            self._send(200, gzip.compress(PAYLOAD, compresslevel=1, mtime=123))
        elif kind == "missing":
            self._send(404, b"not found")
        elif kind == "html":
            self._send(200, b"<html><body>Error: quota exceeded</body></html>")
        elif kind == "truncated":
            self._send(200, good[: len(good) // 2], length=len(good))
        elif kind == "truncated-gzip":
            self._send(200, good[: len(good) // 2])
        elif kind == "wrong":
            self._send(200, gzip.compress(b"other bytes"))
        elif kind == "slow":
            time.sleep(2)
            self._send(200, good)
        elif kind == "error":
            self._send(503, b"busy")


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the client hung up on the slow mirror on purpose


@pytest.fixture(scope="module")
def server():
    httpd = QuietServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def fetch(tmp_path, mirrors, retry=FAST, keep="verified"):
    return download(NAME, SHA, mirrors, tmp_path / "out" / NAME, retry, tmp_path / keep)


def left_over(tmp_path):
    return (
        sorted(p.name for p in (tmp_path / "out").iterdir()) if (tmp_path / "out").exists() else []
    )


def test_a_good_mirror_gives_a_verified_file(server, tmp_path):
    assert fetch(tmp_path, [f"{server}/good/"]) == f"{server}/good/{NAME}"
    assert gzip.decompress((tmp_path / "out" / NAME).read_bytes()) == PAYLOAD


def test_a_recompressed_copy_verifies_by_its_payload(server, tmp_path):
    fetch(tmp_path, [f"{server}/recompressed"])
    assert (tmp_path / "out" / NAME).exists()


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("missing", "HTTP 404"),
        ("html", "not a complete gzip file"),
        ("truncated", "connection closed after"),
        ("truncated-gzip", "not a complete gzip file"),
        ("wrong", "checksum mismatch"),
        ("slow", "timed out"),
        ("error", "HTTP 503"),
    ],
)
def test_each_kind_of_failure_moves_on_to_the_next_mirror(server, tmp_path, caplog, kind, reason):
    caplog.set_level("INFO")
    source = fetch(tmp_path, [f"{server}/{kind}", f"{server}/good"])
    assert source == f"{server}/good/{NAME}"
    assert f"skipping {server}/{kind}/{NAME}: {reason}" in caplog.text
    assert left_over(tmp_path) == [NAME]


def test_mirrors_are_tried_in_order(server, tmp_path):
    Handler.requests.clear()
    fetch(tmp_path, [f"{server}/missing", f"{server}/wrong", f"{server}/good", f"{server}/html"])
    assert [p.split("/")[1] for p in Handler.requests] == ["missing", "wrong", "good"]


def test_transient_errors_are_retried_before_moving_on(server, tmp_path):
    Handler.requests.clear()
    fetch(tmp_path, [f"{server}/error", f"{server}/good"], Retry(3, 0.01, 0.5))
    assert [p.split("/")[1] for p in Handler.requests] == ["error"] * 3 + ["good"]


def test_file_urls_and_plain_folders_are_mirrors(tmp_path):
    folder = tmp_path / "local"
    folder.mkdir()
    (folder / NAME).write_bytes(gzip.compress(PAYLOAD))
    assert fetch(tmp_path, [str(folder)]) == str(folder / NAME)
    (tmp_path / "out" / NAME).unlink()
    assert fetch(tmp_path, [folder.as_uri()], keep="other") == folder.as_uri() + "/" + NAME


def test_a_verified_file_is_kept_and_restored_with_no_mirror_reachable(server, tmp_path):
    fetch(tmp_path, [f"{server}/good"])
    (tmp_path / "out" / NAME).unlink()  # as Snakemake does before running a job again
    Handler.requests.clear()
    source = fetch(tmp_path, [f"{server}/missing", str(tmp_path / "nowhere")])
    assert source == str(tmp_path / "verified" / f"{SHA}.gz")
    assert Handler.requests == []  # no mirror asked
    assert gzip.decompress((tmp_path / "out" / NAME).read_bytes()) == PAYLOAD


def test_a_damaged_kept_copy_is_skipped_for_the_mirrors(server, tmp_path):
    (tmp_path / "verified").mkdir()
    (tmp_path / "verified" / f"{SHA}.gz").write_bytes(b"garbage")
    assert fetch(tmp_path, [f"{server}/good"]) == f"{server}/good/{NAME}"
    assert gzip.decompress((tmp_path / "verified" / f"{SHA}.gz").read_bytes()) == PAYLOAD


def test_when_every_mirror_fails_the_error_lists_them_and_nothing_is_left(server, tmp_path):
    mirrors = [f"{server}/missing", f"{server}/wrong", str(tmp_path / "nowhere")]
    with pytest.raises(DownloadError) as excinfo:
        fetch(tmp_path, mirrors)
    message = str(excinfo.value)
    reasons = ["HTTP 404", "checksum mismatch", "no such file"]
    for mirror, reason in zip(mirrors, reasons, strict=True):
        assert f"{mirror}/{NAME}: {reason}" in message
    assert "mirrors=" in message  # how to point at a local copy
    assert left_over(tmp_path) == []


def test_the_command_line_exits_non_zero_with_one_error_line(server, tmp_path):
    out = tmp_path / "out" / NAME
    result = subprocess.run(
        [sys.executable, "-m", "scratchnet", "download", "--filename", NAME, "--sha256", SHA,
         "--mirrors", json.dumps([f"{server}/html"]), "--out", str(out), "--attempts", "1",
         "--keep", str(tmp_path / "verified")],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert result.returncode == 1
    assert "ERROR could not get a verified copy of file.gz" in result.stderr
    assert f"{server}/html" in result.stderr  # progress: which mirror was tried
    assert not out.exists()
