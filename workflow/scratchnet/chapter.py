"""The chapter's own worked examples and pictures, computed with the package's functions:
loss functions, the numerical derivative and its tangent lines, the gradient as a field
of arrows, gradient descent (and the learning rates that fail), and ``simpleNet``."""

import json
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from scratchnet.atomic import write_text_atomically
from scratchnet.functions import (
    CROSS_ENTROPY_DELTA,
    cross_entropy_error,
    gradient_descent_path,
    mean_squared_error,
    numerical_diff,
    numerical_gradient,
    softmax,
)
from scratchnet.plots import figure, save

# the chapter's example: the network says "2" with probability 0.6, and 2 is right
EXAMPLE_Y = [0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0]
EXAMPLE_T = [0, 0, 1, 0, 0, 0, 0, 0, 0, 0]
TANGENTS_AT = (5.0, 10.0)
GRADIENTS_AT = ((3.0, 4.0), (0.0, 2.0), (3.0, 0.0))
DESCENT_START, DESCENT_STEPS = (-3.0, 4.0), 100
LEARNING_RATES = {
    "lr=0.1": 0.1,
    "lr=10 (too large: diverges)": 10.0,
    "lr=1e-10 (too small: barely moves)": 1e-10,
}
SIMPLE_NET_SEED = 0


def function_1(x):
    """y = 0.01 x^2 + 0.1 x, the chapter's example for the derivative."""
    return 0.01 * x**2 + 0.1 * x


def function_2(x: np.ndarray) -> float:
    """f(x0, x1) = x0^2 + x1^2, the chapter's example for the gradient."""
    return float(np.sum(x**2))


class SimpleNet:
    """The chapter's simpleNet: one 2x3 weight matrix, softmax and cross-entropy."""

    def __init__(self, rng: np.random.Generator):
        self.W = rng.standard_normal((2, 3))

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return cross_entropy_error(softmax(x @ self.W), t)

    def backprop_gradient(self, x: np.ndarray, t: np.ndarray) -> np.ndarray:
        """dL/dW = x (softmax(xW) - t), scaled as the book's cross-entropy guard makes it."""
        y = softmax(x @ self.W)
        picked = float(y @ t)
        return np.outer(x, (y - t) * picked / (picked + CROSS_ENTROPY_DELTA))


def worked_values() -> dict:
    """Every number the chapter works out, computed here."""
    y, t = np.array(EXAMPLE_Y), np.array(EXAMPLE_T)
    net = SimpleNet(np.random.default_rng(SIMPLE_NET_SEED))
    x, t3 = np.array([0.6, 0.9]), np.array([0.0, 0.0, 1.0])
    numeric = numerical_gradient(lambda _: net.loss(x, t3), net.W)
    analytic = net.backprop_gradient(x, t3)
    ends = {
        name: gradient_descent_path(function_2, DESCENT_START, lr, DESCENT_STEPS)[-1].tolist()
        for name, lr in LEARNING_RATES.items()
    }
    return {
        "loss functions (y: the network's output, t: one-hot label)": {
            "y": EXAMPLE_Y,
            "t": EXAMPLE_T,
            "mean_squared_error": mean_squared_error(y, t),
            "cross_entropy_error": cross_entropy_error(y, t),
        },
        "numerical_diff of 0.01 x^2 + 0.1 x": {
            f"at x = {a:g}": numerical_diff(function_1, a) for a in TANGENTS_AT
        },
        "numerical_gradient of x0^2 + x1^2": {
            f"at ({a:g}, {b:g})": numerical_gradient(function_2, np.array([a, b])).tolist()
            for a, b in GRADIENTS_AT
        },
        f"gradient_descent on x0^2 + x1^2 from {DESCENT_START}, {DESCENT_STEPS} steps": ends,
        "simpleNet (2x3 weights, x = [0.6, 0.9], t = [0, 0, 1])": {
            "seed": SIMPLE_NET_SEED,
            "W": net.W.tolist(),
            "loss": net.loss(x, t3),
            "dW (numerical_gradient)": numeric.tolist(),
            "dW (backprop)": analytic.tolist(),
            "largest difference": float(np.max(np.abs(numeric - analytic))),
        },
    }


# --- the figures -----------------------------------------------------------------------------


def _numerical_diff_figure() -> plt.Figure:
    """y = 0.01 x^2 + 0.1 x on [0, 20] with its tangent lines at x = 5 and x = 10."""
    fig, ax = figure((7, 4.5), "The numerical derivative: tangent lines of y = 0.01x² + 0.1x")
    x = np.arange(0.0, 20.0, 0.1)
    ax.plot(x, function_1(x), color="black", label="y = 0.01x² + 0.1x")
    for a, color in zip(TANGENTS_AT, ("tab:blue", "tab:red"), strict=True):
        slope = numerical_diff(function_1, a)
        ax.plot(
            x,
            slope * (x - a) + function_1(a),
            "--",
            color=color,
            label=f"tangent at x = {a:g}: slope {slope:.4f}",
        )
        ax.plot(a, function_1(a), "o", color=color)
    ax.set(xlabel="x", ylabel="f(x)", xlim=(0, 20))
    ax.grid(alpha=0.3)
    ax.legend(loc="upper left")
    return fig


