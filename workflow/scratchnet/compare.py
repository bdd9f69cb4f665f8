"""Figures that compare runs and answer "which run is best".

- ``compare_heatmap``: with two varied settings, final test accuracy per grid cell,
  annotated, best cell outlined; otherwise the runs ranked by final test accuracy, with
  their best test accuracy beside it.
- ``compare_accuracy`` and ``compare_loss``: one line per run, coloured by the first
  varied setting and styled by the second, the legend outside the data, and a zoomed
  panel on the second half of training, where the differences are small.
"""

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from scratchnet.plots import figure, moving_average, save, smoothing_window

LINE_STYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
MAX_LEGEND_RUNS = 12  # beyond this, the legend explains colours and styles instead of runs
BEST = "\u2605"  # a star marks the best run
DIVERGED_COLOR = "0.6"


def draw_all(
    summary: pd.DataFrame,
    varied: list[str],
    curves: dict[str, tuple[pd.DataFrame, pd.DataFrame]],
    title: str,
    folder: Path,
    formats: list[str],
) -> list[Path]:
    """Every comparison figure into ``folder``; none for a single run: nothing to compare."""
    if len(summary) < 2:
        return []
    return [
        *save(heatmap_or_ranking(summary, varied, title), folder / "compare_heatmap", formats),
        *save(
            accuracy_curves(summary, varied, curves, title), folder / "compare_accuracy", formats
        ),
        *save(loss_curves(summary, varied, curves, title), folder / "compare_loss", formats),
    ]


def _label(row: pd.Series, varied: list[str]) -> str:
    if not varied:
        return str(row["run"])
    return ", ".join(f"{key}={_short(row[key])}" for key in varied)


def _short(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _best_name(summary: pd.DataFrame) -> str:
    return summary.iloc[0]["run"]  # the summary is ranked


# --- the heatmap, or the ranking --------------------------------------------------------


def heatmap_or_ranking(summary: pd.DataFrame, varied: list[str], title: str) -> plt.Figure:
    if len(varied) == 2:
        return heatmap(summary, *varied, title)
    return ranking(summary, varied, title)


def heatmap(summary: pd.DataFrame, rows_key: str, columns_key: str, title: str) -> plt.Figure:
    """Final test accuracy per (rows_key, columns_key) cell; blank where no run has it."""
    grid = summary.pivot_table(
        index=rows_key, columns=columns_key, values="final_test_acc", aggfunc="max"
    )
    fig, ax = figure((7, 5.2), f"Final test accuracy — {title}", left=0.16, right=0.86, bottom=0.12)
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto")
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02, label="final test accuracy")
    ax.set_xticks(range(len(grid.columns)), [_short(v) for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [_short(v) for v in grid.index])
    ax.set(xlabel=columns_key, ylabel=rows_key)
    best = summary.iloc[0]
    middle = np.nanmean(values) if np.isfinite(values).any() else 0
    for (i, j), value in np.ndenumerate(values):
        is_best = grid.index[i] == best[rows_key] and grid.columns[j] == best[columns_key]
        text = "" if np.isnan(value) else f"{BEST} {value:.4f}" if is_best else f"{value:.4f}"
        color = "black" if value >= middle else "white"
        ax.text(
            j,
            i,
            text,
            ha="center",
            va="center",
            color=color,
            fontweight="bold" if is_best else "normal",
        )
        if is_best:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=3, ec="red"))
    return fig


def ranking(summary: pd.DataFrame, varied: list[str], title: str) -> plt.Figure:
    """The runs best first, final test accuracy (filled) and best test accuracy (open)."""
    height = min(2 + 0.28 * len(summary), 30)
    fig, ax = figure((8, height), f"Runs ranked by final test accuracy — {title}", left=0.38)
    positions = np.arange(len(summary))[::-1]  # the best at the top
    labels = []
    for position, (_, row) in zip(positions, summary.iterrows(), strict=True):
        diverged = not pd.isna(row["diverged_at_epoch"])
        color = DIVERGED_COLOR if diverged else "tab:blue"
        ax.plot([row["final_test_acc"], row["best_test_acc"]], [position] * 2, color=color, lw=1)
        ax.plot(row["final_test_acc"], position, "o", color=color, ms=7)
        ax.plot(row["best_test_acc"], position, "o", mfc="none", color=color, ms=7)
        label = _label(row, varied)
        if diverged:
            label += f" (diverged at epoch {int(row['diverged_at_epoch'])})"
        labels.append(label)
    labels[0] = f"{BEST} {labels[0]}"
    ax.set_yticks(positions, labels, fontsize=8)
    ax.get_yticklabels()[0].set_fontweight("bold")
    ax.set_xlabel("test accuracy")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Line2D([], [], marker="o", ls="", color="tab:blue", label="final"),
            Line2D([], [], marker="o", ls="", mfc="none", color="tab:blue", label="best epoch"),
        ],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=2,
        frameon=False,
        fontsize=8,
    )
    return fig


# --- the curves -------------------------------------------------------------------------------


