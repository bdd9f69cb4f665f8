"""Results in the terminal: ``scratchnet show`` (the runs, best first) and
``scratchnet show RUN`` (one run, epoch by epoch)."""

from pathlib import Path

import pandas as pd

from scratchnet import tables


class NothingToShow(FileNotFoundError):
    """The results asked for do not exist (yet); the message says what to run."""


def _summary(results: Path) -> pd.DataFrame:
    path = results / "summary.csv"
    if not path.is_file():
        raise NothingToShow(f"{path} does not exist: run snakemake first")
    return tables.read_csv(path)


def summary_text(results: Path) -> str:
    """The runs of the last completed configuration, best first: their results (and
    warnings), then the settings that differ between them, as summary.html shows them."""
    summary = _summary(results)
    varied = tables.varied_settings(summary, tables.setting_columns(summary))
    heading = (
        f"{len(summary)} run(s) on {summary['dataset'][0]}, best first ({results}/summary.csv)"
    )
    return f"{heading}\n{tables.terminal_table(summary[tables.result_columns(summary, varied)])}"


def run_text(results: Path, run: str) -> str:
    """One run's accuracy and loss per epoch."""
    path = results / run / "accuracy.csv"
    if not path.is_file():
        runs = sorted(p.parent.name for p in results.glob("*/accuracy.csv"))
        known = f" (runs with results: {', '.join(runs)})" if runs else ""
        raise NothingToShow(f"{path} does not exist{known}")
    return f"run {run} ({path})\n{tables.terminal_table(tables.read_csv(path))}"


def brief(results: Path) -> str:
    """A few lines for the end of a snakemake run: each run's final and best test accuracy,
    best run first, and how to see more."""
    summary = _summary(results)
    lines = [f"Results ({len(summary)} run(s), best first; more: scratchnet show):"]
    width = max(len(name) for name in summary["run"])
    for _, row in summary.iterrows():
        line = (
            f"  {row['run']:<{width}}  final test acc {row['final_test_acc']:.4f}  "
            f"best {row['best_test_acc']:.4f} (epoch {row['best_epoch']})"
        )
        if not pd.isna(row["diverged_at_epoch"]):
            line += (
                f"  DIVERGED at epoch {int(row['diverged_at_epoch'])}: "
                f"lower learning_rate (now {row['learning_rate']})"
            )
        elif row.get("at_chance", False):
            line += (
                "  AT CHANCE: no better than always answering the commonest class; "
                f"try another learning_rate (now {row['learning_rate']})"
            )
        lines.append(line)
    return "\n".join(lines)
