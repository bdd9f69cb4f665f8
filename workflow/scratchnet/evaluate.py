"""Accuracy and mean loss of networks on whole datasets, block by block.

The blocks come from :mod:`scratchnet.evalset`: every image once, blank pixel columns
left out, which gives the same sums with about half the multiplications. Several
networks (the checkpoints of one evaluation job) share each block's normalized pixels,
and each one's numbers are exactly those it gets when scored alone.
"""

from collections.abc import Iterator

import numpy as np

from scratchnet.dataset import normalize
from scratchnet.evalset import Block, EvaluationSet
from scratchnet.functions import CROSS_ENTROPY_DELTA, sigmoid
from scratchnet.net import TwoLayerNet


def _normalized(blocks: list[Block]) -> Iterator[tuple[Block, np.ndarray]]:
    """Each block with its pixels as float32 in [0, 1], as training sees them.

    One buffer for all blocks: a fresh array per block is handed back to the system and
    faulted in again (normalizing alone took twice as long that way).
    """
    size = max((block.pixels.size for block in blocks), default=0)
    buffer = np.empty(size, dtype=np.float32)
    for block in blocks:
        x = buffer[: block.pixels.size].reshape(block.pixels.shape)
        yield block, normalize(block.pixels, out=x)


class _BlockScorer:
    """One network's class scores for one block after another, in buffers made once.

    The scores come one column per image, so softmax and argmax reduce over whole rows
    instead of across rows of 10.
    """

    def __init__(self, net: TwoLayerNet, blocks: list[Block]):
        rows = max((len(block.labels) for block in blocks), default=0)
        p = net.params
        self.W1, self.b1 = p["W1"], p["b1"]
        self.W2_by_class, self.b2_by_class = p["W2"].T, p["b2"][:, np.newaxis]
        self.hidden = np.empty((rows, self.W1.shape[1]), dtype=net.dtype)
        self.scores = np.empty((self.W2_by_class.shape[0], rows), dtype=net.dtype)
        self.correct, self.loss_sum, self.count = 0, 0.0, 0

    def add(self, block: Block, x: np.ndarray) -> None:
        """Count the block's right answers and sum its losses."""
        scores = self._scores_by_class(block, x)
        self.correct += int(np.count_nonzero(scores.argmax(axis=0) == block.labels))
        self.loss_sum += _cross_entropy_sum(scores, block.labels)
        self.count += len(block.labels)

    def _scores_by_class(self, block: Block, x: np.ndarray) -> np.ndarray:
        """(classes, images): TwoLayerNet.scores of the block's images, transposed."""
        n = len(x)
        # only the rows of W1 for the block's columns: its blank pixels would add 0
        hidden = np.matmul(x, self.W1[block.columns], out=self.hidden[:n])
        hidden += self.b1
        sigmoid(hidden, out=hidden)
        scores = np.matmul(self.W2_by_class, hidden.T, out=self.scores[:, :n])
        scores += self.b2_by_class
        return scores


def accuracies_and_losses(
    nets: list[TwoLayerNet], blocks: list[Block]
) -> list[tuple[float, float]]:
    """Per network: fraction classified right and mean cross-entropy over ``blocks``."""
    scorers = [_BlockScorer(net, blocks) for net in nets]
    for block, x in _normalized(blocks):
        for scorer in scorers:
            scorer.add(block, x)
    return [(s.correct / s.count, s.loss_sum / s.count) for s in scorers]


def accuracy_and_loss(net: TwoLayerNet, blocks: list[Block]) -> tuple[float, float]:
    """Fraction classified right and mean cross-entropy over every image of ``blocks``."""
    return accuracies_and_losses([net], blocks)[0]


def _cross_entropy_sum(scores: np.ndarray, t: np.ndarray) -> float:
    """Summed cross-entropy of softmax(scores) (one column per image), overwriting scores."""
    scores -= scores.max(axis=0)
    exp = np.exp(scores, out=scores)
    picked = exp[t, np.arange(len(t))] / exp.sum(axis=0)
    return float(-np.sum(np.log(picked + CROSS_ENTROPY_DELTA), dtype=np.float64))


def evaluate_all(nets: list[TwoLayerNet], evalset: EvaluationSet) -> list[dict[str, float]]:
    """Accuracy and mean loss of each network on the train and test sets."""
    train = accuracies_and_losses(nets, evalset.train)
    test = accuracies_and_losses(nets, evalset.test)
    return [
        {
            "train_acc": train_acc,
            "test_acc": test_acc,
            "train_loss": train_loss,
            "test_loss": test_loss,
        }
        for (train_acc, train_loss), (test_acc, test_loss) in zip(train, test, strict=True)
    ]


def evaluate(net: TwoLayerNet, evalset: EvaluationSet) -> dict[str, float]:
    return evaluate_all([net], evalset)[0]
