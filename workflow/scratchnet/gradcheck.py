"""Compare backprop with numerical gradients: the proof that backprop is right."""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scratchnet import checkpoint
from scratchnet.atomic import write_text_atomically
from scratchnet.dataset import Dataset, normalize
from scratchnet.errors import KnownError
from scratchnet.functions import numerical_diff
from scratchnet.net import PARAM_NAMES, TwoLayerNet

log = logging.getLogger(__name__)


class GradientCheckFailed(KnownError, AssertionError):
    """Backprop and numerical gradients disagree beyond the tolerance."""


@dataclass(frozen=True)
class ParamCheck:
    param: str
    entries_checked: int
    max_abs_diff: float
    max_rel_err: float  # max_abs_diff / the largest gradient entry's magnitude


def _numerical_entries(
    loss: Callable[[], float], param: np.ndarray, flat_indices: np.ndarray, h: float = 1e-4
) -> np.ndarray:
    """Central differences of ``loss()`` for the chosen entries of ``param``, restored after."""
    flat = param.reshape(-1)
    grads = np.empty(len(flat_indices), dtype=np.float64)
    for k, i in enumerate(flat_indices):
        original = flat[i]

        def loss_at(value, i=i):
            flat[i] = value
            return loss()

        grads[k] = numerical_diff(loss_at, original, h)
        flat[i] = original
    return grads


def _entries_to_check(size: int, max_entries: int | None, rng: np.random.Generator) -> np.ndarray:
    if max_entries is None or size <= max_entries:
        return np.arange(size)
    return np.sort(rng.choice(size, max_entries, replace=False))


def check_gradients(
    net: TwoLayerNet,
    x: np.ndarray,
    labels: np.ndarray,
    max_entries: int | None = None,
    rng: np.random.Generator | None = None,
) -> list[ParamCheck]:
    """Backprop vs central differences for every parameter (or a sample of its entries)."""
    rng = rng if rng is not None else np.random.default_rng(0)
    backprop = net.gradient(x, labels)
    checks = []
    for name in PARAM_NAMES:
        chosen = _entries_to_check(net.params[name].size, max_entries, rng)
        numerical = _numerical_entries(lambda: net.loss(x, labels), net.params[name], chosen)
        analytic = backprop[name].reshape(-1)[chosen]
        max_abs_diff = float(np.max(np.abs(analytic - numerical)))
        scale = float(max(np.max(np.abs(analytic)), np.max(np.abs(numerical))))
        rel = max_abs_diff / scale if scale > 0 else 0.0
        checks.append(ParamCheck(name, len(chosen), max_abs_diff, rel))
    return checks


def require_within(checks: list[ParamCheck], tolerance: float) -> None:
    failing = [c for c in checks if not c.max_rel_err <= tolerance]
    if failing:
        worst = ", ".join(f"{c.param} {c.max_rel_err:.2e}" for c in failing)
        raise GradientCheckFailed(
            f"backprop disagrees with numerical gradients beyond {tolerance:g}: {worst}; "
            "the backward pass of the network is wrong"
        )


def write_gradient_check(
    initial: Path,
    data: Dataset,
    images: int,
    tolerance: float,
    max_entries: str,
    out: Path,
) -> None:
    """Check the run's initial network, in a float64 copy so that rounding does not hide
    errors, on its first training images; write gradcheck.csv if within ``tolerance``.

    ``max_entries``: entries checked per parameter (a sample seeded by the run's seed),
    or "all".
    """
    start_net, meta = checkpoint.load(initial)
    net = TwoLayerNet.from_params({k: v.astype(np.float64) for k, v in start_net.params.items()})
    x = normalize(data.pixels_train[:images]).astype(np.float64)
    entries = None if max_entries == "all" else int(max_entries)
    start = time.perf_counter()
    rng = np.random.default_rng(meta["model"]["seed"])
    checks = check_gradients(net, x, data.t_train[:images], entries, rng)
    for c in checks:
        log.info(
            "%s: %d entries, max |backprop - numerical| %.3e, relative %.3e",
            c.param,
            c.entries_checked,
            c.max_abs_diff,
            c.max_rel_err,
        )
    log.info("gradient check took %.2f s", time.perf_counter() - start)
    require_within(checks, tolerance)
    # Only a check that passed is written: each row says so, against its tolerance.
    lines = ["param,entries_checked,max_abs_diff,max_rel_err,tolerance,passed"] + [
        f"{c.param},{c.entries_checked},{c.max_abs_diff!r},{c.max_rel_err!r},{tolerance!r},yes"
        for c in checks
    ]
    write_text_atomically(out, "\n".join(lines) + "\n")
