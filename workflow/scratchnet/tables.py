"""The result tables, with pandas: a run's accuracy and loss tables and metrics, the
summary across runs ranked best first, and their HTML and terminal renderings.

CSV files keep every float in its shortest exact form (pandas writes ``repr``), so equal
numbers always give equal bytes.
"""

import json
from collections.abc import Iterable
from html import escape
from pathlib import Path

import pandas as pd

from scratchnet import checkpoint
from scratchnet.atomic import write_text_atomically

ACCURACY_COLUMNS = ["epoch", "iteration", "train_acc", "test_acc", "train_loss", "test_loss"]
VALIDATION_COLUMNS = ["val_acc", "val_loss"]  # with a validation split (holdout.py)
LOSS_COLUMNS = ["iteration", "epoch", "loss"]
METRIC_COLUMNS = ["final_test_acc", "best_test_acc", "best_epoch", "final_train_acc"]
VALIDATION_METRICS = ["final_val_acc", "best_val_acc"]
# What settings and epochs are chosen on: validation images, where some are held out
MEASURE_NAMES = {"val": "validation", "test": "test"}


def write_csv(table: pd.DataFrame, path: str | Path) -> None:
    write_text_atomically(path, table.to_csv(index=False, lineterminator="\n"))


def read_csv(path: str | Path) -> pd.DataFrame:
    return pd.read_csv(path)


# --- one run ---------------------------------------------------------------------------


def accuracy_table(evaluation_files: Iterable[str | Path]) -> pd.DataFrame:
    """One row per evaluated checkpoint, by epoch (each file lists the checkpoints of one
    evaluation job)."""
    rows = [row for path in evaluation_files for row in json.loads(Path(path).read_text())]
    held_out = any("val_acc" in row for row in rows)
    table = pd.DataFrame(rows, columns=ACCURACY_COLUMNS + VALIDATION_COLUMNS * held_out)
    return table.sort_values("epoch", kind="stable", ignore_index=True)


def chosen_on(table: pd.DataFrame) -> str:
    """ "val" where a table (accuracy, summary, per setting) has validation accuracies:
    settings and epochs are chosen on them; else "test" (chosen on test data)."""
    return "val" if any(str(c).startswith(("val_acc", "final_val_acc")) for c in table) else "test"


def loss_table(checkpoints: Iterable[str | Path]) -> pd.DataFrame:
    """Every mini-batch loss of the run, in training order, from its checkpoints (each
    holds the losses of the updates that led to it)."""
    parts = []
    for path in checkpoints:
        meta, losses = checkpoint.losses(path)
        first = meta["iteration"] - len(losses) + 1
        iterations = range(first, first + len(losses))
        parts.append(
            pd.DataFrame({"iteration": iterations, "epoch": meta["epoch"], "loss": losses})
        )
    table = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=LOSS_COLUMNS)
    return table.sort_values("iteration", kind="stable", ignore_index=True)[LOSS_COLUMNS]


def training_seconds(timing_files: Iterable[str | Path]) -> float:
    """Seconds the run's training jobs spent training, from the seconds each recorded per
    epoch."""
    return round(sum(json.loads(Path(p).read_text())["seconds"] for p in timing_files), 3)


def run_metrics(accuracy: pd.DataFrame, seconds: float, diverged_at: int | None) -> dict:
    """Final test accuracy, the best epoch (the first to reach the highest validation
    accuracy, or test accuracy without a split) and its test accuracy, final train
    accuracy, iterations, the epoch training diverged at (or None), training time; with a
    split, the final and the best epoch's validation accuracy too."""
    final = accuracy.iloc[-1]
    measure = f"{chosen_on(accuracy)}_acc"
    best = accuracy.loc[accuracy[measure].idxmax()]  # idxmax: the first of equal maxima
    metrics = {
        "final_test_acc": float(final["test_acc"]),
        "best_test_acc": float(best["test_acc"]),
        "best_epoch": int(best["epoch"]),
        "final_train_acc": float(final["train_acc"]),
        "epochs": int(final["epoch"]),
        "iterations": int(final["iteration"]),
        "diverged_at_epoch": diverged_at,
        "train_seconds": seconds,
    }
    if measure == "val_acc":
        metrics.update(final_val_acc=float(final["val_acc"]), best_val_acc=float(best["val_acc"]))
    return metrics


# --- across runs ---------------------------------------------------------------------------


# A run "at chance" learned nothing useful: its final test accuracy is within this much
# of what always answering the test set's commonest class scores (MNIST: 0.1135).
CHANCE_MARGIN = 0.05


def chance_accuracy(test_class_counts: list[int]) -> float:
    """The test accuracy of always answering the commonest class."""
    return max(test_class_counts) / sum(test_class_counts)


def summary_table(
    runs: dict[str, dict],
    metrics_files: dict[str, str | Path],
    dataset: str,
    chance: float = 0.0,
) -> pd.DataFrame:
    """One row per run (``runs``: name -> its setting and settings): its name, setting,
    dataset and settings, then its headline metrics, and whether it ended at ``chance``
    (chance_accuracy); ranked by final test accuracy (then best test accuracy), diverged
    runs last."""
    rows = []
    for name, run in runs.items():
        metrics = json.loads(Path(metrics_files[name]).read_text())
        rows.append(
            {
                "run": name,
                "setting": run["setting"],
                "dataset": dataset,
                **run["settings"],
                **{key: metrics[key] for key in VALIDATION_METRICS if key in metrics},
                **{key: metrics[key] for key in METRIC_COLUMNS},
                "diverged_at_epoch": metrics["diverged_at_epoch"],
                "train_seconds": metrics["train_seconds"],
            }
        )
    table = pd.DataFrame(rows)
    table["diverged_at_epoch"] = table["diverged_at_epoch"].astype("Int64")
    table["at_chance"] = table["final_test_acc"] <= chance + CHANCE_MARGIN
    return ranked(table)


