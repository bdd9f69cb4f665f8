"""Training as a library: sampling, (seed, epoch) randomness, checkpoints and divergence."""

import numpy as np
import pytest
from conftest import prepare_tiny, prepared_args
from scratchnet import checkpoint
from scratchnet.train import (
    ModelSettings,
    TrainingDiverged,
    TrainingSettings,
    batch_indices,
    epoch_rng,
    initial_network,
    sgd_epoch,
)


@pytest.fixture(scope="module")
def tiny_data(tmp_path_factory):
    return prepare_tiny(tmp_path_factory.mktemp("tiny"), n_train=200, n_test=50, side=6)


def test_iters_per_epoch_defaults_to_train_size_over_batch_size():
    assert TrainingSettings(batch_size=100).resolved(60_000).iters_per_epoch == 600
    assert TrainingSettings(batch_size=100, iters_per_epoch=7).resolved(60_000).iters_per_epoch == 7


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


def _train(data, net, epochs, settings):
    for epoch in epochs:
        sgd_epoch(net, data, settings, epoch_rng(0, epoch))


def test_resuming_from_a_saved_checkpoint_is_bit_identical(tiny_data, tmp_path):
    settings = TrainingSettings(learning_rate=0.5, batch_size=10)
    straight = initial_network(ModelSettings(hidden_size=8), tiny_data.input_size, 10)
    _train(tiny_data, straight, [1, 2, 3], settings)

    resumed = initial_network(ModelSettings(hidden_size=8), tiny_data.input_size, 10)
    _train(tiny_data, resumed, [1], settings)
    checkpoint.save(tmp_path / "e1.npz", resumed, {"epoch": 1})
    resumed, meta = checkpoint.load(tmp_path / "e1.npz")
    assert meta == {"epoch": 1, "format": 1}
    _train(tiny_data, resumed, [2, 3], settings)
    for name, value in straight.params.items():
        assert np.array_equal(value, resumed.params[name]), name


def test_checkpoints_are_byte_identical_for_identical_networks(tiny_data, tmp_path):
    for name in ("a", "b"):
        net = initial_network(ModelSettings(), tiny_data.input_size, 10)
        checkpoint.save(tmp_path / f"{name}.npz", net, {"epoch": 0})
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_a_checkpoint_with_other_settings_is_refused_with_the_fix():
    with pytest.raises(checkpoint.CheckpointMismatch) as excinfo:
        checkpoint.require_same(
            "training",
            {"learning_rate": 0.1, "batch_size": 100},
            {"learning_rate": 0.5, "batch_size": 100},
            "ckpt.npz",
        )
    message = str(excinfo.value)
    assert "ckpt.npz was made with training settings learning_rate=0.1 (now 0.5)" in message
    assert "delete it" in message


@pytest.mark.filterwarnings("ignore:overflow:RuntimeWarning", "ignore:invalid:RuntimeWarning")
def test_a_non_finite_loss_stops_the_epoch(tiny_data):
    net = initial_network(ModelSettings(hidden_size=8), tiny_data.input_size, 10)
    with pytest.raises(TrainingDiverged, match="iteration 2: loss is nan"):
        sgd_epoch(
            net, tiny_data, TrainingSettings(learning_rate=1e39, batch_size=10), epoch_rng(0, 1)
        )


def test_losses_come_back_one_per_update(tiny_data):
    net = initial_network(ModelSettings(hidden_size=8), tiny_data.input_size, 10)
    seen = []
    losses = sgd_epoch(
        net, tiny_data, TrainingSettings(batch_size=10, iters_per_epoch=13), epoch_rng(0, 1),
        on_progress=lambda i, loss: seen.append((i, loss)),
    )  # fmt: skip
    assert len(losses) == 13 and [i for i, _ in seen] == list(range(1, 14))
    assert np.all(np.isfinite(losses))


def test_a_checkpoint_from_other_data_is_refused_in_one_line(tmp_path, caplog):
    from scratchnet.cli import main

    paths = {}
    for name, seed in (("one", 0), ("other", 1)):
        prepare_tiny(tmp_path / name, seed, n_train=60, n_test=10, side=6)
        paths[name] = prepared_args(tmp_path / name)
    epoch0 = str(tmp_path / "epoch_000.npz")
    assert main(["init", *paths["one"], "--out", epoch0, "--hidden-size", "5"]) == 0
    out = tmp_path / "epoch_001.npz"
    code = main(["train-epoch", epoch0, *paths["other"], "--out", str(out),
                 "--losses", str(tmp_path / "losses.csv"), "--hidden-size", "5"])  # fmt: skip
    assert code == 1 and not out.exists()
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and "trained on other data" in errors[0]
