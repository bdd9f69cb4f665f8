"""The rebuild contract (README, "What reruns when"): one test per row of the table.

A complete tiny run is built once; each test works on a copy of it (mtimes and
Snakemake's metadata included), makes one change and checks the jobs a dry run plans.
The workflow itself is copied too, so that "editing" package modules never touches
the repository.
"""

import os
import shutil
import time
from collections import Counter

import pytest
from conftest import REPO, Project, tiny_config, write_tiny_idx

FIGURES = {"plot_loss": 1, "plot_accuracy": 1}
TABLES = {"accuracy_table": 1, "loss_table": 1, "metrics": 1, "summary": 1, **FIGURES}
# A 3-epoch run is evaluated in 3 jobs: epoch 0, epochs 1-2, epoch 3.
TRAINING_ONWARD = {"train_epoch": 3, "evaluate": 2, **TABLES}
MODEL_ONWARD = {"init_network": 1, "gradcheck": 1, "train_epoch": 3, "evaluate": 3, **TABLES}
DATA_ONWARD = {"prepare": 1, "normalize": 1, "pack_evaluation": 1, **MODEL_ONWARD}


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A finished 3-epoch tiny run, with its own copy of the workflow."""
    base = tmp_path_factory.mktemp("built")
    workflow_copy = base / "repo"
    workflow_copy.mkdir()
    for name in ("Snakefile", "profiles"):
        os_path = REPO / name
        if os_path.is_symlink():
            (workflow_copy / name).symlink_to(os.readlink(os_path))
        else:
            shutil.copy2(os_path, workflow_copy / name)
    shutil.copytree(REPO / "workflow", workflow_copy / "workflow", symlinks=True,
                    ignore=shutil.ignore_patterns("__pycache__"))  # fmt: skip
    digests = write_tiny_idx(base / "mirror")
    project = Project(
        base / "work", tiny_config(base / "mirror", digests), workflow_copy / "Snakefile"
    )
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


def without_zeros(expected: dict[str, int]) -> dict[str, int]:
    return {rule: n for rule, n in expected.items() if n}


def edit_module(project: Project, module: str) -> None:
    """A real edit: Snakemake ignores a newer mtime when a small file's content is unchanged."""
    path = project.snakefile.parent / "workflow" / "scratchnet" / f"{module}.py"
    path.write_text(path.read_text() + "\n# edited\n")
    later = time.time() + 5
    os.utime(path, (later, later))


def test_nothing_changed_plans_nothing(project):
    assert planned(project) == {}


def test_figure_formats_rebuild_only_figures(project):
    project.update_config(figure_formats=["png", "svg"])
    assert planned(project) == FIGURES


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("learning_rate", 0.5),
        ("batch_size", 30),
        ("sampling", "permutation"),
        ("iters_per_epoch", 7),
        ("gradient", "numerical"),
    ],
)
def test_training_settings_retrain_epochs_1_to_n(project, key, value):
    project.update_config(**{key: value})
    assert planned(project) == TRAINING_ONWARD


@pytest.mark.parametrize(
    ("key", "value"),
    [("hidden_size", 12), ("weight_init_std", 0.05), ("seed", 1), ("dtype", "float64")],
)
def test_model_settings_rebuild_from_epoch_0(project, key, value):
    project.update_config(**{key: value})
    assert planned(project) == MODEL_ONWARD


def test_raising_epochs_trains_only_new_epochs(project):
    project.update_config(epochs=5)
    # evaluated in pairs: epoch 3 again with the new 4, then 5
    assert planned(project) == {"train_epoch": 2, "evaluate": 2, **TABLES}


def test_lowering_epochs_rebuilds_only_tables_and_figures(project):
    project.update_config(epochs=2)
    assert planned(project) == TABLES


def test_changing_mirrors_reruns_nothing(project):
    project.update_config(mirrors=["/somewhere/else", "https://example.org/mnist/"])
    assert planned(project) == {}


@pytest.mark.parametrize("module", ["net", "layers", "functions", "train"])
def test_editing_network_or_training_code_retrains(project, module):
    edit_module(project, module)
    assert planned(project) == MODEL_ONWARD


def test_editing_plotting_code_redraws_only_figures(project):
    edit_module(project, "plots")
    assert planned(project) == FIGURES


def test_editing_the_data_code_rebuilds_everything_after_the_download(project):
    edit_module(project, "dataset")
    assert planned(project) == DATA_ONWARD


def test_deleting_a_checkpoint_retrains_from_that_epoch(project):
    project.path("results/default/checkpoints/epoch_002.npz").unlink()
    assert planned(project) == {"train_epoch": 2, "evaluate": 2, **TABLES}  # 1-2 and 3


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (("--forcerun", "plot_loss", "plot_accuracy"), FIGURES),
        (
            ("--forcerun", "evaluate"),
            {"evaluate": 3, **TABLES, "loss_table": 0, "plot_loss": 0},
        ),
        (("--forcerun", "train_epoch"), TRAINING_ONWARD),
        (("--force", "results/default/metrics.json"), {"metrics": 1}),
        (("--force", "results/default/accuracy.csv"), {"accuracy_table": 1}),
        (("--forcerun", "prepare"), DATA_ONWARD),
    ],
)
def test_forcing_a_stage_reruns_it_and_what_depends_on_it(project, args, expected):
    assert planned(project, *args) == without_zeros(expected)
