"""Layers with forward and backward passes (the computational-graph view of backprop)."""

import numpy as np

from scratchnet.functions import CROSS_ENTROPY_DELTA, cross_entropy_sum, sigmoid, softmax


class Affine:
    """x @ W + b. Holds references to W and b, so in-place updates are seen at once."""

    def __init__(self, W: np.ndarray, b: np.ndarray, needs_input_grad: bool = True):
        self.W, self.b = W, b
        self.needs_input_grad = needs_input_grad  # False for the first layer: no dL/dx
        self.x: np.ndarray | None = None
        self.dW: np.ndarray | None = None
        self.db: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.x = x
        out = x @ self.W
        out += self.b
        return out

    def backward(self, dout: np.ndarray) -> np.ndarray | None:
        self.dW = self.x.T @ dout
        self.db = dout.sum(axis=0)
        return dout @ self.W.T if self.needs_input_grad else None


class Sigmoid:
    def __init__(self):
        self.out: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        self.out = sigmoid(x)
        return self.out

    def backward(self, dout: np.ndarray) -> np.ndarray:
        dx = 1.0 - self.out  # in-place steps below: one temporary instead of three
        dx *= self.out
        dx *= dout
        return dx


class SoftmaxWithLoss:
    """Softmax followed by mean cross-entropy; takes integer class labels."""

    def __init__(self):
        self.y: np.ndarray | None = None
        self.labels: np.ndarray | None = None
        self.rows: np.ndarray | None = None
        self.picked: np.ndarray | None = None  # y at the true class, kept for backward
        self.guarded: np.ndarray | None = None  # picked + delta, inside the log

    def forward(self, scores: np.ndarray, labels: np.ndarray) -> float:
        self.y, self.labels = softmax(scores), labels
        if self.rows is None or len(self.rows) != len(labels):
            self.rows = np.arange(len(labels))
        self.picked = self.y[self.rows, labels]
        self.guarded = self.picked + CROSS_ENTROPY_DELTA
        return cross_entropy_sum(self.picked) / len(labels)

    def backward(self, dout: float = 1.0) -> np.ndarray:
        """(y - onehot) / batch, each row scaled by y_t / (y_t + delta).

        The scale (1 - 1e-6 for y_t = 0.1) makes this the exact gradient of the
        loss forward() reports, delta included, so a float64 gradient check agrees
        to ~1e-10 instead of stalling at ~1e-6.
        """
        scale = self.picked / self.guarded
        scale *= dout / len(scale)
        dx = self.y.copy()
        dx[self.rows, self.labels] -= 1
        dx *= scale[:, None]
        return dx
