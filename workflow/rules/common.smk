# The runs to build, and the path, code and argument helpers the rules use (the config
# itself is read and checked in config.smk). Rules stay declarations: logic lives here.
import csv
import itertools
import json
import math
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path


envvars:
    "PATH",


# Jobs run `python -m scratchnet` with the interpreter running Snakemake (first on PATH)
# and this workflow's own package (first on PYTHONPATH, before any installed copy: another
# clone's editable install, or a `pip install .` made before an edit), as does Snakemake.
os.environ["PATH"] = os.pathsep.join(
    [str(Path(sys.executable).parent), os.environ["PATH"]]
)
CODE_DIR = str(Path(workflow.basedir) / "workflow")
os.environ.update(
    PYTHONPATH=os.pathsep.join([CODE_DIR, *filter(None, [os.getenv("PYTHONPATH")])])
)
sys.path.insert(0, CODE_DIR)

from scratchnet import names, provenance

# --- the data ---------------------------------------------------------------------------
DATASET = config["dataset"]
DATASET_SPEC = config["datasets"][DATASET]
FILES = DATASET_SPEC["files"]
FILE_SHA256 = {spec["name"]: spec["sha256"] for spec in FILES.values()}
DATA_DIR = f"results/data/{DATASET}"
DATA_LOGS = f"results/data/logs/{DATASET}"
VERIFIED_DIR = "results/data/verified"  # every verified download, by payload SHA-256
DATASET_NPZ = f"results/data/{DATASET}.npz"  # float32, for people (README)
DATASET_JSON = f"{DATA_DIR}/dataset.json"  # where the data came from, what it holds
# What the jobs read: uint8 images (train then test), memory-mapped, and the labels.
PREPARED = {"pixels": f"{DATA_DIR}/pixels.npy", "labels": f"{DATA_DIR}/labels.npz"}
CLASSES_JSON = f"{DATA_DIR}/classes.json"  # the class names, for figures and predict
CLASS_NAMES = DATASET_SPEC.get("class_names") or [
    str(c) for c in range(DATASET_SPEC["num_classes"])
]
EVALUATION_SET = {
    "pixels": f"{DATA_DIR}/evaluation_pixels.npy",
    "index": f"{DATA_DIR}/evaluation_index.npz",
}


def raw_file(split):
    return f"{DATA_DIR}/{FILES[split]['name']}"


def file_sha256(wildcards):
    return FILE_SHA256[wildcards.filename]


def prepare_checksum_args():
    """--train-images-sha256 … for prepare: files a user put in place are checked there."""
    return " ".join(
        f"--{split.replace('_', '-')}-sha256 {spec['sha256']}"
        for split, spec in FILES.items()
    )


# Where a file comes from does not change what it is (every download is checked against
# its SHA-256), so the mirrors reach the download jobs through the environment, which no
# rerun trigger of Snakemake looks at: changing them reruns nothing.
MIRRORS_VARIABLE = "SCRATCHNET_MIRRORS"
os.environ[MIRRORS_VARIABLE] = json.dumps(
    [*config["mirrors"], *DATASET_SPEC["mirrors"]]
)


# --- the runs ---------------------------------------------------------------------------
RESERVED_RUN_NAMES = {"data", "figures", "logs", "chapter"}  # folders of results/


def format_value(value):
    return repr(value) if isinstance(value, float) else str(value)


def sweep_runs(grid):
    """Run name -> overrides, one per combination of the grid's values."""
    keys = [key for key in RUN_KEYS if key in grid]
    unknown = sorted(set(grid) - set(RUN_KEYS))
    if unknown:
        raise WorkflowError(
            f"config: sweep: {', '.join(map(repr, unknown))} is not a run setting; "
            f"sweep and runs may vary: {', '.join(RUN_KEYS)}"
        )
    if not keys:
        return {}
    combinations = itertools.product(*(grid[key] for key in keys))
    return {
        names.SEPARATOR.join(
            f"{k}={format_value(v)}" for k, v in zip(keys, values)
        ): dict(zip(keys, values))
        for values in combinations
    }


