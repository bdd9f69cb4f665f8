"""What a configuration asks to build: its runs, and the jobs that train them.

A run trains one setting with one seed. The settings are the top-level run keys, changed
per point of a `sweep` grid or per named run of `runs`; with neither, the one setting
is named by `run`. On a dataset other than the default one, the sweep's or search's names
begin with the dataset (names.on_dataset), so that switching datasets back retrains
nothing; a name people choose is theirs, one folder whatever it trains on. `repeats`
trains every setting once per seed: the run with the setting's own seed keeps the
setting's name (adding repeats retrains nothing), the others are named
``<setting>+seed=<seed>``. Without `repeats` a setting has one seed: one model
of results, whatever the config.

A run of E epochs is trained by jobs of up to EPOCHS_PER_JOB epochs (0-8, 9-16, ...),
each writing one checkpoint per epoch.

This module reads the config and the schema, nothing else (no results, no command line)
and imports no Snakemake: its tests run in milliseconds. Mistakes end in one line
(settings.ConfigError).
"""

import hashlib
import itertools
import json
import math
from dataclasses import dataclass

import numpy as np

from scratchnet import layout, names
from scratchnet.settings import ConfigError, require_valid_run, run_keys, run_schema

# Each training job trains up to this many epochs and writes one checkpoint per epoch (the
# first job also writes epoch 0, the initial network); each evaluation job scores one
# training job's checkpoints. Few, long jobs keep a sweep's orchestration cheap; the
# price: an interrupted job retrains its epochs from its start, and raising `epochs`
# retrains a last job that had fewer epochs (README "What reruns when").
EPOCHS_PER_JOB = 8


@dataclass(frozen=True)
class Run:
    name: str
    setting: str  # the setting this run trains with its seed: its name without the seed
    settings: dict  # every run setting, in the schema's order, its seed included


def runs(config: dict, schema: dict) -> dict[str, Run]:
    """Every run of a checked config (defaults filled in), by name, in config order."""
    keys = run_keys(schema)
    top = {key: config[key] for key in keys}
    named, search = config.get("runs") or {}, config.get("search")
    if search is not None and config.get("sweep"):
        raise ConfigError(
            "config: search and sweep both make settings; use one of them (search: random "
            "settings, sweep: every combination of listed values), or name runs in `runs`"
        )
    if search is not None:
        made = _samples(search, run_schema(schema)["properties"])
    else:
        made = _grid(config.get("sweep") or {}, keys)
    if config["dataset"] != schema["properties"]["dataset"]["default"]:
        made = {names.on_dataset(name, config["dataset"]): point for name, point in made.items()}
    changes = {**made, **named}
    if not changes:
        changes = {config["run"]: {}}
    settings = {}
    for name, change in changes.items():
        settings[name] = {**top, **change}
        where = f"runs.{name}" if name in named else f"search ({name})" if search else "sweep"
        require_valid_run(settings[name], schema, where)
    _require_chosen_name(config["run"], "run")
    _require_chosen_name(config["dataset"], "dataset", kind="dataset")
    for name in named:
        _require_chosen_name(name, "runs")
    _require_no_shared_folder(settings)
    return _repeated(settings, config)


def _grid(sweep: dict, keys: list[str]) -> dict[str, dict]:
    """Setting name -> changes, one per combination of the sweep's values (schema order)."""
    unknown = sorted(set(sweep) - set(keys))
    if unknown:
        raise ConfigError(
            f"config: sweep: {', '.join(map(repr, unknown))} is not a run setting; "
            f"sweep and runs may vary: {', '.join(keys)}"
        )
    swept = [key for key in keys if key in sweep]
    if not swept:
        return {}
    points = (
        dict(zip(swept, values, strict=True))
        for values in itertools.product(*map(sweep.get, swept))
    )
    return {names.made_name(point): point for point in points}


