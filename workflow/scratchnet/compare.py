"""Figures that compare settings and answer "which is best".

A setting is trained with one seed or, with `repeats`, several (its table per setting is
spread.by_setting's); the figures show settings:

- ``compare_heatmap``: with two varied settings, the final accuracy per grid cell
  ("mean ± sd" over seeds where there are several), the best cell outlined; otherwise the
  settings ranked by final accuracy, with their best epoch's accuracy beside it,
  every seed's result and the 95 % interval of the mean where there are several.
- ``compare_accuracy`` and ``compare_loss``: a line per setting (the mean, in a band from
  the lowest to the highest seed where there are several), coloured by the first varied
  setting and styled by the second, the legend outside the data, and a zoomed panel on
  the second half of training, where the differences are small.

Accuracies are those settings are chosen on: validation accuracy where some training
images are held out (holdout.py), else test accuracy, and every figure says which. The
first setting is crowned as spread.verdict allows, and every figure says what may be
claimed of it (spread.claim).
"""

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from scratchnet import choosing, spread
from scratchnet.names import ASSIGN, SEPARATOR, short_name, without_dataset
from scratchnet.plots import figure, moving_average, note, save, smoothing_window
from scratchnet.tables import MEASURE_NAMES, chosen_on

LINE_STYLES = ["-", "--", ":", "-."]
MARKERS = ["o", "s", "^", "D", "v", "P", "X", "*"]
MAX_LEGEND_RUNS = 12  # beyond this, the legend explains colours and styles instead of lines
BEST = "\u2605"  # a star marks the best setting
DIVERGED_COLOR = "0.6"

Curves = dict[str, list[tuple[pd.DataFrame, pd.DataFrame]]]  # setting -> its runs' tables


def draw_all(
    by_setting: pd.DataFrame,
    summary: pd.DataFrame,
    varied: list[str],
    curves: Curves,
    title: str,
    folder: Path,
    formats: list[str],
) -> list[Path]:
    """Every comparison figure into ``folder``; none for a single run: nothing to compare.
    ``summary``: the per-run rows; ``curves``: each setting's runs' accuracy and loss
    tables."""
    if len(summary) < 2:
        return []
    varied = [key for key in varied if key in by_setting]
    rows = setting_rows(by_setting)
    figures = {
        "compare_heatmap": heatmap_or_ranking(by_setting, summary, varied, title),
        "compare_accuracy": accuracy_curves(rows, varied, curves, title, by_setting),
        "compare_loss": loss_curves(rows, varied, curves, title, by_setting),
        "compare_best": choosing.best_figure(by_setting, curves, varied, title),
        "compare_settings": choosing.settings_figure(by_setting, summary, varied, title),
    }
    return [path for name, fig in figures.items() for path in save(fig, folder / name, formats)]


