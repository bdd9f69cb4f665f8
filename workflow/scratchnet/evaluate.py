"""Accuracy and mean loss of networks on whole datasets, block by block.

The blocks come from :mod:`scratchnet.evalset`: every image once, blank pixel columns
left out, which gives the same sums with about half the multiplications. The networks of
one evaluation job (the checkpoints of one training job) share each block's normalized
pixels, and each is scored by its own matrix products, of the shapes it has alone: its
numbers, to the last bit, never depend on which networks share the job. (One product of
the networks' weights side by side would be faster, but BLAS kernels round the columns
of a wide product differently by position, and differently on different CPUs.)
"""

import json
import logging
import time
from pathlib import Path

import numpy as np

from scratchnet import checkpoint, evalset, holdout
from scratchnet.atomic import write_text_atomically
from scratchnet.dataset import normalize
from scratchnet.evalset import BLOCK_ROWS, Block, EvaluationSet
from scratchnet.functions import cross_entropy_sum, softmax
from scratchnet.net import TwoLayerNet

log = logging.getLogger(__name__)


BLOCKS_PER_PASS = 8  # blocks whose output layer is scored together: fewer, larger steps
# The hidden layers of a pass, for as many of the job's networks as fit in this many bytes
# (always at least one): all of them for small networks, whose pass then reads each
# block's pixels once while they are in the cache; a few at a time for wide ones.
HIDDEN_BYTES = 64 * 2**20


def _normalized(blocks: list[Block], buffer: np.ndarray) -> list[tuple[Block, np.ndarray]]:
    """Each block with its pixels as float32 in [0, 1], as training sees them, in
    ``buffer`` (made once: a fresh array per block is handed back to the system and
    faulted in again)."""
    normalized, start = [], 0
    for block in blocks:
        x = buffer[start : start + block.pixels.size].reshape(block.pixels.shape)
        normalized.append((block, normalize(block.pixels, out=x)))
        start += block.pixels.size
    return normalized


class _Tally:
    """One network's right answers and summed loss, pass after pass."""

    def __init__(self):
        self.correct, self.loss_sum, self.count = 0, 0.0, 0

    def add(self, scores: np.ndarray, labels: np.ndarray) -> None:
        """Count right answers and sum losses (scores: one column per image, overwritten)."""
        self.correct += int(np.count_nonzero(scores.argmax(axis=0) == labels))
        self.loss_sum += _cross_entropy_sum(scores, labels)
        self.count += len(labels)


