"""Checkpoints: the four parameter arrays plus JSON metadata, in a plain .npz."""

import json
from pathlib import Path

import numpy as np

from scratchnet.atomic import write_npz_atomically
from scratchnet.net import PARAM_NAMES, TwoLayerNet

FORMAT_VERSION = 1


class CheckpointMismatch(ValueError):
    """A checkpoint was made with other settings than the ones asked for now."""


def save(path: str | Path, net: TwoLayerNet, meta: dict) -> None:
    """Write W1, b1, W2, b2 and ``meta`` (as a JSON string under 'meta') atomically."""
    arrays = dict(net.params)
    arrays["meta"] = np.array(json.dumps({"format": FORMAT_VERSION, **meta}, sort_keys=True))
    write_npz_atomically(path, arrays)


def load(path: str | Path) -> tuple[TwoLayerNet, dict]:
    """The network (its arrays writable, for training on) and its metadata."""
    with np.load(path) as npz:
        missing = [name for name in (*PARAM_NAMES, "meta") if name not in npz.files]
        if missing:
            raise CheckpointMismatch(f"{path}: not a checkpoint (missing {', '.join(missing)})")
        params = {name: npz[name] for name in PARAM_NAMES}
        meta = json.loads(str(npz["meta"]))
    return TwoLayerNet.from_params(params), meta


def require_same(section: str, recorded: dict, wanted: dict, path: str | Path) -> None:
    """Refuse to continue from a checkpoint whose ``section`` settings differ from ``wanted``."""
    differences = [
        f"{key}={recorded.get(key)!r} (now {value!r})"
        for key, value in wanted.items()
        if recorded.get(key) != value
    ]
    if differences:
        raise CheckpointMismatch(
            f"{path} was made with {section} settings {', '.join(differences)}; "
            "delete it and the checkpoints after it to retrain, or choose another 'run' name"
        )


def require_same_data(meta: dict, digest: str, path: str | Path, data: str, fix: str) -> None:
    """Refuse a checkpoint trained on other data than ``data`` (whose digest is given)."""
    if meta["dataset_digest"] != digest:
        raise CheckpointMismatch(f"{path} was trained on other data than {data}; {fix}")