def build_runs():
    """Run name -> its settings: the top-level keys, overridden per sweep point or named run."""
    base = {key: config[key] for key in RUN_KEYS}
    overrides = sweep_runs(config.get("sweep") or {})
    overrides.update(config.get("runs") or {})
    if not overrides:
        overrides = {config["run"]: {}}
    runs = {name: {**base, **changes} for name, changes in overrides.items()}
    for name, settings in runs.items():
        where = "sweep" if name not in (config.get("runs") or {}) else f"runs.{name}"
        problem = first_error(
            settings, {**RUN_SCHEMA, "unevaluatedProperties": False}, where
        )
        if problem:
            raise WorkflowError(problem)
    taken = sorted(RESERVED_RUN_NAMES & set(runs))
    if taken:
        raise WorkflowError(
            f"config: {taken} cannot be a run name (results/ uses "
            f"{', '.join(sorted(RESERVED_RUN_NAMES))}); choose another 'run' or key"
        )
    return runs


def repeat_seeds(seed):
    """The seeds a setting whose own seed is ``seed`` is trained with (`repeats`)."""
    repeats = config.get("repeats")
    if repeats is None:
        return [seed]
    return list(range(seed, seed + repeats)) if isinstance(repeats, int) else repeats


def with_repeats(settings_runs):
    """(run name -> settings, run name -> its setting): each setting once per seed of
    `repeats`, as ordinary runs. The run with the setting's own seed keeps the setting's
    name (adding repeats retrains nothing already trained), the others are
    `<name>+seed=<seed>` (names.SEPARATOR)."""
    if "seed" in (config.get("sweep") or {}) and "repeats" in config:
        raise WorkflowError(
            "config: sweep over 'seed' and 'repeats' both choose seeds; use one of them "
            "(repeats: N trains every run with N seeds, and says how far they spread)"
        )
    runs, setting_of = {}, {}
    for name, settings in settings_runs.items():
        for seed in repeat_seeds(settings["seed"]):
            run = (
                name
                if seed == settings["seed"]
                else f"{name}{names.SEPARATOR}seed={seed}"
            )
            if run in runs:
                raise WorkflowError(
                    f"config: the run {run!r} is both a named run and a repeat of "
                    f"{name!r}; rename the run"
                )
            runs[run] = {**settings, "seed": seed}
            setting_of[run] = name
    return runs, setting_of


RUNS, SETTING_OF = with_repeats(build_runs())


def require_writable(folders):
    """Name a folder the jobs cannot write to before any job runs (not a traceback from
    the first job that tries): each folder that exists, and the folders right inside it.
    """
    for folder in map(Path, folders):
        inside = (p for p in folder.iterdir() if p.is_dir()) if folder.is_dir() else ()
        for path in (folder, *inside):
            if path.exists() and not os.access(path, os.W_OK):
                raise WorkflowError(
                    f"{path}: not writable, and the workflow writes there; make it writable "
                    "(chmod u+w, or chattr -i) or run in another folder"
                )


require_writable(["results", DATA_DIR, *(f"results/{run}" for run in RUNS)])


def without_report(args):
    """The command line's arguments less --report and its file."""
    kept, skip = [], False
    for arg in args:
        if skip:
            skip = False
        elif arg == "--report":
            skip = True
        elif not arg.startswith("--report="):
            kept.append(arg)
    return kept


def require_up_to_date_report(argv):
    """A report embeds the files that exist: out-of-date ones would show another
    configuration's results. Before `--report` alone, a dry run with the same arguments
    must find nothing to do; otherwise the hint repeats the user's own command with
    --report-after-run, which brings the results up to date first."""
    args = argv[1:]
    reporting = any(arg == "--report" or arg.startswith("--report=") for arg in args)
    if not reporting or "--report-after-run" in args:
        return
    dry_run = subprocess.run(
        [sys.executable, "-m", "snakemake", *without_report(args), "--dry-run"],
        capture_output=True,
        text=True,
    )
    if "Nothing to be done" not in dry_run.stdout + dry_run.stderr:
        raise WorkflowError(
            "snakemake --report: some results of this configuration are missing or out of "
            "date; build them first and the report after: snakemake "
            f"{shlex.join(args)} --report-after-run"
        )


require_up_to_date_report(sys.argv)


def settings(wildcards):
    return RUNS[wildcards.run]


def runs_json():
    return json.dumps(RUNS)  # in RUNS order, the order of the run folders


def repeats_args():
    """With `repeats`: the setting each run repeats, for the summary's spread."""
    if "repeats" not in config:
        return ""
    return f"--setting-of {shlex.quote(json.dumps(SETTING_OF))}"


