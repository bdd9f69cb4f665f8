"""The validation split: training images held out of training, to choose settings and
epochs on (the book's chapter 6.5), while the test set is kept for the end.

Which images are held out depends on the dataset (its number of training images) and the
split's own seed, never on a run: every run of a sweep, a search or a set of repeats is
judged on the same images. Training draws its batches from the other images only
(train.py); evaluation scores every image once and counts the held-out ones apart
(evaluate.py).
"""

from pathlib import Path

import numpy as np

from scratchnet.atomic import write_npz_atomically
from scratchnet.errors import KnownError

SPLIT_STREAM = 6_5  # the generator's second word: the book's section, apart from any run's


class SplitError(KnownError, ValueError):
    """A validation split that does not fit the dataset."""


def held_out_count(train_images: int, validation: float) -> int:
    """How many of ``train_images`` a `validation` of a count (>= 1) or fraction holds out."""
    count = round(validation * train_images) if validation < 1 else int(validation)
    if not 0 < count < train_images:
        raise SplitError(
            f"config: validation {validation:g} holds out {count} of the {train_images} "
            f"training images; choose a count from 1 to {train_images - 1} or a fraction"
        )
    return count


def held_out(train_images: int, validation: float, seed: int) -> np.ndarray:
    """The held-out training images' indices, sorted."""
    count = held_out_count(train_images, validation)
    order = np.random.default_rng([seed, SPLIT_STREAM]).permutation(train_images)
    return np.sort(order[:count]).astype(np.int64)


def write_split(labels: Path, validation: float, seed: int, out: Path) -> str:
    """The split of the prepared dataset whose labels are ``labels`` into ``out``; what it
    holds out, in words."""
    with np.load(labels, allow_pickle=False) as arrays:
        train_images, digest = len(arrays["t_train"]), str(arrays["digest"])
    indices = held_out(train_images, validation, seed)
    arrays = {"held_out": indices, "seed": np.array(seed), "digest": np.array(digest)}
    write_npz_atomically(out, arrays)
    return describe(indices, train_images)


def load(path: str | Path, digest: str) -> tuple[np.ndarray, dict]:
    """The held-out indices of a split made for the dataset of ``digest``, and what a
    checkpoint records of it (how many, which seed)."""
    with np.load(path, allow_pickle=False) as arrays:
        if str(arrays["digest"]) != digest:
            raise SplitError(f"{path} was made for other data; delete it and run snakemake")
        held = arrays["held_out"]
        return held, {"held_out": len(held), "seed": int(arrays["seed"])}


def kept_rows(train_images: int, held: np.ndarray) -> np.ndarray:
    """The training images training may draw from: all but the held-out ones."""
    keep = np.ones(train_images, dtype=bool)
    keep[held] = False
    return np.flatnonzero(keep)


def describe(held: np.ndarray, train_images: int) -> str:
    return f"{len(held)} of {train_images} training images held out for validation"