def ranked(summary: pd.DataFrame) -> pd.DataFrame:
    """Best run first: by final accuracy, then the best epoch's, on validation data where
    some is held out (else on test data); diverged runs last, ties in their given order."""
    measure = chosen_on(summary)
    order = summary.assign(_healthy=summary["diverged_at_epoch"].isna())
    order = order.sort_values(
        ["_healthy", f"final_{measure}_acc", f"best_{measure}_acc"], ascending=False, kind="stable"
    )
    return order.drop(columns="_healthy").reset_index(drop=True)


WARNING_COLUMNS = ["diverged_at_epoch", "at_chance"]


def _warnings_raised(summary: pd.DataFrame) -> list[str]:
    """The warning columns some run has (diverged, at chance): the others say nothing."""
    raised = {
        "diverged_at_epoch": summary["diverged_at_epoch"].notna().any(),
        "at_chance": "at_chance" in summary and summary["at_chance"].astype(bool).any(),
    }
    return [column for column in WARNING_COLUMNS if raised[column]]


def result_columns(summary: pd.DataFrame, varied: list[str]) -> list[str]:
    """What a reader looks at first: the run, its results (and warnings, where a run has
    one), then the settings that differ between the runs."""
    validation = [column for column in VALIDATION_METRICS if column in summary]
    return ["run", *validation, *METRIC_COLUMNS, *_warnings_raised(summary), "train_seconds",
            *varied]  # fmt: skip


def setting_columns(summary: pd.DataFrame) -> list[str]:
    """The summary's columns that hold a run's settings."""
    results = {*METRIC_COLUMNS, *VALIDATION_METRICS, *WARNING_COLUMNS, "train_seconds"}
    return [c for c in summary.columns if c not in {"run", "setting", "dataset", *results}]


def varied_settings(summary: pd.DataFrame, setting_keys: Iterable[str]) -> list[str]:
    """The settings whose values differ between the runs, in the order given."""
    return [key for key in setting_keys if summary[key].astype(str).nunique() > 1]


# --- renderings ------------------------------------------------------------------------------


def html_table(table: pd.DataFrame, caption: str, highlight_first: bool = False) -> str:
    """A self-contained HTML page holding ``table``; ``highlight_first`` marks its first
    row (the best run of a ranked summary)."""
    body = _html(table, caption, "ranked" if highlight_first else "")
    return _PAGE.format(title=escape(caption), body=body)


def html_page(
    title: str, sections: list[tuple[str, pd.DataFrame]], highlight_first: bool = False
) -> str:
    """A self-contained HTML page: a heading, then one captioned table per section;
    ``highlight_first`` marks the first row of the first table (the best of a ranking)."""
    body = "\n".join(
        _html(table, caption, "ranked" if highlight_first and i == 0 else "")
        for i, (caption, table) in enumerate(sections)
    )
    return _PAGE.format(title=escape(title), body=f"<h3>{escape(title)}</h3>\n{body}")


def _html(table: pd.DataFrame, caption: str, css_class: str = "") -> str:
    """The table's HTML: accuracies to 4 decimals, losses to 5, empty cells for missing
    values; equal tables give equal bytes."""
    decimals = {
        column: 4 if column.endswith("_acc") else 5
        for column in table.columns
        if column.endswith(("_acc", "_loss"))
    }
    cells = table.astype(object).where(table.notna(), "")
    for column, places in decimals.items():
        cells[column] = [value if value == "" else f"{value:.{places}f}" for value in cells[column]]
    cells.columns = [str(c).replace("_", " ") for c in cells.columns]  # headers may wrap
    html = cells.to_html(index=False, classes=css_class, border=0, justify="right")
    return html.replace("<thead>", f"<caption>{escape(caption)}</caption>\n  <thead>", 1)


_PAGE = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{title}</title>
<style>
body {{ font-family: sans-serif; font-size: 14px; margin: 1em; }}
table {{ border-collapse: collapse; margin-bottom: 1.5em; }}
caption {{ text-align: left; font-weight: bold; padding-bottom: 0.5em; }}
th, td {{ border-bottom: 1px solid #ddd; padding: 3px 8px; text-align: right; }}
th:first-child, td:first-child {{ text-align: left; white-space: nowrap; }}
th {{ background: #f2f2f2; }}
table.ranked tbody tr:first-child {{ background: #fff3b0; font-weight: bold; }}
</style></head>
<body>
{body}
</body></html>
"""


def terminal_table(table: pd.DataFrame) -> str:
    """An aligned plain-text table, accuracies and losses to 4 decimals; a first column of
    names (runs) stands to the left."""
    formatters = {
        column: "{:.4f}".format for column in table.columns if column.endswith(("_acc", "_loss"))
    }
    # headers of several words get two spaces before them, so that they do not run together
    space = {column: len(str(column)) + 2 for column in table.columns if " " in str(column)}
    first = table.columns[0]
    if pd.api.types.is_numeric_dtype(table[first]):
        return table.to_string(index=False, formatters=formatters, na_rep="-", col_space=space)
    named = table.set_index(first)
    named.index.name = None
    space.pop(first, None)
    return named.to_string(formatters=formatters, na_rep="-", col_space=space)
