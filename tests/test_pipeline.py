"""Real Snakemake runs on tiny generated data: outputs, resume, extension, reproducibility."""

import gzip
import os
import signal
import subprocess
import time

import matplotlib.image
import numpy as np
from conftest import SPLIT_NAMES, Project, file_digests, read_json, tiny_config
from scratchnet import checkpoint
from scratchnet.tables import ACCURACY_COLUMNS, LOSS_COLUMNS, read_csv

RUN = "results/default"
FIGURES = ("loss", "accuracy", "weights", "confusion", "misclassified")


def test_a_full_run_builds_every_output(tiny_project):
    tiny_project.update_config(epochs=10)  # two training jobs: epochs 0-8 and 9-10
    result = tiny_project.run()
    accuracy = read_csv(tiny_project.path(f"{RUN}/accuracy.csv"))
    assert accuracy.columns.tolist() == ACCURACY_COLUMNS
    assert accuracy["epoch"].tolist() == list(range(11))
    assert accuracy["iteration"].tolist() == [30 * e for e in range(11)]  # 600 images / 20
    assert accuracy["test_acc"].between(0, 1).all() and (accuracy["train_loss"] > 0).all()
    assert accuracy["train_acc"].iloc[-1] > accuracy["train_acc"].iloc[0] + 0.2  # it learns

    losses = read_csv(tiny_project.path(f"{RUN}/loss.csv"))
    assert losses.columns.tolist() == LOSS_COLUMNS
    assert losses["iteration"].tolist() == list(range(1, 301))
    assert losses["epoch"].tolist() == [e for e in range(1, 11) for _ in range(30)]

    metrics = read_json(tiny_project.path(f"{RUN}/metrics.json"))
    assert metrics["final_test_acc"] == accuracy["test_acc"].iloc[-1]
    assert metrics["best_test_acc"] == accuracy["test_acc"].max()
    assert metrics["iterations"] == 300 and metrics["train_seconds"] > 0
    assert metrics["diverged_at_epoch"] is None

    gradcheck = read_csv(tiny_project.path(f"{RUN}/gradcheck.csv"))
    assert gradcheck["param"].tolist() == ["W1", "b1", "W2", "b2"]
    assert (gradcheck["max_rel_err"] <= 1e-7).all()

    for name in FIGURES:
        image = matplotlib.image.imread(tiny_project.path(f"{RUN}/figures/{name}.png"))
        assert image.shape[0] >= 200 and image.shape[1] >= 600, name
        assert image[..., :3].std() > 0.05, f"{name} is a blank canvas"
    html = tiny_project.path(f"{RUN}/accuracy.html").read_text()
    assert html.count("<tr") == 1 + 11 and "<caption>default (tiny)" in html

    confusion = read_csv(tiny_project.path(f"{RUN}/confusion.csv"))
    matrix = confusion.drop(columns="true_class").to_numpy()
    assert matrix.sum() == 100  # the test set
    assert np.trace(matrix) / matrix.sum() == metrics["final_test_acc"]

    net, meta = checkpoint.load(tiny_project.path(f"{RUN}/checkpoints/epoch_010.npz"))
    assert net.params["W1"].shape == (49, 10) and net.dtype == np.float32
    assert meta["epoch"] == 10 and meta["iteration"] == 300
    assert meta["training"]["learning_rate"] == 2.0 and meta["model"]["hidden_size"] == 10

    summary = read_csv(tiny_project.path("results/summary.csv"))
    assert summary["run"].tolist() == ["default"] and summary["dataset"].tolist() == ["tiny"]
    assert not list(tiny_project.path("results/figures").glob("*"))  # one run: nothing compared
    assert tiny_project.path("results/chapter/examples.json").exists()
    assert "Results (1 run(s), best first" in result.stderr
    assert f"default  final test acc {metrics['final_test_acc']:.4f}" in result.stderr

    assert tiny_project.dry_run() == {}
    assert "Nothing to be done" in tiny_project.run().stderr


