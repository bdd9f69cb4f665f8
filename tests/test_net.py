"""TwoLayerNet and its layers: backprop against numerical gradients, the SGD step, dtypes."""

import numpy as np
import pytest
from scratchnet.functions import cross_entropy_error, numerical_gradient, softmax
from scratchnet.gradcheck import check_gradients
from scratchnet.layers import Affine, Sigmoid, SoftmaxWithLoss
from scratchnet.net import PARAM_NAMES, TwoLayerNet


class SimpleNet:
    """The seed's simpleNet: one 2x3 weight matrix, softmax and cross-entropy."""

    def __init__(self, W):
        self.W = W

    def loss(self, x, t):
        return cross_entropy_error(softmax(x @ self.W), t)


def test_simple_net_gradient_matches_the_analytic_one():
    rng = np.random.default_rng(0)
    net = SimpleNet(rng.standard_normal((2, 3)))
    x, t = np.array([0.6, 0.9]), np.array([0.0, 0.0, 1.0])
    numeric = numerical_gradient(lambda _: net.loss(x, t), net.W)
    analytic = np.outer(x, softmax(x @ net.W) - t)
    assert numeric.shape == (2, 3)
    np.testing.assert_allclose(numeric, analytic, atol=1e-6)
    np.testing.assert_allclose(numeric.sum(axis=1), 0.0, atol=1e-6)


@pytest.fixture
def float64_net_and_batch():
    rng = np.random.default_rng(3)
    net = TwoLayerNet(784, 50, 10, weight_init_std=0.01, rng=rng, dtype=np.float64)
    return net, rng.random((3, 784)), rng.integers(0, 10, 3)


def test_backprop_matches_numerical_gradients_to_1e_7_for_every_parameter(float64_net_and_batch):
    net, x, t = float64_net_and_batch
    checks = check_gradients(net, x, t)  # every entry of every parameter
    assert [c.param for c in checks] == list(PARAM_NAMES)
    assert [c.entries_checked for c in checks] == [784 * 50, 50, 500, 10]
    for c in checks:
        assert c.max_rel_err <= 1e-7, c


def test_gradient_accepts_one_hot_labels(float64_net_and_batch):
    net, x, t = float64_net_and_batch
    by_index = net.gradient(x, t)
    by_one_hot = net.gradient(x, np.eye(10)[t])
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(by_index[name], by_one_hot[name])


def test_sgd_step_applies_the_backprop_gradient_in_place_and_reports_the_pre_update_loss():
    rng = np.random.default_rng(5)
    net = TwoLayerNet(20, 8, 4, weight_init_std=0.5, rng=rng, dtype=np.float64)
    x, t = rng.random((6, 20)), rng.integers(0, 4, 6)
    arrays = {name: net.params[name] for name in PARAM_NAMES}
    before = {name: a.copy() for name, a in arrays.items()}
    expected_loss = net.loss(x, t)
    grads = net.gradient(x, t)
    loss = net.sgd_step(x, t, learning_rate=0.3)
    assert loss == pytest.approx(expected_loss, rel=1e-6)  # delta kept, same forward pass
    for name in PARAM_NAMES:
        assert net.params[name] is arrays[name]
        np.testing.assert_allclose(net.params[name], before[name] - 0.3 * grads[name])


def test_numerical_sgd_step_matches_the_backprop_step():
    rng = np.random.default_rng(6)
    fast = TwoLayerNet(6, 4, 3, weight_init_std=0.5, rng=np.random.default_rng(1), dtype="float64")
    slow = TwoLayerNet(6, 4, 3, weight_init_std=0.5, rng=np.random.default_rng(1), dtype="float64")
    x, t = rng.random((5, 6)), rng.integers(0, 3, 5)
    assert fast.sgd_step(x, t, 0.5) == pytest.approx(slow.numerical_sgd_step(x, t, 0.5))
    for name in PARAM_NAMES:
        np.testing.assert_allclose(fast.params[name], slow.params[name], atol=1e-8)


def test_float32_is_the_default_and_float64_is_available():
    assert TwoLayerNet(4, 3, 2).dtype == np.float32
    assert TwoLayerNet(4, 3, 2, dtype="float64").dtype == np.float64
    same_seed_32 = TwoLayerNet(4, 3, 2, rng=np.random.default_rng(9))
    same_seed_64 = TwoLayerNet(4, 3, 2, rng=np.random.default_rng(9), dtype="float64")
    np.testing.assert_array_equal(same_seed_32.params["W1"], same_seed_64.params["W1"].astype("f4"))


