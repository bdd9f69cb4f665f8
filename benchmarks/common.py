"""What both benchmarks share: where MNIST is, a config that reads it, a Snakemake call."""

import argparse
import os
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]


def add_mnist_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--mnist",
        default=os.environ.get("SCRATCHNET_MNIST"),
        help="folder with the four MNIST .gz files (default: $SCRATCHNET_MNIST)",
    )


def mnist_folder(parser: argparse.ArgumentParser, args: argparse.Namespace) -> Path:
    if not args.mnist:
        parser.error("give --mnist DIR or set SCRATCHNET_MNIST")
    return Path(args.mnist)


def write_config(folder: Path, mnist: Path, changes: dict) -> None:
    """The repository's config.yaml with ``changes``, reading MNIST from ``mnist``."""
    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config.update(mirrors=[str(mnist.resolve())], **changes)
    (folder / "config.yaml").write_text(yaml.safe_dump(config))


def snakemake_command(snakefile: Path, folder: Path, *options: str, cores: int | None = 2):
    """`snakemake --cores 2` (or ``cores``; None: the profile's) on ``snakefile`` in
    ``folder``, with the interpreter running this script."""
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(snakefile)]
    command += ["--directory", str(folder), *options]
    return command if cores is None else [*command, "--cores", str(cores)]