def _nets_per_turn(rows: int, hidden_size: int, itemsize: int) -> int:
    """How many networks' hidden layers of ``rows`` images fit in HIDDEN_BYTES."""
    return max(1, HIDDEN_BYTES // (rows * hidden_size * itemsize))


def hidden_bytes(nets: int, hidden_size: int, itemsize: int) -> int:
    """The hidden layers an evaluation of ``nets`` networks holds at once (blocks of up to
    BLOCK_ROWS images: the job's memory request)."""
    rows = BLOCKS_PER_PASS * BLOCK_ROWS
    return min(nets, _nets_per_turn(rows, hidden_size, itemsize)) * rows * hidden_size * itemsize


def accuracies_and_losses(
    nets: list[TwoLayerNet], blocks: list[Block], held: np.ndarray | None = None
) -> list[list[tuple[float, float]]]:
    """Per network: fraction classified right and mean cross-entropy over ``blocks``,
    exactly as when it is scored alone; with ``held`` (images of the blocks' split held
    out for validation, holdout.py), of the other images and of those apart.

    A pass normalizes BLOCKS_PER_PASS blocks once; the networks, a turn of them at a time
    (_nets_per_turn), compute their hidden layers block by block and score them in one
    output layer, in buffers made once.
    """
    hidden_size, classes = nets[0].params["W2"].shape
    rows = BLOCKS_PER_PASS * max((len(block.labels) for block in blocks), default=0)
    turn = _nets_per_turn(rows, hidden_size, nets[0].dtype.itemsize)
    passes = [blocks[i : i + BLOCKS_PER_PASS] for i in range(0, len(blocks), BLOCKS_PER_PASS)]
    largest = max((sum(block.pixels.size for block in group) for group in passes), default=0)
    pixels = np.empty(largest, dtype=np.float32)
    hidden = np.empty((min(turn, len(nets)), rows, hidden_size), dtype=nets[0].dtype)
    scores = np.empty((classes, rows), dtype=nets[0].dtype)
    tallies = [[_Tally() for _ in range(1 if held is None else 2)] for _ in nets]
    for group in passes:
        normalized = _normalized(group, pixels)
        labels = np.concatenate([block.labels for block in group])
        parts = _parts(group, held)
        for first in range(0, len(nets), turn):
            networks = list(zip(nets[first : first + turn], hidden, tallies[first:], strict=False))
            filled = 0
            for block, x in normalized:
                for net, layer, _ in networks:
                    net.hidden(x, block.columns, out=layer[filled : filled + len(x)])
                filled += len(x)
            for net, layer, tally in networks:
                scored = net.class_scores(layer[:filled], out=scores[:, :filled])
                if parts is None:
                    tally[0].add(scored, labels)
                for part, tally_of_part in zip(parts or (), tally, strict=False):
                    tally_of_part.add(scored[:, part], labels[part])
    return [[(t.correct / t.count, t.loss_sum / t.count) for t in tally] for tally in tallies]


def _parts(group: list[Block], held: np.ndarray | None) -> tuple[np.ndarray, ...] | None:
    """Which images of a pass were trained on and which were held out (None: no split)."""
    if held is None:
        return None
    out = np.isin(np.concatenate([block.images for block in group]), held)
    return ~out, out


def predictions(net: TwoLayerNet, blocks: list[Block]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Predicted class, class probabilities (images x classes) and true label of every
    image, in the blocks' order; the predictions are exactly those accuracies_and_losses
    counts."""
    predicted, probabilities, labels = [], [], []
    buffer = np.empty(max((block.pixels.size for block in blocks), default=0), np.float32)
    for block, x in (_normalized([block], buffer)[0] for block in blocks):
        scores = net.class_scores(net.hidden(x, block.columns))
        predicted.append(scores.argmax(axis=0))
        probabilities.append(softmax(scores.T))
        labels.append(block.labels)
    return np.concatenate(predicted), np.concatenate(probabilities), np.concatenate(labels)


def _cross_entropy_sum(scores: np.ndarray, t: np.ndarray) -> float:
    """Summed cross-entropy of softmax(scores) (one column per image), overwriting scores."""
    scores -= scores.max(axis=0)
    exp = np.exp(scores, out=scores)
    return cross_entropy_sum(exp[t, np.arange(len(t))] / exp.sum(axis=0))


def evaluate_all(
    nets: list[TwoLayerNet], evalset: EvaluationSet, held: np.ndarray | None = None
) -> list[dict[str, float]]:
    """Accuracy and mean loss of each network on the train and test sets; with ``held``
    (training images held out for validation), on the validation images apart."""
    train = accuracies_and_losses(nets, evalset.train, held)
    test = accuracies_and_losses(nets, evalset.test)
    rows = []
    for (trained, *validation), ((test_acc, test_loss),) in zip(train, test, strict=True):
        row = {"train_acc": trained[0], "test_acc": test_acc, "train_loss": trained[1]}
        row["test_loss"] = test_loss
        for val_acc, val_loss in validation:
            row.update(val_acc=val_acc, val_loss=val_loss)
        rows.append(row)
    return rows


def write_evaluation(
    checkpoints: list[Path], pixels: Path, index: Path, out: Path, split: Path | None = None
) -> None:
    """Score the checkpoints on the evaluation set; write one JSON row per checkpoint.
    With the validation ``split``, the images it holds out are scored apart."""
    images = evalset.load(pixels, index)
    held = None if split is None else holdout.load(split, images.digest)[0]
    nets, metas = [], []
    for path in checkpoints:
        net, meta = checkpoint.load(path)
        checkpoint.require_same_data(
            meta,
            images.digest,
            path,
            index,
            "evaluate it on its own dataset's evaluation set, or retrain it",
        )
        nets.append(net)
        metas.append(meta)
    start = time.perf_counter()
    rows = [
        {"epoch": meta["epoch"], "iteration": meta["iteration"], **scores}
        for meta, scores in zip(metas, evaluate_all(nets, images, held), strict=True)
    ]
    seconds = time.perf_counter() - start
    write_text_atomically(out, json.dumps(rows, indent=1) + "\n")
    for row in rows:
        log.info("epoch %d: %s", row["epoch"], ", ".join(
            f"{key} {value:.4f}" for key, value in row.items() if key not in ("epoch", "iteration")
        ))  # fmt: skip
    log.info("%d checkpoint(s) scored on every image in %.2f s", len(rows), seconds)
