"""Mini-batch SGD, one epoch at a time, with randomness that depends on (seed, epoch) only."""

import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from scratchnet.dataset import Dataset, normalize
from scratchnet.net import TwoLayerNet

log = logging.getLogger(__name__)


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite."""


@dataclass(frozen=True)
class ModelSettings:
    """What determines the initial network (epoch 0)."""

    hidden_size: int = 50
    weight_init_std: float = 0.01
    seed: int = 0
    dtype: str = "float32"


@dataclass(frozen=True)
class TrainingSettings:
    """What determines every update after epoch 0."""

    learning_rate: float = 0.1
    batch_size: int = 100
    iters_per_epoch: int | None = None  # None: train size // batch size
    sampling: str = "replacement"  # or "permutation"
    gradient: str = "backprop"  # or "numerical"

    def resolved(self, train_size: int) -> "TrainingSettings":
        """These settings with iters_per_epoch filled in for a dataset of ``train_size``."""
        if self.iters_per_epoch is not None:
            return self
        iters = max(1, train_size // self.batch_size)
        return TrainingSettings(**{**asdict(self), "iters_per_epoch": iters})


def epoch_rng(seed: int, epoch: int) -> np.random.Generator:
    """The generator for one epoch: a resumed run draws exactly what a straight one does."""
    return np.random.default_rng([seed, epoch])


def initial_network(model: ModelSettings, input_size: int, output_size: int) -> TwoLayerNet:
    return TwoLayerNet(
        input_size,
        model.hidden_size,
        output_size,
        model.weight_init_std,
        rng=epoch_rng(model.seed, 0),
        dtype=model.dtype,
    )


def batch_indices(
    rng: np.random.Generator, train_size: int, batch_size: int, iters: int, sampling: str
) -> np.ndarray:
    """(iters, batch_size) row indices: drawn with replacement (the book) or from permutations."""
    if sampling == "replacement":
        return rng.integers(0, train_size, size=(iters, batch_size))
    if sampling == "permutation":
        needed = iters * batch_size
        permutations = [rng.permutation(train_size) for _ in range(-(-needed // train_size))]
        return np.concatenate(permutations)[:needed].reshape(iters, batch_size)
    raise ValueError(f"sampling must be 'replacement' or 'permutation' (got {sampling!r})")


def sgd_epoch(
    net: TwoLayerNet,
    data: Dataset,
    settings: TrainingSettings,
    rng: np.random.Generator,
    on_progress: Callable[[int, float], None] = lambda i, loss: None,
) -> np.ndarray:
    """Run settings.iters_per_epoch updates on ``net`` in place; return the batch losses.

    Raises TrainingDiverged at the first non-finite loss.
    """
    settings = settings.resolved(data.train_size)
    indices = batch_indices(
        rng, data.train_size, settings.batch_size, settings.iters_per_epoch, settings.sampling
    )
    step = net.sgd_step if settings.gradient == "backprop" else net.numerical_sgd_step
    batch = np.empty((settings.batch_size, data.input_size), dtype=np.float32)
    losses = np.empty(settings.iters_per_epoch, dtype=np.float64)
    for i, rows in enumerate(indices):
        x = normalize(data.pixels_train[rows], out=batch).astype(net.dtype, copy=False)
        loss = step(x, data.t_train[rows], settings.learning_rate)
        if not math.isfinite(loss):
            raise TrainingDiverged(f"iteration {i + 1}: loss is {loss}")
        losses[i] = loss
        on_progress(i + 1, loss)
    return losses


class ProgressLog:
    """Logs iteration, loss and updates/s about ten times per epoch."""

    def __init__(self, total: int, first_iteration: int, every: int | None = None):
        self.total, self.offset = total, first_iteration - 1
        self.every = every or max(1, total // 10)
        self.start = time.perf_counter()

    def __call__(self, i: int, loss: float) -> None:
        if i % self.every == 0 or i == self.total:
            rate = i / max(time.perf_counter() - self.start, 1e-9)
            log.info(
                "iteration %d (%d/%d of this epoch): loss %.4f, %.0f updates/s",
                self.offset + i,
                i,
                self.total,
                loss,
                rate,
            )
