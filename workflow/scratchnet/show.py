"""Results in the terminal: ``scratchnet show`` (the runs, best first) and
``scratchnet show RUN`` (one run, epoch by epoch)."""

from pathlib import Path

import pandas as pd

from scratchnet import spread, tables


class NothingToShow(FileNotFoundError):
    """The results asked for do not exist (yet); the message says what to run."""


def _summary(results: Path) -> pd.DataFrame:
    path = results / "summary.csv"
    if not path.is_file():
        raise NothingToShow(f"{path} does not exist: run snakemake first")
    return tables.read_csv(path)


def _by_setting(results: Path, summary: pd.DataFrame) -> pd.DataFrame | None:
    """The spread over seeds, when the last configuration had repeats."""
    path = results / "summary_by_setting.csv"
    return tables.read_csv(path) if "setting" in summary and path.is_file() else None


def summary_text(results: Path) -> str:
    """The runs of the last completed configuration, best first: their results (and
    warnings), then the settings that differ between them, as summary.html shows them;
    with repeats over seeds, the settings' spread first."""
    summary = _summary(results)
    varied = tables.varied_settings(summary, tables.setting_columns(summary))
    heading = (
        f"{len(summary)} run(s) on {summary['dataset'][0]}, best first ({results}/summary.csv)"
    )
    runs = f"{heading}\n{tables.terminal_table(summary[tables.result_columns(summary, varied)])}"
    by_setting = _by_setting(results, summary)
    if by_setting is None:
        return runs
    settings = spread.readable(by_setting, varied)
    return (
        f"{spread.caption(by_setting)} ({results}/summary_by_setting.csv)\n"
        f"{tables.terminal_table(settings)}\n\n{runs}"
    )


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
    best run first, and how to see more; with repeats over seeds, each setting's spread
    instead, and only the repeats that diverged or ended at chance."""
    summary = _summary(results)
    by_setting = _by_setting(results, summary)
    if by_setting is not None:
        warned = summary[[bool(_warning(row)) for _, row in summary.iterrows()]]
        return "\n".join([*spread_lines(by_setting), *_run_lines(warned)])
    heading = f"Results ({len(summary)} run(s), best first; more: scratchnet show):"
    return "\n".join([heading, *_run_lines(summary)])


def _run_lines(summary: pd.DataFrame) -> list[str]:
    """A line per run: final and best test accuracy, and its warning if it has one."""
    width = max((len(name) for name in summary["run"]), default=0)
    return [
        f"  {row['run']:<{width}}  final test acc {row['final_test_acc']:.4f}  "
        f"best {row['best_test_acc']:.4f} (epoch {row['best_epoch']}){_warning(row)}"
        for _, row in summary.iterrows()
    ]


def _warning(row: pd.Series) -> str:
    """What went wrong with a run (diverged, at chance) and what to try, or nothing."""
    if not pd.isna(row["diverged_at_epoch"]):
        return (
            f"  DIVERGED at epoch {int(row['diverged_at_epoch'])}: "
            f"lower learning_rate (now {row['learning_rate']})"
        )
    if row.get("at_chance", False):
        return (
            "  AT CHANCE: no better than always answering the commonest class; "
            f"try another learning_rate (now {row['learning_rate']})"
        )
    return ""


def spread_lines(by_setting: pd.DataFrame) -> list[str]:
    """Each setting's final test accuracy over its seeds, and what the first may claim."""
    lines = [
        f"Results over seeds ({len(by_setting)} setting(s), best mean first; every repeat: "
        "scratchnet show):"
    ]
    width = max(len(name) for name in by_setting["setting"])
    for _, row in by_setting.iterrows():
        mean, sd = row["final_test_acc_mean"], row["final_test_acc_sd"]
        line = f"  {row['setting']:<{width}}  final test acc {mean:.4f}"
        if not pd.isna(sd):
            line += (
                f" ± {sd:.4f} sd, 95 % interval {row['final_test_acc_ci95_low']:.4f}"
                f"-{row['final_test_acc_ci95_high']:.4f}"
            )
        lines.append(line + f"  (n={row['repeats']})")
    said = spread.verdict(by_setting)
    if said == spread.BEST:
        lines.append(f"  {by_setting['setting'][0]} is best: beyond seed noise (README 'Repeats')")
    elif said == spread.TIED:
        lines.append("  the top two are tied within seed noise: no best (README 'Repeats')")
    return lines
