# Config validation, the runs to build, and the path and argument helpers the
# rules use. Rules stay declarations: all logic lives here.
import itertools
import json
import os
import re
import sys
from pathlib import Path

import yaml

from snakemake.exceptions import WorkflowError
from snakemake.utils import validate


def _typed(value):
    """Numbers inside --config dicts arrive as strings (Snakemake reads them with YAML's
    BaseLoader): read such leaves as YAML scalars, so sweep={hidden_size: [20, 40]} works.
    """
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    if isinstance(value, str):
        parsed = yaml.safe_load(value)
        return (
            parsed
            if isinstance(parsed, (int, float, bool)) or parsed is None
            else value
        )
    return value


for _key in ("sweep", "runs", "gradcheck"):
    if _key in config:
        config[_key] = _typed(config[_key])


def _one_line(cause):
    """jsonschema's error, reduced to where in the config and its own message."""
    where = ".".join(map(str, cause.absolute_path)) or "top level"
    return (
        f"config: {where}: {cause.message} "
        "(allowed keys, values and defaults: README 'Configuration', "
        "workflow/schemas/config.schema.yaml)"
    )


try:
    validate(config, "../schemas/config.schema.yaml")
except Exception as error:  # Snakemake wraps jsonschema's error; keep only its one line
    cause = error.__cause__ or error.__context__
    if not hasattr(cause, "absolute_path"):
        raise
    raise WorkflowError(_one_line(cause)) from None

if config["dataset"] not in config["datasets"]:
    raise WorkflowError(
        f"config: dataset {config['dataset']!r} is not an entry of 'datasets' "
        f"(known: {', '.join(sorted(config['datasets']))}); "
        "pick one of those or add an entry under 'datasets'"
    )


envvars:
    "PATH",


# Jobs run `python -m scratchnet`: put the interpreter running Snakemake first on
# PATH, so the package installed beside it is the one used whatever the user's PATH.
os.environ["PATH"] = os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ["PATH"]]
)
# Relative to the working directory, so that moving a clone together with its
# results does not change the recorded inputs (which would rerun everything).
PACKAGE_DIR = Path(os.path.relpath(Path(workflow.basedir) / "workflow" / "scratchnet"))

DATASET = config["dataset"]
DATASET_SPEC = config["datasets"][DATASET]
DATASET_NPZ = f"results/data/{DATASET}.npz"  # float32, for people (README)
# What the jobs read: uint8 images (train then test) and the labels, loaded in ms.
PREPARED = {
    "pixels": f"results/data/{DATASET}/pixels.npy",
    "labels": f"results/data/{DATASET}/labels.npz",
}
EVALUATION_SET = {
    "pixels": f"results/data/{DATASET}/evaluation_pixels.npy",
    "index": f"results/data/{DATASET}/evaluation_index.npz",
}
FILES = DATASET_SPEC["files"]
FILE_SHA256 = {spec["name"]: spec["sha256"] for spec in FILES.values()}


class MirrorArgs:
    """The --mirror arguments of a download.

    Where a file comes from does not change what it is (every download is checked
    against its SHA-256), so changing mirrors must rerun nothing. Snakemake's params
    trigger skips values it cannot represent (anything but builtins), so this small
    class keeps the mirrors out of it; tests pin that behaviour.
    """

    def __init__(self, mirrors):
        self.mirrors = tuple(mirrors)

    def __str__(self):
        return " ".join(f"--mirror '{mirror}'" for mirror in self.mirrors)


MIRROR_ARGS = MirrorArgs(config["mirrors"] + DATASET_SPEC["mirrors"])

RUN_KEYS = (
    "hidden_size",
    "weight_init_std",
    "learning_rate",
    "batch_size",
    "epochs",
    "iters_per_epoch",
    "sampling",
    "seed",
    "dtype",
    "gradient",
)


def _format_value(value):
    return repr(value) if isinstance(value, float) else str(value)


def _sweep_runs(grid):
    keys = [key for key in RUN_KEYS if key in grid]
    if not keys:
        return
    for values in itertools.product(*(grid[key] for key in keys)):
        overrides = dict(zip(keys, values))
        name = ",".join(f"{k}={_format_value(v)}" for k, v in overrides.items())
        yield name, overrides


def _runs():
    """Run name -> its settings: the top-level keys, overridden per sweep point or named run."""
    base = {key: config[key] for key in RUN_KEYS}
    overrides = dict(_sweep_runs(config.get("sweep") or {}))
    overrides.update(config.get("runs") or {})
    if not overrides:
        overrides = {config["run"]: {}}
    return {name: {**base, **changes} for name, changes in overrides.items()}


RUNS = _runs()
RESERVED_RUN_NAMES = {
    "data",
    "figures",
    "logs",
}  # folders under results/ that are not runs
if RESERVED_RUN_NAMES & set(RUNS):
    raise WorkflowError(
        f"config: {sorted(RESERVED_RUN_NAMES & set(RUNS))} cannot be a run name "
        f"(results/ uses {', '.join(sorted(RESERVED_RUN_NAMES))}); choose another 'run' or key"
    )


def package_files(*modules):
    """The package modules a job runs, declared as inputs so that editing them reruns it."""
    return [str(PACKAGE_DIR / f"{module}.py") for module in modules]


NETWORK_CODE = package_files("functions", "layers", "net", "checkpoint")


def settings(wildcards):
    return RUNS[wildcards.run]


def epoch_name(epoch):
    return f"{epoch:03d}"


def checkpoint_path(run, epoch):
    return f"results/{run}/checkpoints/epoch_{epoch_name(epoch)}.npz"