# --- the code each job runs ---------------------------------------------------------------
# Snakemake's code trigger sees a rule's command, not the modules it runs: each rule passes
# the digest of the modules its command imports, read from their source (provenance.py),
# so editing one reruns exactly the jobs that run it (Snakemake's params trigger), and
# touching a file without changing it reruns nothing.


def code_digest(command):
    """The digest of the package modules `python -m scratchnet <command>` runs."""
    return provenance.code_digest(command)


# --- epochs, checkpoints and the training and evaluation jobs -----------------------------
# Each training job trains up to this many epochs and writes one checkpoint per epoch (the
# first job also writes epoch 0, the initial network); each evaluation job scores one
# training job's checkpoints. Few, long jobs keep a sweep's orchestration cheap; the price:
# an interrupted job retrains its epochs from its start, and raising `epochs` retrains a
# last job that had fewer epochs (README "What reruns when").
EPOCHS_PER_JOB = 8


def epoch_name(epoch):
    return f"{epoch:03d}"


def epoch_range(first, last):
    """001-008, or 005 for a single epoch: how file names show a job's epochs."""
    if first == last:
        return epoch_name(first)
    return f"{epoch_name(first)}-{epoch_name(last)}"


def checkpoint_path(run, epoch):
    return f"results/{run}/checkpoints/epoch_{epoch_name(epoch)}.npz"


def training_jobs(epochs):
    """(first, last) epoch of each training job of a run of ``epochs`` epochs: 0-8, 9-16, ..."""
    later = range(EPOCHS_PER_JOB + 1, epochs + 1, EPOCHS_PER_JOB)
    return [
        (0, min(EPOCHS_PER_JOB, epochs)),
        *((first, min(first + EPOCHS_PER_JOB - 1, epochs)) for first in later),
    ]


def run_training_jobs(run):
    return training_jobs(RUNS[run]["epochs"])


def training_rules():
    """(first, last) of each training job any run needs -> the runs that need it: one
    rule each, as each job writes a fixed set of per-epoch checkpoints."""
    rules = {}
    for run in RUNS:
        for chunk in run_training_jobs(run):
            rules.setdefault(chunk, []).append(run)
    return rules


def run_pattern(runs):
    return "|".join(re.escape(run) for run in runs)


def chunk_checkpoints(first, last):
    return [checkpoint_path("{run}", epoch) for epoch in range(first, last + 1)]


def previous_checkpoint(first):
    """The checkpoint a training job continues from: none for the first."""
    return [checkpoint_path("{run}", first - 1)] if first else []


def training_start(first):
    """Where a training job starts: the previous checkpoint, or (none) epoch 0."""
    return f"--previous {previous_checkpoint(first)[0]}" if first else ""


def timing_path(run, epoch):
    """Seconds a trained epoch took, written by its training job."""
    return f"results/{run}/timing/epoch_{epoch_name(epoch)}.json"


def chunk_timings(first, last):
    return [timing_path("{run}", epoch) for epoch in range(max(first, 1), last + 1)]


def evaluation_path(run, first, last):
    return f"results/{run}/evaluation/epochs_{epoch_range(first, last)}.json"


def evaluated_checkpoints(wildcards):
    first, _, last = wildcards.epochs.partition("-")
    epochs = range(int(first), int(last or first) + 1)
    return [checkpoint_path(wildcards.run, epoch) for epoch in epochs]


def run_evaluations(run):
    return [evaluation_path(run, *chunk) for chunk in run_training_jobs(run)]


def run_timings(run):
    return [timing_path(run, epoch) for epoch in range(1, RUNS[run]["epochs"] + 1)]


def run_checkpoints(run):
    return [checkpoint_path(run, epoch) for epoch in range(RUNS[run]["epochs"] + 1)]


def run_result_inputs(wildcards):
    run = wildcards.run
    return {
        **PREPARED,
        "evaluations": run_evaluations(run),
        "checkpoints": run_checkpoints(run),
        "timing": run_timings(run),
    }


def final_checkpoint(wildcards):
    return checkpoint_path(wildcards.run, RUNS[wildcards.run]["epochs"])


# --- the order jobs run in -------------------------------------------------------------------
# Snakemake runs the ready job of highest priority first, and re-checks the inputs of every
# waiting job each time it picks. So a run's later jobs come before the next run's first
# one: runs finish one after the other (their results appear early), and the jobs that
# wait are first training jobs, whose only inputs are the dataset's two shared files.
PRIORITY = {
    "data": 40,
    "evaluate": 30,
    "results": 20,
    "training": 10,
    "first training": 5,
}


