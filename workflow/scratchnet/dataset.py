"""The normalised dataset: four IDX .gz files in, one .npz of float32 images and labels out."""

import hashlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchnet import idx
from scratchnet.atomic import write_npz_atomically

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

    @property
    def input_size(self) -> int:
        return self.pixels_train.shape[1]

    @property
    def train_size(self) -> int:
        return len(self.t_train)


def normalize(images: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """uint8 pixels to float32 in [0, 1] (into ``out`` when given)."""
    return np.divide(images, np.float32(255.0), out=out, dtype=np.float32)


def _pair(images_gz: Path, labels_gz: Path, num_classes: int) -> tuple[np.ndarray, np.ndarray, str]:
    image_bytes, label_bytes = idx.read_gz(images_gz), idx.read_gz(labels_gz)
    images = idx.parse_images(image_bytes, str(images_gz))
    labels = idx.parse_labels(label_bytes, str(labels_gz), num_classes)
    if len(images) != len(labels):
        raise idx.IdxError(
            f"{images_gz} has {len(images)} images but {labels_gz} has {len(labels)} labels"
        )
    digest = hashlib.sha256(image_bytes).hexdigest() + hashlib.sha256(label_bytes).hexdigest()
    return images, labels, digest


def prepare(files: dict[str, Path], out: Path, num_classes: int = 10) -> Dataset:
    """Parse and validate the four IDX files named by ``files`` (keys: SPLITS), write ``out``."""
    x_train, t_train, train_digest = _pair(
        files["train_images"], files["train_labels"], num_classes
    )
    x_test, t_test, test_digest = _pair(files["test_images"], files["test_labels"], num_classes)
    if x_train.shape[1] != x_test.shape[1]:
        raise idx.IdxError(
            f"{files['train_images']} has {x_train.shape[1]} pixels per image "
            f"but {files['test_images']} has {x_test.shape[1]}"
        )
    data = Dataset(
        x_train,
        t_train,
        x_test,
        t_test,
        hashlib.sha256((train_digest + test_digest).encode()).hexdigest(),
    )
    write_npz_atomically(
        out,
        {
            "x_train": normalize(data.pixels_train),
            "t_train": data.t_train,
            "x_test": normalize(data.pixels_test),
            "t_test": data.t_test,
            "pixels_train": data.pixels_train,
            "pixels_test": data.pixels_test,
            "digest": np.array(data.digest),
        },
    )
    return data


def load(path: str | Path) -> Dataset:
    """Load a dataset written by :func:`prepare` (only its uint8 members: fast)."""
    with np.load(path) as npz:
        return Dataset(
            npz["pixels_train"],
            npz["t_train"],
            npz["pixels_test"],
            npz["t_test"],
            str(npz["digest"]),
        )
