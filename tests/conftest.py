"""Shared fixtures: tiny generated IDX datasets, a local HTTP server, and a Snakemake project."""

import gzip
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import yaml
from scratchnet import dataset

REPO = Path(__file__).resolve().parents[1]
# The MNIST copy the end-to-end tests and the benchmarks use (CI: ../shared/data/mnist).
MNIST_VARIABLE = "SCRATCHNET_MNIST"
SPLIT_NAMES = {
    "train_images": "train-images-idx3-ubyte.gz",
    "train_labels": "train-labels-idx1-ubyte.gz",
    "test_images": "t10k-images-idx3-ubyte.gz",
    "test_labels": "t10k-labels-idx1-ubyte.gz",
}


def encode_images(images: np.ndarray) -> bytes:
    """IDX bytes for an (n, rows, cols) uint8 array: magic 2051, then each dimension."""
    images = np.ascontiguousarray(images, dtype=np.uint8)
    return _idx_bytes(2051, images)


def encode_labels(labels: np.ndarray) -> bytes:
    """IDX bytes for an (n,) uint8 array: magic 2049, then the count."""
    return _idx_bytes(2049, np.ascontiguousarray(labels, dtype=np.uint8))


def _idx_bytes(magic: int, array: np.ndarray) -> bytes:
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in array.shape)
    return header + array.tobytes()


def make_images(
    n: int, shape: tuple[int, int], rng: np.random.Generator, labels: np.ndarray
) -> np.ndarray:
    """Learnable images: a fixed pattern per class plus noise, with blank borders, as uint8."""
    prototypes = np.random.default_rng(1234).random((int(labels.max()) + 1, *shape))
    noisy = prototypes[labels] * 170 + rng.random((n, *shape)) * 85
    images = noisy.astype(np.uint8)
    images[:, 0, :] = 0  # a blank top row, as MNIST's borders: evaluation leaves it out
    return images


def write_tiny_idx(
    folder: Path, n_train=600, n_test=100, shape=(7, 7), classes=10, seed=0
) -> dict[str, str]:
    """Write four gzipped IDX files; return file name -> SHA-256 of the payload."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    t_train = np.arange(n_train) % classes  # every class occurs
    rng.shuffle(t_train)
    t_test = rng.integers(0, classes, n_test)
    payloads = {
        SPLIT_NAMES["train_images"]: encode_images(make_images(n_train, shape, rng, t_train)),
        SPLIT_NAMES["train_labels"]: encode_labels(t_train),
        SPLIT_NAMES["test_images"]: encode_images(make_images(n_test, shape, rng, t_test)),
        SPLIT_NAMES["test_labels"]: encode_labels(t_test),
    }
    for name, payload in payloads.items():
        (folder / name).write_bytes(gzip.compress(payload, mtime=0))
    return {name: hashlib.sha256(p).hexdigest() for name, p in payloads.items()}


def prepare_tiny(folder: Path, seed: int = 0, classes: int = 10, **sizes) -> dataset.Dataset:
    """Tiny IDX files written to ``folder`` and prepared into its pixels.npy, labels.npz."""
    write_tiny_idx(folder, seed=seed, classes=classes, **sizes)
    files = {split: folder / name for split, name in SPLIT_NAMES.items()}
    return dataset.prepare(files, folder / "pixels.npy", folder / "labels.npz", classes)


def prepared_args(folder: Path) -> list[str]:
    """The --pixels/--labels arguments naming what :func:`prepare_tiny` wrote."""
    return ["--pixels", str(folder / "pixels.npy"), "--labels", str(folder / "labels.npz")]


TINY_SETTINGS = {
    "hidden_size": 5, "weight_init_std": 0.1, "seed": 0, "dtype": "float32",
    "learning_rate": 0.5, "batch_size": 10, "iters_per_epoch": "auto",
    "sampling": "replacement", "gradient": "backprop",
}  # fmt: skip


def train_command(folder: Path, epochs: range, previous: Path | None = None, **changes) -> list:
    """`scratchnet train` arguments for one training job on what prepare_tiny wrote."""
    settings = {**TINY_SETTINGS, **changes}
    return [
        "train",
        *(["--previous", str(previous)] if previous else []),
        *prepared_args(folder),
        "--checkpoints",
        *(str(folder / f"epoch_{e:03d}.npz") for e in epochs),
        "--timing",
        *(str(folder / f"timing_{e:03d}.json") for e in epochs if e > 0),
        "--num-classes=10",
        *(f"--{key.replace('_', '-')}={value}" for key, value in settings.items()),
    ]


def tiny_dataset_entry(digests: dict[str, str], mirrors: list[str], classes: int = 10) -> dict:
    return {
        "num_classes": classes,
        "mirrors": mirrors,
        "files": {
            split: {"name": name, "sha256": digests[name]} for split, name in SPLIT_NAMES.items()
        },
    }


class Project:
    """A working directory with its own config.yaml, running the repository's Snakefile."""

    def __init__(self, root: Path, config: dict, snakefile: Path = REPO / "Snakefile"):
        self.root = root
        self.snakefile = snakefile
        root.mkdir(parents=True, exist_ok=True)
        self.config_path = root / "config.yaml"
        self.write_config(config)

    def write_config(self, config: dict) -> None:
        self.config = config
        self.config_path.write_text(yaml.safe_dump(config, sort_keys=False))

    def update_config(self, **changes) -> None:
        self.write_config({**self.config, **changes})

    def command(self, *args: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "snakemake",
            "--snakefile",
            str(self.snakefile),
            "--directory",
            str(self.root),
            *args,
        ]

    def run(
        self, *args: str, check: bool = True, cores: int = 2, env: dict | None = None
    ) -> subprocess.CompletedProcess:
        result = subprocess.run(
            self.command("--cores", str(cores), *args),
            capture_output=True,
            text=True,
            timeout=900,
            env=env,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"snakemake failed:\n{result.stdout}\n{result.stderr}")
        return result

    def dry_run(self, *args: str) -> Counter:
        """Jobs Snakemake would run, counted per rule (from --dry-run --summary-free output)."""
        result = self.run("--dry-run", "--quiet", "rules", *args)
        return parse_job_counts(result.stdout + result.stderr)

    def planned_jobs(self, *args: str) -> list[tuple[str, dict]]:
        """(rule, wildcards) of every job a dry run plans."""
        result = self.run("--dry-run", *args)
        return parse_planned_jobs(result.stdout + result.stderr)

    def path(self, relative: str) -> Path:
        return self.root / relative


