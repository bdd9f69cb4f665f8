"""IDX parsing and the prepare step: round trips and every kind of corruption."""

import gzip

import numpy as np
import pytest
from conftest import SPLIT_NAMES, encode_images, encode_labels, write_tiny_idx
from scratchnet import dataset, idx


def test_images_and_labels_round_trip():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (5, 4, 3), dtype=np.uint8)
    labels = np.array([0, 9, 3, 3, 1], dtype=np.uint8)
    np.testing.assert_array_equal(idx.parse_images(encode_images(images)), images.reshape(5, 12))
    np.testing.assert_array_equal(idx.parse_labels(encode_labels(labels)), labels)


def _images() -> bytes:
    return encode_images(np.zeros((2, 3, 3), dtype=np.uint8))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (encode_labels(np.zeros(3, dtype=np.uint8)), "magic number 2049, expected 2051"),
        (_images()[:-1], "but the file has"),
        (_images() + b"\0", "but the file has"),
        (_images()[:10], "file ends early"),
        (b"\0\0", "too short"),
    ],
)
def test_malformed_images_name_the_file_and_the_defect(data, message):
    with pytest.raises(idx.IdxError, match=message) as excinfo:
        idx.parse_images(data, "bad-images")
    assert str(excinfo.value).startswith("bad-images: ")


def test_labels_outside_the_class_range_are_rejected():
    with pytest.raises(idx.IdxError, match=r"label 12 at index 1 is outside 0\.\.9"):
        idx.parse_labels(encode_labels(np.array([1, 12, 3], dtype=np.uint8)), "labels")


def _prepare(tmp_path, name="tiny"):
    write_tiny_idx(tmp_path, n_train=30, n_test=7, shape=(5, 5))
    files = {split: tmp_path / fname for split, fname in SPLIT_NAMES.items()}
    pixels, labels = tmp_path / f"{name}.npy", tmp_path / f"{name}-labels.npz"
    return dataset.prepare(files, pixels, labels, 10), pixels, labels


def test_prepare_writes_the_pixels_and_labels_the_jobs_load(tmp_path):
    data, pixels, labels = _prepare(tmp_path)
    loaded = dataset.load(pixels, labels)
    assert loaded.pixels_train.shape == (30, 25) and loaded.pixels_test.shape == (7, 25)
    assert loaded.pixels_train.dtype == np.uint8 and loaded.t_train.shape == (30,)
    np.testing.assert_array_equal(loaded.pixels_test, data.pixels_test)
    assert loaded.digest == data.digest and len(loaded.digest) == 64
    assert loaded.image_shape == data.image_shape == (5, 5)


def test_the_normalised_npz_holds_the_values_the_jobs_compute(tmp_path):
    data, _, _ = _prepare(tmp_path)
    dataset.write_normalized(data, tmp_path / "tiny.npz")
    with np.load(tmp_path / "tiny.npz") as npz:
        assert sorted(npz.files) == ["t_test", "t_train", "x_test", "x_train"]
        assert npz["x_train"].shape == (30, 25) and npz["x_train"].dtype == np.float32
        assert npz["x_test"].shape == (7, 25)
        assert npz["t_train"].shape == (30,) and npz["t_train"].dtype == np.uint8
        assert npz["x_train"].min() >= 0.0 and npz["x_train"].max() <= 1.0
        np.testing.assert_array_equal(npz["x_train"], dataset.normalize(data.pixels_train))
        np.testing.assert_array_equal(npz["x_test"], data.pixels_test / np.float32(255))


def test_prepare_is_byte_reproducible(tmp_path):
    _, pixels_a, labels_a = _prepare(tmp_path, "a")
    _, pixels_b, labels_b = _prepare(tmp_path, "b")
    assert pixels_a.read_bytes() == pixels_b.read_bytes()
    assert labels_a.read_bytes() == labels_b.read_bytes()


def _prepare_with(tmp_path, split: str, payload: bytes | None = None, raw: bytes | None = None):
    write_tiny_idx(tmp_path, n_train=30, n_test=7, shape=(5, 5))
    path = tmp_path / SPLIT_NAMES[split]
    path.write_bytes(raw if raw is not None else gzip.compress(payload))
    files = {s: tmp_path / name for s, name in SPLIT_NAMES.items()}
    pixels, labels = tmp_path / "out.npy", tmp_path / "out.npz"
    with pytest.raises(idx.IdxError) as excinfo:
        dataset.prepare(files, pixels, labels, 10)
    assert not pixels.exists() and not labels.exists()
    assert not list(tmp_path.glob(".out.*")), "temporary file left behind"
    return str(excinfo.value)