def setting_rows(by_setting: pd.DataFrame) -> pd.DataFrame:
    """The table per setting read as rows of the figures: its name, settings and mean
    accuracies; a setting counts as diverged when all its runs did."""
    rows = by_setting.rename(
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


def _band(xs: list[np.ndarray], ys: list[np.ndarray]) -> tuple[np.ndarray, ...]:
    """x, mean, lowest and highest of lines over the same x (repeats of one setting;
    cut to the shortest should one have stopped early); non-finite values left out."""
    length = min(len(x) for x in xs)
    stacked = np.vstack([y[:length] for y in ys]).astype(float)
    stacked[~np.isfinite(stacked)] = np.nan
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a point no repeat has: nan
        return xs[0][:length], np.nanmean(stacked, 0), np.nanmin(stacked, 0), np.nanmax(stacked, 0)


def _measure(by_setting: pd.DataFrame) -> tuple[str, str]:
    """The accuracy settings are chosen on (its column's stem) and its name."""
    chosen = chosen_on(by_setting)
    return f"{chosen}_acc", MEASURE_NAMES[chosen]


def _label(row: pd.Series, varied: list[str]) -> str:
    """The varied settings' values, after the name people gave the run (`runs`) if any."""
    name = without_dataset(str(row["run"]))
    if not varied:
        return name
    first = name.split(SEPARATOR)[0]
    values = ", ".join(f"{key}={_short(row[key])}" for key in varied)
    return values if ASSIGN in first else f"{first}: {values}"


def _short(value) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


# --- the heatmap, or the ranking --------------------------------------------------------


def heatmap_or_ranking(
    by_setting: pd.DataFrame, summary: pd.DataFrame, varied: list[str], title: str
) -> plt.Figure:
    """The heatmap of two varied settings that make a full grid (a sweep's), else the
    ranking (a search's settings, named runs; ``summary``: per-run rows)."""
    if len(varied) == 2 and by_setting[varied].nunique().prod() == len(by_setting):
        return heatmap(by_setting, *varied, title)
    return ranking(by_setting, summary, varied, title)


def heatmap(by_setting: pd.DataFrame, rows_key: str, columns_key: str, title: str) -> plt.Figure:
    """The final accuracy per (rows_key, columns_key) cell, "mean ± sd" where a setting
    has several seeds; blank where no setting has it; the best outlined if crowned."""
    measure, on = _measure(by_setting)
    grids = {
        statistic: by_setting.pivot_table(
            index=rows_key, columns=columns_key, values=statistic, aggfunc="max", dropna=False
        )
        for statistic in (f"final_{measure}_mean", f"final_{measure}_sd")
    }
    grid = grids[f"final_{measure}_mean"]
    sd = grids[f"final_{measure}_sd"].to_numpy(dtype=float)
    several = spread.has_repeats(by_setting)
    heading = f"Final {on} accuracy" + (", mean ± sd over seeds" if several else "")
    fig, ax = figure((7, 5.2), f"{heading} — {title}", left=0.16, right=0.86, bottom=0.19)
    values = grid.to_numpy(dtype=float)
    image = ax.imshow(np.ma.masked_invalid(values), cmap="viridis", aspect="auto")
    label = f"final {on} accuracy" + (" (mean)" if several else "")
    fig.colorbar(image, ax=ax, fraction=0.05, pad=0.02, label=label)
    ax.set_xticks(range(len(grid.columns)), [_short(v) for v in grid.columns])
    ax.set_yticks(range(len(grid.index)), [_short(v) for v in grid.index])
    ax.set(xlabel=columns_key, ylabel=rows_key)
    best = by_setting.iloc[0]
    crowned = spread.crowned(by_setting)
    middle = np.nanmean(values) if np.isfinite(values).any() else 0
    for (i, j), value in np.ndenumerate(values):
        is_best = (
            crowned and grid.index[i] == best[rows_key] and grid.columns[j] == best[columns_key]
        )
        text = "" if np.isnan(value) else f"{value:.4f}"
        if text and not np.isnan(sd[i, j]):
            text += f"\n± {sd[i, j]:.4f}"
        if is_best and text:
            text = f"{BEST} {text}"
        color = "black" if value >= middle else "white"
        weight = "bold" if is_best else "normal"
        ax.text(j, i, text, ha="center", va="center", color=color, fontweight=weight)
        if is_best:
            ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, lw=3, ec="red"))
    _note(fig, by_setting)
    return fig


def _note(fig: plt.Figure, by_setting: pd.DataFrame) -> None:
    """What may be claimed of the first setting, under the figure."""
    first = short_name(by_setting["setting"].iloc[0])
    note(fig, f"{first}, the first, is {spread.claim(by_setting)}")


