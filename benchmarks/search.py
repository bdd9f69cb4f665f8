"""The README's worked random search on MNIST against its work floor.

    python benchmarks/search.py --mnist DIR            # or SCRATCHNET_MNIST=DIR

Builds the data stage and the validation split, then runs the README's search
(`snakemake --cores 2`: 30 samples of learning rate and hidden size, 10,000 training
images held out) and times it; then the work floor of its jobs (work_floor.py: every
job's command again in one warm process, no orchestration) divided by the 2 cores, and
the ratio. The folder is kept (its path is printed) for its figures and summary.
"""

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, add_mnist_argument, mnist_folder, snakemake_command, write_config

HERE = Path(__file__).resolve().parent
# README "Choosing hyperparameters"
SEARCH = {
    "validation": 10000,
    "search": {
        "samples": 30,
        "seed": 0,
        "learning_rate": {"log_uniform": [0.001, 1]},
        "hidden_size": {"choice": [25, 50, 100]},
    },
}
DATA = [
    f"results/data/mnist{name}"
    for name in (".npz", "/evaluation_index.npz", "/classes.json", "/validation_10000_seed_0.npz")
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mnist_argument(parser)
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="scratchnet-search-"))
    write_config(folder, mnist_folder(parser, args), SEARCH)
    subprocess.run(snakemake_command(REPO / "Snakefile", folder, *DATA), check=True,
                   capture_output=True)  # fmt: skip
    start = time.perf_counter()
    subprocess.run(snakemake_command(REPO / "Snakefile", folder), check=True, capture_output=True)
    wall = time.perf_counter() - start
    floor = subprocess.run(
        [sys.executable, str(HERE / "work_floor.py"), str(folder)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print(floor)
    cpu = float(floor.splitlines()[-1].split(", ")[1].split()[0])
    print(f"search: {wall:.1f} s wall on 2 cores; work floor {cpu:.1f} CPU s / 2 = "
          f"{cpu / 2:.1f} s; ratio {wall / (cpu / 2):.2f}")  # fmt: skip
    print(f"folder: {folder}")


if __name__ == "__main__":
    main()