def training_priority(first):
    return PRIORITY["training" if first else "first training"]


# --- arguments ----------------------------------------------------------------------------


def model_args(wildcards):
    s = settings(wildcards)
    return (
        f"--hidden-size {s['hidden_size']} --weight-init-std {s['weight_init_std']!r} "
        f"--seed {s['seed']} --dtype {s['dtype']}"
    )


def training_args(wildcards):
    s = settings(wildcards)
    iters = "auto" if s["iters_per_epoch"] is None else s["iters_per_epoch"]
    return (
        f"--learning-rate {s['learning_rate']!r} --batch-size {s['batch_size']} "
        f"--iters-per-epoch {iters} --sampling {s['sampling']} --gradient {s['gradient']}"
    )


def gradcheck_args():
    g = config["gradcheck"]
    entries = "all" if g["max_entries"] is None else g["max_entries"]
    return (
        f"--images {g['images']} --tolerance {g['tolerance']!r} --max-entries {entries}"
    )


def run_title(wildcards):
    s = settings(wildcards)
    return (
        f"{wildcards.run} ({DATASET}): hidden {s['hidden_size']}, "
        f"lr {format_value(s['learning_rate'])}, batch {s['batch_size']}, "
        f"{s['sampling']} sampling, seed {s['seed']}"
    )


FORMATS = " ".join(config["figure_formats"])
# The report's sections, numbered: Snakemake lists them in alphabetical order.
SECTION = {
    "summary": "1. Summary",
    "runs": "2. Runs",
    "learned": "3. What the networks learned",
    "chapter": "4. The chapter's lessons",
    "data": "5. Data",
}


def figure_files(stem):
    """A figure's files, one per configured format."""
    return [f"{stem}.{fmt}" for fmt in config["figure_formats"]]


def figure_outputs(stem, caption, category, subcategory=None, labels=None):
    """figure_files(stem), the first format marked for the HTML report."""
    first, *others = figure_files(stem)
    marked = report(
        first,
        caption=caption,
        category=category,
        subcategory=subcategory,
        labels=labels,
    )
    return [marked, *others]


COMPARISON_FIGURES = {
    "compare_heatmap": "2 final test accuracy of every run (figure)",
    "compare_accuracy": "3 test accuracy per epoch (figure)",
    "compare_loss": "4 mini-batch loss (figure)",
}
CHAPTER_FIGURES = {
    "numerical_diff": "1 the numerical derivative and its tangents (figure)",
    "gradient_field": "2 the gradient as arrows (figure)",
    "gradient_descent": "3 gradient descent and its learning rate (figure)",
}


def figure_group(folder, figures, caption_prefix, section, marked):
    """The files of ``figures`` (name -> report label) in ``folder``; ``marked``: for the
    HTML report (in the rule that makes them)."""
    if not marked:
        return [path for name in figures for path in figure_files(f"{folder}/{name}")]
    return [
        path
        for name, label in figures.items()
        for path in figure_outputs(
            f"{folder}/{name}",
            f"../report/{caption_prefix}{name}.rst",
            section,
            labels={"result": label},
        )
    ]


def comparison_figures(marked=True):
    """The comparison figures, with two runs or more (a single run has nothing to compare)."""
    if len(RUNS) < 2:
        return []
    return figure_group(
        "results/figures", COMPARISON_FIGURES, "", SECTION["summary"], marked
    )


def chapter_figures(marked=True):
    return figure_group(
        "results/chapter", CHAPTER_FIGURES, "chapter_", SECTION["chapter"], marked
    )


def short_name(run):
    """The run's name for the report's menu (scratchnet/names.py)."""
    return names.short_name(run)


RANKS = {}


def run_section(wildcards):
    """The run's subcategory in the report: its rank in results/summary.csv (the report
    is made after it), else its place in the config, then its short name; the menu lists
    subcategories in text order, so the rank is zero-padded."""
    if not RANKS:
        summary = Path("results/summary.csv")
        ranked = []
        if summary.is_file():
            with summary.open(newline="") as lines:
                ranked = [row[0] for row in list(csv.reader(lines))[1:]]
        order = ranked if sorted(ranked) == sorted(RUNS) else list(RUNS)
        RANKS.update({run: i for i, run in enumerate(order, start=1)})
    width = len(str(len(RUNS)))
    return f"{RANKS[wildcards.run]:0{width}d}. {short_name(wildcards.run)}"


