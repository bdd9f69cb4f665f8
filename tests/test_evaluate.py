"""Evaluation in memory-bounded chunks: the numbers of one pass over every row."""

import numpy as np
import pytest
from scratchnet.dataset import Dataset, normalize
from scratchnet.evaluate import accuracy_and_loss, evaluate
from scratchnet.net import TwoLayerNet

ROWS, PIXELS = 103, 49


def net_and_images(dtype: str) -> tuple[TwoLayerNet, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(5)
    # large weights, so that predictions vary and the accuracy is neither 0 nor 1
    net = TwoLayerNet(PIXELS, 8, 10, weight_init_std=1.0, rng=rng, dtype=dtype)
    pixels = rng.integers(0, 256, (ROWS, PIXELS), dtype=np.uint8)
    labels = rng.integers(0, 10, ROWS).astype(np.uint8)
    return net, pixels, labels


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("chunk_rows", [1, 10, ROWS, 500])  # 10: a shorter last chunk
def test_any_chunk_size_gives_the_accuracy_and_loss_of_the_whole_set(dtype, chunk_rows):
    net, pixels, labels = net_and_images(dtype)
    x = normalize(pixels).astype(dtype)
    accuracy, loss = accuracy_and_loss(net, pixels, labels, chunk_rows=chunk_rows)
    assert 0 < accuracy < 1
    assert accuracy == net.accuracy(x, labels)
    assert loss == pytest.approx(net.loss(x, labels), rel=1e-6)


def test_train_and_test_sets_are_scored_apart():
    net, pixels, labels = net_and_images("float32")
    split = 80
    data = Dataset(pixels[:split], labels[:split], pixels[split:], labels[split:], "digest")
    scores = evaluate(net, data)
    for name, rows in (("train", slice(None, split)), ("test", slice(split, None))):
        x, t = normalize(pixels[rows]), labels[rows]
        assert scores[f"{name}_acc"] == net.accuracy(x, t)
        assert scores[f"{name}_loss"] == pytest.approx(net.loss(x, t), rel=1e-6)
    assert scores["train_acc"] != scores["test_acc"]
