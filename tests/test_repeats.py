"""Repeats over seeds: every run once per seed, as ordinary runs, and the spread of their
results wherever results are shown."""

import math
import statistics
import subprocess
import sys

import pandas as pd
import pytest
from conftest import ON_TINY, Project, read_json, tiny_config, write_tiny_idx
from scratchnet import checkpoint, spread
from scratchnet.tables import read_csv
from test_faults import failed
from test_pipeline import deterministic_files

# Student's t, 97.5 % quantile, from published tables (e.g. NIST/SEMATECH e-Handbook 1.3.6.7.2)
T_TABLE = {1: 12.706, 2: 4.303, 3: 3.182, 4: 2.776, 5: 2.571, 9: 2.262, 10: 2.228, 30: 2.042}


@pytest.mark.parametrize("df", sorted(T_TABLE))
def test_the_t_quantile_is_the_tables(df):
    assert spread.t_quantile(0.975, df) == pytest.approx(T_TABLE[df], abs=6e-4)


def setting(mean, sd, n):
    return pd.Series(
        {"final_test_acc_mean": mean, "final_test_acc_sd": sd, "repeats": n}, dtype=object
    )


def test_a_setting_beats_the_next_only_beyond_seed_noise():
    # Welch: difference 0.004, standard error sqrt(2 * 0.001**2 / 5) = 0.000632, df 8:
    # t = 6.3 beyond 2.306; with sd 0.004 each, t = 1.58: within noise
    measure = "final_test_acc"
    assert spread.beats(setting(0.950, 0.001, 5), setting(0.946, 0.001, 5), measure)
    assert not spread.beats(setting(0.950, 0.004, 5), setting(0.946, 0.004, 5), measure)
    # one seed each: the noise is not measured, so nothing is claimed
    assert spread.beats(setting(0.950, math.nan, 1), setting(0.900, math.nan, 1), measure) is None


GRID = {"hidden_size": [4, 12]}


@pytest.fixture(scope="module")
def repeated(tmp_path_factory) -> Project:
    """A two-setting sweep, three seeds each, on tiny data."""
    base = tmp_path_factory.mktemp("repeats")
    digests = write_tiny_idx(base / "mirror")
    config = tiny_config(base / "mirror", digests, sweep=GRID, repeats=3, epochs=2)
    project = Project(base / "work", config)
    project.run()
    return project


def per_repeat_rows(project: Project) -> pd.DataFrame:
    """Each run's setting, seed and accuracies, read from its own files (not the summary)."""
    rows = []
    for folder in sorted(project.path("results").glob("*/metrics.json")):
        metrics = read_json(folder)
        _, meta = checkpoint.load(folder.parent / "checkpoints" / "epoch_002.npz")
        rows.append(
            {
                "setting": f"{ON_TINY}hidden_size={meta['model']['hidden_size']}",
                "seed": meta["model"]["seed"],
                "final_test_acc": metrics["final_test_acc"],
                "best_test_acc": metrics["best_test_acc"],
            }
        )
    return pd.DataFrame(rows)


def test_every_setting_is_trained_once_per_seed_as_ordinary_runs(repeated):
    rows = per_repeat_rows(repeated)
    assert sorted(zip(rows["setting"], rows["seed"], strict=True)) == [
        (f"{ON_TINY}hidden_size={h}", seed) for h in (12, 4) for seed in range(3)
    ]
    # the setting's own seed keeps its name; the others add theirs
    for h in (4, 12):
        assert repeated.path(f"results/{ON_TINY}hidden_size={h}/accuracy.csv").is_file()
        for seed in (1, 2):
            assert repeated.path(
                f"results/{ON_TINY}hidden_size={h}+seed={seed}/accuracy.csv"
            ).is_file()


def test_the_spread_per_setting_is_a_pandas_groupby_of_the_repeats(repeated):
    table = read_csv(repeated.path("results/summary_by_setting.csv")).set_index("setting")
    groups = per_repeat_rows(repeated).groupby("setting")
    for measure in ("final_test_acc", "best_test_acc"):
        expected = groups[measure].agg(["count", "mean", "std", "min", "max"])
        for name, row in expected.iterrows():
            assert table.loc[name, "repeats"] == row["count"] == 3
            for statistic in ("mean", "min", "max"):
                assert table.loc[name, f"{measure}_{statistic}"] == pytest.approx(row[statistic])
            assert table.loc[name, f"{measure}_sd"] == pytest.approx(row["std"])
            values = groups.get_group(name)[measure]
            half = T_TABLE[2] * statistics.stdev(values) / math.sqrt(3)
            # the table's t is rounded to 4 digits
            low, high = (table.loc[name, f"{measure}_ci95_{end}"] for end in ("low", "high"))
            assert row["mean"] - low == pytest.approx(half, rel=2e-4)
            assert high - row["mean"] == pytest.approx(half, rel=2e-4)
    means = table["final_test_acc_mean"].tolist()
    assert means == sorted(means, reverse=True)  # best mean first
    summary = read_csv(repeated.path("results/summary.csv"))
    assert len(summary) == 6 and set(summary["setting"]) == set(table.index)


