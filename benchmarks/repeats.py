"""What repeats over seeds cost: back-to-back pairs on MNIST, from a built data stage.

    python benchmarks/repeats.py --mnist DIR            # or SCRATCHNET_MNIST=DIR

In each round, every pair is measured back to back (`snakemake --cores 2`, each in a
fresh copy of the data stage):

- one default run, then the same with `repeats: 5`;
- a 2x2 sweep (hidden_size 50/100 x learning_rate 0.1/0.5), then the same with
  `repeats: 3`.

The ratios are the medians of the rounds' ratios. With `--spread N` it also trains the
default run with N seeds and prints the spread of its final test accuracy (the README's
headline). Nothing here is imported by the pipeline or the tests.
"""

import argparse
import shutil
import statistics
import tempfile
from pathlib import Path

import pandas as pd
from common import REPO, add_mnist_argument, mnist_folder
from sweeps import data_stage, measure

GRID = {"hidden_size": [50, 100], "learning_rate": [0.1, 0.5]}
PAIRS = {
    "5 repeats / one run": ({}, {"repeats": 5}),
    "2x2 sweep x 3 repeats / 2x2 sweep": ({"sweep": GRID}, {"sweep": GRID, "repeats": 3}),
}


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_mnist_argument(parser)
    parser.add_argument("--snakefile", type=Path, default=REPO / "Snakefile")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--spread", type=int, default=0, help="seeds of the default run")
    args = parser.parse_args(argv)
    args.mnist = mnist_folder(parser, args)
    args.env = None
    with tempfile.TemporaryDirectory(prefix="scratchnet-repeats-") as tmp:
        args.tmp = tmp
        template = data_stage(args.snakefile, args.mnist, Path(tmp) / "template")
        ratios = {name: [] for name in PAIRS}
        times = {name: [] for name in PAIRS}
        for r in range(args.rounds):
            for name, (plain, repeated) in PAIRS.items():
                before = measure(args, template, f"plain-{r}", plain)
                after = measure(args, template, f"repeated-{r}", repeated)
                ratios[name].append(after.seconds / before.seconds)
                times[name].append((before.seconds, after.seconds))
        print(f"\n{args.rounds} rounds of back-to-back pairs")
        print("| pair | wall s, without / with repeats (medians) | ratio per round | median |")
        print("|---|---|---|---|")
        for name in PAIRS:
            plain = statistics.median(t for t, _ in times[name])
            repeated = statistics.median(t for _, t in times[name])
            listed = ", ".join(f"{r:.2f}" for r in ratios[name])
            print(
                f"| {name} | {plain:.1f} / {repeated:.1f} | {listed} | "
                f"{statistics.median(ratios[name]):.2f} |"
            )
        if args.spread:
            spread_of_default(args, template, args.spread)


def spread_of_default(args, template: Path, seeds: int) -> None:
    measure(args, template, "spread", {"repeats": seeds}, keep=True)
    folder = Path(args.tmp) / "spread"
    table = pd.read_csv(folder / "results" / "summary_by_setting.csv").iloc[0]
    finals = pd.read_csv(folder / "results" / "summary.csv")["final_test_acc"]
    print(
        f"\ndefault run, {seeds} seeds: final test accuracy mean "
        f"{table['final_test_acc_mean']:.4f}, sd {table['final_test_acc_sd']:.4f}, "
        f"range {table['final_test_acc_min']:.4f}-{table['final_test_acc_max']:.4f}, "
        f"95 % interval of the mean {table['final_test_acc_ci95_low']:.4f}-"
        f"{table['final_test_acc_ci95_high']:.4f}; per seed: "
        + ", ".join(f"{value:.4f}" for value in finals.sort_values())
    )
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
