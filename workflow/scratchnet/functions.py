"""The chapter's functions: activations, losses, numerical differentiation, gradient descent."""

from collections.abc import Callable

import numpy as np

CROSS_ENTROPY_DELTA = 1e-7  # the book's guard against log(0)


def sigmoid(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """1 / (1 + exp(-x)), computed in one buffer (this runs twice per training step):
    a new one, or ``out`` (which may be ``x`` itself)."""
    out = np.negative(x, out=out)
    # exp(-x) overflows to inf for x < -88 in float32, which still gives the right limit 0;
    # silence the warning rather than clip so the values stay exactly the book's.
    with np.errstate(over="ignore"):
        np.exp(out, out=out)
    out += 1.0
    return np.reciprocal(out, out=out)


def softmax(x: np.ndarray) -> np.ndarray:
    """Row-wise softmax; subtracting the row maximum keeps exp from overflowing."""
    exp = x - x.max(axis=-1, keepdims=True)  # array methods: less call overhead than np.max
    np.exp(exp, out=exp)
    exp /= exp.sum(axis=-1, keepdims=True)
    return exp


def cross_entropy_sum(picked: np.ndarray) -> float:
    """Summed cross-entropy, given each example's probability of its true class.

    The book adds a tiny delta inside the log, so that a probability of 0 costs a large
    but finite loss instead of infinity; training, evaluation and the layers all use it.
    """
    return float(-np.sum(np.log(picked + CROSS_ENTROPY_DELTA), dtype=np.float64))


def cross_entropy_error(y: np.ndarray, t: np.ndarray) -> float:
    """Mean cross-entropy of probabilities ``y`` against one-hot or integer labels ``t``."""
    y, t = np.asarray(y), np.asarray(t)
    if y.ndim == 1:
        y, t = y.reshape(1, -1), t.reshape(1, -1)
    if t.size == y.size:  # one-hot rows -> class indices
        t = t.argmax(axis=1)
    labels = t.reshape(-1)
    return cross_entropy_sum(y[np.arange(len(labels)), labels]) / len(labels)


def mean_squared_error(y: np.ndarray, t: np.ndarray) -> float:
    """The book's sum-of-squares error: 0.5 * sum((y - t)^2)."""
    return float(0.5 * np.sum((np.asarray(y) - np.asarray(t)) ** 2))


def numerical_diff(f: Callable[[float], float], x: float, h: float = 1e-4) -> float:
    """Central difference (f(x+h) - f(x-h)) / 2h."""
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(
    f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4
) -> np.ndarray:
    """Central-difference gradient of scalar ``f`` at ``x`` (any shape).

    Perturbs ``x`` in place one entry at a time, as ``f`` may close over it (the
    network's weights), and restores every entry exactly afterwards.
    """
    grad = np.zeros_like(x)
    flat_x, flat_grad = x.reshape(-1), grad.reshape(-1)
    if not np.shares_memory(flat_x, x):
        raise ValueError("numerical_gradient needs a contiguous array it can perturb in place")
    for i in range(flat_x.size):
        original = flat_x[i]
        flat_x[i] = original + h
        f_plus = f(x)
        flat_x[i] = original - h
        f_minus = f(x)
        flat_x[i] = original
        flat_grad[i] = (f_plus - f_minus) / (2 * h)
    return grad


def gradient_descent_path(
    f: Callable[[np.ndarray], float], init_x: np.ndarray, lr: float, step_num: int
) -> np.ndarray:
    """Every point of ``step_num`` steps of x -= lr * grad f(x), the start first."""
    x = np.array(init_x, dtype=np.float64)
    path = [x.copy()]
    for _ in range(step_num):
        x -= lr * numerical_gradient(f, x)
        path.append(x.copy())
    return np.array(path)


def gradient_descent(
    f: Callable[[np.ndarray], float], init_x: np.ndarray, lr: float = 0.01, step_num: int = 100
) -> np.ndarray:
    """Return the point reached after ``step_num`` steps of x -= lr * grad f(x)."""
    return gradient_descent_path(f, init_x, lr, step_num)[-1]
