# Paths, input functions, params and report helpers over the planned runs (RUNS, from
# config.smk: workflow/scratchnet/plan.py plans them, layout.py places their files).
import json
import os
import re
import shlex

from scratchnet import dataset, layout, names, provenance


envvars:
    "PATH",


# --- the data -------------------------------------------------------------------------------
DATASET = config["dataset"]
DATASET_SPEC = config["datasets"][DATASET]
FILES = DATASET_SPEC["files"]
DATA = layout.data_files(DATASET)
PREPARED = {"pixels": DATA.pixels, "labels": DATA.labels}
EVALUATION_SET = {"pixels": DATA.evaluation_pixels, "index": DATA.evaluation_index}
# The training images held out for validation, when some are (plan.validation)
SPLIT = [DATA.split(VALIDATION, config["validation_seed"])] if VALIDATION else []
SPLIT_ARG = f"--validation {SPLIT[0]}" if SPLIT else ""
CLASS_NAMES = DATASET_SPEC.get("class_names") or names.class_numbers(
    DATASET_SPEC["num_classes"]
)


def job_environment():
    """Jobs run this Python and workflow's package (first on PATH, PYTHONPATH), here or on
    a node; the mirrors reach downloads this way, where no rerun trigger looks."""
    mirrors = json.dumps([*config["mirrors"], *DATASET_SPEC["mirrors"]])
    exports = [
        f'PATH={shlex.quote(str(Path(sys.executable).parent))}:"$PATH"',
        f"PYTHONPATH={shlex.quote(str(CODE_DIR))}${{PYTHONPATH:+:$PYTHONPATH}}",
        f"SCRATCHNET_MIRRORS={shlex.quote(mirrors)}",
    ]
    prefix = f"set -euo pipefail; export {' '.join(exports)}; "
    return prefix.replace("{", "{{").replace("}", "}}")  # Snakemake formats the prefix


shell.prefix(job_environment())


def raw_file(split):
    return f"{DATA.folder}/{FILES[split]['name']}"


def file_sha256(wildcards):
    return next(f["sha256"] for f in FILES.values() if f["name"] == wildcards.filename)


def prepare_checksum_args():
    """--train-images-sha256 … for prepare: files a user put in place are checked there."""
    return " ".join(
        f"--{split.replace('_', '-')}-sha256 {spec['sha256']}"
        for split, spec in FILES.items()
    )


# The digest of the modules a command imports (provenance.py), passed as a param: editing
# one reruns exactly the jobs that run it (Snakemake's params trigger).
code_digest = provenance.code_digest


# --- runs: training and evaluation jobs -------------------------------------------------------


def run_pattern(runs):
    return "|".join(map(re.escape, runs))


def run_spans(run):
    return plan.training_spans(RUNS[run].settings["epochs"])


def previous_checkpoint(first):
    """The checkpoint a training job continues from: none for the first."""
    return [layout.checkpoint("{run}", first - 1)] if first else []


def training_start(first):
    return f"--previous {previous_checkpoint(first)[0]}" if first else ""


def evaluated_checkpoints(wildcards):
    first, _, last = wildcards.epochs.partition("-")
    return layout.checkpoints(wildcards.run, int(first), int(last or first))


def run_result_inputs(wildcards):
    run, spans = wildcards.run, run_spans(wildcards.run)
    return {
        **PREPARED,
        "evaluations": layout.evaluations(run, spans),
        "checkpoints": layout.checkpoints(run, 0, spans[-1][1]),
        "timing": layout.timings(run, 1, spans[-1][1]),
    }


def final_checkpoint(wildcards):
    return layout.checkpoint(wildcards.run, run_spans(wildcards.run)[-1][1])


# A run's later jobs before the next run's first ones: runs finish one after the other,
# and the jobs that wait are first training jobs, whose inputs are the shared data.
PRIORITY = {"data": 40, "evaluate": 30, "results": 20, "training": 10, "first": 5}


def training_priority(first):
    return PRIORITY["training" if first else "first"]


RUN_GROUP = (
    "run"  # a run's training and evaluation: one cluster submission (the profile)
)


# --- arguments ----------------------------------------------------------------------------


def run_args(wildcards):
    """The run's settings as `scratchnet train` takes them (the epochs are its files')."""
    settings = RUNS[wildcards.run].settings
    return " ".join(
        f"--{key.replace('_', '-')} {'auto' if value is None else names.format_value(value)}"
        for key, value in settings.items()
        if key != "epochs"
    )


def gradcheck_args():
    g, entries = config["gradcheck"], config["gradcheck"]["max_entries"] or "all"
    return (
        f"--images {g['images']} --tolerance {g['tolerance']!r} --max-entries {entries}"
    )


def run_title(wildcards):
    return names.run_title(wildcards.run, DATASET, RUNS[wildcards.run].settings)


DESCRIBED = plan.described(config, RUNS)  # what the results are of
FINGERPRINT = plan.fingerprint(DESCRIBED)
SUMMARY_ARGS = json.dumps({**DESCRIBED, "fingerprint": FINGERPRINT})


# --- resources -------------------------------------------------------------------------------
# Snakemake's conventions: mem_mb from the job's input sizes and its settings (plan.py),
# more on each retry (--retries); runtime in minutes.


def input_mb(input):
    """As `input.size_mb`, which warns of an unawaited coroutine under --report."""
    return sum(os.path.getsize(path) for path in input) / 1e6


