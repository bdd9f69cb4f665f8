"""Mini-batch SGD, one epoch at a time, with randomness that depends on (seed, epoch) only.

A training job continues from a checkpoint for a few epochs and writes one checkpoint
per epoch (:func:`continue_training`); the pipeline chains such jobs, so a run resumes
and extends from its last checkpoint.
"""

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from scratchnet import checkpoint
from scratchnet.atomic import write_text_atomically
from scratchnet.dataset import Dataset, normalize
from scratchnet.errors import KnownError
from scratchnet.net import TwoLayerNet

log = logging.getLogger(__name__)

# An epoch whose mean mini-batch loss is above this many times the loss of guessing
# every class with equal probability (ln of the class count) has diverged: healthy
# runs, even at learning rates of several units, stay far below it (docs/performance.md
# lists the measurements), and diverged ones saturate at ~-ln(1e-7) per wrong answer.
DIVERGENCE_FACTOR = 2.0


class TrainingDiverged(FloatingPointError):
    """The loss became NaN or infinite in the middle of an epoch."""


class SettingsError(KnownError, ValueError):
    """Settings that cannot train on this dataset; the message names the key and the fix."""


@dataclass(frozen=True)
class ModelSettings:
    """What determines the initial network (epoch 0)."""

    hidden_size: int
    weight_init_std: float
    seed: int
    dtype: str


@dataclass(frozen=True)
class TrainingSettings:
    """What determines every update after epoch 0."""

    learning_rate: float
    batch_size: int
    iters_per_epoch: int | None  # None: train size // batch size
    sampling: str  # "replacement" (the book) or "permutation"
    gradient: str  # "backprop" or "numerical"

    def resolved(self, train_size: int) -> "TrainingSettings":
        """These settings with iters_per_epoch filled in for a dataset of ``train_size``."""
        if self.batch_size > train_size:
            raise SettingsError(
                f"config: batch_size {self.batch_size} is larger than the {train_size} "
                f"training images; choose at most {train_size}"
            )
        if self.iters_per_epoch is not None:
            return self
        return replace(self, iters_per_epoch=train_size // self.batch_size)


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


def training_batches(
    rng: np.random.Generator, data: Dataset, settings: TrainingSettings
) -> np.ndarray:
    """(iters, batch_size) rows of the training images for one epoch: drawn among the
    images training may use (none held out for validation), as batch_indices draws."""
    settings = settings.resolved(data.train_size)
    drawn = batch_indices(
        rng, data.train_size, settings.batch_size, settings.iters_per_epoch, settings.sampling
    )
    return drawn if data.train_rows is None else data.train_rows[drawn]


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
    indices = training_batches(rng, data, settings)
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


def _divergence_limit(num_classes: int) -> float:
    return DIVERGENCE_FACTOR * math.log(num_classes)


class _ProgressLog:
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


# --- the jobs --------------------------------------------------------------------------


def continue_training(
    previous: Path | None,
    checkpoints: list[Path],
    timings: list[Path],
    data: Dataset,
    model: ModelSettings,
    settings: TrainingSettings,
    num_classes: int,
    validation: dict | None = None,
) -> None:
    """Train one epoch per path in ``checkpoints`` from ``previous``, writing each
    checkpoint (with its epoch's mini-batch losses) and each epoch's seconds (``timings``,
    one per trained epoch) as soon as the epoch is done. Without ``previous`` the first
    checkpoint is epoch 0, the seeded initial network.

    An epoch that diverges is not kept: it and every later checkpoint hold the last
    healthy network, marked ``diverged`` in their metadata, and no more updates are made.
    ``validation`` (holdout.load): the split ``data`` holds out, recorded in every trained
    epoch's metadata.
    """
    settings = settings.resolved(data.train_size)
    if previous is None:
        net = initial_network(model, data.input_size, num_classes)
        meta = checkpoint.initial_meta(model, data.digest)
        checkpoint.save(checkpoints[0], net, meta)
        log.info("wrote %s: initial network %s", checkpoints[0], asdict(model))
        previous, checkpoints = checkpoints[0], checkpoints[1:]
    else:
        net, meta = checkpoint.load(previous)
        checkpoint.require_compatible(meta, previous, model, settings, data.digest, validation)
    if len(timings) != len(checkpoints):
        raise ValueError(f"{len(checkpoints)} epochs to train but {len(timings)} timing files")
    if settings.gradient == "numerical" and checkpoints:
        log.warning(_numerical_cost_note(net, data, settings))
    for out, timing in zip(checkpoints, timings, strict=True):
        start = time.perf_counter()
        if "diverged" in meta:  # training stopped: the same network, no more updates
            meta = {**checkpoint.next_meta(meta, 0, settings), "diverged": meta["diverged"]}
            losses = []
        else:
            net, meta, losses = _train_one_epoch(net, meta, data, model, settings, previous)
        if validation:
            meta["validation"] = validation
        checkpoint.save(out, net, meta, losses)
        seconds = round(time.perf_counter() - start, 3)
        write_text_atomically(timing, json.dumps({"epoch": meta["epoch"], "seconds": seconds}))
        previous = out
        log.info("wrote %s (epoch %d, iteration %d)", out, meta["epoch"], meta["iteration"])


def _train_one_epoch(net, meta, data, model, settings, source):
    """The network after one more epoch (or the same one, marked diverged), its metadata,
    and the epoch's mini-batch losses (none when it diverged)."""
    epoch = meta["epoch"] + 1
    log.info("epoch %d: %d updates from %s", epoch, settings.iters_per_epoch, source)
    before = {name: array.copy() for name, array in net.params.items()}
    progress = _ProgressLog(settings.iters_per_epoch, meta["iteration"] + 1)
    rng = epoch_rng(model.seed, epoch)
    limit = _divergence_limit(net.params["W2"].shape[1])
    try:
        losses = sgd_epoch(net, data, settings, rng, progress)
        mean = float(np.mean(losses))
    except TrainingDiverged as exc:
        losses, mean = None, f"not finite ({exc})"
    if losses is not None and mean <= limit:
        elapsed = time.perf_counter() - progress.start
        log.info("epoch %d: mean loss %.4f, %.0f updates/s", epoch, mean, len(losses) / elapsed)
        return net, checkpoint.next_meta(meta, len(losses), settings), losses
    shown = mean if isinstance(mean, str) else f"{mean:.4g}"
    log.warning(
        "epoch %d diverged (mean loss %s, above %.3g: twice the loss of guessing); "
        "training stopped and later checkpoints keep epoch %d's network; "
        "lower learning_rate (now %r)",
        epoch,
        shown,
        limit,
        epoch - 1,
        settings.learning_rate,
    )
    diverged = {"epoch": epoch, "learning_rate": settings.learning_rate}
    healthy = TwoLayerNet.from_params(before)
    return healthy, {**checkpoint.next_meta(meta, 0, settings), "diverged": diverged}, []


def _numerical_cost_note(net: TwoLayerNet, data: Dataset, settings: TrainingSettings) -> str:
    """How long an epoch of numerical gradients will take, estimated from one loss."""
    x = normalize(data.pixels_train[: settings.batch_size]).astype(net.dtype)
    t = data.t_train[: settings.batch_size]
    start = time.perf_counter()
    net.loss(x, t)
    per_loss = time.perf_counter() - start
    evaluations = 2 * sum(p.size for p in net.params.values())
    total = per_loss * evaluations * settings.iters_per_epoch
    return (
        f"gradient: numerical needs {evaluations} loss evaluations per update; "
        f"this epoch will take about {total:.0f} s ({total / 3600:.1f} h)"
    )
