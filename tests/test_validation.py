"""Choosing hyperparameters as the book's chapter 6.5 says: training images held out as
validation data, settings and epochs chosen on them, the test set kept for the end, and
random search."""

import json
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest
from conftest import ON_TINY, Project, prepare_tiny, read_json, tiny_config, write_tiny_idx
from scratchnet import checkpoint, holdout
from scratchnet.tables import read_csv
from scratchnet.train import ModelSettings, TrainingSettings, continue_training, training_batches

MODEL = ModelSettings(hidden_size=5, weight_init_std=0.1, seed=0, dtype="float32")


def training(sampling: str, iters: int | None = None) -> TrainingSettings:
    return TrainingSettings(0.5, 10, iters, sampling, "backprop")


def test_the_split_depends_on_the_dataset_size_and_its_seed_only():
    held = holdout.held_out(600, 100, 0)
    assert len(held) == 100 and np.all(np.diff(held) > 0)
    assert np.array_equal(held, holdout.held_out(600, 100, 0))
    assert not np.array_equal(held, holdout.held_out(600, 100, 1))
    assert len(holdout.held_out(600, 0.25, 0)) == 150  # a fraction of the training set
    for wrong in (600, 1000, 0.0001):
        with pytest.raises(holdout.SplitError, match="choose a count from 1 to 599"):
            holdout.held_out(600, wrong, 0)


@pytest.mark.parametrize("sampling", ["replacement", "permutation"])
def test_training_never_draws_a_held_out_image_at_any_epoch(tmp_path, sampling):
    data = prepare_tiny(tmp_path)
    held = holdout.held_out(len(data.t_train), 150, 3)
    kept = replace(data, train_rows=holdout.kept_rows(len(data.t_train), held))
    drawn = set()
    for epoch in range(1, 41):
        rows = training_batches(np.random.default_rng([0, epoch]), kept, training(sampling))
        assert rows.shape == (450 // 10, 10)  # iterations per epoch from the kept images
        drawn |= set(rows.ravel().tolist())
    assert drawn.isdisjoint(held.tolist())
    assert drawn == set(kept.train_rows.tolist())  # and every kept image is drawn


def test_what_is_held_out_never_reaches_training(tmp_path):
    """Two datasets that differ only in the held-out images (pixels and labels) train to
    the same bytes."""
    data = prepare_tiny(tmp_path / "a")
    held = holdout.held_out(len(data.t_train), 200, 0)
    pixels, labels = np.array(data.pixels_train), np.array(data.t_train)
    pixels[held], labels[held] = 255 - pixels[held], (labels[held] + 1) % 10
    other = replace(data, pixels_train=pixels, t_train=labels)
    written = {}
    for name, dataset in (("a", data), ("b", other)):
        kept = replace(dataset, train_rows=holdout.kept_rows(len(labels), held))
        paths = [tmp_path / f"{name}{e}.npz" for e in range(4)]
        timing = [tmp_path / f"{name}{e}.json" for e in range(1, 4)]
        split = {"held_out": len(held), "seed": 0}
        continue_training(None, paths, timing, kept, MODEL, training("replacement"), 10, split)
        written[name] = [path.read_bytes() for path in paths]
    assert written["a"] == written["b"]
    _, meta = checkpoint.load(tmp_path / "a3.npz")
    assert meta["validation"] == {"held_out": 200, "seed": 0}


SEARCH = {"samples": 4, "seed": 0, "learning_rate": {"log_uniform": [0.05, 5]}}


@pytest.fixture(scope="module")
def searched(tmp_path_factory) -> Project:
    """A tiny random search with 100 of the 600 training images held out."""
    base = tmp_path_factory.mktemp("search")
    digests = write_tiny_idx(base / "mirror")
    config = tiny_config(base / "mirror", digests, epochs=3, validation=100, search=SEARCH)
    project = Project(base / "work", config)
    project.run()
    return project


def runs(project: Project) -> list[str]:
    return [f"{ON_TINY}sample={i}" for i in range(project.config["search"]["samples"])]


def test_every_run_is_judged_on_the_same_held_out_images(searched):
    splits = {
        json.dumps(checkpoint.load(searched.path(f"results/{run}/checkpoints/epoch_003.npz"))[1]
                   ["validation"]) for run in runs(searched)
    }  # fmt: skip
    assert splits == {json.dumps({"held_out": 100, "seed": 0})}
    for run in runs(searched):
        accuracy = read_csv(searched.path(f"results/{run}/accuracy.csv"))
        assert {"val_acc", "val_loss"} <= set(accuracy.columns)


def test_the_best_epoch_and_the_ranking_follow_validation_accuracy(searched):
    for run in runs(searched):
        accuracy = read_csv(searched.path(f"results/{run}/accuracy.csv"))
        metrics = read_json(searched.path(f"results/{run}/metrics.json"))
        best = accuracy.loc[accuracy["val_acc"].idxmax()]
        assert metrics["best_epoch"] == best["epoch"]
        assert metrics["best_test_acc"] == best["test_acc"]  # the chosen epoch's estimate
        assert metrics["final_val_acc"] == accuracy["val_acc"].iloc[-1]
    summary = read_csv(searched.path("results/summary.csv"))
    assert summary["final_val_acc"].is_monotonic_decreasing
    table = read_csv(searched.path("results/summary_by_setting.csv"))
    assert table["setting"].tolist() == summary["run"].tolist()


def test_predict_best_uses_the_epoch_chosen_on_validation_data(searched):
    run = read_csv(searched.path("results/summary.csv"))["run"].iloc[-1]
    epoch = read_json(searched.path(f"results/{run}/metrics.json"))["best_epoch"]
    images = searched.path("results/data/tiny/t10k-images-idx3-ubyte.gz")
    typed = run.removeprefix(ON_TINY)  # as people type it: sample=N
    said = subprocess.run(
        [sys.executable, "-m", "scratchnet", "predict", str(images), "--run", typed,
         "--epoch", "best"],
        cwd=searched.root, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert said.returncode == 0, said.stderr
    assert f"{run}/checkpoints/epoch_{epoch:03d}.npz" in said.stdout.splitlines()[0]


def test_raising_samples_trains_only_the_new_ones(searched, tmp_path):
    import shutil

    shutil.copytree(searched.root, tmp_path / "copy", symlinks=True)
    copy = Project(tmp_path / "copy", {**searched.config, "search": {**SEARCH, "samples": 6}})
    planned = copy.planned_jobs()
    trained = {w["run"] for rule, w in planned if rule.startswith("train_epochs")}
    assert trained == {f"{ON_TINY}sample=4", f"{ON_TINY}sample=5"}
    assert not any(rule == "split" for rule, _ in planned)  # the same split
    fewer = Project(tmp_path / "copy", {**searched.config, "search": {**SEARCH, "samples": 3}})
    assert fewer.dry_run() == {"summary": 1, "all": 1}


def test_without_a_split_every_choice_says_it_was_made_on_test_data(tiny_project):
    tiny_project.update_config(epochs=2, sweep={"learning_rate": [1.0, 2.0]})
    ended = tiny_project.run().stderr
    assert "on test data" in ended and "val acc" not in ended
    page = tiny_project.path("results/summary.html").read_text()
    assert "chosen on test data" in page
    assert not list(tiny_project.path("results/data/tiny").glob("validation_*"))
