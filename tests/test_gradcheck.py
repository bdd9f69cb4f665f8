"""The gradient check as a product feature: it passes on the real net and catches a wrong one."""

import numpy as np
import pytest
from conftest import prepare_tiny
from scratchnet import checkpoint
from scratchnet.gradcheck import (
    GradientCheckFailed,
    check_gradients,
    require_within,
    write_gradient_check,
)
from scratchnet.net import TwoLayerNet
from scratchnet.train import ModelSettings, initial_network


class WrongBackpropNet(TwoLayerNet):
    """Test-only: the sigmoid derivative forgotten in backprop (a classic bug)."""

    def gradient(self, x, t):
        grads = super().gradient(x, t)
        dhidden = self.last.backward() @ self.params["W2"].T  # missing * s * (1 - s)
        grads["W1"] = x.T @ dhidden
        grads["b1"] = dhidden.sum(axis=0)
        return grads


def _batch():
    rng = np.random.default_rng(0)
    return rng.random((3, 12)), rng.integers(0, 4, 3)


def test_a_correct_net_passes_within_1e_7():
    net = TwoLayerNet(12, 6, 4, weight_init_std=0.3, rng=np.random.default_rng(1), dtype="float64")
    checks = check_gradients(net, *_batch())
    require_within(checks, 1e-7)
    assert max(c.max_rel_err for c in checks) < 1e-7


def test_a_wrong_backward_pass_is_caught_and_named():
    net = WrongBackpropNet(12, 6, 4, 0.3, rng=np.random.default_rng(1), dtype="float64")
    checks = check_gradients(net, *_batch())
    with pytest.raises(GradientCheckFailed, match=r"beyond 1e-07: W1 .*, b1 "):
        require_within(checks, 1e-7)
    assert {c.param for c in checks if c.max_rel_err > 1e-7} == {"W1", "b1"}


def test_sampling_checks_the_requested_number_of_entries():
    net = TwoLayerNet(12, 6, 4, weight_init_std=0.3, rng=np.random.default_rng(1), dtype="float64")
    checks = check_gradients(net, *_batch(), max_entries=10)
    assert [c.entries_checked for c in checks] == [10, 6, 10, 4]


def test_the_job_writes_the_check_or_fails_with_the_fix_and_no_csv(tmp_path):
    data = prepare_tiny(tmp_path, n_train=20, n_test=5, shape=(4, 4))
    initial = tmp_path / "epoch_000.npz"
    model = ModelSettings(hidden_size=5, weight_init_std=0.1, seed=0, dtype="float32")
    net = initial_network(model, data.input_size, 10)
    checkpoint.save(initial, net, checkpoint.initial_meta(model, data.digest))
    out = tmp_path / "gradcheck.csv"
    write_gradient_check(initial, data, 3, 1e-7, "all", out)
    rows = out.read_text().splitlines()
    assert rows[0] == "param,entries_checked,max_abs_diff,max_rel_err,tolerance,passed"
    written = [row.split(",") for row in rows[1:]]
    assert [row[0] for row in written] == ["W1", "b1", "W2", "b2"]
    assert [int(row[1]) for row in written] == [16 * 5, 5, 5 * 10, 10]  # "all"
    assert all(float(row[3]) <= float(row[4]) == 1e-7 and row[5] == "yes" for row in written)
    out.unlink()
    with pytest.raises(GradientCheckFailed, match="beyond 1e-30"):
        write_gradient_check(initial, data, 3, 1e-30, "20", out)
    assert not out.exists()
