"""The rebuild contract (README, "What reruns when"): one test per row of the table.

A complete tiny run of 10 epochs (two training jobs: epochs 0-8 and 9-10) is built once;
each test works on a copy of it (mtimes and Snakemake's metadata included), makes one
change and checks the jobs a dry run plans. The workflow itself is copied too, so that
"editing" package modules never touches the repository.
"""

import os
import shutil
import time
from collections import Counter

import pytest
from conftest import REPO, Project, tiny_config, write_tiny_idx

FIRST, SECOND = "train_epochs_000_008", "train_epochs_009_010"
RESULTS = {"run_results": 1, "summary": 1}
LEARNED = {"learned": 1}  # what the final network learned: the final checkpoint's
EVALUATION_ONWARD = {"evaluate": 2, **RESULTS}
TRAINING_ONWARD = {FIRST: 1, SECOND: 1, **EVALUATION_ONWARD, **LEARNED}
DATA_ONWARD = {"prepare": 1, "normalize": 1, "pack_evaluation": 1, **TRAINING_ONWARD}
EVERYTHING = {"download": 4, "chapter": 1, **DATA_ONWARD}


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


def test_gradient_check_settings_redo_the_runs_results_only(project):
    project.update_config(gradcheck={"images": 2, "tolerance": 1e-6, "max_entries": 100})
    assert planned(project) == RESULTS


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


@pytest.mark.parametrize("module", ["net", "layers", "train", "checkpoint"])
def test_editing_network_or_training_code_retrains(project, module):
    edit_module(project, module)
    assert planned(project) == TRAINING_ONWARD


def test_editing_the_chapters_functions_retrains_and_redraws_the_chapter(project):
    edit_module(project, "functions")
    assert planned(project) == {"chapter": 1, **TRAINING_ONWARD}


def test_editing_the_evaluation_code_reevaluates(project):
    edit_module(project, "evaluate")
    assert planned(project) == {**EVALUATION_ONWARD, **LEARNED}


@pytest.mark.parametrize("module", ["compare", "tables", "results"])
def test_editing_results_code_redoes_the_results_only(project, module):
    edit_module(project, module)
    assert planned(project) == RESULTS


def test_editing_what_the_network_learned_redraws_those_pictures_only(project):
    edit_module(project, "learned")
    assert planned(project) == LEARNED


def test_editing_the_plotting_code_redraws_every_figure(project):
    edit_module(project, "plots")
    assert planned(project) == {"chapter": 1, **RESULTS, **LEARNED}


def test_editing_the_chapters_code_redraws_the_chapter_only(project):
    edit_module(project, "chapter")
    assert planned(project) == {"chapter": 1}


def test_editing_the_data_code_rebuilds_everything_after_the_download(project):
    edit_module(project, "dataset")
    assert planned(project) == DATA_ONWARD


@pytest.mark.parametrize("module", ["cli", "worker"])
def test_editing_the_code_every_job_runs_reruns_everything(project, module):
    edit_module(project, module)
    assert planned(project) == EVERYTHING


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
