"""Real Snakemake runs on tiny generated data: outputs, errors, resume and extension."""

import gzip
import os
import signal
import subprocess
import time

import matplotlib.image
import numpy as np
from conftest import SPLIT_NAMES, Project, file_digests, read_json, tiny_config
from scratchnet.aggregate import ACCURACY_COLUMNS, LOSS_COLUMNS, read_csv

RUN = "results/default"


def test_a_full_run_builds_every_output(tiny_project):
    tiny_project.run()
    accuracy = read_csv(tiny_project.path(f"{RUN}/accuracy.csv"))
    assert tuple(accuracy[0]) == ACCURACY_COLUMNS
    assert [r["epoch"] for r in accuracy] == [0, 1, 2, 3]
    assert [r["iteration"] for r in accuracy] == [0, 30, 60, 90]  # 600 images / batch 20
    assert all(0 <= r["test_acc"] <= 1 and r["train_loss"] > 0 for r in accuracy)
    assert accuracy[-1]["train_acc"] > accuracy[0]["train_acc"] + 0.2  # it learns

    losses = read_csv(tiny_project.path(f"{RUN}/loss.csv"))
    assert tuple(losses[0]) == LOSS_COLUMNS
    assert [r["iteration"] for r in losses] == list(range(1, 91))
    assert [r["epoch"] for r in losses] == [1] * 30 + [2] * 30 + [3] * 30

    metrics = read_json(tiny_project.path(f"{RUN}/metrics.json"))
    assert metrics["final_test_acc"] == accuracy[-1]["test_acc"]
    assert metrics["best_test_acc"] == max(r["test_acc"] for r in accuracy)
    assert metrics["iterations"] == 90 and metrics["train_seconds"] > 0

    gradcheck = read_csv(tiny_project.path(f"{RUN}/gradcheck.csv"))
    assert [r["param"] for r in gradcheck] == ["W1", "b1", "W2", "b2"]
    assert all(r["max_rel_err"] <= 1e-7 for r in gradcheck)

    for name in ("loss", "accuracy"):
        image = matplotlib.image.imread(tiny_project.path(f"{RUN}/figures/{name}.png"))
        height, width = image.shape[:2]
        assert 400 <= height <= 2000 and 600 <= width <= 3000
        assert image[..., :3].std() > 0.05  # not a blank canvas

    with np.load(tiny_project.path(f"{RUN}/checkpoints/epoch_003.npz")) as ckpt:
        assert ckpt["W1"].shape == (49, 10) and ckpt["W1"].dtype == np.float32
        meta = read_meta(ckpt)
        assert meta["epoch"] == 3 and meta["iteration"] == 90
        assert meta["training"]["learning_rate"] == 2.0 and meta["model"]["hidden_size"] == 10

    assert tiny_project.dry_run() == {}
    assert "Nothing to be done" in tiny_project.run().stderr


def read_meta(npz) -> dict:
    import json

    return json.loads(str(npz["meta"]))


def test_each_epoch_log_shows_progress(tiny_project):
    tiny_project.run()
    log = tiny_project.path(f"{RUN}/logs/train_epoch_002.log").read_text()
    assert "iteration 60 (30/30 of this epoch): loss" in log
    assert "updates/s" in log


def test_figure_formats_add_svg_and_pdf(tiny_project):
    tiny_project.update_config(figure_formats=["png", "svg", "pdf"])
    tiny_project.run()
    figures = tiny_project.path(f"{RUN}/figures")
    assert sorted(p.name for p in figures.iterdir()) == [
        f"{n}.{f}" for n in ("accuracy", "loss") for f in ("pdf", "png", "svg")
    ]
    assert (figures / "loss.pdf").read_bytes().startswith(b"%PDF")
    assert b"<svg" in (figures / "accuracy.svg").read_bytes()


