"""Checkpoints: the four parameter arrays plus JSON metadata, in a plain .npz.

``meta`` records what made the network (epoch, iteration, model and training settings,
the dataset's digest) and a digest of the arrays themselves, so that a file that was
damaged on disk is refused when it is read, with the fix, instead of being trained on.
``losses`` holds the mini-batch losses of the updates that led to it (none for epoch 0).
"""

import hashlib
import json
import zipfile
from dataclasses import asdict
from pathlib import Path

import numpy as np

from scratchnet.atomic import write_npz_atomically
from scratchnet.errors import KnownError
from scratchnet.net import PARAM_NAMES, TwoLayerNet

FORMAT_VERSION = 2


class CheckpointError(KnownError, ValueError):
    """A checkpoint is damaged, or was made with other settings or data than asked for."""


def params_digest(params: dict[str, np.ndarray]) -> str:
    """SHA-256 of every parameter's name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    for name in PARAM_NAMES:
        array = np.ascontiguousarray(params[name])
        digest.update(f"{name}:{array.dtype.str}:{array.shape}".encode())
        digest.update(array.data)
    return digest.hexdigest()


def save(path: str | Path, net: TwoLayerNet, meta: dict, losses: np.ndarray | None = None) -> None:
    """Write W1, b1, W2, b2, ``meta`` (a JSON string) and ``losses`` atomically."""
    recorded = {"format": FORMAT_VERSION, **meta, "params_sha256": params_digest(net.params)}
    arrays = {
        **net.params,
        "meta": np.array(json.dumps(recorded, sort_keys=True)),
        "losses": np.asarray([] if losses is None else losses, dtype=np.float64),
    }
    write_npz_atomically(path, arrays)


def load(path: str | Path) -> tuple[TwoLayerNet, dict]:
    """The network (its arrays writable, for training on) and its metadata, verified."""
    arrays = _read(path, (*PARAM_NAMES, "meta"))
    meta = _meta(path, arrays["meta"])
    params = {name: arrays[name] for name in PARAM_NAMES}
    if meta.get("params_sha256") != params_digest(params):
        raise _corrupt(path, "its arrays do not match the digest recorded with them")
    return TwoLayerNet.from_params(params), meta


def losses(path: str | Path) -> tuple[dict, np.ndarray]:
    """The metadata and the mini-batch losses a checkpoint holds."""
    arrays = _read(path, ("meta", "losses"))
    return _meta(path, arrays["meta"]), arrays["losses"]


def _read(path: str | Path, names: tuple[str, ...]) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in names if name in npz.files}
    except (zipfile.BadZipFile, EOFError, ValueError, KeyError) as exc:
        raise _corrupt(path, str(exc) or type(exc).__name__) from None
    missing = [name for name in names if name not in arrays]
    if missing:
        raise _corrupt(path, f"no {', '.join(missing)} inside")
    return arrays


def _meta(path: str | Path, text: np.ndarray) -> dict:
    try:
        return json.loads(str(text))
    except ValueError as exc:
        raise _corrupt(path, f"its metadata is not JSON: {exc}") from None


def _corrupt(path: str | Path, cause: str) -> CheckpointError:
    return CheckpointError(
        f"{path} is corrupt ({cause}); delete it and run snakemake again to retrain it"
    )


# --- metadata --------------------------------------------------------------------------


def initial_meta(model, dataset_digest: str) -> dict:
    """The metadata of epoch 0: the model settings and the data it is for."""
    return {"epoch": 0, "iteration": 0, "model": asdict(model), "dataset_digest": dataset_digest}


def next_meta(meta: dict, updates: int, training) -> dict:
    """The metadata one epoch of ``updates`` SGD updates after ``meta``."""
    return {
        **meta,
        "epoch": meta["epoch"] + 1,
        "iteration": meta["iteration"] + updates,
        "training": asdict(training),
    }


def require_compatible(
    meta: dict, path: str | Path, model, training, dataset_digest: str, validation=None
) -> None:
    """Refuse to continue from a checkpoint made with other settings, another validation
    split (holdout.load) or on other data."""
    _require_same("model", meta["model"], asdict(model), path)
    if "training" in meta:
        _require_same("training", meta["training"], asdict(training), path)
        _require_same("validation", meta.get("validation") or {}, validation or {}, path)
    require_same_data(meta, dataset_digest, path, "this dataset", "delete the checkpoints")


def _require_same(section: str, recorded: dict, wanted: dict, path: str | Path) -> None:
    keys = [*wanted, *(key for key in recorded if key not in wanted)]
    differences = [
        f"{key}={recorded.get(key)!r} (now {wanted.get(key)!r})"
        for key in keys
        if recorded.get(key) != wanted.get(key)
    ]
    if differences:
        raise CheckpointError(
            f"{path} was made with {section} settings {', '.join(differences)}; "
            "delete it and the checkpoints after it to retrain, or choose another 'run' name"
        )


def require_same_data(meta: dict, digest: str, path: str | Path, data: str, fix: str) -> None:
    """Refuse a checkpoint trained on other data than ``data`` (whose digest is given)."""
    if meta["dataset_digest"] != digest:
        raise CheckpointError(f"{path} was trained on other data than {data}; {fix}")
