"""The evaluation set: every image once, in blocks that leave out only blank pixels."""

import numpy as np
import pytest
from scratchnet import evalset
from scratchnet.dataset import Dataset

SHAPE = (6, 5)


def inked_images(n: int, seed: int = 0) -> np.ndarray:
    """Images blank outside a random box, like digits on a blank page (flattened)."""
    rng = np.random.default_rng(seed)
    images = np.zeros((n, *SHAPE), dtype=np.uint8)
    for image in images:
        top, left = rng.integers(0, 3), rng.integers(0, 3)
        image[top : top + 3, left : left + 2] = rng.integers(1, 256, (3, 2))
    return images.reshape(n, -1)


def unpacked(blocks: list[evalset.Block]) -> list[tuple[bytes, int]]:
    """Each block's images with their blank columns put back, and labels, in a fixed order."""
    rows = []
    for block in blocks:
        full = np.zeros((len(block.labels), SHAPE[0] * SHAPE[1]), dtype=np.uint8)
        full[:, block.columns] = block.pixels
        rows.extend(zip((image.tobytes() for image in full), block.labels.tolist(), strict=True))
    return sorted(rows)


@pytest.mark.parametrize("block_rows", [1, 7, 40, 1000])  # 7: a shorter last block
def test_every_image_is_in_exactly_one_block_with_its_label(block_rows):
    pixels, labels = inked_images(40), np.arange(40) % 10
    blocks = evalset.blocks_of(pixels, labels, SHAPE, block_rows)
    images = (image.tobytes() for image in pixels)
    assert unpacked(blocks) == sorted(zip(images, labels.tolist(), strict=True))
    assert [len(b.labels) for b in blocks[:-1]] == [block_rows] * (len(blocks) - 1)


def test_a_block_leaves_out_exactly_the_columns_blank_in_all_its_images():
    blocks = evalset.blocks_of(inked_images(40), np.zeros(40, np.uint8), SHAPE, 7)
    for block in blocks:
        assert np.all(block.pixels.any(axis=0)), "a kept column is blank"
        full = np.zeros((len(block.labels), SHAPE[0] * SHAPE[1]), dtype=np.uint8)
        full[:, block.columns] = block.pixels
        assert np.array_equal(np.flatnonzero(full.any(axis=0)), block.columns)
    assert max(len(b.columns) for b in blocks) < SHAPE[0] * SHAPE[1]


def test_images_with_the_same_bounding_box_share_a_block():
    top_left, bottom_right = np.zeros(SHAPE, np.uint8), np.zeros(SHAPE, np.uint8)
    top_left[:2, :2], bottom_right[4:, 3:] = 9, 9
    pixels = np.stack([top_left, bottom_right] * 2).reshape(4, -1)  # alternating in the file
    blocks = evalset.blocks_of(pixels, np.arange(4), SHAPE, block_rows=2)
    kept = sorted(tuple(block.columns) for block in blocks)
    assert kept == [tuple(np.flatnonzero(top_left)), tuple(np.flatnonzero(bottom_right))]
    assert sorted(tuple(b.labels) for b in blocks) == [(0, 2), (1, 3)]


def tiny_set(seed: int = 0, n_train: int = 30, n_test: int = 9) -> evalset.EvaluationSet:
    pixels = inked_images(n_train + n_test, seed)
    labels = np.random.default_rng(seed).integers(0, 10, n_train + n_test).astype(np.uint8)
    data = Dataset(
        pixels[:n_train], labels[:n_train], pixels[n_train:], labels[n_train:], f"d{seed}", SHAPE
    )
    return evalset.pack(data, block_rows=4)


def test_saved_sets_load_back_block_for_block_and_byte_stable(tmp_path):
    packed = tiny_set()
    evalset.save(packed, tmp_path / "a.npy", tmp_path / "a.npz")
    evalset.save(packed, tmp_path / "b.npy", tmp_path / "b.npz")
    assert (tmp_path / "a.npy").read_bytes() == (tmp_path / "b.npy").read_bytes()
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = evalset.load(tmp_path / "a.npy", tmp_path / "a.npz")
    assert loaded.digest == "d0" and len(loaded.train) == 8 and len(loaded.test) == 3
    for original, back in zip(packed.train + packed.test, loaded.train + loaded.test, strict=True):
        for field in ("pixels", "columns", "labels"):
            np.testing.assert_array_equal(getattr(back, field), getattr(original, field))
    assert not list(tmp_path.glob(".*.tmp")), "temporary file left behind"


def test_pixels_and_an_index_of_another_set_are_refused_naming_both(tmp_path):
    evalset.save(tiny_set(0), tmp_path / "a.npy", tmp_path / "a.npz")
    evalset.save(tiny_set(1, n_train=20), tmp_path / "b.npy", tmp_path / "b.npz")
    with pytest.raises(ValueError, match=r"a\.npy holds \d+ pixels but .*b\.npz describes"):
        evalset.load(tmp_path / "a.npy", tmp_path / "b.npz")


def test_without_an_image_shape_blocks_still_hold_every_image():
    pixels = inked_images(25)
    data = Dataset(pixels[:20], np.zeros(20, np.uint8), pixels[20:], np.ones(5, np.uint8), "d")
    packed = evalset.pack(data, block_rows=6)
    assert unpacked(packed.train) == sorted((p.tobytes(), 0) for p in pixels[:20])
    assert unpacked(packed.test) == sorted((p.tobytes(), 1) for p in pixels[20:])