def _samples(search: dict, settings: dict[str, dict]) -> dict[str, dict]:
    """Sample name -> the settings it draws, for each of the search's samples: each
    searched setting (schema order) from its distribution, with a generator seeded by
    the search's seed and the sample's number alone (raising `samples` keeps the
    earlier ones). Floats are kept to 4 significant digits, integer settings rounded."""
    spec = {key: value for key, value in search.items() if key not in ("samples", "seed")}
    keys = list(settings)
    unknown = sorted(set(spec) - set(keys))
    if unknown or not spec:
        raise ConfigError(
            f"config: search: {', '.join(map(repr, unknown)) or 'no setting'} to sample; "
            f"search may sample: {', '.join(keys)} (README 'Choosing hyperparameters')"
        )
    searched = [key for key in keys if key in spec]
    for key in searched:
        _require_interval(key, spec[key])
    samples = {}
    for index in range(search["samples"]):
        draws = np.random.default_rng([search["seed"], index]).random(len(searched))
        point = {
            key: _draw(spec[key], u, "integer" in str(settings[key].get("type")))
            for key, u in zip(searched, draws, strict=True)
        }
        samples[names.sample_name(index)] = point
    return samples


def _require_interval(key: str, distribution: dict) -> None:
    ((kind, values),) = distribution.items()
    if kind == "choice":
        return
    low, high = values
    if not low < high or (kind == "log_uniform" and low <= 0):
        raise ConfigError(
            f"config: search.{key}.{kind}: {values} is not an interval [low, high] with "
            f"low < high{' and low > 0' if kind == 'log_uniform' else ''}"
        )


def _draw(distribution: dict, u: float, integer: bool):
    """The value at ``u`` (uniform in [0, 1)) of one distribution, for an ``integer``
    setting or a float one."""
    ((kind, values),) = distribution.items()
    if kind == "choice":
        return values[min(int(u * len(values)), len(values) - 1)]
    low, high = values
    if kind == "log_uniform":
        value = math.exp(math.log(low) + u * (math.log(high) - math.log(low)))
    else:
        value = low + u * (high - low)
    return round(value) if integer else float(f"{value:.4g}")


def _require_chosen_name(name: str, key: str, kind: str = "run") -> None:
    """``name``, given at config ``key``, can name a folder and a part of a run's name."""
    if not names.CHOSEN_NAME.fullmatch(str(name)):
        raise ConfigError(
            f"config: {key}: {name!r} is not a {kind} name: use letters, digits, '.', '_' and "
            f"'-' ({names.SEPARATOR!r} and {names.ASSIGN!r} are kept for the names of sweeps "
            "and repeats, and Snakemake splits a cluster job's names at commas)"
        )


def _require_no_shared_folder(settings: dict) -> None:
    taken = sorted(set(layout.SHARED_FOLDERS) & set(settings))
    if taken:
        raise ConfigError(
            f"config: {taken} cannot be a run name (results/ uses "
            f"{', '.join(layout.SHARED_FOLDERS)}); choose another 'run' or key"
        )


def seeds(repeats: int | list[int] | None, seed: int) -> list[int]:
    """The seeds a setting whose own seed is ``seed`` is trained with (config `repeats`)."""
    if repeats is None:
        return [seed]
    return list(range(seed, seed + repeats)) if isinstance(repeats, int) else list(repeats)


def _repeated(settings: dict[str, dict], config: dict) -> dict[str, Run]:
    """Each setting once per seed, as ordinary runs."""
    repeats = config.get("repeats")
    if repeats is not None and "seed" in (config.get("sweep") or {}):
        raise ConfigError(
            "config: sweep over 'seed' and 'repeats' both choose seeds; use one of them "
            "(repeats: N trains every run with N seeds, and says how far they spread)"
        )
    planned = {}
    for setting, values in settings.items():
        for seed in seeds(repeats, values["seed"]):
            name = setting if seed == values["seed"] else names.repeat_name(setting, seed)
            if name in planned:
                raise ConfigError(
                    f"config: the run {name!r} is both a named run and a repeat of "
                    f"{setting!r}; rename the run"
                )
            planned[name] = Run(name, setting, {**values, "seed": seed})
    return planned


