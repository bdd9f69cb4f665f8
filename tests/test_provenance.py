"""Jobs run this workflow's own code, and a download, once verified, is never lost.

Which jobs an edit reruns is tested in test_rerun.py, against the modules each job was
seen to import.
"""

import os
import re
import shutil

import pytest
from conftest import REPO, Project, tiny_config
from scratchnet import provenance


def test_a_command_runs_what_its_function_and_the_helpers_it_calls_import():
    modules = provenance.command_modules("normalize")  # dataset comes through _load_data
    assert {"__main__", "__init__", "cli", "worker", "errors", "dataset", "idx"} <= modules
    assert not {"train", "net", "plots", "evaluate"} & modules


def test_an_unknown_command_is_named_with_the_known_ones():
    with pytest.raises(provenance.UnknownCommand, match=r"no command 'fly'.*'train'"):
        provenance.command_modules("fly")


def test_the_digest_follows_the_bytes_of_the_modules_run(tmp_path):
    package = tmp_path / "scratchnet"
    shutil.copytree(provenance.PACKAGE, package, ignore=shutil.ignore_patterns("__pycache__"))
    before = {cmd: provenance.code_digest(cmd, package) for cmd in ("train", "chapter")}
    (package / "train.py").write_text((package / "train.py").read_text() + "\n# edited\n")
    after = {cmd: provenance.code_digest(cmd, package) for cmd in ("train", "chapter")}
    assert after["train"] != before["train"]
    assert after["chapter"] == before["chapter"]


def clone_of_the_workflow(folder):
    """A second checkout of the workflow, sharing this test's Python environment (whose
    package is the repository's own, installed editable)."""
    folder.mkdir()
    shutil.copy2(REPO / "Snakefile", folder / "Snakefile")
    (folder / "profiles").symlink_to("workflow/profiles")
    ignore = shutil.ignore_patterns("__pycache__")
    shutil.copytree(REPO / "workflow", folder / "workflow", symlinks=True, ignore=ignore)
    return folder / "Snakefile"


@pytest.mark.parametrize("worker", ["on", "off"])
def test_two_clones_sharing_one_environment_each_run_their_own_package(
    tmp_path, tiny_mirror, worker
):
    snakefile = clone_of_the_workflow(tmp_path / "clone")
    project = Project(tmp_path / "work", tiny_config(*tiny_mirror), snakefile)
    env = {**os.environ, "SCRATCHNET_WORKER": worker} if worker == "off" else None
    project.run(env=env)
    logs = sorted(project.path("results").glob("**/logs/**/*.log"))
    assert len(logs) >= 10
    for log in logs:
        ran = re.findall(r"INFO scratchnet [\w-]+ in (\S+)", log.read_text())
        assert ran == [str(tmp_path / "clone" / "workflow" / "scratchnet")], log


def test_a_forced_download_with_no_mirror_reachable_keeps_the_verified_files(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    project = Project(tmp_path / "work", tiny_config(mirror, digests))
    project.run()
    files = sorted(project.path("results/data/tiny").glob("*.gz"))
    contents = {path.name: path.read_bytes() for path in files}
    shutil.rmtree(mirror)  # offline
    project.run("--forcerun", "download")
    assert {path.name: path.read_bytes() for path in files} == contents
    assert len(contents) == 4


def test_a_job_planned_before_an_edit_of_its_code_stops_in_one_line(tmp_path, tiny_mirror):
    """The training job's command as Snakemake planned it, run after an edit of a module
    it imports: it writes nothing and names the module."""
    import subprocess

    snakefile = clone_of_the_workflow(tmp_path / "clone")
    project = Project(tmp_path / "work", tiny_config(*tiny_mirror, epochs=2), snakefile)
    project.run("results/data/tiny/labels.npz")
    done = project.run("--dry-run", "--printshellcmds", "--forceall")
    planned = done.stdout + done.stderr
    shell = "Shell command: "
    command = next(line.split(shell)[1] for line in planned.splitlines()
                   if line.startswith(f"{shell}python -m scratchnet train "))  # fmt: skip
    net = tmp_path / "clone" / "workflow" / "scratchnet" / "net.py"
    net.write_text(net.read_text() + "\n# edited after planning\n")
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "clone" / "workflow")}
    ran = subprocess.run(command.split(" > ")[0], shell=True, cwd=project.root, env=env,
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    errors = [line for line in ran.stderr.splitlines() if " ERROR " in line]
    assert ran.returncode == 1 and len(errors) == 1, ran.stderr
    assert "scratchnet/net.py changed since this job was planned" in errors[0]
    assert not project.path("results/default/checkpoints").exists()


@pytest.mark.parametrize("worker", ["on", "off"])
def test_a_side_effect_in_a_module_no_job_runs_changes_no_output(tmp_path, tiny_mirror, worker):
    """A module-level line in predict.py (no job imports it) that would change every
    figure: the warm worker does not load it, so the bytes stay those of the original."""
    env = {**os.environ, "SCRATCHNET_WORKER": worker} if worker == "off" else None
    figures = [f"results/default/figures/{name}.png" for name in ("accuracy", "loss")]
    original = Project(tmp_path / "original", tiny_config(*tiny_mirror, epochs=2))
    original.run(*figures, env=env)
    snakefile = clone_of_the_workflow(tmp_path / "clone")
    predict = tmp_path / "clone" / "workflow" / "scratchnet" / "predict.py"
    predict.write_text(
        predict.read_text() + '\nimport matplotlib\nmatplotlib.rcParams["lines.linewidth"] = 4\n'
    )
    edited = Project(tmp_path / "edited", original.config, snakefile)
    edited.run(*figures, env=env)
    for figure in figures:
        assert edited.path(figure).read_bytes() == original.path(figure).read_bytes()


def test_a_download_damaged_in_place_leaves_the_kept_copy_whole(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    project = Project(tmp_path / "work", tiny_config(mirror, digests))
    project.run("results/data/tiny/labels.npz")
    download = project.path("results/data/tiny/train-images-idx3-ubyte.gz")
    whole = download.read_bytes()
    with open(download, "r+b") as damaged:  # in place: the same file on disk
        damaged.truncate(len(whole) // 2)
    shutil.rmtree(mirror)  # offline
    download.unlink()  # the advice for a damaged download
    project.run("results/data/tiny/train-images-idx3-ubyte.gz")
    assert download.read_bytes() == whole
