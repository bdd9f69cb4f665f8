"""The result files people read: a run's tables, metrics and figures, and the summary and
comparison across the runs of one configuration."""

import json
import logging
from pathlib import Path

import numpy as np
import pandas as pd

from scratchnet import checkpoint, compare, plots, spread, tables
from scratchnet.atomic import write_text_atomically
from scratchnet.names import class_numbers, short_name

log = logging.getLogger(__name__)


def write_run_results(
    evaluations: list[Path],
    checkpoints: list[Path],
    timings: list[Path],
    out: Path,
    title: str,
    formats: list[str],
) -> dict:
    """Into the run's folder ``out``: accuracy.csv/.html, loss.csv, metrics.json and the
    book's two figures (loss, accuracy), from the run's evaluations, ``checkpoints`` (in
    order) and the seconds each epoch took. Returns the metrics."""
    accuracy = tables.accuracy_table(evaluations)
    loss = tables.loss_table(checkpoints)
    meta, _ = checkpoint.losses(checkpoints[-1])
    diverged_at = meta["diverged"]["epoch"] if "diverged" in meta else None
    metrics = tables.run_metrics(accuracy, tables.training_seconds(timings), diverged_at)
    tables.write_csv(accuracy, out / "accuracy.csv")
    tables.write_csv(loss, out / "loss.csv")
    write_text_atomically(out / "metrics.json", json.dumps(metrics, indent=1) + "\n")
    gradients = tables.read_csv(out / "gradcheck.csv")
    for column in ("max_abs_diff", "max_rel_err", "tolerance"):
        gradients[column] = [f"{value:.2e}" for value in gradients[column]]
    write_text_atomically(
        out / "gradcheck.html",
        tables.html_table(
            gradients, f"{title}: backprop against numerical gradients, initial network"
        ),
    )
    caption = f"{title}: accuracy and mean loss on the full train and test sets per epoch"
    if "val_acc" in accuracy:
        caption = (
            f"{title}: accuracy and mean loss per epoch on the training images trained on, "
            "those held out for validation (val) and the test set"
        )
    write_text_atomically(out / "accuracy.html", tables.html_table(accuracy, caption))
    figures = out / "figures"
    plots.save(
        plots.loss_figure(loss["iteration"].to_numpy(), loss["loss"].to_numpy(), title),
        figures / "loss",
        formats,
    )
    plots.save(
        plots.accuracy_figure(
            *(accuracy[c].to_numpy() for c in ("epoch", "train_acc", "test_acc")),
            title,
            accuracy["val_acc"].to_numpy() if "val_acc" in accuracy else None,
        ),
        figures / "accuracy",
        formats,
    )
    keep_only(out / "evaluation", evaluations)  # those of other spans of epochs are stale
    log.info("wrote the tables and figures of %s: %s", out, metrics)
    return metrics


def write_summary(
    described: dict, dataset_json: Path, classes: list[str], out: Path, formats: list[str]
) -> pd.DataFrame:
    """Into the results folder ``out``: summary.csv (one row per run, best first),
    summary_by_setting.csv (one row per setting, over its seeds), summary.html, the
    dataset's page, the comparison figures of exactly these runs, and summary.json
    (``described``: what these are the results of, plan.described, and the ranking)."""
    about = json.loads(dataset_json.read_text())
    runs = described["runs"]
    chance = tables.chance_accuracy(about["test_class_counts"])
    metrics = {name: out / name / "metrics.json" for name in runs}
    summary = tables.summary_table(runs, metrics, about["dataset"], chance)
    setting_keys = tables.setting_columns(summary)
    by_setting = spread.by_setting(summary, setting_keys)
    tables.write_csv(summary, out / "summary.csv")
    tables.write_csv(by_setting, out / "summary_by_setting.csv")
    varied = tables.varied_settings(summary, setting_keys)
    write_text_atomically(out / "summary.html", _summary_page(summary, varied, by_setting))
    write_text_atomically(dataset_json.with_suffix(".html"), _dataset_page(about, classes))
    curves = {setting: [] for setting in by_setting["setting"]}
    for name, run in runs.items():
        tables_of_run = (tables.read_csv(out / name / f) for f in ("accuracy.csv", "loss.csv"))
        curves[run["setting"]].append(tuple(tables_of_run))
    title = f"{about['dataset']}, {len(summary)} run(s)"
    if spread.has_repeats(by_setting):
        title = f"{about['dataset']}, {len(by_setting)} setting(s) x seeds"
    figures = compare.draw_all(by_setting, summary, varied, curves, title, out / "figures", formats)
    keep_only(out / "figures", figures)
    record = {**described, "ranked": summary["run"].tolist()}
    write_text_atomically(out / "summary.json", json.dumps(record, indent=1) + "\n")
    log.info("wrote %s: %d runs, best %s", out / "summary.csv", len(summary), summary.run[0])
    return summary


