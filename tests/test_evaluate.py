"""Evaluation block by block: the numbers of one pass over every image of the whole set."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from conftest import prepare_tiny, train_command
from scratchnet import evalset
from scratchnet.dataset import Dataset, normalize
from scratchnet.evaluate import accuracies_and_losses, evaluate_all, predictions
from scratchnet.net import TwoLayerNet

ROWS, SHAPE = 103, (7, 7)


def evaluate(net, images):
    return evaluate_all([net], images)[0]


def accuracy_and_loss(net, blocks):
    (whole,) = accuracies_and_losses([net], blocks)[0]
    return whole


def net_and_images(dtype: str) -> tuple[TwoLayerNet, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    # large weights, so that predictions vary and the accuracy is neither 0 nor 1
    net = TwoLayerNet(SHAPE[0] * SHAPE[1], 8, 10, weight_init_std=1.0, rng=rng, dtype=dtype)
    for bias in ("b1", "b2"):  # in place: the layers hold these arrays
        net.params[bias][:] = rng.standard_normal(net.params[bias].shape)
    pixels = rng.integers(0, 256, (ROWS, *SHAPE), dtype=np.uint8)
    for image in pixels:  # blank borders of varying width, as in MNIST
        top, left = rng.integers(1, 4, 2)
        image[:top], image[:, :left] = 0, 0
    labels = rng.integers(0, 10, ROWS).astype(np.uint8)
    return net, pixels.reshape(ROWS, -1), labels


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("block_rows", [1, 10, ROWS, 500])  # 10: a shorter last block
def test_any_block_size_gives_the_accuracy_and_loss_of_the_whole_set(dtype, block_rows):
    net, pixels, labels = net_and_images(dtype)
    blocks = evalset.blocks_of(pixels, labels, SHAPE, block_rows)
    assert any(len(b.columns) < pixels.shape[1] for b in blocks), "no blank column left out"
    x = normalize(pixels).astype(dtype)
    accuracy, loss = accuracy_and_loss(net, blocks)
    assert 0 < accuracy < 1
    assert accuracy == net.accuracy(x, labels)
    assert loss == pytest.approx(net.loss(x, labels), rel=1e-6)


def test_train_and_test_sets_are_scored_apart():
    net, pixels, labels = net_and_images("float32")
    split = 80
    data = Dataset(pixels[:split], labels[:split], pixels[split:], labels[split:], "d", SHAPE)
    scores = evaluate(net, evalset.pack(data, block_rows=16))
    for name, rows in (("train", slice(None, split)), ("test", slice(split, None))):
        x, t = normalize(pixels[rows]), labels[rows]
        assert scores[f"{name}_acc"] == net.accuracy(x, t)
        assert scores[f"{name}_loss"] == pytest.approx(net.loss(x, t), rel=1e-6)
    assert scores["train_acc"] != scores["test_acc"]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_networks_scored_together_get_their_numbers_alone(dtype):
    net, pixels, labels = net_and_images(dtype)
    other, _, _ = net_and_images(dtype)
    for param in other.params.values():  # in place: the layers hold these arrays
        param *= -1.5
    data = Dataset(pixels[:80], labels[:80], pixels[80:], labels[80:], "d", SHAPE)
    images = evalset.pack(data, block_rows=16)
    together = evaluate_all([net, other, net], images)
    alone = [evaluate(net, images), evaluate(other, images), evaluate(net, images)]
    for scores, expected in zip(together, alone, strict=True):
        assert scores["train_acc"] == expected["train_acc"]
        assert scores["test_acc"] == expected["test_acc"]
        assert scores == expected  # to the last bit
    assert together[0] != together[1]
    assert evaluate_all([net, other, net], images) == together  # and the same every time


# Scored alone and among others on MNIST-like shapes, in a fresh process for each BLAS
# kernel: wide matrix products round by column position on some CPUs (AVX2) and not on
# others (AVX-512), so equality on this machine's kernel alone would prove little.
TOGETHER_OR_ALONE = """
import numpy as np
from scratchnet.evalset import blocks_of
from scratchnet.evaluate import accuracies_and_losses
from scratchnet.net import TwoLayerNet