class _Styles:
    """Colour by the first varied setting, line style and marker by the second; with no
    varied setting (or settings the same), one colour per run."""

    def __init__(self, summary: pd.DataFrame, varied: list[str]):
        self.varied = varied
        first = varied[0] if varied else "run"
        values = sorted(summary[first].unique(), key=_sort_key)
        cmap = plt.get_cmap("tab10" if len(values) <= 10 else "viridis")
        spread = max(len(values) - 1, 1)
        self.colors = {
            value: cmap(i if len(values) <= 10 else i / spread) for i, value in enumerate(values)
        }
        self.first = first
        second = varied[1] if len(varied) > 1 else None
        self.second = second
        seconds = sorted(summary[second].unique(), key=_sort_key) if second else [None]
        self.styles = {value: i for i, value in enumerate(seconds)}

    def of(self, row: pd.Series) -> dict:
        index = self.styles[row[self.second]] if self.second else 0
        return {
            "color": self.colors[row[self.first]],
            "linestyle": LINE_STYLES[index % len(LINE_STYLES)],
            "marker": MARKERS[index % len(MARKERS)],
        }

    def key_handles(self) -> list[Line2D]:
        """Legend entries that explain the colours and styles (for many runs)."""
        handles = [
            Line2D([], [], color=color, lw=2, label=f"{self.first}={_short(value)}")
            for value, color in self.colors.items()
        ]
        if self.second:
            handles += [
                Line2D(
                    [],
                    [],
                    color="black",
                    linestyle=LINE_STYLES[i % len(LINE_STYLES)],
                    marker=MARKERS[i % len(MARKERS)],
                    label=f"{self.second}={_short(value)}",
                )
                for value, i in self.styles.items()
            ]
        return handles


def _sort_key(value):
    return (0, value) if isinstance(value, int | float) else (1, str(value))


def curves_figure(
    summary: pd.DataFrame,
    varied: list[str],
    lines: dict[str, tuple[np.ndarray, np.ndarray]],
    labels: tuple[str, str],
    title: str,
) -> plt.Figure:
    """All runs' lines on the left, the second half of training zoomed on the right."""
    styles = _Styles(summary, varied)
    fig, (full, zoom) = figure(
        (12, 5), title, ncols=2, axes_titles=True, left=0.06, right=0.72, wspace=0.22
    )
    best = _best_name(summary)
    handles = []
    for _, row in summary.iterrows():
        x, y = lines[row["run"]]
        style = styles.of(row)
        diverged = not pd.isna(row["diverged_at_epoch"])
        if diverged:
            style["color"] = DIVERGED_COLOR
        every = max(1, len(x) // 20)
        width = 2.6 if row["run"] == best else 1.2
        for ax in (full, zoom):
            (line,) = ax.plot(x, y, lw=width, markersize=4, markevery=every, **style)
        label = _label(row, varied)
        if row["run"] == best:
            label = f"{BEST} {label} (best)"
        elif diverged:
            label += " (diverged)"
        line.set_label(label)
        handles.append(line)
    _zoom_to_second_half(zoom, lines)
    full.set(xlabel=labels[0], ylabel=labels[1])
    full.set_title("whole training", fontsize=9)
    zoom.set_xlabel(labels[0])
    zoom.set_title("second half (zoomed)", fontsize=9)
    for ax in (full, zoom):
        ax.grid(alpha=0.3)
        # few ticks: iteration numbers are wide, and a narrow panel must not run them together
        ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    if len(handles) > MAX_LEGEND_RUNS:
        best_handle = next(h for h in handles if h.get_label().startswith(BEST))
        handles = [best_handle, *styles.key_handles()]
    fig.legend(
        handles=handles, loc="center left", bbox_to_anchor=(0.735, 0.5), fontsize=8, frameon=False
    )
    return fig


def _zoom_to_second_half(ax: plt.Axes, lines: dict[str, tuple[np.ndarray, np.ndarray]]) -> None:
    """Limit the axes to the second half of the longest run, its y range to the values
    there (finite ones), with a little margin."""
    end = max((float(np.max(x)) for x, _ in lines.values() if len(x)), default=1.0)
    start = end / 2
    inside = [y[(x >= start) & np.isfinite(y)] for x, y in lines.values()]
    values = np.concatenate([v for v in inside if len(v)] or [np.array([0.0, 1.0])])
    low, high = float(values.min()), float(values.max())
    margin = (high - low) * 0.08 or 0.01
    ax.set_xlim(start, end + (end - start) * 0.02)
    ax.set_ylim(low - margin, high + margin)


def accuracy_curves(summary, varied, curves, title) -> plt.Figure:
    lines = {
        name: (accuracy["epoch"].to_numpy(), accuracy["test_acc"].to_numpy())
        for name, (accuracy, _) in curves.items()
    }
    return curves_figure(
        summary, varied, lines, ("epoch", "test accuracy"), f"Test accuracy per epoch — {title}"
    )


def loss_curves(summary, varied, curves, title) -> plt.Figure:
    """The running mean of each run's mini-batch loss, at most ~500 points a line."""
    lines = {}
    for name, (_, loss) in curves.items():
        values = loss["loss"].to_numpy()
        smoothed = moving_average(values, smoothing_window(len(values)))
        step = max(1, len(values) // 500)
        lines[name] = (loss["iteration"].to_numpy()[::step], smoothed[::step])
    return curves_figure(
        summary,
        varied,
        lines,
        ("iteration", "loss (running mean)"),
        f"Mini-batch loss, running mean — {title}",
    )
