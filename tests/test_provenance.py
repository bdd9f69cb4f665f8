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
