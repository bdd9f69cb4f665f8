"""Faults end in one clear line and lose nothing (one test per kind of fault found by a
hostile trial): the message names the file or key, the cause and the fix, there is no
Python traceback, no partial file is left and no finished epoch is lost."""

import gzip
import os
import subprocess

import pandas as pd
import pytest
from conftest import SPLIT_NAMES, Project, read_json, tiny_config
from scratchnet.tables import read_csv

RUN = "results/default"


def failed(project: Project, *args: str) -> str:
    """Run the workflow expecting it to fail; its whole output."""
    result = project.run(*args, check=False)
    assert result.returncode != 0, result.stderr
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output
    return output


def error_lines(log_path) -> list[str]:
    return [line for line in log_path.read_text().splitlines() if " ERROR " in line]


def leftovers(folder) -> list:
    """Temporary files of interrupted writes."""
    return [p for p in folder.rglob(".*.tmp")]


@pytest.mark.parametrize("damage", ["truncated", "flipped bytes"])
def test_a_corrupt_checkpoint_is_named_with_the_fix(tiny_project, damage):
    tiny_project.update_config(epochs=8)
    tiny_project.run()
    path = tiny_project.path(f"{RUN}/checkpoints/epoch_008.npz")
    stat, data = path.stat(), bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:
        data[300:304] = bytes(b ^ 0xFF for b in data[300:304])
    path.write_bytes(bytes(data))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # Snakemake cannot notice
    tiny_project.update_config(epochs=10)  # the next job reads it
    output = failed(tiny_project)
    message = f"{RUN}/checkpoints/epoch_008.npz is corrupt ("  # the file, the cause, the fix
    errors = error_lines(tiny_project.path(f"{RUN}/logs/train_epochs_009-010.log"))
    assert len(errors) == 1 and message in errors[0]
    assert errors[0].endswith("delete it and run snakemake again to retrain it")
    assert errors[0].split(" ERROR ")[1] in output
    assert not tiny_project.path(f"{RUN}/checkpoints/epoch_009.npz").exists()
    path.unlink()  # the fix the message gives
    tiny_project.run()
    assert read_json(tiny_project.path(f"{RUN}/metrics.json"))["epochs"] == 10


