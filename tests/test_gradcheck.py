"""The gradient check as a product feature: it passes on the real net and catches a wrong one."""

import subprocess
import sys

import numpy as np
import pytest
from conftest import prepare_tiny, prepared_args
from scratchnet.gradcheck import GradientCheckFailed, check_gradients, require_within
from scratchnet.net import TwoLayerNet


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


def test_the_command_fails_with_a_clear_message_and_writes_no_csv(tmp_path):
    prepare_tiny(tmp_path, n_train=20, n_test=5, side=4)
    data = prepared_args(tmp_path)
    initial, out = str(tmp_path / "epoch_000.npz"), str(tmp_path / "gradcheck.csv")
    init = [
        sys.executable,
        "-m",
        "scratchnet",
        "init",
        *data,
        "--hidden-size",
        "5",
        "--out",
        initial,
    ]
    subprocess.run(init, check=True, capture_output=True, timeout=60)
    command = [sys.executable, "-m", "scratchnet", "gradcheck", initial, *data, "--out", out]
    passing = subprocess.run(command, capture_output=True, text=True, timeout=60)
    assert passing.returncode == 0, passing.stderr
    (tmp_path / "gradcheck.csv").unlink()

    failing = subprocess.run([*command, "--tolerance", "1e-30"], capture_output=True, text=True)
    assert failing.returncode == 1
    assert "backprop disagrees with numerical gradients beyond 1e-30" in failing.stderr
    assert not (tmp_path / "gradcheck.csv").exists()