def _summary_page(summary: pd.DataFrame, varied: list[str], by_setting: pd.DataFrame) -> str:
    """summary.html: the runs best first (short names; the settings that differ are
    columns), and above them, where some setting has several seeds, the settings' spread."""
    setting_keys = tables.setting_columns(summary)
    shared = ", ".join(
        f"{key} {'auto' if pd.isna(summary[key].iloc[0]) else summary[key].iloc[0]}"
        for key in setting_keys
        if key not in varied
    )
    runs_caption = (
        f"{len(summary)} run(s) on {summary['dataset'].iloc[0]}, best first, "
        f"{spread.chosen_words(summary)}; every run: {shared} (all columns: summary.csv)"
    )
    readable = summary[tables.result_columns(summary, varied)].copy()
    readable["run"] = readable["run"].map(short_name)
    sections = [(runs_caption, readable)]
    if spread.has_repeats(by_setting):
        caption = f"{spread.caption(by_setting)} (all columns: summary_by_setting.csv)"
        sections.insert(0, (caption, spread.readable(by_setting, varied)))
    return tables.html_page("Summary", sections, highlight_first=spread.crowned(by_setting))


def recorded_ranks(summary_json: Path, fingerprint: str) -> dict[str, int] | None:
    """Run -> its rank in the summary, if the summary describes the configuration of
    ``fingerprint`` (plan.fingerprint); else None."""
    record = json.loads(summary_json.read_text()) if summary_json.is_file() else {}
    if record.get("fingerprint") != fingerprint:
        return None
    return {run: rank for rank, run in enumerate(record["ranked"], start=1)}


def _dataset_page(about: dict, classes: list[str]) -> str:
    """The dataset's HTML page: its files and checksums, image shape and class counts
    (with the classes' names, where they are more than their numbers)."""
    files = pd.DataFrame(
        [{"split": split, **spec} for split, spec in about["files"].items()]
    ).rename(columns={"payload_sha256": "SHA-256 of the decompressed payload"})
    counts = pd.DataFrame(
        {
            "class": np.arange(about["num_classes"]),
            **({"name": classes} if classes != class_numbers(len(classes)) else {}),
            "train images": about["train_class_counts"],
            "test images": about["test_class_counts"],
        }
    )
    shape = "x".join(map(str, about["image_shape"]))
    caption = (
        f"{about['dataset']}: {about['train_images']} training and {about['test_images']} "
        f"test images of {shape} pixels, {about['num_classes']} classes"
    )
    return tables.html_page(caption, [("Files", files), ("Images per class", counts)])


def keep_only(folder: Path, paths: list[Path]) -> None:
    """Remove every file in ``folder`` but ``paths``: what a job owns then shows exactly
    its current configuration, and nothing from an earlier one."""
    keep = {Path(path).resolve() for path in paths}
    for path in folder.glob("*"):
        if path.is_file() and path.resolve() not in keep:
            path.unlink()
