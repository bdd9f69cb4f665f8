"""Choosing hyperparameters, drawn as the book's chapter 6.5 draws a search:

- ``compare_best``: the best settings as small multiples, ranked by their final accuracy
  on the data settings are chosen on (validation images where some are held out), that
  accuracy per epoch solid and the training accuracy dashed;
- ``compare_settings``: that final accuracy against each varied setting, one dot per run,
  on a log scale where the values span decades (a learning rate sampled log-uniformly),
  so that a reader sees where the good region is.

Both draw every setting of a sweep, a search or named runs alike (spread.by_setting).
"""

import math

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scratchnet import spread
from scratchnet.names import short_key, short_name
from scratchnet.plots import figure, log_axis, note
from scratchnet.tables import MEASURE_NAMES, chosen_on

BEST_SHOWN = 20  # the book draws the best 20 of its 100 trials
COLUMNS = 5


def _parts_label(row: pd.Series, varied: list[str]) -> str:
    """A setting's varied values, short (lr 0.0123, hs 50), else its short name."""
    parts = [f"{short_key(key)} {_value(row[key])}" for key in varied]
    return ", ".join(parts) if parts else short_name(row["setting"])


def _value(value) -> str:
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def best_figure(
    by_setting: pd.DataFrame, curves: dict[str, list[tuple]], varied: list[str], title: str
) -> plt.Figure:
    """The best BEST_SHOWN settings' learning curves, one small panel each, best first;
    a setting of several seeds by their mean."""
    chosen = chosen_on(by_setting)
    on = MEASURE_NAMES[chosen]
    shown = by_setting.head(BEST_SHOWN)
    rows = math.ceil(len(shown) / COLUMNS)
    columns = min(COLUMNS, len(shown))
    fig, axes = figure(
        (2.4 * columns + 0.4, 2.0 * rows + 1.2),
        f"The best {len(shown)} of {len(by_setting)} settings by final {on} accuracy: "
        f"{on} (solid) and training (dashed) accuracy per epoch — {title}",
        ncols=columns,
        nrows=rows,
        axes_titles=True,
        left=0.05,
        right=0.99,
        bottom=0.12 / rows + 0.04,
        hspace=0.45,
        wspace=0.25,
    )
    axes = np.atleast_1d(axes).reshape(rows, columns)
    for ax in axes.flat[len(shown) :]:
        ax.set_axis_off()
    for rank, (ax, (_, row)) in enumerate(zip(axes.flat, shown.iterrows(), strict=False), 1):
        runs = curves[row["setting"]]
        epochs = runs[0][0]["epoch"].to_numpy()
        length = min(len(accuracy) for accuracy, _ in runs)
        for column, style, color in ((f"{chosen}_acc", "-", "tab:blue"),
                                     ("train_acc", "--", "tab:orange")):  # fmt: skip
            mean = np.mean([accuracy[column].to_numpy()[:length] for accuracy, _ in runs], 0)
            ax.plot(epochs[:length], mean, style, color=color, lw=1.4)
        final = row[f"final_{chosen}_acc_mean"]
        ax.set_title(f"{rank}. {_parts_label(row, varied)}: {final:.4f}", fontsize=8)
        ax.set_ylim(0, 1)
        ax.tick_params(labelsize=7)
        ax.grid(alpha=0.3)
    note(fig, f"the first is {spread.claim(by_setting)}")
    return fig


def settings_figure(
    by_setting: pd.DataFrame, summary: pd.DataFrame, varied: list[str], title: str
) -> plt.Figure:
    """The final accuracy settings are chosen on, against each varied setting: a dot per
    run, the crowned setting's runs marked."""
    chosen = chosen_on(by_setting)
    on = MEASURE_NAMES[chosen]
    keys = [key for key in varied if key != "seed"] or ["setting"]
    fig, axes = figure(
        (4.2 * len(keys) + 0.6, 4.2),
        f"Final {on} accuracy against each varied setting, a dot per run — {title}",
        ncols=len(keys),
        left=0.08 if len(keys) > 1 else 0.14,
        right=0.98,
        bottom=0.24,
        wspace=0.3,
    )
    best = summary["setting"] == by_setting["setting"].iloc[0]
    crowned = spread.crowned(by_setting)
    for ax, key in zip(np.atleast_1d(axes), keys, strict=True):
        values = summary[key]
        x = values if _numeric(values) else values.astype(str)
        accuracy = summary[f"final_{chosen}_acc"]
        ax.scatter(x[~best], accuracy[~best], s=18, alpha=0.6)
        label = "the best setting" if crowned else "the first setting"
        ax.scatter(x[best], accuracy[best], s=60, marker="*", color="tab:red", label=label)
        if _numeric(values) and values.min() > 0 and values.max() >= 10 * values.min():
            ax.set_xscale("log")
            log_axis(ax.xaxis, values.min(), values.max())
        ax.set(xlabel=key, ylabel=f"final {on} accuracy")
        ax.grid(alpha=0.3)
    np.atleast_1d(axes)[0].legend(loc="lower right", fontsize=8)
    note(fig, f"the first is {spread.claim(by_setting)}")
    return fig


def _numeric(values: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