def parse_job_counts(output: str) -> Counter:
    counts = Counter()
    in_table = False
    for line in output.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            parts = line.split()
            if len(parts) == 2 and parts[1].isdigit():
                if parts[0] != "total":
                    counts[parts[0]] = int(parts[1])
            elif parts and not set(line.strip()) <= {"-", " "}:
                break
    return counts


def parse_planned_jobs(output: str) -> list[tuple[str, dict]]:
    jobs, current = [], None
    for line in output.splitlines():
        if match := re.match(r"(?:local)?rule (\w+):$", line.strip()):
            current = (match.group(1), {})
            jobs.append(current)
        elif current and (match := re.match(r"\s+wildcards: (.*)$", line)):
            current[1].update(dict(pair.split("=", 1) for pair in match.group(1).split(", ")))
    return jobs


@pytest.fixture(autouse=True)
def _figures_closed():
    """Each test's matplotlib figures are closed after it (pyplot keeps them otherwise)."""
    yield
    if "matplotlib.pyplot" in sys.modules:
        sys.modules["matplotlib.pyplot"].close("all")


@pytest.fixture
def tiny_mirror(tmp_path) -> tuple[Path, dict[str, str]]:
    folder = tmp_path / "mirror"
    return folder, write_tiny_idx(folder)


# The tests' dataset is not the default one (mnist): its sweeps' and searches' run names
# begin with it (names.on_dataset).
ON_TINY = "dataset=tiny+"


def tiny_config(mirror: Path, digests: dict[str, str], **overrides) -> dict:
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["datasets"]["tiny"] = tiny_dataset_entry(digests, [str(mirror)])
    config.update(
        dataset="tiny",
        hidden_size=10,
        batch_size=20,
        epochs=3,
        learning_rate=2.0,
        weight_init_std=0.1,
    )
    config.update(overrides)
    return config


@pytest.fixture
def tiny_project(tmp_path, tiny_mirror) -> Project:
    mirror, digests = tiny_mirror
    work = tmp_path / "work"
    work.mkdir()
    return Project(work, tiny_config(mirror, digests))


@pytest.fixture(scope="session")
def shared_mnist() -> Path:
    """The local MNIST copy named by $SCRATCHNET_MNIST; its absence is a broken setup, never
    a reason to skip."""
    folder = Path(os.environ.get(MNIST_VARIABLE, "")).expanduser()
    if not os.environ.get(MNIST_VARIABLE) or not all(
        (folder / name).is_file() for name in SPLIT_NAMES.values()
    ):
        pytest.fail(
            f"the MNIST copy is missing: set {MNIST_VARIABLE} to a folder with the four .gz "
            f"files (now {os.environ.get(MNIST_VARIABLE)!r}; README 'Test')"
        )
    return folder


def read_json(path: Path) -> dict:
    return json.loads(path.read_text())


def copy_results(project: Project, dest: Path) -> Path:
    shutil.copytree(project.path("results"), dest)
    return dest


def file_digests(folder: Path, pattern: str = "**/*") -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.glob(pattern))
        if p.is_file() and not p.name.startswith(".")
    }
