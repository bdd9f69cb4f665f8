"""Accuracy and mean loss of a network on whole datasets, block by block.

The blocks come from :mod:`scratchnet.evalset`: every image once, blank pixel columns
left out, which gives the same sums with about half the multiplications.
"""

import numpy as np

from scratchnet.dataset import normalize
from scratchnet.evalset import Block, EvaluationSet
from scratchnet.functions import CROSS_ENTROPY_DELTA, sigmoid
from scratchnet.net import TwoLayerNet


class _BlockScorer:
    """The network's class scores for one block after another, in buffers made once.

    Fresh arrays for each block are handed back to the system and faulted in again
    (normalizing alone took twice as long that way). The scores come one column per
    image, so softmax and argmax reduce over whole rows instead of across rows of 10.
    """

    def __init__(self, net: TwoLayerNet, blocks: list[Block]):
        rows = max((len(block.labels) for block in blocks), default=0)
        width = max((len(block.columns) for block in blocks), default=0)
        p = net.params
        self.W1, self.b1 = p["W1"], p["b1"]
        self.W2_by_class, self.b2_by_class = p["W2"].T, p["b2"][:, np.newaxis]
        self.x = np.empty(rows * width, dtype=np.float32)  # as training sees the pixels
        self.hidden = np.empty((rows, self.W1.shape[1]), dtype=net.dtype)
        self.scores = np.empty((self.W2_by_class.shape[0], rows), dtype=net.dtype)

    def scores_by_class(self, block: Block) -> np.ndarray:
        """(classes, images): TwoLayerNet.scores of the block's images, transposed."""
        n, width = block.pixels.shape
        x = self.x[: n * width].reshape(n, width)
        normalize(block.pixels, out=x)
        # only the rows of W1 for the block's columns: its blank pixels would add 0
        hidden = np.matmul(x, self.W1[block.columns], out=self.hidden[:n])
        hidden += self.b1
        sigmoid(hidden, out=hidden)
        scores = np.matmul(self.W2_by_class, hidden.T, out=self.scores[:, :n])
        scores += self.b2_by_class
        return scores


def accuracy_and_loss(net: TwoLayerNet, blocks: list[Block]) -> tuple[float, float]:
    """Fraction classified right and mean cross-entropy over every image of ``blocks``."""
    scorer = _BlockScorer(net, blocks)
    correct, loss_sum, count = 0, 0.0, 0
    for block in blocks:
        scores, t = scorer.scores_by_class(block), block.labels
        correct += int(np.count_nonzero(scores.argmax(axis=0) == t))
        loss_sum += _cross_entropy_sum(scores, t)
        count += len(t)
    return correct / count, loss_sum / count


def _cross_entropy_sum(scores: np.ndarray, t: np.ndarray) -> float:
    """Summed cross-entropy of softmax(scores) (one column per image), overwriting scores."""
    scores -= scores.max(axis=0)
    exp = np.exp(scores, out=scores)
    picked = exp[t, np.arange(len(t))] / exp.sum(axis=0)
    return float(-np.sum(np.log(picked + CROSS_ENTROPY_DELTA), dtype=np.float64))


def evaluate(net: TwoLayerNet, evalset: EvaluationSet) -> dict[str, float]:
    train_acc, train_loss = accuracy_and_loss(net, evalset.train)
    test_acc, test_loss = accuracy_and_loss(net, evalset.test)
    return {
        "train_acc": train_acc,
        "test_acc": test_acc,
        "train_loss": train_loss,
        "test_loss": test_loss,
    }
