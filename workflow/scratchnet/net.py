"""TwoLayerNet: input -> Affine -> Sigmoid -> Affine -> softmax, the book's chapter-4 network.

Two ways through it, as in the book: ``predict``/``scores`` compute the outputs directly
from the parameters (inference: evaluation, the numerical gradient), and the layers
compute the same formulas while keeping what backprop needs (training).
"""

import numpy as np

from scratchnet.functions import cross_entropy_error, numerical_gradient, sigmoid, softmax
from scratchnet.layers import Affine, Sigmoid, SoftmaxWithLoss

PARAM_NAMES = ("W1", "b1", "W2", "b2")


class TwoLayerNet:
    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        output_size: int,
        weight_init_std: float = 0.01,
        rng: np.random.Generator | None = None,
        dtype: str | np.dtype = np.float32,
    ):
        rng = rng if rng is not None else np.random.default_rng(0)
        # draw in float64 and cast, so float32 and float64 nets start from the same values
        self.params = {
            "W1": (weight_init_std * rng.standard_normal((input_size, hidden_size))).astype(dtype),
            "b1": np.zeros(hidden_size, dtype=dtype),
            "W2": (weight_init_std * rng.standard_normal((hidden_size, output_size))).astype(dtype),
            "b2": np.zeros(output_size, dtype=dtype),
        }
        self._build_layers()

    @classmethod
    def from_params(cls, params: dict[str, np.ndarray]) -> "TwoLayerNet":
        """A net that uses (and updates in place) the given arrays."""
        net = cls.__new__(cls)
        net.params = {name: params[name] for name in PARAM_NAMES}
        net._build_layers()
        return net

    def _build_layers(self) -> None:
        p = self.params
        self.affine1 = Affine(p["W1"], p["b1"], needs_input_grad=False)
        self.activation = Sigmoid()
        self.affine2 = Affine(p["W2"], p["b2"])
        self.last = SoftmaxWithLoss()

    @property
    def dtype(self) -> np.dtype:
        return self.params["W1"].dtype

    # --- inference ---------------------------------------------------------------------

    def hidden(
        self, x: np.ndarray, columns: np.ndarray | None = None, out: np.ndarray | None = None
    ) -> np.ndarray:
        """sigmoid(x @ W1 + b1), one row per image (into ``out`` when given).

        With ``columns``, ``x`` holds only those input pixels and every other pixel is 0:
        blank pixels add nothing to the sums, so only the matching rows of W1 are used.
        """
        W1 = self.params["W1"]
        hidden = np.matmul(x, W1 if columns is None else W1[columns], out=out)
        hidden += self.params["b1"]
        return sigmoid(hidden, out=hidden)

    def class_scores(self, hidden: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """The output layer's scores, one column per image (classes x images): softmax
        and argmax then reduce along rows, the fast direction for many images."""
        scores = np.matmul(self.params["W2"].T, hidden.T, out=out)
        scores += self.params["b2"][:, np.newaxis]
        return scores

    def scores(self, x: np.ndarray) -> np.ndarray:
        """The inputs to softmax, one row per image."""
        return self.class_scores(self.hidden(x)).T

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities, one row per image."""
        return softmax(self.scores(x))

    def loss(self, x: np.ndarray, t: np.ndarray) -> float:
        return cross_entropy_error(self.predict(x), t)

    def accuracy(self, x: np.ndarray, t: np.ndarray) -> float:
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        return float(np.mean(self.scores(x).argmax(axis=1) == labels))

    # --- gradients and training ----------------------------------------------------------

    def numerical_gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Central-difference gradients of the loss: slow, the reference for backprop."""

        def loss_at(_):
            return self.loss(x, t)

        return {name: numerical_gradient(loss_at, self.params[name]) for name in PARAM_NAMES}

    def forward_backward(self, x: np.ndarray, labels: np.ndarray, dout: float = 1.0) -> float:
        """One forward and one backward pass through the layers; returns the loss and
        leaves on the layers the gradients of ``dout`` times the loss."""
        scores = self.affine2.forward(self.activation.forward(self.affine1.forward(x)))
        loss = self.last.forward(scores, labels)
        dscores = self.last.backward(dout)
        self.affine1.backward(self.activation.backward(self.affine2.backward(dscores)))
        return loss

    def gradient(self, x: np.ndarray, t: np.ndarray) -> dict[str, np.ndarray]:
        """Backprop gradients of the loss for every parameter, as arrays the caller owns."""
        labels = t.argmax(axis=1) if t.ndim == 2 else t
        self.forward_backward(x, labels)
        a1, a2 = self.affine1, self.affine2
        return {"W1": a1.dW.copy(), "b1": a1.db.copy(), "W2": a2.dW.copy(), "b2": a2.db.copy()}

    def sgd_step(self, x: np.ndarray, labels: np.ndarray, learning_rate: float) -> float:
        """One mini-batch SGD update in place; the loss comes from the same forward pass.

        Backprop starts from dL/dL = learning_rate, so the layers hold the steps
        themselves and no (784 x 50) gradient is scaled afterwards.
        """
        # in the weights' dtype, as every update is (a float32 net takes 1e39 as inf)
        loss = self.forward_backward(x, labels, dout=self.dtype.type(learning_rate))
        for layer in (self.affine1, self.affine2):
            layer.W -= layer.dW
            layer.b -= layer.db
        return loss

    def numerical_sgd_step(self, x: np.ndarray, labels: np.ndarray, learning_rate: float) -> float:
        """The book's slow path: the same update with numerically estimated gradients."""
        grads = self.numerical_gradient(x, labels)
        loss = self.loss(x, labels)
        lr = self.dtype.type(learning_rate)
        for name in PARAM_NAMES:
            self.params[name] -= lr * grads[name]
        return loss
