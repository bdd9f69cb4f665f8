"""The book's two figures: mini-batch loss per iteration and accuracy per epoch."""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from scratchnet.atomic import write_atomically

# Stable output: no creation dates, fixed SVG ids, so the same data gives the same bytes.
plt.rcParams["svg.hashsalt"] = "scratchnet"
# A run's title lists its settings (~80 characters for sweep runs): 10 pt fits the width.
RUN_TITLE_SIZE = 10
_NO_DATES = {"png": {"Software": None}, "pdf": {"CreationDate": None}, "svg": {"Date": None}}


def save(fig: plt.Figure, stem: Path, formats: list[str]) -> list[Path]:
    """Write ``fig`` as stem.<format> for every format, atomically."""
    written = []
    for fmt in formats:
        target = stem.with_suffix(f".{fmt}")
        write_atomically(
            target,
            lambda tmp, fmt=fmt: fig.savefig(tmp, format=fmt, metadata=_NO_DATES.get(fmt), dpi=120),
        )
        written.append(target)
    plt.close(fig)
    return written


def _axes(figsize: tuple[float, float]) -> tuple[plt.Figure, plt.Axes]:
    """One axes with fixed margins: a layout engine would cost ~0.1 s per figure."""
    fig, ax = plt.subplots(figsize=figsize)
    fig.subplots_adjust(left=0.1, right=0.97, bottom=0.11, top=0.92)
    return fig, ax


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values (shorter at the start)."""
    cumulative = np.cumsum(np.insert(np.asarray(values, dtype=np.float64), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    ends = np.arange(1, len(values) + 1)
    return (cumulative[ends] - cumulative[ends - counts]) / counts


def loss_figure(iterations: np.ndarray, losses: np.ndarray, title: str) -> plt.Figure:
    fig, ax = _axes((7, 4.5))
    ax.plot(iterations, losses, color="tab:blue", alpha=0.25, linewidth=0.6, label="mini-batch")
    window = max(1, len(losses) // 50)
    ax.plot(
        iterations,
        moving_average(losses, window),
        color="tab:blue",
        linewidth=1.8,
        label=f"mean of last {window}",
    )
    ax.set(xlabel="iteration", ylabel="loss")
    ax.set_title(title, fontsize=RUN_TITLE_SIZE)
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    return fig


def accuracy_figure(
    epochs: np.ndarray, train_acc: np.ndarray, test_acc: np.ndarray, title: str
) -> plt.Figure:
    fig, ax = _axes((7, 4.5))
    ax.plot(epochs, train_acc, "o-", label="train acc", markersize=4)
    ax.plot(epochs, test_acc, "s--", label="test acc", markersize=4)
    ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0))
    ax.set_title(title, fontsize=RUN_TITLE_SIZE)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    return fig


def comparison_figure(
    curves: dict[str, tuple[np.ndarray, np.ndarray]], xlabel: str, ylabel: str, title: str
) -> plt.Figure:
    """One labelled line per run."""
    fig, ax = _axes((7.5, 4.8))
    for name, (x, y) in curves.items():
        ax.plot(x, y, marker="o" if len(x) <= 40 else None, markersize=3, label=name)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(fontsize="small", loc="best")
    return fig
