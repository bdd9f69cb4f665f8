"""Benchmark: the whole DAG and the training library against the book's own loop.

Run with ``python -m scratchnet bench``. Everything is timed in one process run on
this machine, so the ratios are comparable; wall times are not asserted anywhere.
The baseline is a plain float64 transcription of the book's train_neuralnet.py
(ch. 4, backprop gradient), written here so that nothing of ours speeds it up.
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from scratchnet import dataset, evalset
from scratchnet.evaluate import evaluate
from scratchnet.train import (
    ModelSettings,
    TrainingSettings,
    batch_indices,
    epoch_rng,
    initial_network,
    sgd_epoch,
)

REPO = Path(__file__).resolve().parents[2]
EPOCHS, ITERS_PER_EPOCH, BATCH, LEARNING_RATE = 16, 600, 100, 0.1


# --- the book's loop, float64, as printed -------------------------------------------


def _book_sigmoid(x):
    return 1 / (1 + np.exp(-x))


def _book_softmax(x):
    x = x.T
    x = x - np.max(x, axis=0)
    y = np.exp(x) / np.sum(np.exp(x), axis=0)
    return y.T


def _book_cross_entropy_error(y, t):
    if t.size == y.size:
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class BookTwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, seed=0):
        rng = epoch_rng(seed, 0)  # the same initial weights as our epoch 0, in float64
        self.params = {
            "W1": weight_init_std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": weight_init_std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def predict(self, x):
        W1, W2, b1, b2 = self.params["W1"], self.params["W2"], self.params["b1"], self.params["b2"]
        return _book_softmax(np.dot(_book_sigmoid(np.dot(x, W1) + b1), W2) + b2)

    def loss(self, x, t):
        return _book_cross_entropy_error(self.predict(x), t)

    def accuracy(self, x, t):
        y = np.argmax(self.predict(x), axis=1)
        return np.sum(y == np.argmax(t, axis=1)) / float(x.shape[0])

    def gradient(self, x, t):
        W1, W2, b1, b2 = self.params["W1"], self.params["W2"], self.params["b1"], self.params["b2"]
        batch_num = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = _book_sigmoid(a1)
        y = _book_softmax(np.dot(z1, W2) + b2)
        dy = (y - t) / batch_num
        grads = {"W2": np.dot(z1.T, dy), "b2": np.sum(dy, axis=0)}
        dz1 = np.dot(dy, W2.T)
        da1 = (1.0 - _book_sigmoid(a1)) * _book_sigmoid(a1) * dz1
        grads["W1"], grads["b1"] = np.dot(x.T, da1), np.sum(da1, axis=0)
        return grads


def book_batches(train_size: int, iters: int, seed: int = 0):
    """The book's np.random.choice batches, drawn from our per-epoch generators so that
    both loops see the same batches and their loss trajectories can be compared."""
    for epoch in range(1, -(-iters // ITERS_PER_EPOCH) + 1):
        rows = batch_indices(
            epoch_rng(seed, epoch), train_size, BATCH, ITERS_PER_EPOCH, "replacement"
        )
        yield from rows


def book_loop(data: dataset.Dataset, iters: int, seed: int = 0) -> dict:
    """train_neuralnet.py: x normalised to float32, one-hot labels, float64 weights."""
    x_train, x_test = dataset.normalize(data.pixels_train), dataset.normalize(data.pixels_test)
    t_train, t_test = np.eye(10)[data.t_train], np.eye(10)[data.t_test]
    network = BookTwoLayerNet(784, 50, 10, seed=seed)
    batches = book_batches(len(x_train), iters, seed)
    train_loss_list, test_acc_list = [], []
    start = time.perf_counter()
    for i in range(iters):
        batch_mask = next(batches)
        x_batch, t_batch = x_train[batch_mask], t_train[batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= LEARNING_RATE * grad[key]
        train_loss_list.append(network.loss(x_batch, t_batch))
        if i % ITERS_PER_EPOCH == 0:
            network.accuracy(x_train, t_train)
            test_acc_list.append(network.accuracy(x_test, t_test))
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "test_acc": test_acc_list[-1], "losses": train_loss_list}


# --- our library, no Snakemake --------------------------------------------------------


def library_run(data: dataset.Dataset, dtype: str = "float32") -> dict:
    """Init, 16 epochs and 17 full evaluations, in one process (the evaluation set's
    packing included, as the DAG does it once)."""
    start = time.perf_counter()
    images = evalset.pack(data)
    net = initial_network(ModelSettings(dtype=dtype), data.input_size, 10)
    settings = TrainingSettings(LEARNING_RATE, BATCH, ITERS_PER_EPOCH)
    scores, losses = evaluate(net, images), []
    for epoch in range(1, EPOCHS + 1):
        losses.extend(sgd_epoch(net, data, settings, epoch_rng(0, epoch)))
        scores = evaluate(net, images)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "test_acc": scores["test_acc"], "losses": losses}


def ms_per_step(data: dataset.Dataset, dtype: str, steps: int = 600, repeats: int = 3) -> float:
    """Best of ``repeats`` epochs: the machine's noise only ever adds time."""
    best = float("inf")
    for _ in range(repeats):
        net = initial_network(ModelSettings(dtype=dtype), data.input_size, 10)
        settings = TrainingSettings(LEARNING_RATE, BATCH, steps)
        start = time.perf_counter()
        sgd_epoch(net, data, settings, epoch_rng(0, 1))
        best = min(best, (time.perf_counter() - start) / steps * 1000)
    return best


