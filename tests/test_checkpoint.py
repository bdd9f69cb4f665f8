"""Checkpoints are verified when read: a damaged file is refused naming it and the fix."""

import zipfile

import numpy as np
import pytest
from scratchnet import checkpoint
from scratchnet.atomic import write_npz_atomically
from scratchnet.net import TwoLayerNet

FIX = "; delete it and run snakemake again to retrain it"


@pytest.fixture
def saved(tmp_path):
    net = TwoLayerNet(20, 6, 4, weight_init_std=0.5, rng=np.random.default_rng(0))
    path = tmp_path / "epoch_016.npz"
    checkpoint.save(path, net, {"epoch": 16, "iteration": 9600})
    return path, net


def refusal(path) -> str:
    with pytest.raises(checkpoint.CheckpointError) as excinfo:
        checkpoint.load(path)
    message = str(excinfo.value)
    assert message.startswith(f"{path} is corrupt (") and message.endswith(FIX)
    assert "\n" not in message
    return message


def test_a_checkpoint_loads_back_with_its_metadata_and_digest(saved):
    path, net = saved
    loaded, meta = checkpoint.load(path)
    assert meta["epoch"] == 16 and meta["format"] == checkpoint.FORMAT_VERSION
    assert meta["params_sha256"] == checkpoint.params_digest(net.params)
    for name, array in net.params.items():
        assert np.array_equal(loaded.params[name], array)
    with np.load(path) as npz:  # a plain .npz
        assert sorted(npz.files) == ["W1", "W2", "b1", "b2", "losses", "meta"]


def test_a_truncated_checkpoint_is_refused(saved):
    path, _ = saved
    path.write_bytes(path.read_bytes()[:1000])
    assert "not a zip file" in refusal(path).lower()


def test_flipped_bytes_are_caught_by_the_zip_crc(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    data[300:304] = bytes(b ^ 0xFF for b in data[300:304])  # inside W1's values
    path.write_bytes(bytes(data))
    assert "CRC" in refusal(path)


def test_arrays_that_read_cleanly_but_differ_from_their_digest_are_refused(saved):
    path, net = saved
    with np.load(path) as npz:
        meta = str(npz["meta"])
    arrays = {**net.params, "meta": np.array(meta)}
    arrays["b2"] = arrays["b2"] + 1  # a valid zip whose arrays were changed
    write_npz_atomically(path, arrays)
    assert "do not match the digest" in refusal(path)


def test_a_file_without_the_arrays_is_refused(tmp_path):
    path = tmp_path / "other.npz"
    write_npz_atomically(path, {"x": np.zeros(3)})
    assert "no W1, b1, W2, b2, meta inside" in refusal(path)


def test_metadata_that_is_not_json_is_refused(saved):
    path, net = saved
    write_npz_atomically(path, {**net.params, "meta": np.array("{broken")})
    refusal(path)


def test_a_saved_checkpoint_is_a_zip_with_fixed_dates(saved):
    path, _ = saved
    with zipfile.ZipFile(path) as archive:
        assert {info.date_time for info in archive.infolist()} == {(1980, 1, 1, 0, 0, 0)}