def validation(config: dict) -> int | float | None:
    """The training images held out for validation (config `validation`): a count, a
    fraction below 1, or None for none."""
    value = config["validation"]
    if value == 0:
        return None
    if value >= 1 and not float(value).is_integer():
        raise ConfigError(
            f"config: validation: {value} is neither a count of images nor a fraction below "
            "1; give a whole number (10000) or a fraction (0.2)"
        )
    return int(value) if value >= 1 else float(value)


# --- the training jobs -----------------------------------------------------------------------


def training_spans(epochs: int) -> list[tuple[int, int]]:
    """(first, last) epoch of each training job of a run of ``epochs`` epochs: 0-8, 9-16, ..."""
    later = range(EPOCHS_PER_JOB + 1, epochs + 1, EPOCHS_PER_JOB)
    return [
        (0, min(EPOCHS_PER_JOB, epochs)),
        *((first, min(first + EPOCHS_PER_JOB - 1, epochs)) for first in later),
    ]


def spans(planned: dict[str, Run]) -> dict[tuple[int, int], list[str]]:
    """Each span of epochs some run trains in one job -> the runs that do: one rule each,
    as each job writes a fixed set of per-epoch checkpoints."""
    found = {}
    for run in planned.values():
        for span in training_spans(run.settings["epochs"]):
            found.setdefault(span, []).append(run.name)
    return found


# --- what the results describe ------------------------------------------------------------


def described(config: dict, planned: dict[str, Run]) -> dict:
    """What the results of this configuration are the results of: the data (by its
    files' checksums), every run's setting and settings, the gradient check and figure
    formats. Where the mirrors are and what the classes are called are not in it."""
    spec = config["datasets"][config["dataset"]]
    return {
        "dataset": config["dataset"],
        "files": {split: file["sha256"] for split, file in spec["files"].items()},
        "runs": {
            run.name: {"setting": run.setting, "settings": run.settings} for run in planned.values()
        },
        "validation": [validation(config), config["validation_seed"]],
        "gradcheck": config["gradcheck"],
        "figure_formats": config["figure_formats"],
    }


def fingerprint(description: dict) -> str:
    """16 hex digits that change whenever the ``described`` configuration does."""
    text = json.dumps(description, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


# --- what a job asks a cluster for ----------------------------------------------------------
# Memory in MB, Snakemake's `mem_mb`: what the job reads (its inputs' size, `input.size_mb`:
# memory-mapped images and checkpoints are in memory once read) plus the arrays that grow
# with its settings; docs/performance.md has the peaks these cover. Runtime in minutes.
BASE_MB = 150  # Python with NumPy, pandas and matplotlib loaded


def _mb(size: float) -> int:
    return math.ceil(BASE_MB + size / 1e6)


def itemsize(settings: dict) -> int:
    """Bytes per weight of the run's networks."""
    return 8 if settings["dtype"] == "float64" else 4


def training_mem_mb(settings: dict, input_mb: float, pixels: int) -> int:
    """A training job: the images, the network with its gradients and a copy, a batch."""
    hidden, item = settings["hidden_size"], itemsize(settings)
    network = 5 * pixels * hidden * item
    batch = settings["batch_size"] * (pixels * (4 + 2 * item) + 6 * hidden * item)
    return _mb(input_mb * 1e6 + network + batch)


def evaluation_mem_mb(settings: dict, input_mb: float) -> int:
    """An evaluation job (or `learned`): the images and checkpoints it reads, the hidden
    layers it holds (evaluate.hidden_bytes, for a job's most checkpoints), and as much
    again for the images' pixels as floats, the output layer and matplotlib's figures."""
    from scratchnet.evaluate import hidden_bytes

    held = hidden_bytes(EPOCHS_PER_JOB + 1, settings["hidden_size"], itemsize(settings))
    return _mb(input_mb * 1e6 + 2 * held)


def reading_mem_mb(input_mb: float, copies: float) -> int:
    """A job that holds ``copies`` times what it reads."""
    return _mb(copies * input_mb * 1e6)


def training_minutes(settings: dict) -> int:
    """Minutes a training job may take on a cluster: generous for backprop; the numerical
    gradient (tiny networks only) gets a day per epoch."""
    per_epoch = 10 if settings["gradient"] == "backprop" else 24 * 60
    return EPOCHS_PER_JOB * per_epoch
