"""The chapter's worked values, as the package computes them for results/chapter/."""

import json

import numpy as np
import pytest
from scratchnet import chapter


@pytest.fixture(scope="module")
def values():
    return chapter.worked_values()


def section(values: dict, start: str) -> dict:
    return next(value for key, value in values.items() if key.startswith(start))


def test_the_loss_functions_of_the_chapters_example(values):
    losses = section(values, "loss functions")
    assert losses["mean_squared_error"] == pytest.approx(0.0975, abs=1e-12)
    assert losses["cross_entropy_error"] == pytest.approx(0.510825457099338, abs=1e-9)


def test_the_numerical_derivative_at_5_and_10(values):
    diff = section(values, "numerical_diff")
    assert diff["at x = 5"] == pytest.approx(0.1999999999990898, abs=1e-12)
    assert diff["at x = 10"] == pytest.approx(0.2999999999986347, abs=1e-12)


def test_the_gradients_of_x0_squared_plus_x1_squared(values):
    gradients = section(values, "numerical_gradient")
    expected = {"at (3, 4)": [6, 8], "at (0, 2)": [0, 4], "at (3, 0)": [6, 0]}
    for point, gradient in expected.items():
        np.testing.assert_allclose(gradients[point], gradient, atol=1e-6)


def test_where_gradient_descent_ends_for_each_learning_rate(values):
    ends = section(values, "gradient_descent")
    good, large, small = (ends[name] for name in chapter.LEARNING_RATES)
    np.testing.assert_allclose(good, [-6.1e-10, 8.1e-10], rtol=0.01)
    np.testing.assert_allclose(large, [-2.58983747e13, -1.29524862e12], rtol=1e-6)
    np.testing.assert_allclose(small, [-2.99999994, 3.99999992], rtol=1e-8)


def test_simple_net_numerical_gradient_agrees_with_backprop(values):
    net = section(values, "simpleNet")
    W = np.array(net["W"])
    assert W.shape == (2, 3)
    np.testing.assert_array_equal(W, np.random.default_rng(net["seed"]).standard_normal((2, 3)))
    np.testing.assert_allclose(net["dW (numerical_gradient)"], net["dW (backprop)"], atol=1e-7)
    assert net["largest difference"] < 1e-7 and net["loss"] > 0
    dW = np.array(net["dW (backprop)"])
    np.testing.assert_allclose(dW.sum(axis=1), 0.0, atol=1e-6)  # softmax: rows sum to zero


def test_the_worked_values_file_is_json_with_one_line_per_number_list(tmp_path):
    text = chapter.readable_json(chapter.worked_values())
    assert json.loads(text) == json.loads(json.dumps(chapter.worked_values()))
    assert '"y": [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0],' in text


def test_the_gradient_descent_figure_labels_every_end_point():
    fig = chapter.gradient_descent_figure()
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert any("lr=10" in label and "-2.59e+13" in label for label in labels)
    assert any("lr=1e-10" in label and "(-3, 4)" in label for label in labels)
