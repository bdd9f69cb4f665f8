"""Where things land in results/ (README "What lands where"): the files of a run, by epoch
and by training job, and the folders shared by the runs. The workflow's rules, predict
and show find them here; a run argument may be Snakemake's ``{run}`` wildcard.
"""

from dataclasses import dataclass
from pathlib import Path

from scratchnet import names

RESULTS = "results"
# Folders of results/ that hold no run: no run may take their names (plan.runs).
DATA, FIGURES, LOGS, CHAPTER = "data", "figures", "logs", "chapter"
SHARED_FOLDERS = (DATA, FIGURES, LOGS, CHAPTER)
SUMMARY = f"{RESULTS}/summary.csv"
SUMMARY_BY_SETTING = f"{RESULTS}/summary_by_setting.csv"
SUMMARY_JSON = f"{RESULTS}/summary.json"  # what the summary describes (plan.described)
RUN_TABLES = ("gradcheck.csv", "gradcheck.html", "accuracy.csv", "accuracy.html", "loss.csv",
              "metrics.json", "confusion.csv")  # fmt: skip
RUN_FIGURES = ("loss", "accuracy", "weights", "confusion", "misclassified")


def run_called(results: Path, run: str) -> str:
    """The run people mean by ``run``: itself, or else the one run of a sweep or search of
    another dataset that bears this name after the dataset's (names.on_dataset)."""
    if (results / run).is_dir():
        return run
    pattern = f"{names.DATASET_KEY}{names.ASSIGN}*{names.SEPARATOR}{run}"
    found = [path.name for path in results.glob(pattern) if names.without_dataset(path.name) == run]
    return found[0] if len(found) == 1 else run


def epoch_name(epoch: int) -> str:
    return f"{epoch:03d}"


def span_name(first: int, last: int) -> str:
    """001-008, or 005 for a single epoch: how file names show a training job's epochs."""
    return epoch_name(first) if first == last else f"{epoch_name(first)}-{epoch_name(last)}"


@dataclass(frozen=True)
class DataFiles:
    """Where a dataset's files land, under results/data/."""

    folder: str  # the downloads and what the jobs read
    logs: str
    verified: str  # every verified download, by its SHA-256 (shared by the datasets)
    npz: str  # the float32 arrays, for people (README)
    pixels: str  # what the jobs read: uint8 images (train then test), memory-mapped
    labels: str  # and the labels, the image shape, the dataset's digest
    evaluation_pixels: str  # the evaluation set: images in blocks without blank pixels
    evaluation_index: str
    about: str  # dataset.json: where the data came from, what it holds
    classes: str  # classes.json: the class names, for figures and predict

    def split(self, validation: float, seed: int) -> str:
        """The training images a validation of ``validation`` with ``seed`` holds out."""
        return f"{self.folder}/validation_{validation:g}_seed_{seed}.npz"


def data_files(dataset: str, results: str = RESULTS) -> DataFiles:
    root = f"{results}/{DATA}"
    folder = f"{root}/{dataset}"
    return DataFiles(
        folder=folder,
        logs=f"{root}/{LOGS}/{dataset}",
        verified=f"{root}/verified",
        npz=f"{root}/{dataset}.npz",
        pixels=f"{folder}/pixels.npy",
        labels=f"{folder}/labels.npz",
        evaluation_pixels=f"{folder}/evaluation_pixels.npy",
        evaluation_index=f"{folder}/evaluation_index.npz",
        about=f"{folder}/dataset.json",
        classes=f"{folder}/classes.json",
    )


def run_folder(run: str) -> str:
    return f"{RESULTS}/{run}"


def checkpoint_file(epoch: int) -> str:
    return f"epoch_{epoch_name(epoch)}.npz"


def checkpoint(run: str, epoch: int) -> str:
    """The run's network after ``epoch`` epochs (README "Checkpoints")."""
    return f"{run_folder(run)}/checkpoints/{checkpoint_file(epoch)}"


def checkpoints(run: str, first: int, last: int) -> list[str]:
    return [checkpoint(run, epoch) for epoch in range(first, last + 1)]


def timings(run: str, first: int, last: int) -> list[str]:
    """Seconds each trained epoch took (epoch 0 is not trained)."""
    epochs = range(max(first, 1), last + 1)
    return [f"{run_folder(run)}/timing/epoch_{epoch_name(epoch)}.json" for epoch in epochs]


def evaluation(run: str, first: int, last: int) -> str:
    """The scores of one training job's checkpoints."""
    return f"{run_folder(run)}/evaluation/epochs_{span_name(first, last)}.json"


def evaluations(run: str, spans: list[tuple[int, int]]) -> list[str]:
    """The scores of each training job's checkpoints (``spans``: plan.training_spans)."""
    return [evaluation(run, *span) for span in spans]


def figures(stem: str, formats: list[str]) -> list[str]:
    """A figure's files, one per format."""
    return [f"{stem}.{fmt}" for fmt in formats]


def run_files(run: str, spans: list[tuple[int, int]], formats: list[str]) -> list[str]:
    """Every file of a run trained in ``spans`` of epochs."""
    folder, epochs = run_folder(run), spans[-1][1]
    return [
        *checkpoints(run, 0, epochs),
        *timings(run, 1, epochs),
        *evaluations(run, spans),
        *(f"{folder}/{name}" for name in RUN_TABLES),
        *(path for name in RUN_FIGURES for path in figures(f"{folder}/figures/{name}", formats)),
    ]
