"""The dataset in two forms: 8-bit pixels for the pipeline, normalised float32 for people.

``prepare`` parses the four IDX .gz files into ``pixels.npy`` (train and test
images stacked, uint8) and ``labels.npz`` (labels, image shape, source digest), which
every training and evaluation job loads in milliseconds.
``write_normalized`` turns that into the documented .npz of float32 images in
[0, 1] -- the same values the jobs compute batch by batch with :func:`normalize`.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchnet import idx
from scratchnet.atomic import RowBlocks, write_npy_atomically, write_npz_atomically

SPLITS = ("train_images", "train_labels", "test_images", "test_labels")


@dataclass(frozen=True)
class Dataset:
    """Raw uint8 pixels and labels; float32 batches are made on demand.

    Training and evaluation read the 8-bit pixels (a quarter of the memory of
    float32) and normalise each batch with :func:`normalize`, the same operation
    that produced the .npz's float32 arrays, so the values are identical.
    """

    pixels_train: np.ndarray  # (n, pixels) uint8
    t_train: np.ndarray  # (n,) uint8 class labels
    pixels_test: np.ndarray
    t_test: np.ndarray
    digest: str  # identifies the source files, recorded in every checkpoint
    image_shape: tuple[int, int] | None = None  # (rows, cols), when known
    # The training images training draws from (holdout.kept_rows); None: all of them
    train_rows: np.ndarray | None = None

    @property
    def input_size(self) -> int:
        return self.pixels_train.shape[1]

    @property
    def train_size(self) -> int:
        """The training images training draws from."""
        return len(self.t_train) if self.train_rows is None else len(self.train_rows)


def normalize(images: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels to float32 in [0, 1] (into ``out`` when given)."""
    return np.divide(images, np.float32(255.0), out=out, dtype=np.float32)


def _read_verified(path: Path, expected_sha256: str | None) -> bytes:
    """The payload of a .gz; checked when a checksum is given, since files a user put in
    place themselves never went through the verified download."""
    payload = idx.read_gz(path)
    if expected_sha256 is not None:
        actual = hashlib.sha256(payload).hexdigest()
        if actual != expected_sha256:
            raise idx.IdxError(
                f"{path}: {idx.checksum_cause(path, actual, expected_sha256)}; delete the file "
                "to download it again, or correct the config"
            )
    return payload


def _pair(
    images_gz: Path, labels_gz: Path, num_classes: int, sha256: tuple[str | None, str | None]
) -> tuple[np.ndarray, np.ndarray, str, tuple[int, int]]:
    image_bytes = _read_verified(images_gz, sha256[0])
    label_bytes = _read_verified(labels_gz, sha256[1])
    images = idx.parse_images(image_bytes, str(images_gz))
    labels = idx.parse_labels(label_bytes, str(labels_gz), num_classes)
    if len(images) != len(labels):
        raise idx.IdxError(
            f"{images_gz} has {len(images)} images but {labels_gz} has {len(labels)} labels"
        )
    digest = hashlib.sha256(image_bytes).hexdigest() + hashlib.sha256(label_bytes).hexdigest()
    return images, labels, digest, idx.image_shape(image_bytes, str(images_gz))


def prepare(
    files: dict[str, Path],
    pixels_out: Path,
    labels_out: Path,
    num_classes: int,
    sha256: dict[str, str] | None = None,
) -> Dataset:
    """Parse and validate the four IDX files named by ``files`` (keys: SPLITS), checking
    their payloads against ``sha256`` (same keys) when given; write them."""
    sha256 = sha256 or {}
    x_train, t_train, train_digest, train_shape = _pair(
        files["train_images"],
        files["train_labels"],
        num_classes,
        (sha256.get("train_images"), sha256.get("train_labels")),
    )
    x_test, t_test, test_digest, test_shape = _pair(
        files["test_images"],
        files["test_labels"],
        num_classes,
        (sha256.get("test_images"), sha256.get("test_labels")),
    )
    if train_shape != test_shape:
        raise idx.IdxError(
            f"{files['train_images']} has {'x'.join(map(str, train_shape))} images "
            f"but {files['test_images']} has {'x'.join(map(str, test_shape))}"
        )
    _require_every_class(t_train, num_classes, files["train_labels"])
    data = Dataset(
        x_train,
        t_train,
        x_test,
        t_test,
        hashlib.sha256((train_digest + test_digest).encode()).hexdigest(),
        train_shape,
    )
    stacked = RowBlocks(
        (len(x_train) + len(x_test), x_train.shape[1]), x_train.dtype, lambda: (x_train, x_test)
    )  # written block by block, never built
    write_npy_atomically(pixels_out, stacked)
    labels = {
        "t_train": data.t_train,
        "t_test": data.t_test,
        "digest": np.array(data.digest),
        "image_shape": np.array(data.image_shape),
    }
    write_npz_atomically(labels_out, labels)
    return data