def test_each_training_job_logs_its_progress(tiny_project):
    tiny_project.run()
    log = tiny_project.path(f"{RUN}/logs/train_epochs_000-003.log").read_text()
    assert "iteration 60 (30/30 of this epoch): loss" in log
    assert "epoch 2: mean loss" in log and "updates/s" in log
    assert f"wrote {RUN}/checkpoints/epoch_003.npz (epoch 3, iteration 90)" in log


def test_figure_formats_add_svg_and_pdf(tiny_project):
    tiny_project.update_config(figure_formats=["png", "svg", "pdf"])
    tiny_project.run()
    figures = tiny_project.path(f"{RUN}/figures")
    assert sorted(p.name for p in figures.iterdir()) == sorted(
        f"{n}.{f}" for n in FIGURES for f in ("pdf", "png", "svg")
    )
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
    assert f"skipping {bad}/train-images-idx3-ubyte.gz: checksum mismatch" in log
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


def test_raising_epochs_trains_only_the_new_ones(tiny_project):
    tiny_project.update_config(epochs=8)
    tiny_project.run()
    planned = tiny_project.planned_jobs("--config", "epochs=12")
    rules = [rule for rule, _ in planned]
    assert "train_epochs_009_012" in rules
    assert not {"train_epochs_000_008", "prepare", "download"} & set(rules)
    evaluated = sorted(w["epochs"] for rule, w in planned if rule == "evaluate")
    assert evaluated == ["009-012"]


def test_raising_epochs_within_a_training_job_retrains_only_that_job(tiny_project):
    tiny_project.update_config(epochs=10)
    tiny_project.run()
    planned = {rule for rule, _ in tiny_project.planned_jobs("--config", "epochs=12")}
    assert {"train_epochs_009_012"} <= planned
    assert "train_epochs_000_008" not in planned