def previous_checkpoint(wildcards):
    return checkpoint_path(wildcards.run, int(wildcards.epoch) - 1)


def raw_file(split):
    return f"results/data/{DATASET}/{FILES[split]['name']}"


def prepare_checksum_args():
    """--train-images-sha256 … for prepare: files a user put in place are checked there."""
    return " ".join(
        f"--{split.replace('_', '-')}-sha256 {spec['sha256']}"
        for split, spec in FILES.items()
    )


def file_sha256(wildcards):
    return FILE_SHA256[wildcards.filename]


def model_args(wildcards):
    s = settings(wildcards)
    return (
        f"--hidden-size {s['hidden_size']} --weight-init-std {s['weight_init_std']!r} "
        f"--seed {s['seed']} --dtype {s['dtype']}"
    )


def training_args(wildcards):
    s = settings(wildcards)
    args = (
        f"--learning-rate {s['learning_rate']!r} --batch-size {s['batch_size']} "
        f"--sampling {s['sampling']} --gradient {s['gradient']}"
    )
    if s["iters_per_epoch"] is not None:
        args += f" --iters-per-epoch {s['iters_per_epoch']}"
    return args


def gradcheck_args(wildcards):
    g = config["gradcheck"]
    args = f"--images {g['images']} --tolerance {g['tolerance']!r}"
    if g["max_entries"] is not None:
        args += f" --max-entries {g['max_entries']}"
    return args


def run_epochs(run):
    return range(RUNS[run]["epochs"] + 1)


def trained_epochs(run):
    return range(1, RUNS[run]["epochs"] + 1)


# Each evaluate job scores this many consecutive checkpoints in one pass over the images
# (epoch 0 alone, then 1-2, 3-4, ...). A job costs ~80 ms of CPU around ~100 ms of scoring
# per checkpoint; pairs halve that overhead, which is what a sweep on few cores waits for
# (README "Performance"). Every checkpoint still gets its own numbers, identical to
# scoring it alone.
CHECKPOINTS_PER_EVALUATION = 2


def evaluation_groups(run):
    """(first, last) epoch of each evaluate job of a run."""
    last_epoch = RUNS[run]["epochs"]
    return [(0, 0)] + [
        (first, min(first + CHECKPOINTS_PER_EVALUATION - 1, last_epoch))
        for first in range(1, last_epoch + 1, CHECKPOINTS_PER_EVALUATION)
    ]


def evaluation_path(run, first, last):
    """evaluation/epochs_000.json, evaluation/epochs_001-002.json, ..."""
    epochs = (
        epoch_name(first)
        if first == last
        else f"{epoch_name(first)}-{epoch_name(last)}"
    )
    return f"results/{run}/evaluation/epochs_{epochs}.json"


def evaluated_checkpoints(wildcards):
    first, _, last = wildcards.epochs.partition("-")
    epochs = range(int(first), int(last or first) + 1)
    return [checkpoint_path(wildcards.run, epoch) for epoch in epochs]


def losses_path(run, epoch):
    return f"results/{run}/losses/epoch_{epoch_name(epoch)}.csv"


def benchmark_path(run, epoch):
    return f"results/{run}/benchmarks/train_epoch_{epoch_name(epoch)}.tsv"


def run_evaluations(run):
    return [evaluation_path(run, *group) for group in evaluation_groups(run)]


def evaluations(wildcards):
    return run_evaluations(wildcards.run)


def epoch_losses(wildcards):
    return [losses_path(wildcards.run, e) for e in trained_epochs(wildcards.run)]


def training_benchmarks(wildcards):
    return [benchmark_path(wildcards.run, e) for e in trained_epochs(wildcards.run)]


def figure_title(wildcards):
    s = settings(wildcards)
    return (
        f"{wildcards.run}: hidden {s['hidden_size']}, lr {s['learning_rate']}, "
        f"batch {s['batch_size']}, {s['sampling']} sampling, seed {s['seed']}"
    )


def figure_files(stem):
    """A figure's files, one per configured format."""
    return [f"{stem}.{fmt}" for fmt in config["figure_formats"]]


def figure_outputs(stem, caption, category, subcategory=None):
    """figure_files(stem), the first format marked for the HTML report."""
    first, *others = figure_files(stem)
    marked = report(first, caption=caption, category=category, subcategory=subcategory)
    return [marked, *others]


def figures(run):
    return [
        *figure_files(f"results/{run}/figures/loss"),
        *figure_files(f"results/{run}/figures/accuracy"),
    ]


def epoch_files(run):
    """Every checkpoint and its evaluation and losses: listed so a deleted one is rebuilt."""
    return [
        *(checkpoint_path(run, e) for e in run_epochs(run)),
        *run_evaluations(run),
        *(losses_path(run, e) for e in trained_epochs(run)),
    ]


def run_outputs(run):
    return [
        *epoch_files(run),
        f"results/{run}/accuracy.csv",
        f"results/{run}/loss.csv",
        f"results/{run}/metrics.json",
        f"results/{run}/gradcheck.csv",
        *figures(run),
    ]


def all_runs(filename):
    return [f"results/{run}/{filename}" for run in RUNS]


def runs_json():
    return json.dumps(RUNS)  # in RUNS order, the order of the metrics inputs


def comparison_figures():
    if len(RUNS) < 2:
        return []
    return [
        *figure_files("results/figures/compare_accuracy"),
        *figure_files("results/figures/compare_loss"),
    ]


def final_outputs():
    return [
        DATASET_NPZ,
        *(path for run in RUNS for path in run_outputs(run)),
        "results/summary.csv",
        *comparison_figures(),
    ]
