"""The work in a finished folder's jobs without any orchestration: every job's command run
again, one after the other, in one process that has already imported the package; CPU
seconds per command.

    python benchmarks/work_floor.py FOLDER [--snakefile SNAKEFILE]

The total divided by the cores is the least wall time any scheduler could take for those
jobs. The data stage's jobs are left out (the sweep benchmark starts from a built one).
Snakemake only lists the commands (a dry run); running them again rewrites the folder's
results with the same bytes.
"""

import argparse
import importlib
import logging
import os
import pkgutil
import shlex
import subprocess
import time
from collections import Counter
from pathlib import Path

from common import REPO, snakemake_command

# Each job declares `threads: 1`, and Snakemake gives its BLAS one thread accordingly.
for variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[variable] = "1"

DATA_COMMANDS = {"download", "prepare", "normalize", "pack-evaluation", "split"}
SHELL_LINE = "Shell command: python -m scratchnet "


def job_commands(snakefile: Path, folder: Path) -> list[list[str]]:
    """The arguments of every non-data job of ``folder``, in Snakemake's order."""
    listing = subprocess.run(
        snakemake_command(snakefile, folder, "-n", "-p", "--forceall"),
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    commands = []
    for line in listing.splitlines():
        if line.startswith(SHELL_LINE):
            argv = shlex.split(line[len(SHELL_LINE) :].partition(" > ")[0])
            if argv[0] not in DATA_COMMANDS:
                commands.append(argv)
    return commands


def cpu_seconds(commands: list[list[str]], folder: Path) -> Counter:
    """CPU seconds per command name, running each with the package's ``cli.main``."""
    import scratchnet
    from scratchnet import cli

    for module in pkgutil.iter_modules(scratchnet.__path__):  # as the warm worker has them
        if module.name != "__main__":
            importlib.import_module(f"scratchnet.{module.name}")
    # the jobs log to files: format the same records, show none of them
    logging.basicConfig(handlers=[logging.FileHandler(os.devnull)], level=logging.INFO)
    os.chdir(folder)
    seconds = Counter()
    for argv in commands:
        start = time.process_time()
        if cli.main(argv) != 0:
            raise SystemExit(f"{argv[0]} failed in {folder}")
        seconds[argv[0]] += time.process_time() - start
    return seconds


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--snakefile", type=Path, default=REPO / "Snakefile")
    args = parser.parse_args(argv)
    commands = job_commands(args.snakefile, args.folder.resolve())
    counts = Counter(argv[0] for argv in commands)
    seconds = cpu_seconds(commands, args.folder.resolve())
    for name, total in seconds.most_common():
        print(f"{name}: {counts[name]} jobs, {total:.2f} CPU s")
    print(f"total: {len(commands)} jobs, {sum(seconds.values()):.2f} CPU s")


if __name__ == "__main__":
    main()