@pytest.fixture
def small_disk(tiny_project):
    """The run's checkpoint folder on a file system with room for a few checkpoints only."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small file system needs root (CI runs as root)")
    folder = tiny_project.path(f"{RUN}/checkpoints")
    folder.mkdir(parents=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(folder)], check=True)
    (folder / ".mount").write_text("")  # never empty: Snakemake leaves the mount point be
    yield folder
    subprocess.run(["umount", str(folder)], check=False)


def test_a_full_disk_ends_in_one_line_leaves_no_partial_file_and_resumes(tiny_project, small_disk):
    tiny_project.update_config(epochs=10)
    output = failed(tiny_project)
    logs = tiny_project.path(f"{RUN}/logs")
    errors = [line for log in logs.glob("train_*.log") for line in error_lines(log)]
    assert len(errors) == 1
    assert "No space left on device; free some space and run snakemake again" in errors[0]
    assert "checkpoints/epoch_0" in errors[0]  # the file it could not write
    assert errors[0].split(" ERROR ")[1] in output
    assert leftovers(tiny_project.path("results")) == []
    subprocess.run(["umount", str(small_disk)], check=True)  # space freed
    tiny_project.run()
    straight = Project(tiny_project.root.parent / "straight", tiny_project.config)
    straight.run()
    for epoch in range(11):
        name = f"{RUN}/checkpoints/epoch_{epoch:03d}.npz"
        assert tiny_project.path(name).read_bytes() == straight.path(name).read_bytes()


@pytest.mark.filterwarnings("ignore")
def test_divergence_stops_training_keeps_earlier_checkpoints_and_is_marked(tiny_project):
    tiny_project.update_config(
        epochs=10, runs={"steady": {"learning_rate": 2.0}, "wild": {"learning_rate": 1000.0}}
    )
    result = tiny_project.run()  # the other run is not failed by it
    summary = read_csv(tiny_project.path("results/summary.csv"))
    wild = summary.set_index("run").loc["wild"]
    assert summary["run"].tolist() == ["steady", "wild"]  # diverged runs rank last
    epoch = int(wild["diverged_at_epoch"])
    assert 1 <= epoch <= 10
    assert "wild    final test acc" in result.stderr
    assert f"DIVERGED at epoch {epoch}: lower learning_rate (now 1000.0)" in result.stderr
    log = tiny_project.path("results/wild/logs/train_epochs_000-008.log").read_text()
    warnings = [line for line in log.splitlines() if " WARNING " in line]
    assert len(warnings) == 1 and "lower learning_rate (now 1000.0)" in warnings[0]
    accuracy = read_csv(tiny_project.path("results/wild/accuracy.csv"))
    assert len(accuracy) == 11  # every epoch has its checkpoint and numbers
    assert pd_equal_rows(accuracy, epoch - 1, 10)  # frozen at the last healthy network
    assert pd.isna(summary.set_index("run").loc["steady", "diverged_at_epoch"])


def pd_equal_rows(table, first, last) -> bool:
    columns = ["train_acc", "test_acc", "train_loss", "test_loss", "iteration"]
    rows = table.set_index("epoch").loc[first:last, columns]
    return bool((rows.nunique() == 1).all())


def test_a_batch_larger_than_the_training_set_is_refused_in_one_line(tiny_project):
    tiny_project.update_config(batch_size=601)  # the tiny set has 600 training images
    output = failed(tiny_project)
    errors = error_lines(tiny_project.path(f"{RUN}/logs/train_epochs_000-003.log"))
    assert errors and errors[0].endswith(
        "config: batch_size 601 is larger than the 600 training images; choose at most 600"
    )
    assert "choose at most 600" in output
    assert not list(tiny_project.path(RUN).glob("checkpoints/*.npz"))
    # the failed job's own cause comes last, where a user looks
    tail = output.split("Why the jobs failed (each job's log):")[1].splitlines()[1]
    assert tail.endswith("choose at most 600") and "train_epochs_000-003.log" in tail


def planned_memory(project: Project, *args: str) -> int | None:
    """The first training job's memory request, or None while it is to be determined."""
    output = project.run("--dry-run", *args).stdout
    block = output.split("rule train_epochs_000_003:")[1]
    request = block.split("mem_mb=")[1].split(",")[0]
    return None if request == "<TBD>" else int(request)


def test_memory_requests_follow_the_batch_and_the_network(tiny_project):
    # the requests follow the inputs' sizes (Snakemake's `input.size_mb`): data first
    assert planned_memory(tiny_project) is None
    tiny_project.run("results/data/tiny/pixels.npy")
    small = planned_memory(tiny_project)
    wide = planned_memory(tiny_project, "--config", "hidden_size=2000")
    assert wide > small
    assert planned_memory(tiny_project, "--config", "hidden_size=2000", "batch_size=600") > wide


def test_numbers_written_as_people_write_them_work_in_the_config_file(tiny_project):
    text = tiny_project.config_path.read_text().replace("learning_rate: 2.0", "learning_rate: 1e-3")
    tiny_project.config_path.write_text(text + "sweep:\n  weight_init_std: [5e-2, 1e-1]\n")
    planned = tiny_project.planned_jobs()
    runs = sorted({w["run"] for rule, w in planned if rule == "run_results"})
    assert runs == ["dataset=tiny+weight_init_std=0.05", "dataset=tiny+weight_init_std=0.1"]
    result = tiny_project.run("--dry-run", "--printshellcmds")
    assert "--learning-rate 0.001 " in result.stdout


def test_a_yaml_mistake_names_its_line_and_column(tiny_project):
    text = tiny_project.config_path.read_text()
    lines = text.splitlines()
    number = next(i for i, line in enumerate(lines) if line.startswith("hidden_size:"))
    lines[number] = "hidden_size: [50"  # an unclosed list
    tiny_project.config_path.write_text("\n".join(lines) + "\n")
    output = failed(tiny_project)
    assert f"config.yaml, line {number + 2}, column 16: expected ',' or ']'" in output
    assert f"(while parsing a flow sequence at line {number + 1}, column 14)" in output
    assert "fix the YAML there" in output


def test_a_dataset_without_its_class_count_is_refused_naming_the_key(tiny_project):
    del tiny_project.config["datasets"]["tiny"]["num_classes"]
    tiny_project.write_config(tiny_project.config)
    output = failed(tiny_project)
    assert "config: datasets.tiny: 'num_classes' is a required property" in output
    assert not tiny_project.path("results").exists()


