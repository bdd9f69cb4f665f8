"""Read and write IDX files (the MNIST format), validating every header field.

An IDX file is a big-endian header -- two zero bytes, a type code (0x08 for
unsigned bytes), the number of dimensions -- followed by one uint32 per
dimension and the data. MNIST images carry magic number 2051 (3 dimensions),
labels 2049 (1 dimension).
"""

import gzip
import hashlib
import zlib
from pathlib import Path

import numpy as np

from scratchnet.errors import KnownError

IMAGES_MAGIC = 2051
LABELS_MAGIC = 2049


class IdxError(KnownError, ValueError):
    """An IDX file is malformed; the message names the file and the defect."""


WHAT_WE_READ = (
    "the workflow reads gzipped IDX files (the MNIST format: images as *-idx3-ubyte.gz, "
    "labels as *-idx1-ubyte.gz)"
)


def what_it_is(data: bytes) -> str | None:
    """What a file that is not IDX looks like it is (a PNG, a CSV, ...), or None."""
    signatures = {
        b"\x89PNG": "a PNG image",
        b"\xff\xd8\xff": "a JPEG image",
        b"\x1f\x8b": "gzip data (compressed twice?)",
        b"PK\x03\x04": "a zip archive",
        b"\x93NUMPY": "a NumPy .npy file",
    }
    for signature, kind in signatures.items():
        if data.startswith(signature):
            return kind
    try:
        first_line = data[:4096].decode("utf-8").splitlines()[0]
    except (UnicodeDecodeError, IndexError):
        return None
    return "a CSV file" if "," in first_line or ";" in first_line else "a text file"


def _header(data: bytes, name: str, expected_magic: int) -> tuple[int, ...]:
    kind = what_it_is(data) if data[:2] != b"\x00\x00" else None
    if kind:
        raise IdxError(f"{name}: this is {kind}, not an IDX file; {WHAT_WE_READ}")
    if len(data) < 4:
        raise IdxError(f"{name}: too short for an IDX header ({len(data)} bytes)")
    magic = int.from_bytes(data[:4], "big")
    if magic != expected_magic:
        raise IdxError(
            f"{name}: magic number {magic}, expected {expected_magic} "
            f"({'images' if expected_magic == IMAGES_MAGIC else 'labels'} file)"
        )
    ndim = data[3]  # the magic number's low byte; its type byte 0x08 means unsigned bytes
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise IdxError(f"{name}: header promises {ndim} dimensions but the file ends early")
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    expected_len = header_len + int(np.prod(dims, dtype=np.int64))
    if len(data) != expected_len:
        raise IdxError(
            f"{name}: header says {'x'.join(map(str, dims))} items "
            f"({expected_len} bytes with header) but the file has {len(data)} bytes"
        )
    return dims


def parse_images(data: bytes, name: str = "images") -> np.ndarray:
    """Return an (n, rows*cols) uint8 array from the bytes of an IDX images file."""
    dims = _header(data, name, IMAGES_MAGIC)
    if len(dims) != 3 or 0 in dims:
        raise IdxError(f"{name}: images need 3 non-zero dimensions, got {dims}")
    n, rows, cols = dims
    return np.frombuffer(data, dtype=np.uint8, offset=16).reshape(n, rows * cols)


def image_shape(data: bytes, name: str = "images") -> tuple[int, int]:
    """(rows, cols) of each image in the bytes of an IDX images file."""
    return _header(data, name, IMAGES_MAGIC)[1:]


def parse_labels(data: bytes, name: str = "labels", num_classes: int = 10) -> np.ndarray:
    """Return an (n,) uint8 array from the bytes of an IDX labels file."""
    dims = _header(data, name, LABELS_MAGIC)
    if len(dims) != 1 or dims[0] == 0:
        raise IdxError(f"{name}: labels need 1 non-zero dimension, got {dims}")
    labels = np.frombuffer(data, dtype=np.uint8, offset=8)
    if labels.max() >= num_classes:
        bad = int(np.argmax(labels >= num_classes))
        raise IdxError(
            f"{name}: label {labels[bad]} at index {bad} is outside 0..{num_classes - 1}"
        )
    return labels


def read_gz(path: str | Path) -> bytes:
    """The decompressed bytes of a .gz file, with a one-line error if it is not valid gzip."""
    try:
        with gzip.open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as exc:
        with open(path, "rb") as f:
            start = f.read(4096)
        kind = None if start.startswith(b"\x1f\x8b") else what_it_is(start)
        if kind:
            raise IdxError(f"{path}: this is {kind}, not gzip; {WHAT_WE_READ}") from None
        raise IdxError(
            f"{path}: not a complete gzip file ({exc}); delete it to download it again"
        ) from None


def checksum_cause(path: Path, actual: str, expected: str) -> str:
    """Both payload hashes in full, and the likeliest cause: a config that gives the hash
    of the .gz file itself, not of its decompressed payload."""
    said = f"payload SHA-256 {actual}, the config expects {expected}"
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    if digest.hexdigest() == expected:
        return (
            f"{said}, which is the hash of the .gz file itself: the config wants its "
            f"payload's (gunzip -c FILE | sha256sum; scratchnet dataset-entry prints it)"
        )
    return f"{said} (a damaged or another file)"


def dataset_entry(paths: list[Path]) -> dict:
    """The config's entry for a dataset of four IDX files (gzipped or not): each file's
    name and payload SHA-256 by its role (the larger set of images and labels is the
    training set), the class count and, for people, the image size."""
    found = {}
    for path in paths:
        raw = Path(path).read_bytes()
        payload = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
        magic = int.from_bytes(payload[:4], "big") if len(payload) >= 4 else 0
        if magic not in (IMAGES_MAGIC, LABELS_MAGIC):
            kind = what_it_is(raw[:4096]) or "not an IDX file"
            raise IdxError(f"{path}: {kind}; give the dataset's four IDX files (images and "
                           "labels, train and test)")  # fmt: skip
        kind = "images" if magic == IMAGES_MAGIC else "labels"
        count = int.from_bytes(payload[4:8], "big")
        digest = hashlib.sha256(payload).hexdigest()
        found.setdefault(kind, []).append((count, Path(path), payload, digest))
    if sorted(map(len, found.values())) != [2, 2] or len(found) != 2:
        raise IdxError("give exactly four IDX files: train and test images, train and test labels")
    files, classes, shape = {}, 0, None
    for kind, entries in found.items():
        test, train = sorted(entries, key=lambda entry: entry[0])
        for split, (_, path, payload, digest) in (("train", train), ("test", test)):
            files[f"{split}_{kind}"] = {"name": path.name, "sha256": digest}
            if kind == "labels":
                classes = max(classes, int(np.frombuffer(payload[8:], np.uint8).max()) + 1)
            else:
                shape = image_shape(payload, str(path))
    order = ("train_images", "train_labels", "test_images", "test_labels")
    return {"num_classes": classes, "image_shape": shape,
            "files": {split: files[split] for split in order}}  # fmt: skip