def test_extended_runs_equal_a_straight_run(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    extended = Project(tmp_path / "extended", tiny_config(mirror, digests, epochs=3))
    extended.run()
    for epochs in (10, 12):  # within the first training job, then a new one
        extended.update_config(epochs=epochs)
        extended.run()
    straight = Project(tmp_path / "straight", tiny_config(mirror, digests, epochs=12))
    straight.run()
    assert deterministic_files(extended) == deterministic_files(straight)


def deterministic_files(project: Project) -> dict[str, str]:
    """Digests of every result file that must be byte-identical between equal runs."""
    digests = file_digests(project.path("results"))
    wall_clock = ("metrics.json", "summary.csv", "summary.html")  # compared without the time
    return {
        path: digest
        for path, digest in digests.items()
        if "logs/" not in path and "timing/" not in path and not path.endswith(wall_clock)
    }


def metrics_without_time(project: Project) -> dict:
    """metrics.json and summary.csv, less their one wall-clock field."""
    metrics = read_json(project.path(f"{RUN}/metrics.json"))
    metrics.pop("train_seconds")
    summary = read_csv(project.path("results/summary.csv")).drop(columns="train_seconds")
    return {"metrics": metrics, "summary": summary.astype(str).to_dict("records")}


def test_a_run_killed_during_training_resumes_bit_identical(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    # long enough epochs (~0.3 s each) to be killed in the middle of the second job
    config = tiny_config(mirror, digests, epochs=12, iters_per_epoch=2000)
    killed = Project(tmp_path / "killed", config)
    process = subprocess.Popen(
        killed.command("--cores", "1"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    inside = killed.path(f"{RUN}/checkpoints/epoch_010.npz")  # the second job's second epoch
    deadline = time.monotonic() + 300
    while not inside.exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)
    assert inside.exists(), "training never reached epoch 10"
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    first_job = killed.path(f"{RUN}/checkpoints/epoch_008.npz").stat().st_mtime_ns
    assert not killed.path(f"{RUN}/checkpoints/epoch_012.npz").exists()

    # the README's commands after an interruption
    killed.run("--unlock", cores=1)
    killed.run()
    assert killed.path(f"{RUN}/checkpoints/epoch_008.npz").stat().st_mtime_ns == first_job

    straight = Project(tmp_path / "straight", config)
    straight.run()
    assert deterministic_files(killed) == deterministic_files(straight)
    assert metrics_without_time(killed) == metrics_without_time(straight)


def test_runs_on_one_and_two_cores_with_and_without_the_worker_are_byte_identical(
    tmp_path, tiny_mirror
):
    mirror, digests = tiny_mirror
    config = tiny_config(
        mirror,
        digests,
        epochs=10,
        figure_formats=["png", "svg", "pdf"],
        sweep={"learning_rate": [1.0, 2.0]},
    )
    one = Project(tmp_path / "one", config)
    one.run(cores=1, env={**os.environ, "SCRATCHNET_WORKER": "off"})
    two = Project(tmp_path / "two", config)
    two.run(cores=2)
    logs = two.path("results").rglob("*.log")
    assert any("forked from worker" in log.read_text() for log in logs), "no job used the worker"
    files = deterministic_files(one)
    assert any(p.endswith(".png") for p in files) and any(p.endswith(".npz") for p in files)
    assert files == deterministic_files(two)
    summary = {n: read_csv(p.path("results/summary.csv")) for n, p in (("1", one), ("2", two))}
    without_time = [table.drop(columns="train_seconds") for table in summary.values()]
    assert without_time[0].equals(without_time[1])


def test_numerical_gradients_train_and_log_their_cost_first(tiny_project):
    tiny_project.update_config(gradient="numerical", hidden_size=3, iters_per_epoch=2, epochs=1)
    tiny_project.run()
    log = tiny_project.path(f"{RUN}/logs/train_epochs_000-001.log").read_text()
    params = 49 * 3 + 3 + 3 * 10 + 10
    assert f"gradient: numerical needs {2 * params} loss evaluations per update" in log
    assert "this epoch will take about" in log
    accuracy = read_csv(tiny_project.path(f"{RUN}/accuracy.csv"))
    assert accuracy["iteration"].tolist() == [0, 2]


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


def test_the_dataset_page_records_where_the_data_came_from(tiny_project):
    tiny_project.run()
    about = read_json(tiny_project.path("results/data/tiny/dataset.json"))
    assert about["image_shape"] == [7, 7] and about["num_classes"] == 10
    assert about["train_images"] == 600 and sum(about["test_class_counts"]) == 100
    assert all(spec["verified"] for spec in about["files"].values())
    page = tiny_project.path("results/data/tiny/dataset.html").read_text()
    assert about["files"]["train_images"]["payload_sha256"] in page


def test_any_image_shape_and_class_count_declared_only_in_the_config(tmp_path):
    from conftest import write_tiny_idx

    digests = write_tiny_idx(tmp_path / "mirror", shape=(5, 9), classes=4)
    config = tiny_config(tmp_path / "mirror", digests, epochs=2)
    config["datasets"]["tiny"]["num_classes"] = 4
    project = Project(tmp_path / "work", config)
    project.run()
    net, _ = checkpoint.load(project.path(f"{RUN}/checkpoints/epoch_002.npz"))
    assert net.params["W1"].shape == (45, 10) and net.params["W2"].shape == (10, 4)
    confusion = read_csv(project.path(f"{RUN}/confusion.csv"))
    assert confusion.columns.tolist() == ["true_class", "0", "1", "2", "3"]
    matrix = confusion.drop(columns="true_class").to_numpy()
    about = read_json(project.path("results/data/tiny/dataset.json"))
    assert matrix.sum(axis=1).tolist() == about["test_class_counts"]
    final = read_json(project.path(f"{RUN}/metrics.json"))["final_test_acc"]
    assert np.trace(matrix) / matrix.sum() == final
    for name in ("weights", "confusion", "misclassified"):
        assert project.path(f"{RUN}/figures/{name}.png").stat().st_size > 5_000