def _require_every_class(labels: np.ndarray, num_classes: int, path: Path) -> None:
    """The network gets one output per declared class: each must occur in the training
    labels, or the declaration is wrong."""
    missing = np.flatnonzero(np.bincount(labels, minlength=num_classes) == 0)
    if len(missing):
        shown = ", ".join(map(str, missing[:10])) + (" …" if len(missing) > 10 else "")
        raise idx.IdxError(
            f"{path}: the dataset declares num_classes {num_classes} but class(es) {shown} "
            f"never occur in its training labels; set num_classes to the number of classes"
        )


def describe(
    name: str, data: Dataset, files: dict[str, Path], sha256: dict[str, str], num_classes: int
) -> dict:
    """Where the data came from and what it holds, for people (dataset.json, the report)."""
    return {
        "dataset": name,
        "files": {
            split: {
                "name": Path(files[split]).name,
                "payload_sha256": sha256.get(split),
                "verified": sha256.get(split) is not None,
            }
            for split in SPLITS
        },
        "image_shape": list(data.image_shape),
        "num_classes": num_classes,
        "train_images": data.train_size,
        "test_images": len(data.t_test),
        "train_class_counts": np.bincount(data.t_train, minlength=num_classes).tolist(),
        "test_class_counts": np.bincount(data.t_test, minlength=num_classes).tolist(),
        "digest": data.digest,
    }


def _normalized_blocks(pixels: np.ndarray, rows: int = 4096) -> RowBlocks:
    def blocks():
        buffer = np.empty((rows, pixels.shape[1]), dtype=np.float32)
        for start in range(0, len(pixels), rows):
            chunk = pixels[start : start + rows]
            yield normalize(chunk, out=buffer[: len(chunk)])

    return RowBlocks(pixels.shape, np.dtype(np.float32), blocks)


def write_normalized(data: Dataset, out: Path) -> None:
    """The documented .npz: x_train, x_test float32 in [0, 1]; t_train, t_test uint8.

    Written in blocks: the float32 arrays (four times the pixels' size) are never in
    memory whole.
    """
    write_npz_atomically(
        out,
        {
            "x_train": _normalized_blocks(data.pixels_train),
            "t_train": data.t_train,
            "x_test": _normalized_blocks(data.pixels_test),
            "t_test": data.t_test,
        },
    )


def pixels_per_image(pixels_path: str | Path) -> int:
    """The pixels of each image in the file written by :func:`prepare` (its header alone)."""
    return int(np.load(pixels_path, mmap_mode="r", allow_pickle=False).shape[1])


def load(pixels_path: str | Path, labels_path: str | Path) -> Dataset:
    """Load the files written by :func:`prepare`."""
    # memory-mapped: pages come from the page cache as batches touch them, no copy of the
    # images (a plain ndarray view: indexing np.memmap itself is slower per batch)
    pixels = np.asarray(np.load(pixels_path, mmap_mode="r", allow_pickle=False))
    with np.load(labels_path, allow_pickle=False) as labels:
        t_train, t_test, digest = labels["t_train"], labels["t_test"], str(labels["digest"])
        shape = tuple(int(n) for n in labels["image_shape"]) if "image_shape" in labels else None
    if len(pixels) != len(t_train) + len(t_test):
        raise ValueError(
            f"{pixels_path} holds {len(pixels)} images but {labels_path} has "
            f"{len(t_train)} + {len(t_test)} labels; rerun the prepare step"
        )
    n = len(t_train)
    return Dataset(pixels[:n], t_train, pixels[n:], t_test, digest, shape)
