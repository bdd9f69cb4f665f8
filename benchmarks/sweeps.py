"""Orchestration at scale: one default run against sweeps of near-zero compute.

    python benchmarks/sweeps.py --mnist DIR            # or SCRATCHNET_MNIST=DIR

Times, on this machine and from a data stage already built (copied into a fresh
folder for every measurement):

- one default run (`snakemake --cores 2`, 16 epochs of 600 updates);
- a 25-run sweep of near-zero compute (`iters_per_epoch: 5`, so its time is mostly
  orchestration and evaluation), back to back with the default run, in rounds; the
  ratio is the median of the rounds' ratios;
- a 100-run sweep of the same kind, once, with the time until its first job started;
- the work floor of the 25-run sweep (`work_floor.py`): its jobs' CPU seconds with no
  orchestration at all, and that divided by the 2 cores, the least wall time any
  scheduler could take.

For every Snakemake call it also reports CPU seconds: Snakemake's process and what it
waited for (job shells, the warm worker's start-up), not the jobs the worker forks.

It runs any checkout's Snakefile (`--snakefile`), so a change can be measured against
the code before it. Nothing here is imported by the pipeline or the tests.
"""

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from common import REPO, add_mnist_argument, mnist_folder, snakemake_command, write_config

LEARNING_RATES = [0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0]


def sweep_config(runs: int) -> dict:
    """``runs`` = seeds x learning rates, every run 16 epochs of 5 updates."""
    seeds = runs // 5 if runs <= 25 else runs // len(LEARNING_RATES)
    rates = LEARNING_RATES[: runs // seeds]
    return {"sweep": {"seed": list(range(seeds)), "learning_rate": rates}, "iters_per_epoch": 5}


class Timed:
    """One `snakemake --cores 2` in ``folder``: wall time, CPU time, when its first job
    started, and how many jobs it ran (from Snakemake's own progress lines)."""

    JOB_START = re.compile(r"^(local)?rule \w+:$")
    PROGRESS = re.compile(r"(\d+) of (\d+) steps")

    def __init__(self, snakefile: Path, folder: Path, env: dict | None = None):
        command = snakemake_command(snakefile, folder)
        cpu_before = _children_cpu()
        self.first_job = None
        self.jobs = 0
        start = time.perf_counter()
        process = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env
        )
        reader = threading.Thread(target=self._read, args=(process.stdout, start))
        reader.start()
        process.wait()
        self.seconds = time.perf_counter() - start
        self.cpu = _children_cpu() - cpu_before
        reader.join()
        if process.returncode != 0:
            raise SystemExit(f"snakemake failed in {folder}; see its .snakemake/log")

    def _read(self, stream, start: float) -> None:
        for line in stream:
            if self.first_job is None and self.JOB_START.match(line.strip()):
                self.first_job = time.perf_counter() - start
            if match := self.PROGRESS.search(line):
                self.jobs = int(match.group(2))