def book_ms_per_step(data: dataset.Dataset, steps: int = 600, repeats: int = 3) -> float:
    x_train = dataset.normalize(data.pixels_train)
    t_train = np.eye(10)[data.t_train]
    best = float("inf")
    for _ in range(repeats):
        network, batches = BookTwoLayerNet(784, 50, 10), book_batches(len(x_train), steps)
        start = time.perf_counter()
        for _ in range(steps):
            mask = next(batches)
            grad = network.gradient(x_train[mask], t_train[mask])
            for key in grad:
                network.params[key] -= LEARNING_RATE * grad[key]
            network.loss(x_train[mask], t_train[mask])
        best = min(best, (time.perf_counter() - start) / steps * 1000)
    return best


def trajectory_difference(data: dataset.Dataset, dtype: str) -> float:
    """Largest weight difference after one epoch (same initial weights, same batches)
    between our library and the book's update, relative to the largest weight."""
    x_train, t_train = dataset.normalize(data.pixels_train), np.eye(10)[data.t_train]
    book = BookTwoLayerNet(784, 50, 10)
    for mask in book_batches(len(x_train), ITERS_PER_EPOCH):
        grad = book.gradient(x_train[mask], t_train[mask])
        for key in grad:
            book.params[key] -= LEARNING_RATE * grad[key]
    ours = initial_network(ModelSettings(dtype=dtype), data.input_size, 10)
    sgd_epoch(ours, data, TrainingSettings(LEARNING_RATE, BATCH, ITERS_PER_EPOCH), epoch_rng(0, 1))
    return max(
        float(np.max(np.abs(ours.params[k] - book.params[k])) / np.max(np.abs(book.params[k])))
        for k in book.params
    )


def torch_run(data: dataset.Dataset) -> dict | None:
    """The same MLP in PyTorch on the CPU, one thread; None when torch is not installed."""
    try:
        import torch
    except ImportError:
        return None
    torch.set_num_threads(1)
    torch.manual_seed(0)
    x_train = torch.from_numpy(dataset.normalize(data.pixels_train))
    x_test = torch.from_numpy(dataset.normalize(data.pixels_test))
    t_train = torch.from_numpy(data.t_train.astype(np.int64))
    t_test = torch.from_numpy(data.t_test.astype(np.int64))
    model = torch.nn.Sequential(
        torch.nn.Linear(784, 50), torch.nn.Sigmoid(), torch.nn.Linear(50, 10)
    )
    for layer in (model[0], model[2]):
        torch.nn.init.normal_(layer.weight, std=0.01)
        torch.nn.init.zeros_(layer.bias)
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    loss_fn = torch.nn.CrossEntropyLoss()
    start = time.perf_counter()

    def accuracy(x, t):
        with torch.no_grad():
            return float((model(x).argmax(1) == t).float().mean())

    accuracy(x_train, t_train)
    for _epoch in range(EPOCHS):
        for _ in range(ITERS_PER_EPOCH):
            idx = torch.randint(0, len(x_train), (BATCH,))
            optimizer.zero_grad()
            loss = loss_fn(model(x_train[idx]), t_train[idx])
            loss.backward()
            optimizer.step()
        accuracy(x_train, t_train)
        test_acc = accuracy(x_test, t_test)
    return {"seconds": time.perf_counter() - start, "test_acc": test_acc}


# --- the whole DAG through Snakemake ----------------------------------------------------


