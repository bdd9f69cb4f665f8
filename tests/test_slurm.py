"""The slurm profile on a real single-node SLURM cluster, started on this machine.

The cluster comes from workflow/cluster/local-slurm.sh (needs root, as in CI). The
same small sweep, each run repeated with two seeds, runs through SLURM and locally; the
results must be byte-identical, the runs go in grouped submissions, and the jobs run
where Snakemake runs keep to `--resources local_jobs=1`.
"""

import math
import os
import re
import subprocess
import time
from datetime import datetime

import pytest
import yaml
from conftest import ON_TINY, REPO, Project, file_digests, read_json, tiny_config

pytestmark = pytest.mark.slurm
SCRIPT = REPO / "workflow" / "cluster" / "local-slurm.sh"
PROFILE = REPO / "workflow" / "profiles" / "slurm"
SWEEP = {"hidden_size": [6, 12]}
RUNS = [
    f"{ON_TINY}{run}"
    for run in ("hidden_size=6", "hidden_size=6+seed=1", "hidden_size=12", "hidden_size=12+seed=1")
]


@pytest.fixture(scope="module")
def slurm_cluster():
    if os.geteuid() != 0:
        pytest.skip("starting a local SLURM cluster needs root (CI runs as root)")
    subprocess.run([str(SCRIPT), "start"], check=True, timeout=600)
    # Left running on purpose: once slurm-client is installed, the slurm plugin runs
    # `scontrol show config` whenever Snakemake starts, which blocks ~9 s when no
    # controller answers. `workflow/cluster/local-slurm.sh stop` stops it by hand.


def result_files(project: Project) -> dict[str, str]:
    digests = file_digests(project.path("results"))
    wall_clock = ("metrics.json", "summary.csv", "summary.html")
    return {
        path: digest
        for path, digest in digests.items()
        if "/logs/" not in f"/{path}"
        and "/timing/" not in f"/{path}"
        and not path.endswith(wall_clock)
    }


def test_a_sweep_through_slurm_equals_a_local_run(slurm_cluster, tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    config = tiny_config(mirror, digests, sweep=SWEEP, repeats=2, epochs=2)
    cluster = Project(tmp_path / "cluster", config)
    result = subprocess.run(
        cluster.command("--workflow-profile", str(PROFILE), "--resources", "local_jobs=1"),
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    submitted = output.count("has been submitted with SLURM jobid")
    assert submitted == 1 + math.ceil(len(RUNS) / runs_per_submission()), output
    assert output.count("Group job run") >= 1  # the runs' jobs went as groups

    for run in RUNS:
        for log in ("train_epochs_000-002", "evaluate_000-002"):
            text = cluster.path(f"results/{run}/logs/{log}.log").read_text()
            assert "running in SLURM job" in text, f"{run}/{log} did not run under SLURM"
        download = cluster.path("results/data/logs/tiny/download_train-images-idx3-ubyte.gz.log")
        assert "SLURM job" not in download.read_text()  # a local rule
    assert most_at_once(local_job_spans(cluster)) == 1  # every local rule counts in local_jobs

    local = Project(tmp_path / "local", config)
    local.run()
    assert result_files(cluster) == result_files(local)
    assert (
        cluster.path("results/summary_by_setting.csv").read_text()
        == local.path("results/summary_by_setting.csv").read_text()
    )
    for run in RUNS:
        assert metrics_without_time(cluster, run) == metrics_without_time(local, run)


def runs_per_submission() -> int:
    """The profile's group-components for the runs' group."""
    profile = yaml.safe_load((PROFILE / "config.yaml").read_text())
    counts = dict(item.split("=") for item in profile["group-components"])
    return int(counts["run"])


def local_job_spans(project: Project) -> list[tuple[datetime, datetime]]:
    """From the first to the last timestamped line of every job log written where
    Snakemake ran (not in a SLURM job): within the time each job ran."""
    spans = []
    for log in project.path("results").rglob("logs/**/*.log"):
        text = log.read_text()
        stamps = [
            datetime.strptime(line[:23], TIME_FORMAT)
            for line in text.splitlines()
            if STAMP.match(line)
        ]
        if stamps and "running in SLURM job" not in text:
            spans.append((stamps[0], stamps[-1]))
    assert len(spans) >= len(RUNS) * 2, spans  # at least each run's results and learned
    return spans


def most_at_once(spans: list[tuple[datetime, datetime]]) -> int:
    """The most spans that overlap at one moment."""
    changes = sorted([(start, 1) for start, _ in spans] + [(end, -1) for _, end in spans])
    running = most = 0
    for _, change in changes:  # an end sorts before a start at the same moment
        running += change
        most = max(most, running)
    return most


STAMP = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} ")
TIME_FORMAT = "%Y-%m-%d %H:%M:%S,%f"


def metrics_without_time(project: Project, run: str) -> dict:
    metrics = read_json(project.path(f"results/{run}/metrics.json"))
    metrics.pop("train_seconds")
    return metrics


def test_a_cancelled_submission_keeps_the_runs_it_finished(slurm_cluster, tmp_path, tiny_mirror):
    """Six runs in one submission, cancelled once two have been trained and evaluated:
    those two keep their files and are not trained again; the others are. (The data
    stage is built here first: the sweep above sends it through SLURM.)"""
    mirror, digests = tiny_mirror
    project = Project(tmp_path / "work", tiny_config(mirror, digests, epochs=10, sweep=SEEDS))
    project.run("--until", "normalize", "pack_evaluation")
    output = tmp_path / "snakemake.txt"
    with open(output, "w") as stream:
        call = subprocess.Popen(
            project.command("--workflow-profile", str(PROFILE)),
            stdout=stream,
            stderr=subprocess.STDOUT,
        )
    try:
        wait_for(lambda: len(finished_runs(project)) >= 2)
        finished = finished_runs(project)
        subprocess.run(["scancel", "--user", "root"], check=True, timeout=30)
        # Snakemake has handled the failed submission once it shuts down (its last
        # status-check wait, tens of seconds, is not waited for)
        wait_for(lambda: "Shutting down" in output.read_text() or call.poll() is not None)
        assert "Error in group run" in output.read_text()
    finally:
        call.kill()
        call.wait()
    assert finished_runs(project) >= finished  # nothing finished was removed
    planned = project.planned_jobs("--workflow-profile", str(PROFILE))
    for run in finished:
        again = {rule for rule, wildcards in planned if wildcards.get("run") == run}
        assert again <= {"learned", "run_results"}, (run, again)  # not trained again
    trained = {w["run"] for rule, w in planned if rule.startswith("train_epochs_000")}
    assert trained == {f"{ON_TINY}seed={seed}" for seed in SEEDS["seed"]} - finished


SEEDS = {"seed": [1, 2, 3, 4, 5, 6]}


def finished_runs(project: Project) -> set[str]:
    """Runs whose last evaluation is written."""
    runs = (f"{ON_TINY}seed={seed}" for seed in SEEDS["seed"])
    return {
        run
        for run in runs
        if project.path(f"results/{run}/evaluation/epochs_009-010.json").exists()
    }


def wait_for(condition, seconds: float = 300) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"not so after {seconds} s"
        time.sleep(0.3)