rng = np.random.default_rng(3)
pixels = rng.integers(0, 256, (1500, 784), dtype=np.uint8)
pixels[:, :100] = 0
labels = rng.integers(0, 10, 1500)
blocks = blocks_of(pixels, labels, (28, 28))
nets = [TwoLayerNet(784, 50, 10, 0.1, np.random.default_rng(i)) for i in range(9)]
together = accuracies_and_losses(nets, blocks)
alone = [accuracies_and_losses([net], blocks)[0] for net in nets]
print(together == alone, len(set(map(tuple, together))))
"""


@pytest.mark.parametrize("kernel", [None, "Haswell", "Sandybridge"])
def test_a_networks_numbers_do_not_depend_on_the_networks_beside_it(kernel):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    if kernel:
        env["OPENBLAS_CORETYPE"] = kernel
    result = subprocess.run(
        [sys.executable, "-c", TOGETHER_OR_ALONE], env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "9"]


def _evaluation_set_args(folder, seed) -> list[str]:
    data = prepare_tiny(folder, seed, n_train=60, n_test=10, shape=(6, 6))
    evalset.save(evalset.pack(data), folder / "eval.npy", folder / "eval.npz")
    return ["--pixels", str(folder / "eval.npy"), "--index", str(folder / "eval.npz")]


def test_one_job_writes_a_row_per_checkpoint_in_the_order_given(tmp_path):
    from scratchnet.cli import main

    images = _evaluation_set_args(tmp_path, 0)
    assert main(train_command(tmp_path, range(0, 2))) == 0
    paths = [str(tmp_path / "epoch_000.npz"), str(tmp_path / "epoch_001.npz")]
    out = tmp_path / "pair.json"
    assert main(["evaluate", *paths, *images, "--out", str(out)]) == 0
    rows = json.loads(out.read_text())
    assert [(row["epoch"], row["iteration"]) for row in rows] == [(0, 0), (1, 6)]
    for path, row in zip(paths, rows, strict=True):
        alone = tmp_path / "alone.json"
        assert main(["evaluate", path, *images, "--out", str(alone)]) == 0
        assert json.loads(alone.read_text()) == [row]
    assert rows[0]["train_loss"] != rows[1]["train_loss"]


def test_a_checkpoint_is_not_evaluated_on_other_data(tmp_path, caplog):
    from scratchnet.cli import main

    evaluation = {name: _evaluation_set_args(tmp_path / name, seed)
                  for name, seed in (("one", 0), ("other", 1))}  # fmt: skip
    assert main(train_command(tmp_path / "one", range(0, 1))) == 0
    epoch0 = str(tmp_path / "one" / "epoch_000.npz")
    assert main(["evaluate", epoch0, *evaluation["one"], "--out", str(tmp_path / "ok.json")]) == 0
    out = tmp_path / "other.json"
    assert main(["evaluate", epoch0, *evaluation["other"], "--out", str(out)]) == 1
    assert not out.exists()
    errors = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert len(errors) == 1 and "trained on other data" in errors[0] and "eval.npz" in errors[0]


def test_predictions_are_exactly_what_the_accuracy_counts():
    net, pixels, labels = net_and_images("float32")
    blocks = evalset.blocks_of(pixels, labels, SHAPE, 16)
    predicted, probabilities, in_order = predictions(net, blocks)
    accuracy, _ = accuracy_and_loss(net, blocks)
    assert np.mean(predicted == in_order) == accuracy
    assert sorted(in_order.tolist()) == sorted(labels.tolist())
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, rtol=1e-5)
    assert np.array_equal(probabilities.argmax(axis=1), predicted)
