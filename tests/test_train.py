"""Training as a library: sampling, (seed, epoch) randomness, training jobs, divergence."""

import json

import numpy as np
import pytest
from conftest import prepare_tiny
from scratchnet import checkpoint
from scratchnet.train import (
    DIVERGENCE_FACTOR,
    ModelSettings,
    SettingsError,
    TrainingDiverged,
    TrainingSettings,
    batch_indices,
    continue_training,
    epoch_rng,
    initial_network,
    sgd_epoch,
)

MODEL = ModelSettings(hidden_size=8, weight_init_std=0.1, seed=0, dtype="float32")


def settings(**changes) -> TrainingSettings:
    values = {"learning_rate": 0.5, "batch_size": 10, "iters_per_epoch": None,
              "sampling": "replacement", "gradient": "backprop"}  # fmt: skip
    return TrainingSettings(**{**values, **changes})


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return prepare_tiny(tmp_path_factory.mktemp("tiny"), n_train=200, n_test=50, shape=(6, 6))


def test_iters_per_epoch_defaults_to_train_size_over_batch_size():
    assert settings(batch_size=100).resolved(60_000).iters_per_epoch == 600
    assert settings(batch_size=100, iters_per_epoch=7).resolved(60_000).iters_per_epoch == 7


def test_a_batch_larger_than_the_training_set_is_refused_naming_the_key():
    with pytest.raises(SettingsError) as excinfo:
        settings(batch_size=60_001).resolved(60_000)
    assert str(excinfo.value) == (
        "config: batch_size 60001 is larger than the 60000 training images; choose at most 60000"
    )


def test_permutation_sampling_uses_every_image_once_per_pass():
    rows = batch_indices(np.random.default_rng(0), 50, 10, 5, "permutation")
    assert sorted(rows.ravel()) == list(range(50))


def test_replacement_sampling_draws_independent_batches():
    rows = batch_indices(np.random.default_rng(0), 50, 10, 30, "replacement")
    assert rows.shape == (30, 10) and rows.min() >= 0 and rows.max() < 50
    assert any(len(set(batch)) < 10 for batch in rows)  # like np.random.choice: repeats happen


def test_epoch_randomness_depends_on_seed_and_epoch_only():
    a = epoch_rng(3, 5).integers(0, 1000, 10)
    assert np.array_equal(a, epoch_rng(3, 5).integers(0, 1000, 10))
    assert not np.array_equal(a, epoch_rng(3, 6).integers(0, 1000, 10))
    assert not np.array_equal(a, epoch_rng(4, 5).integers(0, 1000, 10))


def train_job(data, folder, epochs, previous=None, **changes):
    """One training job's files, as the pipeline runs it; returns the checkpoint paths."""
    paths = [folder / f"epoch_{e:03d}.npz" for e in epochs]
    timings = [folder / f"timing_{e:03d}.json" for e in epochs if e > 0]
    continue_training(previous, paths, timings, data, MODEL, settings(**changes), 10)
    return paths


def test_training_in_two_jobs_is_bit_identical_to_one(tiny_data, tmp_path):
    (tmp_path / "one").mkdir()
    (tmp_path / "two").mkdir()
    one = train_job(tiny_data, tmp_path / "one", range(0, 5))
    first = train_job(tiny_data, tmp_path / "two", range(0, 3))
    two = first + train_job(tiny_data, tmp_path / "two", range(3, 5), previous=first[-1])
    for a, b in zip(one, two, strict=True):
        assert a.read_bytes() == b.read_bytes(), a.name
    meta, losses = checkpoint.losses(one[4])
    assert meta["iteration"] == 80 and len(losses) == 20 and np.all(np.isfinite(losses))
    assert len(checkpoint.losses(one[0])[1]) == 0  # epoch 0 follows no update
    timing = json.loads((tmp_path / "two" / "timing_004.json").read_text())
    assert timing["epoch"] == 4 and timing["seconds"] > 0


def test_a_job_refuses_a_checkpoint_made_with_other_settings(tiny_data, tmp_path):
    first = train_job(tiny_data, tmp_path, range(0, 2))
    with pytest.raises(checkpoint.CheckpointError) as excinfo:
        train_job(tiny_data, tmp_path, range(2, 3), previous=first[-1], learning_rate=0.7)
    message = str(excinfo.value)
    assert f"{first[-1]} was made with training settings learning_rate=0.5 (now 0.7)" in message
    assert "delete it" in message


def test_checkpoints_are_byte_identical_for_identical_networks(tiny_data, tmp_path):
    for name in ("a", "b"):
        net = initial_network(MODEL, tiny_data.input_size, 10)
        checkpoint.save(tmp_path / f"{name}.npz", net, {"epoch": 0})
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_non_finite_loss_stops_the_epoch(tiny_data):
    net = initial_network(MODEL, tiny_data.input_size, 10)
    with pytest.raises(TrainingDiverged, match="loss is nan"):
        sgd_epoch(net, tiny_data, settings(learning_rate=1e39), epoch_rng(0, 1))


def test_losses_come_back_one_per_update(tiny_data):
    net = initial_network(MODEL, tiny_data.input_size, 10)
    seen = []
    losses = sgd_epoch(net, tiny_data, settings(iters_per_epoch=13), epoch_rng(0, 1),
                       on_progress=lambda i, loss: seen.append((i, loss)))  # fmt: skip
    assert len(losses) == 13 and [i for i, _ in seen] == list(range(1, 14))
    assert np.all(np.isfinite(losses))


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning")
def test_a_diverging_epoch_is_not_kept_and_training_stops(tiny_data, tmp_path, caplog):
    paths = train_job(tiny_data, tmp_path, range(0, 4), learning_rate=1000.0)
    metas = [checkpoint.load(path)[1] for path in paths]
    assert "diverged" not in metas[0]
    first = next(e for e, meta in enumerate(metas) if "diverged" in meta)
    assert metas[first]["diverged"] == {"epoch": first, "learning_rate": 1000.0}
    stopped = checkpoint.load(paths[first - 1])[0].params
    for path in paths[first:]:  # the last healthy network, no more updates
        net, meta = checkpoint.load(path)
        assert meta["iteration"] == metas[first - 1]["iteration"]
        for name, array in net.params.items():
            assert np.array_equal(array, stopped[name])
    warnings = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert len(warnings) == 1
    assert f"epoch {first} diverged" in warnings[0]
    assert "lower learning_rate (now 1000.0)" in warnings[0]


def test_healthy_learning_rates_never_count_as_divergence(tiny_data, tmp_path):
    for rate in (0.01, 0.5, 2.0):
        folder = tmp_path / str(rate)
        folder.mkdir()
        paths = train_job(tiny_data, folder, range(0, 4), learning_rate=rate)
        assert all("diverged" not in checkpoint.load(p)[1] for p in paths), rate
    assert DIVERGENCE_FACTOR * np.log(10) > 4  # a network that guesses scores ln(10) = 2.3