def ranking(
    by_setting: pd.DataFrame, summary: pd.DataFrame, varied: list[str], title: str
) -> plt.Figure:
    """The settings by mean final accuracy, best on top: the mean final (filled) and
    best epoch's (open) accuracy; where a setting has several seeds, each seed's final
    result (dots) and the 95 % interval of the mean (bar)."""
    several = spread.has_repeats(by_setting)
    height = min(2.6 + 0.3 * len(by_setting), 30)
    measure, on = _measure(by_setting)
    heading = f"Settings ranked by final {on} accuracy" + (", mean over seeds" * several)
    fig, ax = figure(
        (8, height),
        f"{heading} — {title}",
        axes_titles=True,  # room for the legend above the axes
        left=0.38,
        bottom=1.05 / height,
    )
    positions = np.arange(len(by_setting))[::-1]  # the best at the top
    labels = []
    for position, (_, row) in zip(positions, by_setting.iterrows(), strict=True):
        diverged = row["diverged_repeats"] == row["repeats"]
        color = DIVERGED_COLOR if diverged else "tab:blue"
        final, best = row[f"final_{measure}_mean"], row[f"best_{measure}_mean"]
        if row["repeats"] > 1:
            seeds = summary.loc[summary["setting"] == row["setting"], f"final_{measure}"]
            ax.plot(seeds, [position] * len(seeds), ".", color=color, alpha=0.45, ms=7)
            low, high = row[f"final_{measure}_ci95_low"], row[f"final_{measure}_ci95_high"]
            ax.errorbar(final, position, xerr=[[final - low], [high - final]], fmt="none",
                        ecolor="black", capsize=4, lw=1.5)  # fmt: skip
        ax.plot([final, best], [position] * 2, color=color, lw=1)
        ax.plot(final, position, "o", color=color, ms=7)
        ax.plot(best, position, "o", mfc="none", color=color, ms=7)
        label = _label(row.rename({"setting": "run"}), varied)
        if several:
            label += f" (n={row['repeats']})"
        labels.append(label + (" (diverged)" if diverged else ""))
    crowned = spread.crowned(by_setting)
    if crowned:
        labels[0] = f"{BEST} {labels[0]}"
    ax.set_yticks(positions, labels, fontsize=8)
    if crowned:
        ax.get_yticklabels()[0].set_fontweight("bold")
    ax.set_xlabel(f"{on} accuracy")
    left, right = ax.get_xlim()
    ax.set_xlim(left, min(right, 1.005))  # no accuracy above 1, even when all reach it
    ax.grid(axis="x", alpha=0.3)
    keys = [
        Line2D([], [], marker="o", ls="", color="tab:blue", label="final" + " (mean)" * several),
        Line2D([], [], marker="o", ls="", mfc="none", color="tab:blue", label="best epoch"),
    ]
    if several:
        keys += [
            Line2D([], [], marker=".", ls="", color="tab:blue", alpha=0.45, label="one seed"),
            Line2D([], [], marker="|", ls="-", color="black", label="95 % interval of the mean"),
        ]
    ax.legend(handles=keys, loc="lower left", bbox_to_anchor=(0, 1.0), ncol=len(keys),
              frameon=False, fontsize=8)  # fmt: skip
    _note(fig, by_setting)
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
    rows: pd.DataFrame,
    varied: list[str],
    lines: dict[str, tuple[np.ndarray, ...]],
    labels: tuple[str, str],
    title: str,
    by_setting: pd.DataFrame,
) -> plt.Figure:
    """Every setting's line on the left, the second half of training zoomed on the right
    (``rows``: setting_rows). A line of four arrays (x, mean, lowest, highest: a setting
    over several seeds) gets its band; the first setting's label says what may be claimed
    of it (spread.verdict)."""
    styles = _Styles(rows, varied)
    fig, (full, zoom) = figure(
        (12, 5), title, ncols=2, axes_titles=True, left=0.06, right=0.72, wspace=0.22
    )
    said, handles = spread.verdict(by_setting), []
    for i, (_, row) in enumerate(rows.iterrows()):
        x, y, *band = lines[row["run"]]
        style = styles.of(row)
        diverged = not pd.isna(row["diverged_at_epoch"])
        if diverged:
            style["color"] = DIVERGED_COLOR
        every = max(1, len(x) // 20)
        for ax in (full, zoom):
            (line,) = ax.plot(
                x, y, lw=2.6 if i == 0 else 1.2, markersize=4, markevery=every, **style
            )
            if band:
                ax.fill_between(x, *band, color=style["color"], alpha=0.18, lw=0)
        label = _label(row, varied)
        if i == 0 and spread.crowned(by_setting):
            label = f"{BEST} {label} (best)"
        elif i == 0 and said in (spread.TIED, spread.EVEN):
            label = f"{label} (top, {said})"
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
        handles = [handles[0], *styles.key_handles()]
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


def _lines(curves: Curves, points) -> dict[str, tuple[np.ndarray, ...]]:
    """Setting -> (x, y) from its run's (accuracy, loss) tables through ``points``; over
    several seeds: (x, mean, lowest, highest)."""
    lines = {}
    for setting, runs in curves.items():
        xs, ys = zip(*(points(*pair) for pair in runs), strict=True)
        lines[setting] = (xs[0], ys[0]) if len(runs) == 1 else _band(list(xs), list(ys))
    return lines


def accuracy_curves(rows, varied, curves: Curves, title, by_setting) -> plt.Figure:
    """Each setting's accuracy per epoch, on the data settings are chosen on."""
    measure, on = _measure(by_setting)

    def points(accuracy, _):
        return accuracy["epoch"].to_numpy(), accuracy[
            measure.replace("_acc", "") + "_acc"
        ].to_numpy()

    return curves_figure(
        rows,
        varied,
        _lines(curves, points),
        ("epoch", f"{on} accuracy"),
        f"{on.capitalize()} accuracy per epoch{_over_seeds(by_setting)} — {title}",
        by_setting,
    )


def loss_curves(rows, varied, curves: Curves, title, by_setting) -> plt.Figure:
    """The running mean of each run's mini-batch loss, at most ~500 points a line."""

    def points(_, loss):
        values = loss["loss"].to_numpy()
        smoothed = moving_average(values, smoothing_window(len(values)))
        step = max(1, len(values) // 500)
        return loss["iteration"].to_numpy()[::step], smoothed[::step]

    return curves_figure(
        rows,
        varied,
        _lines(curves, points),
        ("iteration", "loss (running mean)"),
        f"Mini-batch loss, running mean{_over_seeds(by_setting)} — {title}",
        by_setting,
    )


def _over_seeds(by_setting: pd.DataFrame) -> str:
    """How a title says its lines are means over seeds, or nothing."""
    if spread.has_repeats(by_setting):
        return ", mean over seeds (band: lowest to highest seed)"
    return ""
