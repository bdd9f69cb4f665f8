"""Figures that compare runs and answer "which run is best".

- ``compare_heatmap``: with two varied settings, final test accuracy per grid cell,
  annotated, best cell outlined; otherwise the runs ranked by final test accuracy, with
  their best test accuracy beside it.
- ``compare_accuracy`` and ``compare_loss``: one line per run, coloured by the first
  varied setting and styled by the second, the legend outside the data, and a zoomed
  panel on the second half of training, where the differences are small.

With repeats over seeds (``spread`` is the table per setting, spread.by_setting) the
same figures show settings: cells "mean ± sd", the ranking as means with their 95 %
intervals and every seed's result, the curves as the mean with a band from the lowest to
the highest seed. The first setting is crowned only when it beats the runner-up beyond
seed noise; otherwise the figure says they are tied.
"""

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from scratchnet.plots import figure, moving_average, save, smoothing_window
from scratchnet.spread import BEST as BEST_CLAIM
from scratchnet.spread import TIED, verdict

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
    spread: pd.DataFrame | None = None,
) -> list[Path]:
    """Every comparison figure into ``folder``; none for a single run: nothing to compare.
    With ``spread`` (repeats over seeds), the figures compare settings."""
    if len(summary) < 2:
        return []
    claimed = BEST_CLAIM
    if spread is None:
        ranked_figure = heatmap_or_ranking(summary, varied, title)
    else:
        varied = [key for key in varied if key != "seed"]
        rows = spread_rows(spread)
        ranked_figure = heatmap_or_ranking(rows, varied, title, spread, summary)
        curves, summary, claimed = setting_curves(summary, curves), rows, verdict(spread)
    return [
        *save(ranked_figure, folder / "compare_heatmap", formats),
        *save(
            accuracy_curves(summary, varied, curves, title, claimed),
            folder / "compare_accuracy",
            formats,
        ),
        *save(
            loss_curves(summary, varied, curves, title, claimed), folder / "compare_loss", formats
        ),
    ]


# --- repeats over seeds -------------------------------------------------------------------


def spread_rows(spread: pd.DataFrame) -> pd.DataFrame:
    """The table per setting read as runs: its name, settings and mean accuracies; a
    setting counts as diverged when all its repeats did."""
    rows = spread.rename(
        columns={
            "setting": "run",
            "final_test_acc_mean": "final_test_acc",
            "best_test_acc_mean": "best_test_acc",
        }
    )
    all_diverged = rows["diverged_repeats"] == rows["repeats"]
    rows["diverged_at_epoch"] = pd.Series(pd.NA, index=rows.index, dtype="Int64").where(
        ~all_diverged, -1
    )
    return rows


def setting_curves(
    summary: pd.DataFrame, curves: dict[str, tuple[pd.DataFrame, pd.DataFrame]]
) -> dict[str, list[tuple[pd.DataFrame, pd.DataFrame]]]:
    """Each setting's runs' accuracy and loss tables (per-repeat ``summary``: a setting
    column)."""
    grouped = {}
    for run, setting in zip(summary["run"], summary["setting"], strict=True):
        grouped.setdefault(setting, []).append(curves[run])
    return grouped