def _children_cpu() -> float:
    """CPU seconds of this process's finished (waited-for) child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def data_stage(snakefile: Path, mnist: Path, folder: Path) -> Path:
    """A folder whose data stage is built: every measurement starts from a copy of it."""
    folder.mkdir(parents=True)
    write_config(folder, mnist, {})
    command = snakemake_command(
        snakefile, folder, "--quiet", "--until", "normalize", "pack_evaluation"
    )
    subprocess.run(command, check=True, capture_output=True, timeout=1800)
    return folder


WORKER_OFF = {**os.environ, "SCRATCHNET_WORKER": "off"}


def measure(
    args, template: Path, name: str, changes: dict, keep: bool = False, env: dict | None = None
) -> Timed:
    folder = Path(args.tmp) / name
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(template, folder, symlinks=True)
    write_config(folder, args.mnist, changes)
    timed = Timed(args.snakefile, folder, env=env)
    if not keep:
        shutil.rmtree(folder)
    print(f"  {name}: {timed.seconds:.1f} s, {timed.jobs} jobs, {timed.cpu:.1f} CPU s", flush=True)
    return timed


def work_floor(args, folder: Path) -> float:
    """The CPU seconds of the jobs of ``folder`` (a finished sweep), run without Snakemake."""
    script = Path(__file__).with_name("work_floor.py")
    listing = subprocess.run(
        [sys.executable, str(script), str(folder), "--snakefile", str(args.snakefile)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    print("".join(f"    {line}\n" for line in listing.splitlines()), end="", flush=True)
    total = listing.splitlines()[-1]  # "total: N jobs, S CPU s"
    return float(total.split(",")[1].split()[0])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mnist_argument(parser)
    parser.add_argument("--snakefile", type=Path, default=REPO / "Snakefile")
    parser.add_argument("--rounds", type=int, default=3, help="pairs of one run and 25 runs")
    parser.add_argument("--skip-100", action="store_true", help="leave out the 100-run sweep")
    parser.add_argument(
        "--worker-pairs",
        action="store_true",
        help="each measurement again right after it with SCRATCHNET_WORKER=off",
    )
    args = parser.parse_args(argv)
    args.mnist = mnist_folder(parser, args)
    with tempfile.TemporaryDirectory(prefix="scratchnet-sweeps-") as tmp:
        args.tmp = tmp
        template = data_stage(args.snakefile, args.mnist, Path(tmp) / "template")
        singles, sweeps, ratios, off = [], [], [], {"one run": [], "25-run sweep": []}
        for r in range(args.rounds):
            singles.append(measure(args, template, f"one-run-{r}", {}))
            if args.worker_pairs:
                single = measure(args, template, f"one-run-off-{r}", {}, env=WORKER_OFF)
                off["one run"].append(single.seconds / singles[-1].seconds)
            sweeps.append(measure(args, template, f"25-runs-{r}", sweep_config(25), keep=True))
            if args.worker_pairs:
                sweep = measure(args, template, f"25-off-{r}", sweep_config(25), env=WORKER_OFF)
                off["25-run sweep"].append(sweep.seconds / sweeps[-1].seconds)
            ratios.append(sweeps[-1].seconds / singles[-1].seconds)
        print("  the 25-run sweep's jobs again, without Snakemake:", flush=True)
        floor = work_floor(args, Path(tmp) / f"25-runs-{args.rounds - 1}")
        large = None if args.skip_100 else measure(args, template, "100-runs", sweep_config(100))
    report(singles, sweeps, ratios, large, floor)
    for name, gains in off.items():
        if gains:
            listed = ", ".join(f"{gain:.2f}" for gain in gains)
            median = statistics.median(gains)
            print(f"{name}, worker off / on, per pair: {listed}; median {median:.2f}")


def report(
    singles: list[Timed], sweeps: list[Timed], ratios: list[float], large, floor: float
) -> None:
    one = statistics.median(t.seconds for t in singles)
    print(f"\n{len(ratios)} rounds, each one default run then a 25-run sweep, back to back")
    print("| measurement | jobs | wall s (median) | range s | first job after s | CPU s |")
    print("|---|---|---|---|---|---|")
    for name, runs in (("one default run", singles), ("25-run sweep, 5 updates/epoch", sweeps)):
        times = [t.seconds for t in runs]
        first = statistics.median(t.first_job for t in runs if t.first_job is not None)
        print(
            f"| {name} | {runs[0].jobs} | {statistics.median(times):.1f} | "
            f"{min(times):.1f}-{max(times):.1f} | {first:.1f} | "
            f"{statistics.median(t.cpu for t in runs):.1f} |"
        )
    if large is not None:
        print(
            f"| 100-run sweep, 5 updates/epoch | {large.jobs} | {large.seconds:.1f} | | "
            f"{large.first_job:.1f} | {large.cpu:.1f} |"
        )
    listed = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"\n25-run sweep / one run, per round: {listed}; median {statistics.median(ratios):.2f}")
    print(
        f"25-run sweep's work floor: {floor:.1f} CPU s, on 2 cores {floor / 2:.1f} s "
        f"= {floor / 2 / one:.2f} x one run (median)"
    )
    if large is not None:
        print(f"100-run sweep / one run (median): {large.seconds / one:.2f}")


if __name__ == "__main__":
    main()
