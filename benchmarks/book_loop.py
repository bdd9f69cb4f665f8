"""The book's own training loop, as a process of its own: the baseline of the benchmark.

    python benchmarks/book_loop.py --mnist DIR

A plain float64 transcription of the chapter-4 ``TwoLayerNet`` (analytic gradient) and of
``train_neuralnet.py`` from "Deep Learning from Scratch" by Koki Saitoh: 10,000 updates
of batch 100 at learning rate 0.1, train and test accuracy every 600 updates. It imports
nothing of this project and leaves NumPy's BLAS threads as they are, as a reader running
the book's code would. It prints one JSON line: seconds loading, seconds training, the
final test accuracy.

The book's code (https://github.com/oreilly-japan/deep-learning-from-scratch) is under
the MIT License:

    The MIT License (MIT)

    Copyright (c) 2016 Koki Saitoh

    Permission is hereby granted, free of charge, to any person obtaining a copy
    of this software and associated documentation files (the "Software"), to deal
    in the Software without restriction, including without limitation the rights
    to use, copy, modify, merge, publish, distribute, sublicense, and/or sell
    copies of the Software, and to permit persons to whom the Software is
    furnished to do so, subject to the following conditions:

    The above copyright notice and this permission notice shall be included in all
    copies or substantial portions of the Software.

    THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR
    IMPLIED, INCLUDING BUT NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY,
    FITNESS FOR A PARTICULAR PURPOSE AND NONINFRINGEMENT. IN NO EVENT SHALL THE
    AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES OR OTHER
    LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM,
    OUT OF OR IN CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE
    SOFTWARE.
"""

import argparse
import gzip
import json
import os
import time
from pathlib import Path

import numpy as np

FILES = {
    "x_train": "train-images-idx3-ubyte.gz",
    "t_train": "train-labels-idx1-ubyte.gz",
    "x_test": "t10k-images-idx3-ubyte.gz",
    "t_test": "t10k-labels-idx1-ubyte.gz",
}


def load_mnist(folder: Path) -> dict[str, np.ndarray]:
    """The book's load_mnist(normalize=True, one_hot_label=True), from the .gz files."""
    data = {}
    for key, name in FILES.items():
        with gzip.open(folder / name, "rb") as f:
            raw = f.read()
        if key.startswith("x"):
            data[key] = np.frombuffer(raw, np.uint8, offset=16).reshape(-1, 784) / 255.0
        else:
            data[key] = np.eye(10)[np.frombuffer(raw, np.uint8, offset=8)]
    return data


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def softmax(x):
    x = x.T
    x = x - np.max(x, axis=0)
    return (np.exp(x) / np.sum(np.exp(x), axis=0)).T


def cross_entropy_error(y, t):
    t = t.argmax(axis=1)
    return -np.sum(np.log(y[np.arange(y.shape[0]), t] + 1e-7)) / y.shape[0]


class TwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01):
        self.params = {
            "W1": weight_init_std * np.random.randn(input_size, hidden_size),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * np.random.randn(hidden_size, output_size),
            "b2": np.zeros(output_size),
        }

    def predict(self, x):
        p = self.params
        return softmax(sigmoid(x @ p["W1"] + p["b1"]) @ p["W2"] + p["b2"])

    def loss(self, x, t):
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        return np.sum(self.predict(x).argmax(axis=1) == t.argmax(axis=1)) / x.shape[0]

    def gradient(self, x, t):
        p = self.params
        a1 = x @ p["W1"] + p["b1"]
        z1 = sigmoid(a1)
        y = softmax(z1 @ p["W2"] + p["b2"])
        dy = (y - t) / x.shape[0]
        grads = {"W2": z1.T @ dy, "b2": np.sum(dy, axis=0)}
        da1 = (1.0 - sigmoid(a1)) * sigmoid(a1) * (dy @ p["W2"].T)
        grads["W1"], grads["b1"] = x.T @ da1, np.sum(da1, axis=0)
        return grads


def train(data: dict[str, np.ndarray]) -> float:
    """train_neuralnet.py: 10,000 updates, accuracies every 600; the final test accuracy."""
    np.random.seed(0)
    network = TwoLayerNet(784, 50, 10)
    iters_num, batch_size, learning_rate, iter_per_epoch = 10_000, 100, 0.1, 600
    train_loss_list, test_acc_list = [], []
    for i in range(iters_num):
        batch_mask = np.random.choice(len(data["x_train"]), batch_size)
        x_batch, t_batch = data["x_train"][batch_mask], data["t_train"][batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]
        train_loss_list.append(network.loss(x_batch, t_batch))
        if i % iter_per_epoch == 0:
            network.accuracy(data["x_train"], data["t_train"])
            test_acc_list.append(network.accuracy(data["x_test"], data["t_test"]))
    return float(network.accuracy(data["x_test"], data["t_test"]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", default=os.environ.get("SCRATCHNET_MNIST"), required=False)
    args = parser.parse_args()
    if not args.mnist:
        parser.error("give --mnist DIR or set SCRATCHNET_MNIST")
    start = time.perf_counter()
    data = load_mnist(Path(args.mnist))
    loaded = time.perf_counter()
    test_acc = train(data)
    done = time.perf_counter()
    print(json.dumps({"load_s": loaded - start, "train_s": done - loaded, "test_acc": test_acc}))


if __name__ == "__main__":
    main()
