"""Results in the terminal: ``scratchnet show`` (the settings and runs, best first) and
``scratchnet show RUN`` (one run, epoch by epoch)."""

from pathlib import Path

import pandas as pd

from scratchnet import layout, spread, tables


class NothingToShow(FileNotFoundError):
    """The results asked for do not exist (yet); the message says what to run."""


def _tables(results: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The last completed configuration's summary: per run, and per setting."""
    paths = [results / "summary.csv", results / "summary_by_setting.csv"]
    for path in paths:
        if not path.is_file():
            raise NothingToShow(f"{path} does not exist: run snakemake first")
    summary, by_setting = map(tables.read_csv, paths)
    return summary, by_setting


def summary_text(results: Path) -> str:
    """The runs of the last completed configuration, best first: their results (and
    warnings), then the settings that differ between them, as summary.html shows them;
    where some setting has several seeds, the settings' spread first."""
    summary, by_setting = _tables(results)
    varied = tables.varied_settings(summary, tables.setting_columns(summary))
    heading = (
        f"{len(summary)} run(s) on {summary['dataset'][0]}, best first ({results}/summary.csv)"
    )
    runs = f"{heading}\n{tables.terminal_table(summary[tables.result_columns(summary, varied)])}"
    if not spread.has_repeats(by_setting):
        return runs
    settings = spread.readable(by_setting, varied)
    return (
        f"{spread.caption(by_setting)} ({results}/summary_by_setting.csv)\n"
        f"{tables.terminal_table(settings)}\n\n{runs}"
    )


def run_text(results: Path, run: str) -> str:
    """One run's accuracy and loss per epoch."""
    run = layout.run_called(results, run)
    path = results / run / "accuracy.csv"
    if not path.is_file():
        runs = sorted(p.parent.name for p in results.glob("*/accuracy.csv"))
        known = f" (runs with results: {', '.join(runs)})" if runs else ""
        raise NothingToShow(f"{path} does not exist{known}")
    return f"run {run} ({path})\n{tables.terminal_table(tables.read_csv(path))}"


def brief(results: Path) -> str:
    """A few lines for the end of a snakemake run: each setting's final test accuracy
    (over its seeds, where it has several; else its run's final and best), best first,
    what may be claimed of the first, and the runs that diverged or ended at chance."""
    summary, by_setting = _tables(results)
    if spread.has_repeats(by_setting):
        heading = (
            f"Results over seeds ({len(by_setting)} setting(s), best mean first; every "
            "repeat: scratchnet show):"
        )
        warned = summary[[bool(_warning(row)) for _, row in summary.iterrows()]]
        lines = [*_setting_lines(by_setting), *_run_lines(warned)]
    else:
        heading = f"Results ({len(summary)} run(s), best first; more: scratchnet show):"
        lines = _run_lines(summary)
    first = by_setting["setting"].iloc[0]
    claim = [] if len(by_setting) < 2 else [f"  {first} is {spread.claim(by_setting)}"]
    return "\n".join([heading, *lines, *claim])


def _run_lines(summary: pd.DataFrame) -> list[str]:
    """A line per run: its final accuracy and best epoch, on validation data (with the test
    accuracy beside it) where some is held out, else on test data; its warning if any."""
    width = max((len(name) for name in summary["run"]), default=0)
    lines = []
    for _, row in summary.iterrows():
        line = f"  {row['run']:<{width}}  "
        if "final_val_acc" in row:
            line += (
                f"final val acc {row['final_val_acc']:.4f} (test {row['final_test_acc']:.4f})  "
                f"best epoch {row['best_epoch']}: val {row['best_val_acc']:.4f} "
                f"(test {row['best_test_acc']:.4f})"
            )
        else:
            line += (
                f"final test acc {row['final_test_acc']:.4f}  "
                f"best {row['best_test_acc']:.4f} (epoch {row['best_epoch']}, on test data)"
            )
        lines.append(line + _warning(row))
    return lines


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


def _setting_lines(by_setting: pd.DataFrame) -> list[str]:
    """A line per setting: its final accuracy over its seeds, on the data settings are
    chosen on (with the mean test accuracy beside it when that is validation data)."""
    chosen = tables.chosen_on(by_setting)
    width = max(len(name) for name in by_setting["setting"])
    lines = []
    for _, row in by_setting.iterrows():
        measure = f"final_{chosen}_acc"
        mean, sd = row[f"{measure}_mean"], row[f"{measure}_sd"]
        line = f"  {row['setting']:<{width}}  final {chosen} acc {mean:.4f}"
        if not pd.isna(sd):
            line += (
                f" ± {sd:.4f} sd, 95 % interval {row[f'{measure}_ci95_low']:.4f}"
                f"-{row[f'{measure}_ci95_high']:.4f}"
            )
        if chosen == "val":
            line += f", test {row['final_test_acc_mean']:.4f}"
        lines.append(line + f"  (n={row['repeats']})")
    return lines


def failed_causes(snakemake_log: Path) -> list[str]:
    """Each failed job's own one-line cause (its log's ERROR lines), from Snakemake's log
    of the call: what a user reads last."""
    import re

    logs = re.findall(r"^\s*log: (\S+) \(check log file", snakemake_log.read_text(), re.M)
    causes = []
    for log in dict.fromkeys(logs):  # once each, in order
        path = Path(log)
        if path.is_file():
            errors = [line.split(" ERROR ", 1)[1] for line in path.read_text().splitlines()
                      if " ERROR " in line]  # fmt: skip
            causes += [f"  {log}: {error}" for error in errors]
    return causes
