"""Atomic writes: a reader sees the old file or the whole new one, never a part."""

import numpy as np
import pytest
from scratchnet.atomic import (
    RowBlocks,
    write_atomically,
    write_npy_atomically,
    write_npz_atomically,
)


def half_written_then_failing(tmp):
    tmp.write_text("half of the new")
    raise OSError("disk full")


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(tmp_path):
    target = tmp_path / "table.csv"
    target.write_text("old\n")
    with pytest.raises(OSError, match="disk full"):
        write_atomically(target, half_written_then_failing)
    assert target.read_text() == "old\n"
    assert [p.name for p in tmp_path.iterdir()] == ["table.csv"]


def test_a_failed_first_write_leaves_nothing_and_a_good_one_makes_the_folder(tmp_path):
    target = tmp_path / "new" / "folder" / "figure.png"
    with pytest.raises(OSError):
        write_atomically(target, half_written_then_failing)
    assert list(target.parent.iterdir()) == []
    write_atomically(target, lambda tmp: tmp.write_bytes(b"png"))
    assert target.read_bytes() == b"png"
    assert [p.name for p in target.parent.iterdir()] == ["figure.png"]


def test_npz_in_row_blocks_loads_as_the_whole_arrays_with_the_same_bytes_every_time(tmp_path):
    whole = np.arange(10 * 3, dtype=np.float32).reshape(10, 3)
    labels = np.arange(10, dtype=np.uint8)

    def blocks():
        for start in range(0, 10, 4):  # 4, 4, then 2 rows
            yield whole[start : start + 4]

    arrays = {"x": RowBlocks(whole.shape, np.dtype(np.float32), blocks), "t": labels}
    first, second = tmp_path / "first.npz", tmp_path / "second.npz"
    write_npz_atomically(first, arrays)
    write_npz_atomically(second, arrays)
    with np.load(first, allow_pickle=False) as loaded:
        assert sorted(loaded.files) == ["t", "x"]
        np.testing.assert_array_equal(loaded["x"], whole)
        assert loaded["x"].dtype == np.float32
        np.testing.assert_array_equal(loaded["t"], labels)
    assert first.read_bytes() == second.read_bytes()


def test_npy_in_row_blocks_memory_maps_as_the_whole_array_and_equals_np_save(tmp_path):
    whole = np.arange(7 * 5, dtype=np.uint8).reshape(7, 5)
    parts = RowBlocks(whole.shape, np.dtype(np.uint8), lambda: (whole[:3], whole[3:]))
    write_npy_atomically(tmp_path / "parts.npy", parts)
    np.save(tmp_path / "whole.npy", whole)
    np.testing.assert_array_equal(np.load(tmp_path / "parts.npy", mmap_mode="r"), whole)
    assert (tmp_path / "parts.npy").read_bytes() == (tmp_path / "whole.npy").read_bytes()