def dag_run(
    mirror: Path, workdir: Path, config_changes: dict | None = None, env: dict | None = None
) -> dict:
    """A fresh `snakemake --cores 2` from the raw .gz files to the figures."""
    import yaml

    config = yaml.safe_load((REPO / "config.yaml").read_text())
    config["mirrors"] = [str(mirror.resolve())]
    config.update(config_changes or {})
    workdir.mkdir(parents=True)
    (workdir / "config.yaml").write_text(yaml.safe_dump(config))
    command = [sys.executable, "-m", "snakemake", "--snakefile", str(REPO / "Snakefile"),
               "--directory", str(workdir), "--cores", "2", "--quiet", "all"]  # fmt: skip
    start, busy_before = time.perf_counter(), machine_busy_seconds()
    subprocess.run(command, check=True, capture_output=True, timeout=1800, env=env)
    seconds, busy_after = time.perf_counter() - start, machine_busy_seconds()
    metrics = [json.loads(p.read_text()) for p in sorted(workdir.glob("results/*/metrics.json"))]
    return {
        "seconds": seconds,
        "cpu_seconds": None if busy_before is None else busy_after - busy_before,
        "test_acc": metrics[0]["final_test_acc"] if len(metrics) == 1 else None,
        "peak_rss_mb": peak_rss_by_rule(workdir),
    }


