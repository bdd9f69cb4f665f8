"""The evaluation set: every image once, in blocks that leave out their blank pixels.

Each checkpoint is scored on all 70,000 images, and the product of the images with W1
is most of that work. Most pixels are blank (0): a blank pixel adds nothing to any sum,
so a block of images only needs the pixel columns that are non-zero in at least one of
its images, and the matching rows of W1. Images sorted by their bounding box share
blank borders, so MNIST's blocks keep about half of its 784 columns, and evaluation does
about half the multiplications (docs/performance.md has the counts).

On disk (written once per dataset by ``pack``): the blocks' pixels one after another in
a flat uint8 .npy, memory-mapped when loaded, and an .npz index of the blocks: rows,
kept columns, labels and which images they are in block order (for the validation split),
how many blocks are train images, and the dataset's digest.
"""

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchnet.atomic import RowBlocks, write_npy_atomically, write_npz_atomically
from scratchnet.dataset import Dataset

BLOCK_ROWS = 1000  # among the fastest of the sizes tried (docs/performance.md)


@dataclass(frozen=True)
class Block:
    pixels: np.ndarray  # (rows, len(columns)) uint8: the block's images, blank columns left out
    columns: np.ndarray  # which of the image's pixels those columns are
    labels: np.ndarray  # (rows,) class labels
    images: np.ndarray  # (rows,) which images of their split (train or test) these are


@dataclass(frozen=True)
class EvaluationSet:
    train: list[Block]
    test: list[Block]
    digest: str  # the prepared dataset's, as recorded in checkpoints


def _bounding_box_order(pixels: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Row indices sorted by each image's box of non-zero pixels (top, bottom, left, right)."""
    ink = (pixels != 0).reshape(len(pixels), *image_shape)
    rows_inked, columns_inked = ink.any(axis=2), ink.any(axis=1)
    top, left = rows_inked.argmax(axis=1), columns_inked.argmax(axis=1)
    bottom = image_shape[0] - rows_inked[:, ::-1].argmax(axis=1)
    right = image_shape[1] - columns_inked[:, ::-1].argmax(axis=1)
    return np.lexsort((right, left, bottom, top))  # the last key sorts first


def blocks_of(
    pixels: np.ndarray,
    labels: np.ndarray,
    image_shape: tuple[int, int],
    block_rows: int = BLOCK_ROWS,
) -> list[Block]:
    """Every row of ``pixels`` in exactly one block, each block without its blank columns."""
    order = _bounding_box_order(pixels, image_shape)
    blocks = []
    for start in range(0, len(order), block_rows):
        rows = np.sort(order[start : start + block_rows])  # sorted: reads the file forwards
        images = pixels[rows]
        columns = np.flatnonzero(images.any(axis=0))
        pixels_kept = np.ascontiguousarray(images[:, columns])
        blocks.append(Block(pixels_kept, columns, labels[rows], rows))
    return blocks


def pack(data: Dataset, block_rows: int = BLOCK_ROWS) -> EvaluationSet:
    shape = data.image_shape or (1, data.input_size)  # unknown shape: one row of pixels
    return EvaluationSet(
        blocks_of(data.pixels_train, data.t_train, shape, block_rows),
        blocks_of(data.pixels_test, data.t_test, shape, block_rows),
        data.digest,
    )


def save(evalset: EvaluationSet, pixels_out: str | Path, index_out: str | Path) -> None:
    blocks = evalset.train + evalset.test
    size = sum(block.pixels.size for block in blocks)
    flat = RowBlocks((size,), np.dtype(np.uint8), lambda: (block.pixels for block in blocks))
    write_npy_atomically(pixels_out, flat)
    index = {
        "rows": np.array([len(block.labels) for block in blocks], dtype=np.int64),
        "kept": np.array([len(block.columns) for block in blocks], dtype=np.int64),
        "columns": np.concatenate([block.columns for block in blocks]).astype(np.int32),
        "labels": np.concatenate([block.labels for block in blocks]),
        "images": np.concatenate([block.images for block in blocks]).astype(np.int32),
        "train_blocks": np.array(len(evalset.train)),
        "digest": np.array(evalset.digest),
    }
    write_npz_atomically(index_out, index)


def load(pixels_path: str | Path, index_path: str | Path) -> EvaluationSet:
    """The files written by :func:`save`; the pixels stay memory-mapped."""
    flat = np.asarray(np.load(pixels_path, mmap_mode="r", allow_pickle=False))
    with np.load(index_path, allow_pickle=False) as index:
        rows, kept, columns, labels, images = (
            index[k] for k in ("rows", "kept", "columns", "labels", "images")
        )
        train_blocks, digest = int(index["train_blocks"]), str(index["digest"])
    sizes = rows * kept
    if sizes.sum() != flat.size:
        raise ValueError(
            f"{pixels_path} holds {flat.size} pixels but {index_path} describes "
            f"{sizes.sum()}; rerun the pack_evaluation step"
        )
    pixel_ends, column_ends, label_ends = np.cumsum(sizes), np.cumsum(kept), np.cumsum(rows)
    blocks = [
        Block(
            flat[pixel_end - size : pixel_end].reshape(n, k),
            columns[column_end - k : column_end],
            labels[label_end - n : label_end],
            images[label_end - n : label_end],
        )
        for n, k, size, pixel_end, column_end, label_end in zip(
            rows, kept, sizes, pixel_ends, column_ends, label_ends, strict=True
        )
    ]
    return EvaluationSet(blocks[:train_blocks], blocks[train_blocks:], digest)


def describe(packed: EvaluationSet) -> str:
    """How many blocks, and how many pixels per image they keep on average."""
    blocks = packed.train + packed.test
    kept = sum(b.pixels.size for b in blocks) / sum(len(b.labels) for b in blocks)
    return f"{len(blocks)} blocks keeping {kept:.0f} pixels per image on average"