def test_show_the_end_of_a_call_and_the_summary_page_give_the_spread(repeated):
    table = read_csv(repeated.path("results/summary_by_setting.csv"))
    first = table.iloc[0]
    said = f"{first['final_test_acc_mean']:.4f} ± {first['final_test_acc_sd']:.4f}"
    shown = subprocess.run(
        [sys.executable, "-m", "scratchnet", "show"],
        cwd=repeated.root,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout.startswith("2 setting(s), mean over seeds, best first")
    assert said in shown.stdout
    assert "6 run(s) on tiny" in shown.stdout  # the repeats stay listed
    page = repeated.path("results/summary.html").read_text()
    assert said in page and "mean over seeds" in page
    verdict = spread.verdict(table)
    assert f"the first is {verdict}" in page
    ended = repeated.run("--forcerun", "summary").stderr
    assert "Results over seeds (2 setting(s), best mean first" in ended
    assert said.replace("± ", "± ") in ended


def test_the_comparison_figures_compare_settings(repeated):
    for name in ("compare_heatmap", "compare_accuracy", "compare_loss"):
        assert repeated.path(f"results/figures/{name}.png").stat().st_size > 10_000


@pytest.fixture(scope="module")
def three_projects(tmp_path_factory):
    """The same tiny run without repeats, with two, and its seed-1 repeat alone (the last
    test changes the repeated one)."""
    tmp_path = tmp_path_factory.mktemp("three")
    digests = write_tiny_idx(tmp_path / "mirror")
    config = tiny_config(tmp_path / "mirror", digests, epochs=2)
    alone = Project(tmp_path / "alone", config)
    repeated = Project(tmp_path / "repeated", {**config, "repeats": 2})
    seed_1 = Project(tmp_path / "seed_1", {**config, "repeats": [1]})  # seed 1's run alone
    for project in (alone, repeated, seed_1):
        project.run()
    return alone, repeated, seed_1


def run_files(project: Project, run: str) -> dict[str, str]:
    return {
        path: digest
        for path, digest in deterministic_files(project).items()
        if path.startswith(f"{run}/")
    }


def test_a_repeat_is_byte_identical_to_its_seed_run_alone_and_no_key_changes_nothing(
    three_projects,
):
    alone, repeated, seed_1 = three_projects
    assert run_files(alone, "default") == run_files(repeated, "default")
    assert run_files(seed_1, "default+seed=1") == run_files(repeated, "default+seed=1")
    assert len(run_files(repeated, "default+seed=1")) >= 15  # checkpoints, tables, figures
    # without the key: each setting has one seed, and one run has nothing to compare
    summary = read_csv(alone.path("results/summary.csv"))
    assert summary["setting"].tolist() == summary["run"].tolist() == ["default"]
    assert read_csv(alone.path("results/summary_by_setting.csv"))["repeats"].tolist() == [1]
    assert not alone.path("results/figures").exists() or not any(
        alone.path("results/figures").iterdir()
    )


def test_raising_repeats_trains_only_the_new_seeds_and_lowering_retrains_nothing(
    three_projects,
):
    _, repeated, _ = three_projects
    repeated.update_config(repeats=3)
    planned = repeated.planned_jobs()
    trained = {wildcards.get("run") for rule, wildcards in planned if rule.startswith("train")}
    assert trained == {"default+seed=2"}
    repeated.run()
    repeated.update_config(repeats=2)
    assert repeated.dry_run() == {"summary": 1, "all": 1}
    repeated.run()
    # a list of seeds names them: seed 0 is the run's own
    repeated.update_config(repeats=[0, 1])
    assert repeated.dry_run() == {}


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"repeats": 0}, "config: repeats: 0 is less than the minimum of 1"),
        ({"repeats": [1, 1]}, "config: repeats: [1, 1] has non-unique elements"),
        ({"repeats": 2, "sweep": {"seed": [0, 1]}}, "config: sweep over 'seed' and 'repeats'"),
    ],
)
def test_bad_repeats_end_in_one_line(tiny_project, changes, expected):
    tiny_project.update_config(**changes)
    output = failed(tiny_project, "--dry-run")
    assert expected in output


def test_repeats_given_as_people_write_numbers(tiny_project):
    result = tiny_project.run("--dry-run", "--config", "repeats=3e0", "--quiet", "rules")
    assert result.returncode == 0
    assert tiny_project.dry_run("--config", "repeats=3e0")["train_epochs_000_003"] == 3