def machine_busy_seconds() -> float | None:
    """CPU seconds all cores have spent busy since boot (Linux /proc/stat), or None.

    Machine-wide, because the forked jobs are the worker's children, not Snakemake's."""
    try:
        with open("/proc/stat") as f:
            fields = [int(v) for v in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    user, nice, system, _idle, _iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def peak_rss_by_rule(workdir: Path) -> dict[str, float]:
    """Largest 'peak RSS' each kind of job logged (benchmark files sample too rarely), and
    the warm worker's. A forked job's figure includes the pages it shares with the worker."""
    logs = [*(workdir / "results").rglob("logs/**/*.log"), *workdir.glob(".snakemake/log/*.log")]
    peaks: dict[str, float] = defaultdict(float)
    for log in logs:
        rule = re.sub(r"_\d{3}(-\d{3})?$|_[\w.-]+\.gz$", "", log.stem).replace("scratchnet-", "")
        for match in re.finditer(r"peak RSS ([\d.]+) MB", log.read_text()):
            peaks[rule] = max(peaks[rule], float(match.group(1)))
    return dict(sorted(peaks.items()))


# --- report -----------------------------------------------------------------------------


def _row(name: str, result: dict | None, book_seconds: float) -> str:
    if result is None:
        return f"| {name} | skipped (not installed) | | | |"
    acc = f"{result['test_acc']:.4f}" if result.get("test_acc") is not None else ""
    ratio = result["seconds"] / book_seconds
    return f"| {name} | {result['seconds']:.2f} | {_spread(result)} | {ratio:.2f} | {acc} |"


def _spread(result: dict) -> str:
    times = result.get("all_seconds", [result["seconds"]])
    return f"{min(times):.1f}-{max(times):.1f}" if len(times) > 1 else ""


def _median(results: list[dict | None]) -> dict | None:
    """The run with the median time (the lower one of an even count), with every run's
    time added. Not the fastest: this machine's speed comes in bursts, and a 10 s run
    catches a fast burst far more often than a 30 s one, so minima favour short runs."""
    done = sorted((r for r in results if r is not None), key=lambda r: r["seconds"])
    if not done:
        return None
    return {**done[(len(done) - 1) // 2], "all_seconds": [r["seconds"] for r in done]}


def _prepared_data(mirror: Path, folder: Path) -> dataset.Dataset:
    """The dataset as the DAG prepares it (prepared here when the DAG is skipped)."""
    if not (folder / "pixels.npy").exists():
        import yaml

        specs = yaml.safe_load((REPO / "config.yaml").read_text())["datasets"]["mnist"]["files"]
        folder.mkdir(parents=True)
        files = {split: mirror / specs[split]["name"] for split in dataset.SPLITS}
        dataset.prepare(files, folder / "pixels.npy", folder / "labels.npz")
    return dataset.load(folder / "pixels.npy", folder / "labels.npz")


def _timed_runs(args, mirror: Path, tmp: Path) -> tuple[dict, dataset.Dataset]:
    """Every system ``args.repeats`` times, interleaved, so drifts of the machine's speed
    touch them all alike. Each round runs the sweep, one run and the book loop back to
    back, so the two ratios the goals set compare runs minutes apart at most."""
    runs: dict[str, list] = defaultdict(list)
    data = None
    # four runs of equal cost, so the sweep's ratio measures parallel scheduling
    sweep_config = {"sweep": {"learning_rate": [0.05, 0.1, 0.2, 0.4]}}
    for r in range(args.repeats):
        if not (args.skip_dag or args.skip_sweep):
            runs["sweep"].append(dag_run(mirror, tmp / f"sweep{r}", sweep_config))
            shutil.rmtree(tmp / f"sweep{r}")
        if not args.skip_dag:
            runs["dag"].append(dag_run(mirror, tmp / f"dag{r}"))
        data = data or _prepared_data(mirror, tmp / "dag0" / "results" / "data" / "mnist")
        runs["book"].append(book_loop(data, EPOCHS * ITERS_PER_EPOCH + 400))
        runs["library"].append(library_run(data))
        runs["torch"].append(torch_run(data))
    if not args.skip_dag:
        off = {**os.environ, "SCRATCHNET_WORKER": "off"}
        runs["dag, worker off"].append(dag_run(mirror, tmp / "dag-off", env=off))
    return runs, data


def round_ratios(numerators: list[dict | None], denominators: list[dict | None]) -> list[float]:
    """Time ratios of the runs of the same round, for rounds where both finished."""
    return [
        top["seconds"] / bottom["seconds"]
        for top, bottom in zip(numerators, denominators, strict=True)
        if top is not None and bottom is not None
    ]


def _print_ratios(name: str, ratios: list[float]) -> None:
    if ratios:
        listed = ", ".join(f"{r:.2f}" for r in ratios)
        print(f"  {name}: {listed} (median {statistics.median(ratios):.2f})")


def main(args) -> None:
    mirror = Path(args.mirror)
    with tempfile.TemporaryDirectory(prefix="scratchnet-bench-") as tmp:
        runs, data = _timed_runs(args, mirror, Path(tmp))
        median = {name: _median(results) for name, results in runs.items()}
        drift = {dtype: trajectory_difference(data, dtype) for dtype in ("float64", "float32")}
        steps = {
            "book float64": book_ms_per_step(data),
            "library float64": ms_per_step(data, "float64"),
            "library float32": ms_per_step(data, "float32"),
        }
    dag, sweep, book_s = median.get("dag"), median.get("sweep"), median["book"]["seconds"]
    rows = [
        "| system | median wall s | range s | ratio to book loop | final test acc |",
        "|---|---|---|---|---|",
    ]
    rows.append(_row("book loop, float64 (10,000 updates)", median["book"], book_s))
    if dag is not None:
        rows.append(_row("whole DAG, snakemake --cores 2, from .gz", dag, book_s))
        rows.append(_row("  the same, SCRATCHNET_WORKER=off", median["dag, worker off"], book_s))
    rows.append(_row("library alone, float32, no Snakemake", median["library"], book_s))
    rows.append(_row("PyTorch CPU, 1 thread", median["torch"], book_s))
    if sweep is not None:
        per_run = sweep["seconds"] / dag["seconds"]
        rows.append(
            f"| 4-run sweep, --cores 2 | {sweep['seconds']:.2f} | {_spread(sweep)} | "
            f"{sweep['seconds'] / book_s:.2f} | ({per_run:.2f} x one run) |"
        )
    print(f"median of {args.repeats} interleaved runs each (the worker-off DAG: one run)")
    print("\n".join(rows))
    if dag is not None:
        print("\nratios within each round (runs back to back):")
        _print_ratios("whole DAG / book loop", round_ratios(runs["dag"], runs["book"]))
        if sweep is not None:
            _print_ratios("4-run sweep / one run", round_ratios(runs["sweep"], runs["dag"]))
    print("\nms per training step (batch 100):")
    for name, ms in steps.items():
        print(f"  {name}: {ms:.3f} ms ({steps['book float64'] / ms:.1f}x the book)")
    print("weights after one epoch from the same start and batches, relative to the book's:")
    print("  " + ", ".join(f"library {dtype} {d:.1e}" for dtype, d in drift.items()))
    if dag is not None and dag["cpu_seconds"] is not None:
        print("\nCPU busy on all cores during the median run, and average cores used:")
        for name, run in (("one run", dag), ("4-run sweep", sweep)):
            if run is not None:
                cores = run["cpu_seconds"] / run["seconds"]
                print(f"  {name}: {run['cpu_seconds']:.1f} CPU-s, {cores:.2f} cores")
    if dag is not None:
        print("\npeak RSS per job kind and of the worker (MB):")
        for rule, mb in dag["peak_rss_mb"].items():
            print(f"  {rule}: {mb:.0f}")
    if median["torch"] is None:
        print("note: PyTorch not installed: pip install torch==2.13.0 to include it")