def test_a_wrong_class_count_is_refused_by_prepare(tmp_path):
    from conftest import write_tiny_idx

    digests = write_tiny_idx(tmp_path / "mirror", classes=4)
    config = tiny_config(tmp_path / "mirror", digests)  # declares 10 classes
    project = Project(tmp_path / "work", config)
    failed(project)
    errors = error_lines(project.path("results/data/logs/tiny/prepare.log"))
    assert len(errors) == 1 and "declares num_classes 10 but class(es) 4, 5" in errors[0]
    assert not project.path("results/data/tiny/pixels.npy").exists()


def test_a_corrupt_file_put_in_place_says_to_delete_it(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    project = Project(tmp_path / "w", tiny_config(mirror, digests))
    placed = project.path("results/data/tiny")
    placed.mkdir(parents=True)
    for name in SPLIT_NAMES.values():
        (placed / name).write_bytes((mirror / name).read_bytes())
    whole = (mirror / SPLIT_NAMES["train_images"]).read_bytes()
    (placed / SPLIT_NAMES["train_images"]).write_bytes(whole[: len(whole) // 2])
    failed(project, "results/data/tiny/labels.npz")
    errors = error_lines(project.path("results/data/logs/tiny/prepare.log"))
    assert len(errors) == 1
    assert "train-images-idx3-ubyte.gz: not a complete gzip file" in errors[0]
    assert errors[0].endswith("delete it to download it again")
    assert gzip.decompress((placed / SPLIT_NAMES["train_labels"]).read_bytes())  # untouched


def test_integers_may_be_written_as_1e6_and_fractions_are_refused(tiny_project):
    result = tiny_project.run(
        "--dry-run", "--printshellcmds", "--config", "batch_size=2e1", "hidden_size=1e1"
    )
    assert "--batch-size 20 " in result.stdout and "--hidden-size 10 " in result.stdout
    output = failed(tiny_project, "--dry-run", "--config", "batch_size=12.5")
    assert "config: batch_size: 12.5 is not of type 'integer'" in output


def test_a_read_only_run_folder_is_named_before_any_job(tiny_project):
    folder = tiny_project.path(RUN)
    folder.mkdir(parents=True)
    folder.chmod(0o555)
    if os.access(folder, os.W_OK):  # root writes anywhere: make it immutable instead
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True)
        assert made.returncode == 0, made.stderr
    try:
        planned = tiny_project.run("--dry-run")  # a dry run writes nothing: not refused
        output = failed(tiny_project)
    finally:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
        folder.chmod(0o755)
    assert planned.returncode == 0
    assert f"{RUN}: not writable, and the workflow writes there" in output
    assert not tiny_project.path("results/data/tiny").exists()  # no job ran


def test_temporary_files_of_killed_jobs_are_removed_at_the_next_start(tiny_project):
    folder = tiny_project.path(f"{RUN}/checkpoints")
    folder.mkdir(parents=True)
    stale = folder / ".epoch_001.npz.999999.tmp"  # no process 999999
    alive = folder / f".epoch_002.npz.{os.getpid()}.tmp"  # this process still writes it
    stale.write_bytes(b"half"), alive.write_bytes(b"half")
    ended = tiny_project.run().stderr
    assert "removed 1 temporary file(s) of ended jobs" in ended
    assert not stale.exists() and alive.exists()
    assert not tiny_project.dry_run("--config", "epochs=3")  # nothing of it was lost


def test_an_interrupted_job_says_so_in_one_line(tiny_project):
    import signal
    import sys
    import time

    from conftest import prepare_tiny, train_command

    folder = tiny_project.path("data")
    prepare_tiny(folder)
    command = train_command(folder, range(0, 400), iters_per_epoch=2000)
    job = subprocess.Popen([sys.executable, "-m", "scratchnet", *command],
                           stderr=subprocess.PIPE, text=True)  # fmt: skip
    time.sleep(3)
    job.send_signal(signal.SIGINT)
    _, log = job.communicate(timeout=60)
    errors = [line for line in log.splitlines() if " ERROR " in line]
    assert job.returncode == 130 and len(errors) == 1 and "interrupted" in errors[0], log
    assert "Traceback" not in log
    assert leftovers(folder) == []
