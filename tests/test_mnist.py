"""The real MNIST copy in ../shared: the data stage and the book's learning curve."""

from pathlib import Path

import numpy as np
import pytest
from conftest import Project, read_json
from scratchnet.tables import read_csv

MNIST_TRAIN_LABEL_COUNTS = [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
FASHION = "/usr/share/datasets/fashion-mnist"

pytestmark = pytest.mark.mnist


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory, shared_mnist):
    """The default configuration, end to end, with ../shared as the mirror."""
    import yaml
    from conftest import REPO

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["mirrors"] = [str(shared_mnist)]
    project = Project(tmp_path_factory.mktemp("mnist"), config)
    project.run()
    return project


def test_the_data_stage_gives_mnist_shapes_and_label_counts(mnist_run):
    with np.load(mnist_run.path("results/data/mnist.npz")) as npz:
        assert npz["x_train"].shape == (60000, 784) and npz["x_train"].dtype == np.float32
        assert npz["x_test"].shape == (10000, 784)
        assert npz["t_train"].shape == (60000,) and npz["t_test"].shape == (10000,)
        assert float(npz["x_train"].min()) == 0.0 and float(npz["x_train"].max()) == 1.0
        assert np.bincount(npz["t_train"]).tolist() == MNIST_TRAIN_LABEL_COUNTS


def test_the_default_run_follows_the_books_curve(mnist_run):
    accuracy = read_csv(mnist_run.path("results/default/accuracy.csv"))
    assert len(accuracy) == 17
    test_acc = accuracy["test_acc"].tolist()
    assert 0.6 <= test_acc[1] <= 0.9
    assert test_acc[-1] >= 0.94
    assert test_acc[-1] > test_acc[8] > test_acc[1] > test_acc[0]
    assert accuracy["iteration"].iloc[-1] == 9600
    metrics = read_json(mnist_run.path("results/default/metrics.json"))
    assert metrics["final_test_acc"] == test_acc[-1]
    assert len(read_csv(mnist_run.path("results/default/loss.csv"))) == 9600


def test_the_chapter_and_what_the_network_learned_are_drawn(mnist_run):
    for name in ("numerical_diff", "gradient_field", "gradient_descent"):
        assert mnist_run.path(f"results/chapter/{name}.png").stat().st_size > 20_000
    for name in ("weights", "confusion", "misclassified"):
        assert mnist_run.path(f"results/default/figures/{name}.png").stat().st_size > 20_000
    confusion = read_csv(mnist_run.path("results/default/confusion.csv"))
    matrix = confusion.drop(columns="true_class").to_numpy()
    assert matrix.sum() == 10_000
    assert (
        np.trace(matrix) / matrix.sum()
        == read_csv(mnist_run.path("results/default/accuracy.csv"))["test_acc"].iloc[-1]
    )


def test_fashion_mnist_verifies_against_debians_copy_and_trains(tmp_path):
    import yaml
    from conftest import REPO

    if not all(
        (Path(FASHION) / n).exists()
        for n in ("train-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    ):
        pytest.fail(f"Fashion-MNIST is missing: apt-get install dataset-fashion-mnist ({FASHION})")
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config.update(dataset="fashion-mnist", mirrors=[FASHION], epochs=2, iters_per_epoch=200)
    project = Project(tmp_path, config)
    project.run()
    with np.load(project.path("results/data/fashion-mnist.npz")) as npz:
        assert npz["x_train"].shape == (60000, 784)
        assert np.bincount(npz["t_train"]).tolist() == [6000] * 10
    accuracy = read_csv(project.path("results/default/accuracy.csv"))
    assert accuracy["test_acc"].iloc[-1] > 0.6  # it learns clothes too
    for name in ("weights", "confusion", "misclassified"):
        assert project.path(f"results/default/figures/{name}.png").exists()
    page = project.path("results/data/fashion-mnist/dataset.html").read_text()
    assert all(name in page for name in config["datasets"]["fashion-mnist"]["class_names"])


def test_every_jobs_memory_request_covers_its_peak_with_a_wide_network(mnist_run, tmp_path):
    """hidden_size 1000, a full job of 8 epochs (9 checkpoints scored in one job): each
    job's peak (its log, from getrusage) within what it asked the scheduler for."""
    import os
    import re
    import shutil

    shutil.copytree(mnist_run.path("results/data"), tmp_path / "results" / "data")
    wide = Project(tmp_path, {**mnist_run.config, "hidden_size": 1000, "epochs": 8,
                              "iters_per_epoch": 20})  # fmt: skip
    done = wide.run(env={**os.environ, "SCRATCHNET_WORKER": "off"})
    output = done.stdout + done.stderr
    asked = {}  # log file -> mem_mb
    for block in output.split("\nrule ")[1:] + output.split("\nlocalrule ")[1:]:
        log, mem = re.search(r"log: (\S+)", block), re.search(r"mem_mb=(\d+)", block)
        if log and mem:
            asked[log.group(1)] = int(mem.group(1))
    assert {"evaluate_000-008.log", "train_epochs_000-008.log", "learned.log"} <= {
        Path(log).name for log in asked
    }
    for log, mem_mb in asked.items():
        peak = re.findall(r"peak RSS (\d+) MB", wide.path(log).read_text())
        assert peak and int(peak[-1]) <= mem_mb, (log, peak, mem_mb)