def training_mem_mb(wildcards, input, attempt):
    pixels = dataset.pixels_per_image(input.pixels)
    settings = RUNS[wildcards.run].settings
    return attempt * plan.training_mem_mb(settings, input_mb(input), pixels)


def evaluation_mem_mb(wildcards, input, attempt):
    settings = RUNS[wildcards.run].settings
    return attempt * plan.evaluation_mem_mb(settings, input_mb(input))


def reading_mem_mb(wildcards, input, attempt):
    """A job that holds what it reads, and as much again (the data stage, results)."""
    return attempt * plan.reading_mem_mb(input_mb(input), copies=2)


def unpacking_mem_mb(wildcards, input, attempt):
    """A job that decompresses what it reads (gzip shrinks MNIST five times)."""
    return attempt * plan.reading_mem_mb(input_mb(input), copies=10)


def training_runtime(wildcards):
    return plan.training_minutes(RUNS[wildcards.run].settings)


# --- the report ----------------------------------------------------------------------------
FORMATS = config["figure_formats"]
# The report's sections, numbered: Snakemake lists them in alphabetical order.
SECTION = {
    "summary": "1. Summary",
    "runs": "2. Runs",
    "learned": "3. What the networks learned",
    "chapter": "4. The chapter's lessons",
    "data": "5. Data",
}
COMPARISON_FIGURES = {
    "compare_heatmap": "2 final accuracy of every setting (figure)",
    "compare_accuracy": "3 accuracy per epoch (figure)",
    "compare_loss": "4 mini-batch loss (figure)",
    "compare_best": "5 the best settings' learning curves (figure)",
    "compare_settings": "6 accuracy against each varied setting (figure)",
}
CHAPTER_FIGURES = {
    "numerical_diff": "1 the numerical derivative and its tangents (figure)",
    "gradient_field": "2 the gradient as arrows (figure)",
    "gradient_descent": "3 gradient descent and its learning rate (figure)",
}


def figure_outputs(stem, caption, category, subcategory=None, label=None):
    """A figure's files, one per format, the first marked for the HTML report."""
    first, *others = layout.figures(stem, FORMATS)
    labels = {"result": label}
    marked = report(first, caption, category, subcategory=subcategory, labels=labels)
    return [marked, *others]


FIGURE_GROUPS = {  # name -> (folder, caption prefix, section, figures)
    "comparison": (layout.FIGURES, "", "summary", COMPARISON_FIGURES),
    "chapter": (layout.CHAPTER, "chapter_", "chapter", CHAPTER_FIGURES),
}


def figure_group(group, marked=True):
    """A group's figures (with two runs or more for comparisons: one has nothing to
    compare), ``marked`` for the report in the rule that makes them."""
    folder, prefix, section, figures = FIGURE_GROUPS[group]
    stems = {
        f"{layout.RESULTS}/{folder}/{name}": (name, label)
        for name, label in figures.items()
    }
    if group == "comparison" and len(RUNS) < 2:
        return []
    if not marked:
        return [path for stem in stems for path in layout.figures(stem, FORMATS)]
    return [
        path
        for stem, (name, label) in stems.items()
        for path in figure_outputs(
            stem, f"../report/{prefix}{name}.rst", SECTION[section], label=label
        )
    ]


RANKS = {}


def run_section(wildcards):
    """The run's subcategory in the report (made at report time, after the summary): its
    rank, zero-padded (the menu sorts subcategories as text), and its short name."""
    if not RANKS:
        RANKS.update(report_ranks())
    width = len(str(len(RUNS)))
    return f"{RANKS[wildcards.run]:0{width}d}. {names.short_name(wildcards.run)}"


def report_ranks():
    """Run -> its rank, from the summary, which must describe this configuration: a report
    never shows another configuration's results under this one's name."""
    from scratchnet.results import recorded_ranks

    ranks = recorded_ranks(Path(layout.SUMMARY_JSON), FINGERPRINT)
    if ranks is None:
        # SystemExit: its message alone (Snakemake adds a traceback to other exceptions)
        raise SystemExit(
            "snakemake --report: the results in results/ are not all of this configuration; "
            "build them and the report in one call: snakemake --cores N (your --config or "
            "--configfile) --report FILE --report-after-run"
        )
    return ranks


def run_figure(name, section, label):
    """A run's figure ``name``, for the report under the run in ``section``."""
    stem, caption = f"results/{{run}}/figures/{name}", f"../report/{name}.rst"
    return figure_outputs(stem, caption, SECTION[section], run_section, label)


def all_runs(filename):
    return [f"{layout.run_folder(run)}/{filename}" for run in RUNS]


def final_outputs():
    """Every file of a complete call (Snakemake remakes a missing one only if asked for)."""
    return [
        DATA.npz,
        *(
            path
            for run in RUNS
            for path in layout.run_files(run, run_spans(run), FORMATS)
        ),
        layout.SUMMARY,
        "results/summary.html",
        layout.SUMMARY_BY_SETTING,
        layout.SUMMARY_JSON,
        DATA.about.replace(".json", ".html"),
        DATA.classes,
        *figure_group("comparison", marked=False),
        f"{layout.RESULTS}/{layout.CHAPTER}/examples.json",
        f"{layout.RESULTS}/{layout.CHAPTER}/examples.html",
        *figure_group("chapter", marked=False),
    ]
