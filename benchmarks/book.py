"""The whole pipeline against the book's own loop, each as a user runs it.

    python benchmarks/book.py --mnist DIR            # or SCRATCHNET_MNIST=DIR

In rounds, back to back: the whole DAG from the four .gz files in a fresh folder
(`snakemake --cores 2`), then the book's loop (benchmarks/book_loop.py) as a process of
its own with NumPy's default BLAS threads, then the same with one BLAS thread. Each
round gives the ratios DAG / book loop; the median of the rounds is reported, as this
machine's speed drifts over minutes. Nothing here is imported by the pipeline or tests.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import REPO, add_mnist_argument, mnist_folder, snakemake_command, write_config

HERE = Path(__file__).resolve().parent
ONE_THREAD = {name: "1" for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")}


def whole_dag(mnist: Path, folder: Path) -> tuple[float, float]:
    """Seconds of a fresh `snakemake --cores 2` from the .gz files, and its test accuracy."""
    folder.mkdir(parents=True)
    write_config(folder, mnist, {})
    command = snakemake_command(REPO / "Snakefile", folder, "--quiet")
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, timeout=1800)
    seconds = time.perf_counter() - start
    metrics = json.loads((folder / "results" / "default" / "metrics.json").read_text())
    return seconds, metrics["final_test_acc"]


def book_loop(mnist: Path, threads: dict) -> tuple[float, float]:
    """Seconds of the book's loop as its own process (start to exit), its test accuracy."""
    env = {key: value for key, value in os.environ.items() if key not in ONE_THREAD}
    command = [sys.executable, str(HERE / "book_loop.py"), "--mnist", str(mnist)]
    start = time.perf_counter()
    done = subprocess.run(
        command, check=True, capture_output=True, text=True, env={**env, **threads}, timeout=1800
    )
    seconds = time.perf_counter() - start
    return seconds, json.loads(done.stdout)["test_acc"]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mnist_argument(parser)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    mnist = mnist_folder(parser, args)
    rows = {"dag": [], "book": [], "book, 1 thread": []}
    with tempfile.TemporaryDirectory(prefix="scratchnet-book-") as tmp:
        for r in range(args.rounds):
            rows["dag"].append(whole_dag(mnist, Path(tmp) / f"dag{r}"))
            rows["book"].append(book_loop(mnist, {}))
            rows["book, 1 thread"].append(book_loop(mnist, ONE_THREAD))
            print("  round", r + 1, {k: f"{v[-1][0]:.1f} s" for k, v in rows.items()}, flush=True)
    report(rows)


def report(rows: dict[str, list[tuple[float, float]]]) -> None:
    names = {
        "dag": "whole DAG, snakemake --cores 2, from the .gz files",
        "book": "book's loop, its own process, default BLAS threads",
        "book, 1 thread": "book's loop, its own process, 1 BLAS thread",
    }
    print(f"\n{len(rows['dag'])} rounds, each the three back to back")
    print("| system | wall s (median) | range s | final test acc |\n|---|---|---|---|")
    for key, runs in rows.items():
        times = [seconds for seconds, _ in runs]
        print(
            f"| {names[key]} | {statistics.median(times):.2f} | "
            f"{min(times):.1f}-{max(times):.1f} | {runs[0][1]:.4f} |"
        )
    for key in ("book", "book, 1 thread"):
        ratios = [dag[0] / book[0] for dag, book in zip(rows["dag"], rows[key], strict=True)]
        listed = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"whole DAG / {key}: per round {listed}; median {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