def test_a_mirror_with_wrong_bytes_is_skipped_with_the_reason_in_the_log(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in SPLIT_NAMES.values():
        (bad / name).write_bytes(gzip.compress(b"wrong bytes"))
    project = Project(tmp_path / "w", tiny_config(mirror, digests, mirrors=[str(bad)]))
    project.run("results/data/tiny/labels.npz")
    log = project.path("results/data/logs/tiny/download_train-images-idx3-ubyte.gz.log").read_text()
    assert f"skipping mirror {bad}: checksum mismatch" in log
    assert "verified train-images-idx3-ubyte.gz" in log


def test_when_all_mirrors_fail_nothing_looks_done(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    config = tiny_config(mirror, digests)
    config["datasets"]["tiny"]["mirrors"] = [str(tmp_path / "empty"), "http://127.0.0.1:9/"]
    project = Project(tmp_path / "w", config)
    result = project.run("results/data/tiny/labels.npz", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "could not get a verified copy of" in output
    assert "no such file" in output and "network error" in output
    data = project.path("results/data")
    leftovers = [p for p in data.rglob("*") if p.is_file() and "logs" not in p.parts]
    assert leftovers == []


def _config_error(project: Project, **changes) -> str:
    project.update_config(**changes)
    result = project.run(check=False)
    assert result.returncode != 0
    assert not project.path("results").exists(), "a job ran despite a bad config"
    return result.stdout + result.stderr


def test_an_unknown_dataset_stops_before_any_job(tiny_project):
    output = _config_error(tiny_project, dataset="nope")
    assert "dataset 'nope' is not an entry of 'datasets'" in output
    assert "known: fashion-mnist, mnist, tiny" in output


def test_a_misspelled_key_stops_before_any_job(tiny_project):
    output = _config_error(tiny_project, learnin_rate=0.5)
    assert "Additional properties are not allowed ('learnin_rate' was unexpected)" in output
    assert "README 'Configuration'" in output


def test_a_bad_value_names_the_key(tiny_project):
    output = _config_error(tiny_project, sampling="shuffle")
    assert "config: sampling: 'shuffle' is not one of ['replacement', 'permutation']" in output
    assert "Failed validating" not in output  # one line, not the whole schema


def test_a_diverging_run_stops_with_one_clear_line_and_writes_nothing(tiny_project):
    tiny_project.update_config(learning_rate=1e39)  # inf in float32: the weights become NaN
    result = tiny_project.run(check=False)
    assert result.returncode != 0
    log = tiny_project.path(f"{RUN}/logs/train_epoch_001.log").read_text()
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert len(errors) == 1
    assert "epoch 1, iteration" in errors[0] and "lower learning_rate" in errors[0]
    assert not tiny_project.path(f"{RUN}/checkpoints/epoch_001.npz").exists()


def test_raising_epochs_trains_only_the_new_ones(tiny_project):
    tiny_project.run()
    planned = tiny_project.planned_jobs("--config", "epochs=5")
    trained = sorted(w["epoch"] for rule, w in planned if rule == "train_epoch")
    evaluated = sorted(w["epochs"] for rule, w in planned if rule == "evaluate")
    # checkpoints are scored in pairs after epoch 0: 3 was alone, now it pairs with 4
    assert trained == ["004", "005"] and evaluated == ["003-004", "005"]
    assert not {"init_network", "prepare", "download"} & {rule for rule, _ in planned}


def test_extended_run_equals_a_straight_run(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    extended = Project(tmp_path / "extended", tiny_config(mirror, digests, epochs=2))
    extended.run()
    extended.update_config(epochs=4)
    extended.run()
    straight = Project(tmp_path / "straight", tiny_config(mirror, digests, epochs=4))
    straight.run()
    assert deterministic_files(extended) == deterministic_files(straight)


def deterministic_files(project: Project) -> dict[str, str]:
    """Digests of every result file that must be byte-identical between equal runs."""
    results = project.path("results")
    digests = file_digests(results)
    wall_clock = ("default/metrics.json", "summary.csv")  # compared by metrics_without_time
    return {
        path: digest
        for path, digest in digests.items()
        if "logs/" not in path and "benchmarks/" not in path and path not in wall_clock
    }


def metrics_without_time(project: Project) -> dict:
    """metrics.json and summary.csv, less their one wall-clock field."""
    metrics = read_json(project.path(f"{RUN}/metrics.json"))
    metrics.pop("train_seconds")
    summary = read_csv(project.path("results/summary.csv"))
    for row in summary:
        row.pop("train_seconds")
    return {"metrics": metrics, "summary": summary}


def test_a_run_killed_during_training_resumes_bit_identical(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    # long enough epochs (~0.5 s each) to be killed in the middle of one
    config = tiny_config(mirror, digests, epochs=5, iters_per_epoch=3000)
    killed = Project(tmp_path / "killed", config)
    process = subprocess.Popen(
        killed.command("--cores", "1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    second = killed.path(f"{RUN}/checkpoints/epoch_002.npz")
    deadline = time.monotonic() + 300
    while not second.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert second.exists(), "training never reached epoch 2"
    time.sleep(0.2)  # now inside epoch 3
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    first_mtime = killed.path(f"{RUN}/checkpoints/epoch_001.npz").stat().st_mtime_ns
    assert not killed.path(f"{RUN}/checkpoints/epoch_005.npz").exists()

    # the README's commands after an interruption
    killed.run("--unlock", cores=1)
    killed.run()
    assert killed.path(f"{RUN}/checkpoints/epoch_001.npz").stat().st_mtime_ns == first_mtime

    straight = Project(tmp_path / "straight", config)
    straight.run()
    assert deterministic_files(killed) == deterministic_files(straight)
    assert metrics_without_time(killed) == metrics_without_time(straight)


def test_runs_on_one_and_two_cores_with_and_without_the_worker_are_byte_identical(
    tmp_path, tiny_mirror
):
    mirror, digests = tiny_mirror
    config = tiny_config(mirror, digests, figure_formats=["png", "svg", "pdf"])
    one = Project(tmp_path / "one", config)
    one.run(cores=1, env={**os.environ, "SCRATCHNET_WORKER": "off"})
    two = Project(tmp_path / "two", config)
    two.run(cores=2)
    forked = [log for log in two.path(RUN).rglob("*.log") if "forked from" in log.read_text()]
    assert forked, "no job of the second run went through the worker"
    files = deterministic_files(one)
    assert any(p.endswith(".png") for p in files) and any(p.endswith(".npz") for p in files)
    assert files == deterministic_files(two)
    assert metrics_without_time(one) == metrics_without_time(two)


def test_numerical_gradients_train_and_log_their_cost_first(tiny_project):
    tiny_project.update_config(gradient="numerical", hidden_size=3, iters_per_epoch=2, epochs=1)
    tiny_project.run()
    log = tiny_project.path(f"{RUN}/logs/train_epoch_001.log").read_text()
    params = 49 * 3 + 3 + 3 * 10 + 10
    assert f"gradient: numerical needs {2 * params} loss evaluations per update" in log
    assert "this epoch will take about" in log
    accuracy = read_csv(tiny_project.path(f"{RUN}/accuracy.csv"))
    assert [r["iteration"] for r in accuracy] == [0, 2]


def test_files_put_in_place_are_used_without_download_but_checked(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    config = tiny_config(mirror, digests)
    config["datasets"]["tiny"]["mirrors"] = ["http://127.0.0.1:9/"]  # nothing to download from
    project = Project(tmp_path / "w", config)
    placed = project.path("results/data/tiny")
    placed.mkdir(parents=True)
    for name in SPLIT_NAMES.values():
        (placed / name).write_bytes((mirror / name).read_bytes())
    project.run("results/data/tiny/labels.npz")
    assert not project.path(
        "results/data/logs/tiny/download_train-images-idx3-ubyte.gz.log"
    ).exists()

    wrong = gzip.decompress((mirror / SPLIT_NAMES["train_labels"]).read_bytes())[:-1] + b"\x00"
    (placed / SPLIT_NAMES["train_labels"]).write_bytes(gzip.compress(wrong))
    project.path("results/data/tiny/labels.npz").unlink()
    result = project.run("results/data/tiny/labels.npz", check=False)
    assert result.returncode != 0
    log = project.path("results/data/logs/tiny/prepare.log").read_text()
    assert "train-labels-idx1-ubyte.gz: payload SHA-256" in log
    assert "delete the file to download it again" in log
