"""Sweeps and named runs: one results folder per run, a ranked summary, comparison figures
that describe exactly the runs of the last call, and results in the terminal."""

import subprocess
import sys

import pytest
from conftest import ON_TINY, file_digests, read_json, tiny_dataset_entry, write_tiny_idx
from scratchnet import checkpoint
from scratchnet.tables import read_csv

GRID = {"hidden_size": [6, 12], "learning_rate": [1.0, 2.0]}
NAMES = [
    f"{ON_TINY}hidden_size=6+learning_rate=1.0",
    f"{ON_TINY}hidden_size=6+learning_rate=2.0",
    f"{ON_TINY}hidden_size=12+learning_rate=1.0",
    f"{ON_TINY}hidden_size=12+learning_rate=2.0",
]
COMPARISONS = ("compare_heatmap", "compare_accuracy", "compare_loss")


@pytest.fixture(scope="module")
def swept(tmp_path_factory):
    """A finished 2x2 grid on tiny data (built once for the tests that only read it)."""
    from conftest import Project, tiny_config, write_tiny_idx

    base = tmp_path_factory.mktemp("sweep")
    digests = write_tiny_idx(base / "mirror")
    project = Project(base / "work", tiny_config(base / "mirror", digests, sweep=GRID, epochs=2))
    project.run()
    return project


def test_a_grid_trains_every_combination_and_ranks_them(swept):
    summary = read_csv(swept.path("results/summary.csv"))
    assert sorted(summary["run"]) == sorted(NAMES)
    assert summary["final_test_acc"].is_monotonic_decreasing
    for _, row in summary.iterrows():
        metrics = read_json(swept.path(f"results/{row['run']}/metrics.json"))
        assert row["final_test_acc"] == metrics["final_test_acc"]
        assert row["best_test_acc"] == metrics["best_test_acc"]
        _, meta = checkpoint.load(swept.path(f"results/{row['run']}/checkpoints/epoch_002.npz"))
        assert meta["model"]["hidden_size"] == row["hidden_size"]
        assert meta["training"]["learning_rate"] == row["learning_rate"]
        assert row["batch_size"] == 20 and row["epochs"] == 2  # the other keys: top level
        assert row["dataset"] == "tiny"
    for name in COMPARISONS:
        assert swept.path(f"results/figures/{name}.png").stat().st_size > 10_000
    assert not swept.path("results/default").exists()


def test_show_lists_the_runs_best_first_and_one_run_per_epoch(swept):
    show = [sys.executable, "-m", "scratchnet", "show"]
    listed = subprocess.run(show, cwd=swept.root, capture_output=True, text=True, timeout=60)
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("4 run(s) on tiny, best first")
    header, rows = lines[1].split(), lines[2:]
    assert header[0] == "final_test_acc" and header[-2:] == ["hidden_size", "learning_rate"]
    best = read_csv(swept.path("results/summary.csv"))["run"][0]
    assert rows[0].split()[0] == best and len(rows) == 4
    one = subprocess.run([*show, NAMES[0]], cwd=swept.root, capture_output=True, text=True)
    assert one.stdout.splitlines()[1].split()[:3] == ["epoch", "iteration", "train_acc"]
    assert len(one.stdout.splitlines()) == 2 + 3  # epochs 0, 1, 2
    typed = NAMES[0].removeprefix(ON_TINY)  # the name without the dataset's
    same = subprocess.run([*show, typed], cwd=swept.root, capture_output=True, text=True)
    assert same.returncode == 0 and same.stdout == one.stdout
    missing = subprocess.run([*show, "nope"], cwd=swept.root, capture_output=True, text=True)
    assert missing.returncode == 1 and "Traceback" not in missing.stderr
    assert "results/nope/accuracy.csv does not exist (runs with results:" in missing.stderr