def _gradient_field_figure() -> plt.Figure:
    """The negative gradient of x0^2 + x1^2 as arrows: every one points to the minimum."""
    fig, ax = figure(
        (6.5, 6.2), "The gradient: arrows of -∇f for f(x0, x1) = x0² + x1²", left=0.12, right=0.96
    )
    x0, x1 = np.meshgrid(np.arange(-2, 2.75, 0.25), np.arange(-2, 2.75, 0.25))
    points = np.stack([x0.ravel(), x1.ravel()], axis=1)
    grad = np.array([numerical_gradient(function_2, p.copy()) for p in points])
    ax.quiver(points[:, 0], points[:, 1], -grad[:, 0], -grad[:, 1], angles="xy", color="#666666")
    ax.plot(0, 0, "*", color="tab:red", markersize=12, label="minimum (0, 0)")
    ax.set(xlabel="x0", ylabel="x1", xlim=(-2.25, 2.75), ylim=(-2.25, 2.75))
    ax.set_aspect("equal")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    return fig


def gradient_descent_figure() -> plt.Figure:
    """Contours of x0^2 + x1^2, the path of gradient descent with lr = 0.1, and where
    too large and too small learning rates end."""
    fig, ax = figure(
        (7, 6.4),
        f"Gradient descent from {DESCENT_START}, {DESCENT_STEPS} steps",
        left=0.1,
        right=0.97,
    )
    grid = np.linspace(-4.5, 4.5, 200)
    x0, x1 = np.meshgrid(grid, grid)
    ax.contour(
        x0,
        x1,
        x0**2 + x1**2,
        levels=[0.25, 1, 2.25, 4, 6.25, 9, 12.25, 16, 20.25],
        colors="#bbbbbb",
        linewidths=0.8,
    )
    styles = (
        {"color": "tab:blue", "zorder": 3},
        {"color": "tab:red", "ls": "--", "zorder": 2},
        {"color": "tab:green", "zorder": 3},
    )
    for (name, lr), style in zip(LEARNING_RATES.items(), styles, strict=True):
        path = gradient_descent_path(function_2, DESCENT_START, lr, DESCENT_STEPS)
        end = path[-1]
        outside = np.flatnonzero(np.any(np.abs(path) > 4.5, axis=1))
        shown = path[: outside[0] + 1] if len(outside) else path  # leaves the chart there
        ax.plot(
            shown[:, 0],
            shown[:, 1],
            marker="o",
            markersize=3,
            lw=1.2,
            label=f"{name}: ends at ({end[0]:.3g}, {end[1]:.3g})",
            **style,
        )
        if len(outside) == 0:
            ax.plot(*end, "o", mfc="none", mec=style["color"], markersize=14, mew=2)
    first_step = gradient_descent_path(function_2, DESCENT_START, 10.0, 1)[-1]
    ax.annotate(
        f"lr=10: the first step goes to\n({first_step[0]:g}, {first_step[1]:g}), far off the chart",
        (-4.2, -3.4),
        color="tab:red",
        fontsize=8,
    )
    ax.annotate(
        "lr=1e-10: still at the start\nafter 100 steps", (-4.3, 3.1), color="tab:green", fontsize=8
    )
    ax.plot(*DESCENT_START, "s", color="black", markersize=7, label=f"start {DESCENT_START}")
    ax.set(xlabel="x0", ylabel="x1", xlim=(-4.5, 4.5), ylim=(-4.5, 4.5))
    ax.set_aspect("equal")
    ax.legend(loc="upper right", fontsize=7)
    return fig


def readable_json(value) -> str:
    """Indented JSON with each list of numbers on one line."""
    text = json.dumps(value, indent=2)
    one_line = re.compile(r"\[\s+([^\[\]{}]*?)\s+\]")
    return one_line.sub(lambda m: "[" + ", ".join(re.split(r",\s+", m.group(1))) + "]", text) + "\n"


def _examples_page(values: dict) -> str:
    """The worked values as one table: section, quantity, value (numbers to 6 digits)."""
    import pandas as pd

    from scratchnet.tables import html_table

    def shown(value):
        if isinstance(value, float):
            return f"{value:.6g}"
        if isinstance(value, list):
            return "[" + ", ".join(str(shown(v)) for v in value) + "]"
        return str(value)

    rows = [
        {"section": section, "quantity": name, "value": shown(value)}
        for section, entries in values.items()
        for name, value in (entries.items() if isinstance(entries, dict) else [("", entries)])
    ]
    return html_table(pd.DataFrame(rows), "The chapter's worked values (examples.json)")


def write_chapter(out: Path, formats: list[str]) -> dict:
    """examples.json and the three figures into ``out``; returns the worked values."""
    values = worked_values()
    write_text_atomically(out / "examples.json", readable_json(values))
    write_text_atomically(out / "examples.html", _examples_page(values))
    save(_numerical_diff_figure(), out / "numerical_diff", formats)
    save(_gradient_field_figure(), out / "gradient_field", formats)
    save(gradient_descent_figure(), out / "gradient_descent", formats)
    return values