def run_figure(name, section, label):
    """A run's figure ``name`` (caption ../report/<name>.rst), marked for the report
    under the run in ``section`` (its subcategory names the run: no run label, which
    would widen the result list with the run's full name)."""
    return figure_outputs(
        f"results/{{run}}/figures/{name}",
        f"../report/{name}.rst",
        SECTION[section],
        run_section,
        {"result": label},
    )


def run_folders():
    return [f"results/{run}" for run in RUNS]


def all_runs(filename):
    return [f"results/{run}/{filename}" for run in RUNS]


# --- memory -------------------------------------------------------------------------------
# What a job holds: Python with NumPy (and pandas, matplotlib), the images it reads, and
# arrays that grow with the batch and the network. The dataset's size comes from its
# dataset.json once prepared (before that: MNIST's); docs/performance.md has the peaks
# these follow.
BASE_MB = 150


DATASET_SHAPE = {}


def dataset_shape():
    """(images, pixels per image) of the dataset: read once it is prepared (Snakemake
    evaluates resources again and again while jobs wait)."""
    if not DATASET_SHAPE and Path(DATASET_JSON).is_file():
        about = json.loads(Path(DATASET_JSON).read_text())
        DATASET_SHAPE["images"] = about["train_images"] + about["test_images"]
        DATASET_SHAPE["pixels"] = math.prod(about["image_shape"])
    return DATASET_SHAPE.get("images", 70_000), DATASET_SHAPE.get("pixels", 784)


def training_mem_mb(wildcards):
    s = settings(wildcards)
    images, pixels = dataset_shape()
    itemsize = 8 if s["dtype"] == "float64" else 4
    batch = s["batch_size"] * (
        pixels * (4 + 2 * itemsize) + 6 * s["hidden_size"] * itemsize
    )
    network = 5 * pixels * s["hidden_size"] * itemsize
    return BASE_MB + math.ceil((images * pixels + batch + network) / 1e6)


def evaluation_mem_mb(wildcards):
    s = settings(wildcards)
    images, pixels = dataset_shape()
    block = 1000 * (pixels * 4 + 2 * s["hidden_size"] * 8)
    network = EPOCHS_PER_JOB * 2 * pixels * s["hidden_size"] * 8
    return BASE_MB + math.ceil((images * pixels + block + network) / 1e6)


def training_runtime(wildcards):
    """Minutes a training job may take on a cluster: generous for backprop; the numerical
    gradient (tiny networks only) gets a day per epoch."""
    per_epoch = 10 if settings(wildcards)["gradient"] == "backprop" else 24 * 60
    return EPOCHS_PER_JOB * per_epoch


def data_mem_mb():
    images, pixels = dataset_shape()
    return BASE_MB + math.ceil(3 * images * pixels / 1e6)


# --- what a complete call builds ------------------------------------------------------------


RUN_TABLES = ("gradcheck.csv", "gradcheck.html", "accuracy.csv", "accuracy.html", "loss.csv",
              "metrics.json", "confusion.csv")  # fmt: skip
RUN_FIGURES = ("loss", "accuracy", "weights", "confusion", "misclassified")


def run_outputs(run):
    """Every file of a run: Snakemake makes again whichever is missing only if asked for
    it (a deleted checkpoint, a newly configured figure format)."""
    figures = (figure_files(f"results/{run}/figures/{name}") for name in RUN_FIGURES)
    return [
        *run_checkpoints(run),
        *run_timings(run),
        *run_evaluations(run),
        *(f"results/{run}/{name}" for name in RUN_TABLES),
        *itertools.chain.from_iterable(figures),
    ]


def summary_label():
    """The summary table's name in the report."""
    if "repeats" in config:
        return "1 settings and runs, ranked (table)"
    return "1 runs ranked by final test accuracy (table)"


def spread_table():
    """With `repeats`: the statistics per setting over its seeds."""
    return ["results/summary_by_setting.csv"] if "repeats" in config else []


def final_outputs():
    return [
        DATASET_NPZ,
        *(path for run in RUNS for path in run_outputs(run)),
        "results/summary.csv",
        "results/summary.html",
        *spread_table(),
        f"{DATA_DIR}/dataset.html",
        CLASSES_JSON,
        *comparison_figures(marked=False),
        "results/chapter/examples.json",
        "results/chapter/examples.html",
        *chapter_figures(marked=False),
    ]
