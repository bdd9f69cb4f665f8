"""Tables and summaries built from the per-epoch files: accuracy.csv, loss.csv, metrics.json."""

import csv
import io
import json
from collections.abc import Iterable
from pathlib import Path

ACCURACY_COLUMNS = ("epoch", "iteration", "train_acc", "test_acc", "train_loss", "test_loss")
LOSS_COLUMNS = ("iteration", "epoch", "loss")


def to_csv(columns: Iterable[str], rows: Iterable[dict]) -> str:
    """CSV text with floats in repr form, so equal numbers always print the same."""
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue()


def read_csv(path: str | Path) -> list[dict]:
    """Rows of a CSV this package wrote, numbers converted back."""
    with open(path, newline="") as f:
        return [{key: _number(value) for key, value in row.items()} for row in csv.DictReader(f)]


def _number(text: str) -> int | float | str:
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def accuracy_rows(evaluation_files: Iterable[str | Path]) -> list[dict]:
    """One row per evaluated checkpoint, by epoch (each file lists the checkpoints of one
    evaluate job)."""
    rows = [row for p in evaluation_files for row in json.loads(Path(p).read_text())]
    return sorted(
        ({key: row[key] for key in ACCURACY_COLUMNS} for row in rows), key=lambda r: r["epoch"]
    )


def loss_rows(loss_files: Iterable[str | Path]) -> list[dict]:
    """Every mini-batch loss of the run, in training order."""
    rows = [row for path in loss_files for row in read_csv(path)]
    return sorted(rows, key=lambda r: r["iteration"])


def training_seconds(benchmark_files: Iterable[str | Path]) -> float:
    """Wall time of the training jobs, from Snakemake's benchmark files (column 's')."""
    total = 0.0
    for path in benchmark_files:
        with open(path, newline="") as f:
            total += sum(float(row["s"]) for row in csv.DictReader(f, delimiter="\t"))
    return round(total, 3)


def metrics(accuracy: list[dict], seconds: float) -> dict:
    """Final and best test accuracy, final train accuracy, iterations and training time."""
    final = accuracy[-1]
    best = max(accuracy, key=lambda r: (r["test_acc"], -r["epoch"]))
    return {
        "final_test_acc": final["test_acc"],
        "best_test_acc": best["test_acc"],
        "best_epoch": best["epoch"],
        "final_train_acc": final["train_acc"],
        "epochs": final["epoch"],
        "iterations": final["iteration"],
        "train_seconds": seconds,
    }


SUMMARY_METRICS = ("final_test_acc", "best_test_acc", "best_epoch", "final_train_acc")


def summary_rows(runs: dict[str, dict], metrics_files: dict[str, str | Path]) -> list[dict]:
    """One row per run: its name and settings, then its headline metrics and training time."""
    rows = []
    for name, settings in runs.items():
        metrics = json.loads(Path(metrics_files[name]).read_text())
        row = {"run": name, **settings}
        row.update({key: metrics[key] for key in SUMMARY_METRICS})
        row["train_seconds"] = metrics["train_seconds"]
        rows.append(row)
    return rows
