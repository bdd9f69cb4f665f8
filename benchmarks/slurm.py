"""A sweep through SLURM against the same sweep on this machine, back to back.

    workflow/cluster/local-slurm.sh start                    # root: a one-node cluster
    python benchmarks/slurm.py --mnist DIR [--rounds 2]      # or SCRATCHNET_MNIST=DIR

The data stage is built once, on this machine; every measurement starts from a copy of
it. Each round runs the 25-run tiny sweep (16 epochs of 5 updates, hidden_size x
learning_rate) with `snakemake --cores 2` and with `--workflow-profile
workflow/profiles/slurm`, and reports both wall times, their ratio, the SLURM
submissions and whether the results are byte-identical. Then a dry run of a 1,000-run
sweep through the profile counts the submissions it would make. Nothing here is imported
by the pipeline or the tests.
"""

import argparse
import hashlib
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from common import REPO, add_mnist_argument, mnist_folder, snakemake_command, write_config

PROFILE = REPO / "workflow" / "profiles" / "slurm"
SWEEP = {"hidden_size": [10, 20, 30, 40, 50], "learning_rate": [0.05, 0.1, 0.2, 0.3, 0.5]}
BIG = {  # 10 x 10 x 10 = 1,000 runs
    "hidden_size": list(range(10, 101, 10)),
    "learning_rate": [round(0.05 * i, 2) for i in range(1, 11)],
    "weight_init_std": [round(0.01 * i, 2) for i in range(1, 11)],
}
DATA_TARGETS = ("results/data/mnist.npz", "results/data/mnist/evaluation_index.npz",
                "results/data/mnist/classes.json", "results/data/mnist/dataset.json")  # fmt: skip


def call(folder: Path, *options: str, cluster: bool = False) -> tuple[float, str]:
    """Seconds and output of one Snakemake call in ``folder``: `--cores 2`, or through
    the SLURM profile (which sets the cores of a submission itself)."""
    cores, profile = (None, ["--workflow-profile", str(PROFILE)]) if cluster else (2, [])
    command = snakemake_command(REPO / "Snakefile", folder, *profile, *options, cores=cores)
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    output = done.stdout + done.stderr
    if done.returncode:
        raise SystemExit(f"snakemake failed in {folder}:\n{output[-3000:]}")
    return time.perf_counter() - start, output


def result_bytes(folder: Path) -> dict[str, str]:
    """Every result file's digest but logs, timings and what records seconds."""
    skipped = ("/logs/", "/timing/", "metrics.json", "summary.csv", "summary.html")
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((folder / "results").rglob("*"))
        if path.is_file() and not any(part in str(path) for part in skipped)
    }


def submissions(output: str) -> int:
    return output.count("has been submitted with SLURM jobid")


def planned_submissions(folder: Path) -> tuple[int, int]:
    """(submissions, runs) a dry run of the 1,000-run sweep through the profile plans."""
    _, output = call(
        folder, "--dry-run", "--config", f"sweep={BIG}", "iters_per_epoch=5", cluster=True
    )
    lines = output.splitlines()
    grouped = {line.strip() for line in lines if line.startswith("    rule ")}
    ungrouped = sum(line in grouped for line in lines)  # a grouped rule's job alone
    runs = output.count("rule train_epochs_000_008:")
    return output.count("Group job ") + ungrouped, runs


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mnist_argument(parser)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--skip-dry-run", action="store_true", help="no 1,000-run dry run")
    args = parser.parse_args(argv)
    mnist = mnist_folder(parser, args)
    sweep = ("--config", f"sweep={SWEEP}", "iters_per_epoch=5")
    rows = []
    with tempfile.TemporaryDirectory(prefix="scratchnet-slurm-") as tmp:
        built = Path(tmp) / "built"
        built.mkdir()
        write_config(built, mnist, {})
        call(built, *DATA_TARGETS)
        for r in range(args.rounds):
            local, cluster = Path(tmp) / f"local{r}", Path(tmp) / f"cluster{r}"
            for folder in (local, cluster):
                shutil.copytree(built, folder, symlinks=True)
            local_s, _ = call(local, *sweep)
            cluster_s, output = call(cluster, *sweep, cluster=True)
            same = result_bytes(local) == result_bytes(cluster)
            rows.append((local_s, cluster_s, submissions(output), same))
            print(f"  round {r + 1}: local {local_s:.1f} s, SLURM {cluster_s:.1f} s "
                  f"({rows[-1][2]} submissions), same bytes: {same}", flush=True)  # fmt: skip
        planned, runs = (0, 0) if args.skip_dry_run else planned_submissions(built)
    ratios = [cluster / local for local, cluster, _, _ in rows]
    print(f"\n25-run tiny sweep, {len(rows)} rounds, local then SLURM back to back")
    print("| run | wall s (median) | submissions |\n|---|---|---|")
    print(f"| local, --cores 2 | {statistics.median(r[0] for r in rows):.1f} | 0 |")
    print(f"| SLURM profile | {statistics.median(r[1] for r in rows):.1f} | {rows[0][2]} |")
    listed = ", ".join(f"{r:.2f}" for r in ratios)
    print(f"SLURM / local: per round {listed}; median {statistics.median(ratios):.2f}")
    print(f"byte-identical results: {all(r[3] for r in rows)}")
    print(f"dry run of a {runs}-run sweep through the profile: {planned} submissions")


if __name__ == "__main__":
    main()