def test_prepare_rejects_a_count_mismatch_between_images_and_labels(tmp_path):
    message = _prepare_with(tmp_path, "train_labels", encode_labels(np.zeros(29, np.uint8)))
    assert "30 images" in message and "29 labels" in message


@pytest.mark.parametrize(
    ("raw", "kind"),
    [
        (b"<html>not found</html>", "a text file"),
        (b"label,pixel0,pixel1\n5,0,0\n", "a CSV file"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "a PNG image"),
    ],
)
def test_prepare_names_a_file_that_is_not_gzip_and_what_it_reads(tmp_path, raw, kind):
    message = _prepare_with(tmp_path, "test_images", raw=raw)
    assert f"t10k-images-idx3-ubyte.gz: this is {kind}, not gzip; " in message
    assert "the workflow reads gzipped IDX files" in message and "\n" not in message


@pytest.mark.parametrize(
    ("payload", "kind"),
    [(b"label,pixel0\n5,0\n", "a CSV file"), (b"\x89PNG\r\n\x1a\nrest", "a PNG image")],
)
def test_a_gzipped_file_that_is_not_idx_is_named_as_what_it_is(payload, kind):
    with pytest.raises(idx.IdxError, match=f"images: this is {kind}, not an IDX file; the wo"):
        idx.parse_images(payload)


def test_prepare_rejects_a_truncated_gzip_and_says_to_delete_it(tmp_path):
    write_tiny_idx(tmp_path, n_train=30, n_test=7, shape=(5, 5))
    whole = (tmp_path / SPLIT_NAMES["train_images"]).read_bytes()
    message = _prepare_with(tmp_path, "train_images", raw=whole[: len(whole) // 2])
    assert "train-images-idx3-ubyte.gz: not a complete gzip file" in message
    assert message.endswith("; delete it to download it again")
    assert "\n" not in message


def test_a_declared_class_that_never_occurs_is_refused(tmp_path):
    write_tiny_idx(tmp_path, n_train=30, n_test=7, shape=(5, 5), classes=4)
    files = {s: tmp_path / name for s, name in SPLIT_NAMES.items()}
    with pytest.raises(idx.IdxError) as excinfo:
        dataset.prepare(files, tmp_path / "out.npy", tmp_path / "out.npz", 10)
    message = str(excinfo.value)
    assert "train-labels-idx1-ubyte.gz: the dataset declares num_classes 10" in message
    assert "class(es) 4, 5, 6, 7, 8, 9 never occur" in message
    assert not (tmp_path / "out.npy").exists()


def test_prepare_rejects_images_of_different_sizes(tmp_path):
    message = _prepare_with(tmp_path, "test_images", encode_images(np.zeros((7, 4, 4), np.uint8)))
    assert "has 5x5 images" in message and "has 4x4" in message


def test_dataset_entry_prints_the_config_entry_of_four_idx_files(tmp_path):
    import subprocess
    import sys

    import yaml
    from conftest import SPLIT_NAMES, write_tiny_idx

    digests = write_tiny_idx(tmp_path, shape=(5, 6), classes=4)
    files = [str(tmp_path / name) for name in reversed(list(SPLIT_NAMES.values()))]
    command = [sys.executable, "-m", "scratchnet", "dataset-entry", *files, "--name", "tiny"]
    said = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert said.returncode == 0, said.stderr
    assert said.stdout.startswith("# 5x6-pixel images, 4 classes")
    entry = yaml.safe_load(said.stdout)["tiny"]
    assert entry["num_classes"] == 4
    assert entry["files"] == {
        split: {"name": name, "sha256": digests[name]} for split, name in SPLIT_NAMES.items()
    }


def test_a_checksum_mismatch_gives_both_hashes_in_full_and_the_likely_cause(tmp_path):
    """The likeliest mistake in a new dataset entry: the .gz file's own SHA-256."""
    import hashlib

    payload = b"\x00\x00\x08\x01\x00\x00\x00\x02\x01\x02"
    path = tmp_path / "labels.gz"
    path.write_bytes(gzip.compress(payload, mtime=0))
    actual = hashlib.sha256(payload).hexdigest()
    of_the_file = hashlib.sha256(path.read_bytes()).hexdigest()
    said = idx.checksum_cause(path, actual, of_the_file)
    assert actual in said and of_the_file in said
    assert "hash of the .gz file itself" in said and "gunzip -c FILE | sha256sum" in said
    other = idx.checksum_cause(path, actual, "0" * 64)
    assert "0" * 64 in other and "damaged or another file" in other
