"""The book's two figures of a run: mini-batch loss per iteration and accuracy per epoch;
and what every figure of the package shares: saving, titles, the running mean."""

import textwrap
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import MaxNLocator

from scratchnet.atomic import write_atomically

# Stable output: no creation dates, fixed SVG ids, so the same data gives the same bytes.
plt.rcParams["svg.hashsalt"] = "scratchnet"
TITLE_SIZE = 10  # points
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


def figure(
    figsize: tuple[float, float],
    title: str,
    ncols: int = 1,
    axes_titles: bool = False,
    nrows: int = 1,
    title_size: float = TITLE_SIZE,
    **margins,
) -> tuple[plt.Figure, plt.Axes]:
    """Axes (``ncols`` of them side by side, in ``nrows`` rows: then a 2-D array) under a
    title wrapped to the figure's width, never clipped, with fixed margins (a layout
    engine would cost more than drawing); ``axes_titles``: room for a title above the
    first row of axes too; ``title_size`` in points (a wide figure is shown smaller)."""
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=nrows == 1)
    lines = wrap_title(title, figsize[0], title_size)
    fig.suptitle("\n".join(lines), fontsize=title_size, y=0.985, va="top")
    title_inches = (len(lines) * 1.3 * title_size + 10 + 18 * axes_titles) / 72
    layout = {"left": 0.1, "right": 0.97, "bottom": 0.11, **margins}
    fig.subplots_adjust(top=1 - title_inches / figsize[1], **layout)
    return fig, axes


def wrap_title(title: str, width_inches: float, size: float = TITLE_SIZE) -> list[str]:
    """Lines of ``title`` that fit the width: a character of ``size``-point text is
    ~0.6 x ``size`` pt wide."""
    per_line = max(20, int(width_inches * 72 / (0.6 * size)))
    return textwrap.wrap(title, per_line, break_on_hyphens=False) or [""]


def note(fig: plt.Figure, text: str, fontsize: float = 8) -> None:
    """A note along the bottom of ``fig``, wrapped to its width (the figure's margins must
    leave room for two lines)."""
    per_line = max(30, int(fig.get_figwidth() * 72 / (0.55 * fontsize)))
    lines = textwrap.wrap(text, per_line, break_on_hyphens=False)
    fig.text(0.01, 0.01, "\n".join(lines), fontsize=fontsize, va="bottom")


def log_axis(axis, low: float, high: float) -> None:
    """A log-scaled axis from ``low`` to ``high`` with plain numbers: at 1, 2 and 5 of each
    decade over two decades or less, at each power of ten over more."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    subs = (1.0,) if high > 100 * low else (1.0, 2.0, 5.0)
    axis.set_major_locator(LogLocator(base=10, subs=subs))
    axis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    axis.set_minor_formatter(NullFormatter())


def moving_average(values: np.ndarray, window: int) -> np.ndarray:
    """Trailing mean over ``window`` values (shorter at the start)."""
    cumulative = np.cumsum(np.insert(np.asarray(values, dtype=np.float64), 0, 0.0))
    counts = np.minimum(np.arange(1, len(values) + 1), window)
    ends = np.arange(1, len(values) + 1)
    return (cumulative[ends] - cumulative[ends - counts]) / counts


def smoothing_window(count: int) -> int:
    """The running mean's window: about a fiftieth of the curve."""
    return max(1, count // 50)


def loss_figure(iterations: np.ndarray, losses: np.ndarray, title: str) -> plt.Figure:
    fig, ax = figure((7, 4.5), title)
    if len(losses) == 0:  # epochs: 0 trains nothing
        iterations, losses = np.array([0]), np.array([np.nan])
    ax.plot(iterations, losses, color="tab:blue", alpha=0.25, linewidth=0.6, label="mini-batch")
    window = smoothing_window(len(losses))
    ax.plot(
        iterations,
        moving_average(losses, window),
        color="tab:blue",
        linewidth=1.8,
        label=f"mean of last {window}",
    )
    ax.set(xlabel="iteration", ylabel="loss")
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)
    ax.legend(loc="upper right")
    return fig


def accuracy_figure(
    epochs: np.ndarray,
    train_acc: np.ndarray,
    test_acc: np.ndarray,
    title: str,
    val_acc: np.ndarray | None = None,
) -> plt.Figure:
    """The book's figure: train and test accuracy per epoch; with a validation split, the
    validation accuracy (what the best epoch is chosen on) too."""
    fig, ax = figure((7, 4.5), title)
    ax.plot(epochs, train_acc, "o-", label="train acc", markersize=4)
    ax.plot(epochs, test_acc, "s--", label="test acc", markersize=4)
    if val_acc is not None:
        ax.plot(epochs, val_acc, "^-", label="validation acc", markersize=4)
    ax.set(xlabel="epochs", ylabel="accuracy", ylim=(0, 1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.grid(alpha=0.3)
    ax.legend(loc="best")  # lower right, unless a run at chance has its curves there
    return fig
