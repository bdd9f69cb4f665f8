"""Sweeps and named runs: one results folder per run, a summary, and comparison figures."""

import json

from conftest import read_json
from scratchnet.aggregate import read_csv

GRID = {"hidden_size": [6, 12], "learning_rate": [1.0, 2.0]}
NAMES = [
    "hidden_size=6,learning_rate=1.0",
    "hidden_size=6,learning_rate=2.0",
    "hidden_size=12,learning_rate=1.0",
    "hidden_size=12,learning_rate=2.0",
]


def test_a_grid_trains_every_combination_and_summarises_them(tiny_project):
    tiny_project.update_config(sweep=GRID, epochs=2)
    tiny_project.run()
    summary = read_csv(tiny_project.path("results/summary.csv"))
    assert [row["run"] for row in summary] == NAMES
    for row in summary:
        metrics = read_json(tiny_project.path(f"results/{row['run']}/metrics.json"))
        assert row["final_test_acc"] == metrics["final_test_acc"]
        assert row["best_test_acc"] == metrics["best_test_acc"]
        assert row["train_seconds"] == metrics["train_seconds"]
        checkpoint_meta = _meta(tiny_project, row["run"], 2)
        assert checkpoint_meta["model"]["hidden_size"] == row["hidden_size"]
        assert checkpoint_meta["training"]["learning_rate"] == row["learning_rate"]
        assert row["batch_size"] == 20 and row["epochs"] == 2  # the other keys: top level
    for name in ("compare_accuracy", "compare_loss"):
        assert tiny_project.path(f"results/figures/{name}.png").stat().st_size > 10_000
    assert not tiny_project.path("results/default").exists()


def _meta(project, run, epoch):
    import numpy as np

    with np.load(project.path(f"results/{run}/checkpoints/epoch_{epoch:03d}.npz")) as npz:
        return json.loads(str(npz["meta"]))


def test_adding_a_run_plans_only_that_run_and_the_summary(tiny_project):
    tiny_project.update_config(runs={"small": {"hidden_size": 6}, "wide": {"hidden_size": 12}})
    tiny_project.run()
    tiny_project.update_config(
        runs={
            "small": {"hidden_size": 6},
            "wide": {"hidden_size": 12},
            "fast": {"learning_rate": 4.0},
        }
    )
    planned = tiny_project.planned_jobs()
    runs = {wildcards.get("run") for rule, wildcards in planned if "run" in wildcards}
    assert runs == {"fast"}
    rules = {rule for rule, _ in planned}
    assert {"summary", "compare_accuracy", "compare_loss", "train_epoch"} <= rules
    assert not {"download", "prepare", "normalize", "pack_evaluation"} & rules


def test_removing_a_run_rebuilds_only_summary_and_comparison(tiny_project):
    both = {"small": {"hidden_size": 6}, "wide": {"hidden_size": 12}, "x": {"seed": 3}}
    tiny_project.update_config(runs=both)
    tiny_project.run()
    tiny_project.update_config(runs={"small": {"hidden_size": 6}, "wide": {"hidden_size": 12}})
    planned = {rule for rule, _ in tiny_project.planned_jobs()} - {"all"}
    assert planned == {"summary", "compare_accuracy", "compare_loss"}


def test_a_sweep_can_be_given_on_the_command_line(tiny_project):
    planned = tiny_project.planned_jobs("--config", "sweep={hidden_size: [20, 40]}")
    runs = {w["run"] for rule, w in planned if rule == "init_network"}
    assert runs == {"hidden_size=20", "hidden_size=40"}


def test_a_sweep_over_an_unknown_key_is_refused(tiny_project):
    tiny_project.update_config(sweep={"hidden": [20, 40]})
    result = tiny_project.run(check=False)
    assert result.returncode != 0
    assert "'hidden' was unexpected" in result.stdout + result.stderr


def embedded_images(report_html: str) -> dict[str, bytes]:
    """The PNG files a Snakemake HTML report embeds, by their results path."""
    import base64
    import re

    pattern = re.compile(
        r'"(results/[^"]+\.png)": \{"name".*?"data_uri": "data:image/png;[^,]*,([A-Za-z0-9+/=]+)"',
        re.DOTALL,
    )
    return {path: base64.b64decode(data) for path, data in pattern.findall(report_html)}


def test_the_report_embeds_every_figure_and_the_tables(tiny_project):
    tiny_project.update_config(runs={"small": {"hidden_size": 6}, "wide": {"hidden_size": 12}})
    tiny_project.run()
    tiny_project.run("--report", "results/report.html")
    html = tiny_project.path("results/report.html").read_text()
    images = embedded_images(html)
    expected = [
        f"results/{run}/figures/{name}.png"
        for run in ("small", "wide")
        for name in ("loss", "accuracy")
    ] + ["results/figures/compare_accuracy.png", "results/figures/compare_loss.png"]
    assert sorted(images) == sorted(expected)
    for path, data in images.items():
        assert data == tiny_project.path(path).read_bytes(), path
    for table in ("results/summary.csv", "results/small/accuracy.csv", "results/wide/accuracy.csv"):
        assert f'"{table}"' in html
    assert "Mini-batch loss of run" in html  # captions rendered
    assert "weight_init_std" in html  # the configuration is shown
