"""Fetch a file from a list of mirrors, keeping only a copy whose payload verifies.

A mirror is an http(s):// or file:// URL or a plain directory; the file is
looked up under it by name. A copy is accepted only when it is complete gzip
and the SHA-256 of its *decompressed* payload matches, so official .gz files
and recompressed copies both verify, and a mirror that answers 200 with an
HTML error page is rejected like any other failure. Every failure moves on to
the next mirror; transient ones (network errors, timeouts, HTTP 5xx) are first
retried a few times with backoff.

Every verified file is also kept, copied under its payload's SHA-256 in
a folder of verified downloads, and that copy is tried before any mirror: the workflow
deletes a job's output before running it again, and a forced rerun offline would
otherwise lose a file no mirror can give back.
"""

import gzip
import hashlib
import logging
import os
import shutil
import time
import urllib.error
import urllib.request
import zlib
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from scratchnet import idx
from scratchnet.atomic import temp_path_for
from scratchnet.errors import KnownError

log = logging.getLogger(__name__)

CHUNK = 1 << 20
USER_AGENT = "scratchnet/0.1 (MNIST downloader)"


class DownloadError(KnownError, RuntimeError):
    """No mirror delivered a verified copy; the message lists every attempt."""


class _Transient(Exception):
    """A failure worth retrying on the same mirror."""


class _Rejected(Exception):
    """A failure that retrying the same mirror would repeat."""


@dataclass(frozen=True)
class Retry:
    attempts: int  # tries per mirror for transient errors
    backoff_s: float  # the first wait between tries, doubled each time
    timeout_s: float  # of the network connection


def _source_for(mirror: str, filename: str) -> str:
    """The URL or path of ``filename`` under ``mirror``."""
    scheme = urlparse(mirror).scheme
    if scheme in ("http", "https", "file"):
        return mirror.rstrip("/") + "/" + filename
    return str(Path(mirror).expanduser() / filename)


def payload_sha256(path: Path) -> str:
    """SHA-256 of the decompressed content of a gzip file."""
    digest = hashlib.sha256()
    try:
        with gzip.open(path, "rb") as f:
            while block := f.read(CHUNK):
                digest.update(block)
    except (OSError, EOFError, zlib.error) as exc:
        raise _Rejected(f"not a complete gzip file ({exc})") from exc
    return digest.hexdigest()


def _copy_stream(stream, out: Path, total: int | None, label: str) -> int:
    copied, next_report = 0, 0.0
    with open(out, "wb") as f:
        while block := stream.read(CHUNK):
            f.write(block)
            copied += len(block)
            if total and copied / total >= next_report:
                log.info("%s: %.1f of %.1f MiB", label, copied / CHUNK, total / CHUNK)
                next_report += 0.25
    if total and copied != total:
        raise _Transient(f"connection closed after {copied} of {total} bytes")
    log.info("%s: received %.2f MiB", label, copied / CHUNK)
    return copied


def _fetch_url(url: str, out: Path, timeout_s: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            length = response.headers.get("Content-Length")
            _copy_stream(response, out, int(length) if length else None, url)
    except urllib.error.HTTPError as exc:
        error = f"HTTP {exc.code} {exc.reason}"
        raise (_Transient if exc.code >= 500 else _Rejected)(error) from exc
    except urllib.error.URLError as exc:
        if isinstance(exc.reason, FileNotFoundError):
            raise _Rejected("no such file") from exc
        raise _Transient(f"network error: {exc.reason}") from exc
    except TimeoutError as exc:
        raise _Transient(f"timed out after {timeout_s:g} s") from exc
    except OSError as exc:
        raise _Transient(f"network error: {exc}") from exc


def _fetch_path(path: str, out: Path) -> None:
    try:
        shutil.copyfile(path, out)
    except FileNotFoundError as exc:
        raise _Rejected("no such file") from exc
    except OSError as exc:
        raise _Rejected(f"cannot read: {exc.strerror}") from exc
    log.info("%s: copied %.2f MiB", path, out.stat().st_size / CHUNK)


def _fetch_verified(source: str, out: Path, sha256: str, retry: Retry) -> None:
    for attempt in range(1, retry.attempts + 1):
        try:
            if urlparse(source).scheme in ("http", "https", "file"):
                _fetch_url(source, out, retry.timeout_s)
            else:
                _fetch_path(source, out)
            break
        except _Transient as exc:
            if attempt == retry.attempts:
                raise _Rejected(f"{exc} ({attempt} attempts)") from exc
            wait = retry.backoff_s * 2 ** (attempt - 1)
            log.warning("%s: %s; retrying in %.1f s", source, exc, wait)
            time.sleep(wait)
    actual = payload_sha256(out)
    if actual != sha256:
        raise _Rejected(f"checksum mismatch: {idx.checksum_cause(out, actual, sha256)}")


def _kept_copy(keep: Path, sha256: str) -> Path:
    """Where the verified file of payload ``sha256`` is kept."""
    return keep / f"{sha256}.gz"


def _keep(target: Path, kept: Path) -> None:
    """A copy of the verified ``target`` (not a second name of the same file: damaging the
    download in place must not damage what is kept)."""
    if kept.is_file():
        return
    kept.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(kept)
    try:
        shutil.copyfile(target, tmp)
        os.replace(tmp, kept)
    finally:
        tmp.unlink(missing_ok=True)


def download(
    filename: str, sha256: str, mirrors: list[str], target: Path, retry: Retry, keep: Path
) -> str:
    """Put a verified copy of ``filename`` at ``target`` (from the copy kept in ``keep``,
    or else the first mirror that has one) and keep it; return where it came from.

    Nothing is left at ``target`` unless a copy verified.
    """
    failures = []
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_path_for(target)
    kept = _kept_copy(keep, sha256)
    sources = [str(kept)] if kept.is_file() else []
    sources += [_source_for(mirror, filename) for mirror in mirrors]
    try:
        for source in sources:
            log.info("trying %s", source)
            try:
                _fetch_verified(source, tmp, sha256, retry)
            except _Rejected as exc:
                log.warning("skipping %s: %s", source, exc)
                failures.append(f"  {source}: {exc}")
                if source == str(kept):
                    kept.unlink()  # damaged: the next verified copy takes its place
                continue
            os.replace(tmp, target)
            log.info("verified %s (payload SHA-256 %s)", filename, sha256)
            _keep(target, kept)
            return source
    finally:
        tmp.unlink(missing_ok=True)
    raise DownloadError(
        f"could not get a verified copy of {filename} from any of {len(mirrors)} mirrors:\n"
        + "\n".join(failures)
        + f"\nA mirror holds the dataset's gzipped IDX files under these names ({filename}); "
        "images as PNG or CSV files are not read."
        + "\nIf you have the files locally, put their folder first in the config, e.g. "
        "--config 'mirrors=[\"/path/to/mnist\"]'."
    )