def _band(xs: list[np.ndarray], ys: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """x, mean, lowest and highest of lines over the same x (repeats of one setting;
    cut to the shortest should one have stopped early); non-finite values left out."""
    length = min(len(x) for x in xs)
    stacked = np.vstack([y[:length] for y in ys]).astype(float)
    stacked[~np.isfinite(stacked)] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a point no repeat has: nan
        return xs[0][:length], np.nanmean(stacked, 0), np.nanmin(stacked, 0), np.nanmax(stacked, 0)


def noise_note(spread: pd.DataFrame) -> str:
    """What the figure may claim about the first setting, in words."""
    n = "-".join(sorted({str(n) for n in spread["repeats"]}))
    said = verdict(spread)
    if said == BEST_CLAIM:
        return f"{BEST} best: above the runner-up by more than seed noise ({n} seeds each)"
    if said == TIED:
        return f"no best: the top two are tied within seed noise ({n} seeds each)"
    return f"{n} seeds of one setting: nothing to compare it with"


def _label(row: pd.Series, varied: list[str]) -> str:
    if not varied:
        return str(row["run"])
    return ", ".join(f"{key}={_short(row[key])}" for key in varied)


def _short(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _best_name(summary: pd.DataFrame) -> str:
    return summary.iloc[0]["run"]  # the summary is ranked


# --- the heatmap, or the ranking --------------------------------------------------------


def heatmap_or_ranking(
    summary: pd.DataFrame,
    varied: list[str],
    title: str,
    spread: pd.DataFrame | None = None,
    repeats: pd.DataFrame | None = None,
) -> plt.Figure:
    """The heatmap of two varied settings, else the ranking; with ``spread``, of the
    settings' means over seeds (``repeats``: the per-repeat rows)."""
    if len(varied) == 2:
        return heatmap(summary, *varied, title, spread)
    if spread is not None:
        return spread_ranking(spread, repeats, varied, title)
    return ranking(summary, varied, title)


def heatmap(
    summary: pd.DataFrame,
    rows_key: str,
    columns_key: str,
    title: str,
    spread: pd.DataFrame | None = None,
) -> plt.Figure:
    """Final test accuracy per (rows_key, columns_key) cell; blank where no run has it.
    With ``spread``: the mean ± sd over seeds, the best outlined only beyond seed noise."""
    grid = summary.pivot_table(
        index=rows_key, columns=columns_key, values="final_test_acc", aggfunc="max"
    )
    if spread is None:
        heading, sd, claimed = f"Final test accuracy — {title}", None, True
    else:
        heading = f"Final test accuracy, mean ± sd over seeds — {title}"
        sd = spread.pivot_table(
            index=rows_key, columns=columns_key, values="final_test_acc_sd", aggfunc="max"
        ).to_numpy(dtype=float)
        claimed = verdict(spread) == BEST_CLAIM
    fig, ax = figure((7, 5.2), heading, left=0.16, right=0.86, bottom=0.12)
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto")
    label = "final test accuracy" + ("" if spread is None else " (mean)")
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02, label=label)
    ax.set_xticks(range(len(grid.columns)), [_short(v) for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [_short(v) for v in grid.index])
    ax.set(xlabel=columns_key, ylabel=rows_key)
    best = summary.iloc[0]
    middle = np.nanmean(values) if np.isfinite(values).any() else 0
    for (i, j), value in np.ndenumerate(values):
        is_best = (
            claimed and grid.index[i] == best[rows_key] and grid.columns[j] == best[columns_key]
        )
        text = "" if np.isnan(value) else f"{value:.4f}"
        if sd is not None and text and not np.isnan(sd[i, j]):
            text += f"\n± {sd[i, j]:.4f}"
        if is_best and text:
            text = f"{BEST} {text}"
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
    if spread is not None:
        fig.text(0.02, 0.015, noise_note(spread), fontsize=9)
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


def spread_ranking(
    spread: pd.DataFrame, repeats: pd.DataFrame, varied: list[str], title: str
) -> plt.Figure:
    """The settings by mean final test accuracy: each seed's result (dots), the mean
    (diamond) and its 95 % interval (bar); crowned only beyond seed noise."""
    height = min(3 + 0.34 * len(spread), 30)
    fig, ax = figure(
        (8, height),
        f"Settings ranked by mean final test accuracy over seeds — {title}",
        axes_titles=True,  # room for the legend above the axes
        left=0.38,
        bottom=0.6 / height + 0.1,
    )
    positions = np.arange(len(spread))[::-1]
    labels = []
    for position, (_, row) in zip(positions, spread.iterrows(), strict=True):
        mean = row["final_test_acc_mean"]
        seeds = repeats.loc[repeats["setting"] == row["setting"], "final_test_acc"]
        ax.plot(seeds, [position] * len(seeds), "o", color="tab:blue", alpha=0.45, ms=5)
        low, high = row["final_test_acc_ci95_low"], row["final_test_acc_ci95_high"]
        if np.isfinite(low):
            ax.errorbar(mean, position, xerr=[[mean - low], [high - mean]], fmt="none",
                        ecolor="black", capsize=4, lw=1.5)  # fmt: skip
        ax.plot(mean, position, "D", color="black", ms=7)
        labels.append(f"{_label(row.rename({'setting': 'run'}), varied)} (n={row['repeats']})")
    claimed = verdict(spread) == BEST_CLAIM
    if claimed:
        labels[0] = f"{BEST} {labels[0]}"
    ax.set_yticks(positions, labels, fontsize=8)
    if claimed:
        ax.get_yticklabels()[0].set_fontweight("bold")
    ax.set_xlabel("final test accuracy")
    ax.grid(axis="x", alpha=0.3)
    ax.legend(
        handles=[
            Line2D([], [], marker="o", ls="", color="tab:blue", alpha=0.45, label="one seed"),
            Line2D([], [], marker="D", ls="", color="black", label="mean"),
            Line2D([], [], marker="|", ls="-", color="black", label="95 % interval of the mean"),
        ],
        loc="lower left",
        bbox_to_anchor=(0, 1.0),
        ncol=3,
        frameon=False,
        fontsize=8,
    )
    fig.text(0.02, 0.015, noise_note(spread), fontsize=9)
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
    lines: dict[str, tuple[np.ndarray, ...]],
    labels: tuple[str, str],
    title: str,
    claimed: str = BEST_CLAIM,
) -> plt.Figure:
    """All runs' lines on the left, the second half of training zoomed on the right. A
    line of four arrays (x, mean, lowest, highest: repeats over seeds) gets its band;
    ``claimed``: what the first row is (spread.verdict): "best", "tied within seed
    noise" with the second, or, for "one setting", nothing is said."""
    styles = _Styles(summary, varied)
    fig, (full, zoom) = figure(
        (12, 5), title, ncols=2, axes_titles=True, left=0.06, right=0.72, wspace=0.22
    )
    best = _best_name(summary)
    handles = []
    for _, row in summary.iterrows():
        x, y, *band = lines[row["run"]]
        style = styles.of(row)
        diverged = not pd.isna(row["diverged_at_epoch"])
        if diverged:
            style["color"] = DIVERGED_COLOR
        every = max(1, len(x) // 20)
        width = 2.6 if row["run"] == best else 1.2
        for ax in (full, zoom):
            (line,) = ax.plot(x, y, lw=width, markersize=4, markevery=every, **style)
            if band:
                ax.fill_between(x, *band, color=style["color"], alpha=0.18, lw=0)
        label = _label(row, varied)
        if row["run"] == best:
            label = {
                BEST_CLAIM: f"{BEST} {label} (best)",
                TIED: f"{label} (top, tied within seed noise)",
            }.get(claimed, label)
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
        best_handle = handles[[*summary["run"]].index(best)]
        handles = [best_handle, *styles.key_handles()]
    fig.legend(
        handles=handles, loc="center left", bbox_to_anchor=(0.735, 0.5), fontsize=8, frameon=False
    )
    return fig


def _zoom_to_second_half(ax: plt.Axes, lines: dict[str, tuple[np.ndarray, ...]]) -> None:
    """Limit the axes to the second half of the longest run, its y range to the values
    there (finite ones, bands included), with a little margin."""
    end = max((float(np.max(x)) for x, *_ in lines.values() if len(x)), default=1.0)
    start = end / 2
    inside = [
        y[(x >= start) & np.isfinite(y)] for x, *ys in lines.values() for y in map(np.asarray, ys)
    ]
    values = np.concatenate([v for v in inside if len(v)] or [np.array([0.0, 1.0])])
    low, high = float(values.min()), float(values.max())
    margin = (high - low) * 0.08 or 0.01
    ax.set_xlim(start, end + (end - start) * 0.02)
    ax.set_ylim(low - margin, high + margin)


def _lines(curves: dict, points) -> dict[str, tuple[np.ndarray, ...]]:
    """name -> (x, y) from each run's (accuracy, loss) tables through ``points``; for a
    setting's list of repeats: (x, mean, lowest, highest)."""
    lines = {}
    for name, tables in curves.items():
        if isinstance(tables, list):
            xs, ys = zip(*(points(*pair) for pair in tables), strict=True)
            lines[name] = _band(list(xs), list(ys))
        else:
            lines[name] = points(*tables)
    return lines


def accuracy_curves(summary, varied, curves, title, claimed=BEST_CLAIM) -> plt.Figure:
    def points(accuracy, _):
        return accuracy["epoch"].to_numpy(), accuracy["test_acc"].to_numpy()

    return curves_figure(
        summary,
        varied,
        _lines(curves, points),
        ("epoch", "test accuracy"),
        f"Test accuracy per epoch{_over_seeds(curves)} — {title}",
        claimed,
    )


def loss_curves(summary, varied, curves, title, claimed=BEST_CLAIM) -> plt.Figure:
    """The running mean of each run's mini-batch loss, at most ~500 points a line."""

    def points(_, loss):
        values = loss["loss"].to_numpy()
        smoothed = moving_average(values, smoothing_window(len(values)))
        step = max(1, len(values) // 500)
        return loss["iteration"].to_numpy()[::step], smoothed[::step]

    return curves_figure(
        summary,
        varied,
        _lines(curves, points),
        ("iteration", "loss (running mean)"),
        f"Mini-batch loss, running mean{_over_seeds(curves)} — {title}",
        claimed,
    )


def _over_seeds(curves: dict) -> str:
    """How a title says its lines are means over seeds (repeats), or nothing."""
    if any(isinstance(tables, list) for tables in curves.values()):
        return ", mean over seeds (band: lowest to highest seed)"
    return ""
