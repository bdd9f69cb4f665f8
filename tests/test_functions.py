"""The seed chapter's worked examples, with its numbers, and properties of the functions."""

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scratchnet.functions import (
    cross_entropy_error,
    gradient_descent,
    mean_squared_error,
    numerical_diff,
    numerical_gradient,
    sigmoid,
    softmax,
)

SEED_Y = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
SEED_T = np.eye(10)[2]


def square_sum(x):
    return float(np.sum(x**2))


def test_mean_squared_error_of_the_seed_example():
    assert mean_squared_error(SEED_Y, SEED_T) == pytest.approx(0.0975, abs=1e-12)


def test_cross_entropy_error_of_the_seed_example():
    assert cross_entropy_error(SEED_Y, SEED_T) == pytest.approx(0.510825457099338, abs=1e-9)


def test_cross_entropy_takes_integer_labels_and_batches():
    batch = np.stack([SEED_Y, SEED_Y])
    assert cross_entropy_error(batch, np.array([2, 2])) == pytest.approx(0.510825457099338)
    assert cross_entropy_error(SEED_Y, np.array(2)) == pytest.approx(0.510825457099338)


@pytest.mark.parametrize(("x", "slope"), [(5.0, 0.2), (10.0, 0.3)])
def test_numerical_diff_of_the_seed_function(x, slope):
    assert numerical_diff(lambda v: 0.01 * v**2 + 0.1 * v, x) == pytest.approx(slope, abs=1e-8)


@pytest.mark.parametrize(
    ("point", "expected"),
    [((3.0, 4.0), (6.0, 8.0)), ((0.0, 2.0), (0.0, 4.0)), ((3.0, 0.0), (6.0, 0.0))],
)
def test_numerical_gradient_of_the_seed_function(point, expected):
    grad = numerical_gradient(square_sum, np.array(point))
    np.testing.assert_allclose(grad, expected, atol=1e-6)


def test_gradient_descent_reaches_the_minimum():
    x = gradient_descent(square_sum, np.array([-3.0, 4.0]), lr=0.1, step_num=100)
    assert np.linalg.norm(x) < 1e-8


def test_gradient_descent_diverges_with_a_large_learning_rate():
    x = gradient_descent(square_sum, np.array([-3.0, 4.0]), lr=10.0, step_num=100)
    assert not np.isfinite(x).all() or np.linalg.norm(x) > 1e6


def test_gradient_descent_barely_moves_with_a_tiny_learning_rate():
    x = gradient_descent(square_sum, np.array([-3.0, 4.0]), lr=1e-10, step_num=100)
    np.testing.assert_allclose(x, [-3.0, 4.0], atol=1e-6)
    assert not np.array_equal(x, [-3.0, 4.0])


def test_sigmoid_limits_and_midpoint():
    np.testing.assert_allclose(sigmoid(np.array([-1000.0, 0.0, 1000.0])), [0.0, 0.5, 1.0])


def test_sigmoid_into_its_own_input_gives_the_same_values():
    x = np.linspace(-30, 30, 61, dtype=np.float32)
    expected = sigmoid(x)
    assert sigmoid(x, out=x) is x
    np.testing.assert_array_equal(x, expected)


finite_rows = arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.integers(1, 12)),
    elements=st.floats(-1e4, 1e4, allow_nan=False),
)


@given(finite_rows)
def test_softmax_rows_sum_to_one_and_never_overflow(x):
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        y = softmax(x)
    assert np.all(np.isfinite(y))
    assert np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)


@given(st.integers(2, 10), st.integers(0, 9))
def test_cross_entropy_is_finite_for_zero_probabilities(classes, label):
    label = label % classes
    y = np.zeros(classes)
    y[(label + 1) % classes] = 1.0  # the true class gets probability 0
    loss = cross_entropy_error(y, np.array(label))
    assert np.isfinite(loss)
    assert loss == pytest.approx(-np.log(1e-7))


@given(
    arrays(
        np.float64, st.tuples(st.integers(1, 4), st.integers(1, 4)), elements=st.floats(-1e3, 1e3)
    )
)
def test_numerical_gradient_leaves_its_input_unchanged(x):
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    assert np.array_equal(x, before)
