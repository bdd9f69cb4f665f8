"""The rebuild contract (README, "What reruns when"): one test per row of the table.

A complete tiny run of 10 epochs (two training jobs: epochs 0-8 and 9-10) is built once;
each test works on a copy of it (mtimes and Snakemake's metadata included), makes one
change and checks the jobs a dry run plans. The workflow itself is copied too, so that
"editing" package modules never touches the repository.

Which jobs an edit of a module must rerun is not written down here: each job's command,
as a dry run prints it, is run again in a copy of the run with Python's import profiler
on (PYTHONPROFILEIMPORTTIME) and without its planned code (``--code``, whose check
imports what the workflow's digest names), so the profile lists the package modules the
command really loads; and Snakemake itself says what follows a job (--forcerun). Neither
depends on how the workflow computes its code digests.
"""

import functools
import json
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from conftest import REPO, Project, tiny_config, write_tiny_idx

PACKAGE = REPO / "workflow" / "scratchnet"
MODULES = sorted(path.stem for path in PACKAGE.glob("*.py"))
# A download is fixed by its file name and SHA-256: no code edit may replan it.
CONTENT_ONLY = {"download"}

FIRST, SECOND = "train_epochs_000_008", "train_epochs_009_010"
RESULTS = {"run_results": 1, "summary": 1}
LEARNED = {"learned": 1}  # what the final network learned: the final checkpoint's
EVALUATION_ONWARD = {"evaluate": 2, **RESULTS}
TRAINING_ONWARD = {FIRST: 1, SECOND: 1, **EVALUATION_ONWARD, **LEARNED}
DATA_ONWARD = {"prepare": 1, "normalize": 1, "pack_evaluation": 1, **TRAINING_ONWARD}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A finished 10-epoch tiny run, with its own copy of the workflow."""
    base = tmp_path_factory.mktemp("built")
    workflow_copy = base / "repo"
    workflow_copy.mkdir()
    for name in ("Snakefile", "profiles"):
        path = REPO / name
        if path.is_symlink():
            (workflow_copy / name).symlink_to(os.readlink(path))
        else:
            shutil.copy2(path, workflow_copy / name)
    shutil.copytree(
        REPO / "workflow",
        workflow_copy / "workflow",
        symlinks=True,
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    digests = write_tiny_idx(base / "mirror")
    config = tiny_config(base / "mirror", digests, epochs=10)
    project = Project(base / "work", config, workflow_copy / "Snakefile")
    project.run()
    return project


@pytest.fixture
def project(built, tmp_path):
    """A private copy of the finished run."""
    shutil.copytree(built.root.parent, tmp_path / "copy", symlinks=True)
    root = tmp_path / "copy"
    copy = Project.__new__(Project)
    copy.root, copy.snakefile = root / "work", root / "repo" / "Snakefile"
    copy.config_path, copy.config = copy.root / "config.yaml", dict(built.config)
    return copy


def planned(project: Project, *args: str) -> dict[str, int]:
    counts = Counter(project.dry_run(*args))
    counts.pop("all", None)
    return dict(counts)


def edit_module(project: Project, module: str) -> None:
    """A real edit of a package module of the project's own copy of the workflow."""
    path = project.snakefile.parent / "workflow" / "scratchnet" / f"{module}.py"
    path.write_text(path.read_text() + "\n# edited\n")
    later = time.time() + 5
    os.utime(path, (later, later))


def test_nothing_changed_plans_nothing(project):
    assert planned(project) == {}


def test_figure_formats_redraw_the_figures_only(project):
    project.update_config(figure_formats=["png", "svg"])
    assert planned(project) == {"chapter": 1, **RESULTS, **LEARNED}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("learning_rate", 0.5),
        ("batch_size", 30),
        ("sampling", "permutation"),
        ("iters_per_epoch", 7),
        ("gradient", "numerical"),
        ("hidden_size", 12),
        ("weight_init_std", 0.05),
        ("seed", 1),
        ("dtype", "float64"),
    ],
)
def test_run_settings_retrain_the_run(project, key, value):
    project.update_config(**{key: value})
    assert planned(project) == TRAINING_ONWARD


def test_holding_out_validation_images_retrains_the_run_on_the_others(project):
    project.update_config(validation=100)
    assert planned(project) == {"split": 1, **TRAINING_ONWARD}


def test_gradient_check_settings_redo_the_runs_results_only(project):
    project.update_config(gradcheck={"images": 2, "tolerance": 1e-6, "max_entries": 100})
    assert planned(project) == RESULTS


def test_class_names_redraw_what_names_classes_only(project):
    datasets = dict(project.config["datasets"])
    datasets["tiny"] = {**datasets["tiny"], "class_names": [f"c{i}" for i in range(10)]}
    project.update_config(datasets=datasets)
    assert planned(project) == {"classes": 1, "summary": 1, **LEARNED}


def test_raising_epochs_trains_only_new_epochs(project):
    project.update_config(epochs=20)
    assert planned(project) == {
        "train_epochs_009_016": 1,
        "train_epochs_017_020": 1,
        "evaluate": 2,
        **RESULTS,
        **LEARNED,
    }


def test_raising_epochs_within_the_last_training_job_retrains_that_job(project):
    project.update_config(epochs=12)  # 9-10 becomes 9-12
    assert planned(project) == {
        "train_epochs_009_012": 1,
        "evaluate": 1,
        **RESULTS,
        **LEARNED,
    }


def test_lowering_epochs_trains_nothing(project):
    project.update_config(epochs=9)
    # 9-10 was scored together; the final network is now epoch 9's
    assert planned(project) == {"evaluate": 1, **RESULTS, **LEARNED}