def test_a_sweep_then_a_single_run_leaves_nothing_of_the_sweep_in_the_summary(tiny_project):
    tiny_project.update_config(sweep=GRID, epochs=2, figure_formats=["png", "svg"])
    tiny_project.run()
    drawn = list(tiny_project.path("results/figures").iterdir())
    stems = {path.stem for path in drawn}
    assert set(COMPARISONS) <= stems and len(drawn) == 2 * len(stems)  # every one in both
    single = {key: value for key, value in tiny_project.config.items() if key != "sweep"}
    tiny_project.write_config({**single, "figure_formats": ["png"]})
    result = tiny_project.run()
    summary = read_csv(tiny_project.path("results/summary.csv"))
    assert summary["run"].tolist() == ["default"]
    assert list(tiny_project.path("results/figures").iterdir()) == []  # nothing to compare
    printed = result.stderr.split("Results (")[1].split("Complete log")[0]
    assert printed.startswith("1 run(s)") and "hidden_size=6" not in printed


def test_named_runs_and_a_grid_together(tiny_project):
    tiny_project.update_config(
        sweep={"learning_rate": [1.0, 2.0]}, runs={"wide": {"hidden_size": 20}}, epochs=2
    )
    tiny_project.run()
    summary = read_csv(tiny_project.path("results/summary.csv"))
    assert sorted(summary["run"]) == [
        "dataset=tiny+learning_rate=1.0",
        "dataset=tiny+learning_rate=2.0",
        "wide",
    ]
    for name in COMPARISONS:
        assert tiny_project.path(f"results/figures/{name}.png").exists()


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
    assert {"summary", "train_epochs_000_003", "evaluate", "run_results"} <= rules
    assert not {"download", "prepare", "normalize", "pack_evaluation", "chapter"} & rules


def test_removing_a_run_rebuilds_only_the_summary(tiny_project):
    three = {"small": {"hidden_size": 6}, "wide": {"hidden_size": 12}, "x": {"seed": 3}}
    tiny_project.update_config(runs=three)
    tiny_project.run()
    tiny_project.update_config(runs={"small": {"hidden_size": 6}, "wide": {"hidden_size": 12}})
    planned = {rule for rule, _ in tiny_project.planned_jobs()} - {"all"}
    assert planned == {"summary"}


def test_a_sweep_can_be_given_on_the_command_line_with_numbers_as_people_write_them(
    tiny_project,
):
    planned = tiny_project.planned_jobs("--config", "sweep={learning_rate: [1e-3, 5e-4]}")
    runs = {w["run"] for rule, w in planned if rule == "run_results"}
    assert runs == {"dataset=tiny+learning_rate=0.001", "dataset=tiny+learning_rate=0.0005"}


def test_switching_datasets_back_retrains_no_run_of_a_sweep(tmp_path, tiny_project):
    """A sweep on another dataset has folders of its own: after it, the first dataset's
    runs are still there, current and unchanged."""
    digests = write_tiny_idx(tmp_path / "other", seed=1, classes=4)
    other = tiny_dataset_entry(digests, [str(tmp_path / "other")], classes=4)
    tiny_project.update_config(
        sweep={"learning_rate": [1.0, 2.0]},
        epochs=2,
        datasets={**tiny_project.config["datasets"], "four": other},
    )
    tiny_project.run()
    checkpoints = "dataset=tiny+*/checkpoints/*.npz"
    trained = file_digests(tiny_project.path("results"), checkpoints)
    assert len(trained) == 2 * 3
    tiny_project.update_config(dataset="four")
    tiny_project.run()
    tiny_project.update_config(dataset="tiny")
    planned = {rule for rule, _ in tiny_project.planned_jobs()}
    assert not {rule for rule in planned if rule.startswith(("train", "evaluate", "run_"))}
    assert file_digests(tiny_project.path("results"), checkpoints) == trained
    assert sorted(path.name for path in tiny_project.path("results").glob("dataset=*")) == [
        "dataset=four+learning_rate=1.0",
        "dataset=four+learning_rate=2.0",
        "dataset=tiny+learning_rate=1.0",
        "dataset=tiny+learning_rate=2.0",
    ]


def test_a_sweep_over_an_unknown_key_is_refused_naming_it(tiny_project):
    tiny_project.update_config(sweep={"hidden": [20, 40]})
    result = tiny_project.run(check=False)
    assert result.returncode != 0
    assert "config: sweep: 'hidden' is not a run setting" in result.stdout + result.stderr