def test_float32_training_keeps_float32_everywhere():
    rng = np.random.default_rng(0)
    net = TwoLayerNet(10, 5, 3, rng=rng)
    net.sgd_step(rng.random((4, 10), dtype=np.float32), rng.integers(0, 3, 4), 0.1)
    assert {p.dtype for p in net.params.values()} == {np.dtype(np.float32)}


def test_initialisation_uses_the_given_generator_not_the_global_one():
    np.random.seed(0)
    a = TwoLayerNet(5, 4, 3, rng=np.random.default_rng(42)).params["W1"]
    np.random.seed(1)
    b = TwoLayerNet(5, 4, 3, rng=np.random.default_rng(42)).params["W1"]
    np.testing.assert_array_equal(a, b)


def test_first_affine_layer_computes_no_input_gradient():
    net = TwoLayerNet(5, 4, 3)
    assert net.affine1.needs_input_grad is False
    net.forward_backward(np.ones((2, 5), dtype=np.float32), np.array([0, 1]))
    assert net.affine1.dW is not None


def test_accuracy_counts_correct_predictions():
    net = TwoLayerNet(2, 3, 2, rng=np.random.default_rng(0))
    x = np.array([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    predicted = net.predict(x).argmax(axis=1)
    assert net.accuracy(x, predicted) == 1.0
    assert net.accuracy(x, 1 - predicted) == 0.0


@pytest.mark.parametrize("layer", [Sigmoid()])
def test_activation_backward_matches_numerical_derivative(layer):
    x = np.array([[-1.5, -0.2, 0.3, 2.0]])
    layer.forward(x)
    analytic = layer.backward(np.ones_like(x))
    numeric = numerical_gradient(lambda v: float(np.sum(type(layer)().forward(v))), x.copy())
    np.testing.assert_allclose(analytic, numeric, atol=1e-6)


def test_affine_backward_matches_numerical_gradient():
    rng = np.random.default_rng(2)
    W, b, x = rng.random((3, 2)), rng.random(2), rng.random((4, 3))
    layer = Affine(W, b)
    dout = rng.random((4, 2))
    layer.forward(x)
    dx = layer.backward(dout)
    np.testing.assert_allclose(
        layer.dW, numerical_gradient(lambda _: float(np.sum(Affine(W, b).forward(x) * dout)), W)
    )
    np.testing.assert_allclose(
        dx, numerical_gradient(lambda v: float(np.sum(Affine(W, b).forward(v) * dout)), x.copy())
    )


def test_softmax_with_loss_backward_is_the_gradient_of_its_forward():
    rng = np.random.default_rng(4)
    scores, labels = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    layer = SoftmaxWithLoss()
    layer.forward(scores, labels)
    analytic = layer.backward()
    numeric = numerical_gradient(lambda s: SoftmaxWithLoss().forward(s, labels), scores.copy())
    np.testing.assert_allclose(analytic, numeric, atol=1e-9)


def test_gradients_belong_to_the_caller_and_later_steps_leave_them_alone():
    rng = np.random.default_rng(7)
    net = TwoLayerNet(6, 4, 3, weight_init_std=0.5, rng=rng, dtype="float64")
    x, t = rng.random((5, 6)), rng.integers(0, 3, 5)
    grads = net.gradient(x, t)
    kept = {name: grad.copy() for name, grad in grads.items()}
    net.sgd_step(x, t, 0.3)  # reuses the layers' own gradient arrays
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(grads[name], kept[name])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_hidden_layer_of_the_inked_columns_equals_that_of_the_whole_image(dtype):
    rng = np.random.default_rng(8)
    net = TwoLayerNet(30, 7, 4, 0.5, np.random.default_rng(1), dtype)
    x, columns = rng.random((11, 20)).astype(dtype), np.sort(rng.choice(30, 20, replace=False))
    full = np.zeros((11, 30), dtype=dtype)
    full[:, columns] = x  # the left-out pixels are 0
    np.testing.assert_allclose(net.hidden(x, columns), net.hidden(full), rtol=1e-6)


def test_scores_come_one_row_per_image_and_class_scores_one_column():
    net = TwoLayerNet(5, 4, 3, rng=np.random.default_rng(1))
    x = np.random.default_rng(2).random((6, 5), dtype=np.float32)
    assert net.scores(x).shape == (6, 3)
    np.testing.assert_array_equal(net.class_scores(net.hidden(x)), net.scores(x).T)