def test_changing_mirrors_reruns_nothing(project):
    project.update_config(mirrors=["/somewhere/else", "https://example.org/mnist/"])
    assert planned(project) == {}


def job_commands(project: Project) -> list[tuple[str, str]]:
    """Each job's rule and shell command, as a forced dry run plans them, in order."""
    output = project.run("--dry-run", "--forceall", "--printshellcmds").stdout
    jobs, rule = [], None
    for line in output.splitlines():
        if match := re.match(r"(?:local)?rule (\w+):$", line.strip()):
            rule = match.group(1)
        elif rule and line.startswith("Shell command: python "):
            jobs.append((rule, line.removeprefix("Shell command: ")))
    return jobs


def imported_by_each_rule(project: Project, scratch: Path) -> dict[str, set[str]]:
    """Rule -> the package modules its jobs' commands load, from the import profiler's
    lines; ``python -m scratchnet`` also runs the package's __main__.py."""
    copy = scratch / "copy"
    shutil.copytree(project.root.parent, copy, symlinks=True)
    env = {
        **os.environ,
        "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
        "PYTHONPATH": str(copy / "repo" / "workflow"),
        "PYTHONPROFILEIMPORTTIME": "1",
        "SCRATCHNET_MIRRORS": json.dumps([str(copy / "mirror")]),
    }
    loaded = {}
    for rule, command in job_commands(project):
        unchecked = re.sub(r" --code \S+", "", command.split(" > ")[0])
        ran = subprocess.run(unchecked, shell=True, cwd=copy / "work", env=env,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
        assert ran.returncode == 0, f"{unchecked}\n{ran.stderr[-2000:]}"
        names = re.findall(r"^import time:.*\|\s*scratchnet(?:\.(\w+))?\s*$", ran.stderr, re.M)
        assert names, f"{rule}: no import profile"
        modules = {name or "__init__" for name in names} | {"__main__"}
        loaded.setdefault(rule, set()).update(modules)
    return loaded


@pytest.fixture(scope="module")
def imported(built, tmp_path_factory) -> dict[str, set[str]]:
    return imported_by_each_rule(built, tmp_path_factory.mktemp("imports"))


def test_every_command_was_profiled_and_none_loaded_every_module(imported):
    rules = set(imported)
    assert {"download", "prepare", "evaluate", "run_results", "summary", "chapter"} <= rules
    assert all(set(MODULES) - modules for modules in imported.values())


@pytest.fixture(scope="module")
def forced(built):
    """What a dry run plans with the given rules forced (asked once per set of rules:
    several modules share their importers)."""
    return functools.cache(lambda rules: planned(built, "--forcerun", *rules) if rules else {})


@pytest.mark.parametrize("module", MODULES)
def test_editing_a_module_reruns_exactly_the_jobs_that_import_it(forced, project, imported, module):
    importers = sorted(rule for rule, modules in imported.items() if module in modules)
    expected = forced(tuple(rule for rule in importers if rule not in CONTENT_ONLY))
    edit_module(project, module)
    assert planned(project) == expected


def readme_modules_table() -> dict[str, str]:
    """Module -> the jobs that run it, as the docs' table says (a cell per row)."""
    text = (REPO / "docs" / "code-dependencies.md").read_text()
    table = text.split("<!-- modules-table")[1].split("<!-- end of modules-table")[0]
    rows = {}
    for line in table.splitlines():
        if line.startswith("| `"):
            modules, jobs = line.strip().strip("|").split("|")
            for module in re.findall(r"`(\w+)`", modules):
                assert module not in rows, f"the table names {module} twice"
                rows[module] = jobs.strip()
    return rows


def job_name(rule: str) -> str:
    """The table's name for a rule's jobs: the training rules are one, "train"."""
    return "train" if rule.startswith("train_epochs_") else rule


def test_the_docs_say_which_jobs_run_each_module(imported):
    every = {rule for rule in imported if rule not in CONTENT_ONLY}
    readme = readme_modules_table()
    assert sorted(readme) == MODULES
    for module, cell in readme.items():
        if cell.startswith("every job"):
            said = set(map(job_name, every))
        elif cell.startswith("none"):
            said = set()
        else:
            said = set(cell.split(", "))
        seen = {job_name(rule) for rule in every if module in imported[rule]}
        # the tiny run holds no validation images out: its split job does not run
        assert said & set(map(job_name, every)) == seen, module


def test_deleting_a_checkpoint_retrains_its_training_job(project):
    project.path("results/default/checkpoints/epoch_009.npz").unlink()
    assert planned(project) == {SECOND: 1, "evaluate": 1, **RESULTS, **LEARNED}


def test_touching_a_file_without_changing_it_reruns_nothing(project):
    path = project.path("results/default/checkpoints/epoch_004.npz")
    later = time.time() + 5
    os.utime(path, (later, later))
    assert planned(project) == {}


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--forcerun", "run_results"), RESULTS),
        (("--forcerun", "evaluate"), EVALUATION_ONWARD),
        (("--forcerun", SECOND), {SECOND: 1, "evaluate": 1, **RESULTS, **LEARNED}),
        (("--forcerun", "learned"), LEARNED),
        (("--force", "results/default/metrics.json"), {"run_results": 1}),
        (("--forcerun", "prepare"), DATA_ONWARD),
    ],
)
def test_forcing_a_stage_reruns_it_and_what_depends_on_it(project, args, expected):
    assert planned(project, *args) == expected
