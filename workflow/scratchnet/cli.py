"""Command line the Snakemake rules call: one subcommand per job kind.

Each subcommand parses arguments, calls the package's functions and writes its
outputs atomically. Known failures end in one line on stderr and exit code 1.
"""

import os

# One BLAS thread: measured ~2x faster than two for batch-100 matrices, and it makes
# every result independent of the machine's core count (bit-identical reruns).
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

log = logging.getLogger("scratchnet")


class UsageError(ValueError):
    """Arguments that parse but make no sense together."""


def _model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hidden-size", type=int, default=50)
    parser.add_argument("--weight-init-std", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dtype", choices=("float32", "float64"), default="float32")


def _training_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learning-rate", type=float, default=0.1)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument("--iters-per-epoch", type=int, default=None)
    parser.add_argument("--sampling", choices=("replacement", "permutation"), default="replacement")
    parser.add_argument("--gradient", choices=("backprop", "numerical"), default="backprop")


def _model_settings(args):
    from scratchnet.train import ModelSettings

    return ModelSettings(args.hidden_size, args.weight_init_std, args.seed, args.dtype)


def _training_settings(args):
    from scratchnet.train import TrainingSettings

    return TrainingSettings(
        args.learning_rate, args.batch_size, args.iters_per_epoch, args.sampling, args.gradient
    )


def _data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pixels", required=True, help="pixels.npy written by prepare")
    parser.add_argument("--labels", required=True, help="labels.npz written by prepare")


def _load_data(args):
    from scratchnet import dataset

    return dataset.load(args.pixels, args.labels)


# --- data -----------------------------------------------------------------------------


def cmd_download(args) -> None:
    from scratchnet.download import Retry, download

    if not args.mirror:
        raise UsageError("download needs at least one --mirror")
    target = Path(args.out)
    source = download(
        args.filename,
        args.sha256,
        args.mirror,
        target,
        Retry(args.attempts, args.backoff, args.timeout),
    )
    log.info("wrote %s from %s", target, source)


def cmd_prepare(args) -> None:
    from scratchnet.dataset import prepare

    start = time.perf_counter()
    files = {
        "train_images": Path(args.train_images),
        "train_labels": Path(args.train_labels),
        "test_images": Path(args.test_images),
        "test_labels": Path(args.test_labels),
    }
    sha256 = {split: getattr(args, f"{split}_sha256") for split in files}
    data = prepare(files, Path(args.pixels), Path(args.labels), args.num_classes, sha256)
    log.info(
        "wrote %s and %s: %d train and %d test images of %d pixels in %.2f s",
        args.pixels,
        args.labels,
        data.train_size,
        len(data.t_test),
        data.input_size,
        time.perf_counter() - start,
    )


def cmd_normalize(args) -> None:
    from scratchnet.dataset import write_normalized

    start = time.perf_counter()
    write_normalized(_load_data(args), Path(args.out))
    log.info("wrote %s in %.2f s", args.out, time.perf_counter() - start)


def cmd_pack_evaluation(args) -> None:
    from scratchnet import evalset

    start = time.perf_counter()
    packed = evalset.pack(_load_data(args))
    evalset.save(packed, args.out_pixels, args.out_index)
    blocks = packed.train + packed.test
    kept = sum(b.pixels.size for b in blocks) / sum(len(b.labels) for b in blocks)
    log.info(
        "wrote %s and %s: %d blocks keeping %.0f pixels per image on average, in %.2f s",
        args.out_pixels,
        args.out_index,
        len(blocks),
        kept,
        time.perf_counter() - start,
    )


# --- network ----------------------------------------------------------------------------


def cmd_init(args) -> None:
    from dataclasses import asdict

    from scratchnet import checkpoint
    from scratchnet.train import initial_network

    data = _load_data(args)
    model = _model_settings(args)
    net = initial_network(model, data.input_size, args.num_classes)
    meta = {
        "epoch": 0,
        "iteration": 0,
        "model": asdict(model),
        "dataset_digest": data.digest,
    }
    checkpoint.save(args.out, net, meta)
    log.info("wrote %s: initial network %s", args.out, asdict(model))


def _numerical_cost_note(net, data, settings) -> str:
    from scratchnet.dataset import normalize

    x = normalize(data.pixels_train[: settings.batch_size]).astype(net.dtype)
    t = data.t_train[: settings.batch_size]
    start = time.perf_counter()
    net.loss(x, t)
    per_loss = time.perf_counter() - start
    evaluations = 2 * sum(p.size for p in net.params.values())
    total = per_loss * evaluations * settings.iters_per_epoch
    return (
        f"gradient: numerical needs {evaluations} loss evaluations per update; "
        f"this epoch will take about {total:.0f} s ({total / 3600:.1f} h)"
    )


def cmd_train_epoch(args) -> None:
    from dataclasses import asdict

    from scratchnet import checkpoint
    from scratchnet.train import ProgressLog, TrainingDiverged, epoch_rng, sgd_epoch

    net, meta = checkpoint.load(args.previous)
    data = _load_data(args)
    model = _model_settings(args)
    settings = _training_settings(args).resolved(data.train_size)
    checkpoint.require_same("model", meta["model"], asdict(model), args.previous)
    if "training" in meta:
        checkpoint.require_same("training", meta["training"], asdict(settings), args.previous)
    checkpoint.require_same_data(
        meta, data.digest, args.previous, args.pixels, "delete the checkpoints"
    )
    epoch = meta["epoch"] + 1
    if settings.gradient == "numerical":
        log.warning(_numerical_cost_note(net, data, settings))
    log.info("epoch %d: %d updates from %s", epoch, settings.iters_per_epoch, args.previous)
    progress = ProgressLog(settings.iters_per_epoch, meta["iteration"] + 1)
    start = time.perf_counter()
    try:
        losses = sgd_epoch(net, data, settings, epoch_rng(model.seed, epoch), progress)
    except TrainingDiverged as exc:
        raise TrainingDiverged(
            f"epoch {epoch}, {exc}: training diverged; lower learning_rate "
            f"(now {settings.learning_rate})"
        ) from None
    seconds = time.perf_counter() - start
    first = meta["iteration"] + 1
    _write_losses(args.losses, epoch, first, losses)
    meta = {**meta, "epoch": epoch, "iteration": meta["iteration"] + len(losses)}
    meta["training"] = asdict(settings)
    checkpoint.save(args.out, net, meta)
    log.info(
        "wrote %s (iteration %d) in %.2f s, %.0f updates/s",
        args.out,
        meta["iteration"],
        seconds,
        len(losses) / seconds,
    )


def _write_losses(path, epoch: int, first_iteration: int, losses) -> None:
    from scratchnet.aggregate import LOSS_COLUMNS, to_csv
    from scratchnet.atomic import write_text_atomically

    rows = (
        {"iteration": first_iteration + i, "epoch": epoch, "loss": float(loss)}
        for i, loss in enumerate(losses)
    )
    write_text_atomically(path, to_csv(LOSS_COLUMNS, rows))


def cmd_evaluate(args) -> None:
    from scratchnet import checkpoint, evalset
    from scratchnet.atomic import write_text_atomically
    from scratchnet.evaluate import evaluate_all

    images = evalset.load(args.pixels, args.index)
    nets, metas = [], []
    for path in args.checkpoints:
        net, meta = checkpoint.load(path)
        checkpoint.require_same_data(
            meta,
            images.digest,
            path,
            args.index,
            "evaluate it on its own dataset's evaluation set, or retrain it",
        )
        nets.append(net)
        metas.append(meta)
    start = time.perf_counter()
    rows = [
        {"epoch": meta["epoch"], "iteration": meta["iteration"], **scores}
        for meta, scores in zip(metas, evaluate_all(nets, images), strict=True)
    ]
    seconds = time.perf_counter() - start
    write_text_atomically(args.out, json.dumps(rows, indent=1) + "\n")
    for row in rows:
        log.info(
            "epoch %d: train_acc %.4f test_acc %.4f train_loss %.4f test_loss %.4f",
            *(row[key] for key in ("epoch", "train_acc", "test_acc", "train_loss", "test_loss")),
        )
    log.info("%d checkpoint(s) scored on every image in %.2f s", len(rows), seconds)


def cmd_gradcheck(args) -> None:
    import numpy as np

    from scratchnet import checkpoint, dataset
    from scratchnet.aggregate import to_csv
    from scratchnet.atomic import write_text_atomically
    from scratchnet.gradcheck import check_gradients, require_within
    from scratchnet.net import TwoLayerNet

    initial, meta = checkpoint.load(args.checkpoint)
    # the configured network itself, in float64 so that rounding does not hide errors
    net = TwoLayerNet.from_params({k: v.astype(np.float64) for k, v in initial.params.items()})
    data = _load_data(args)
    x = dataset.normalize(data.pixels_train[: args.images]).astype(np.float64)
    t = data.t_train[: args.images]
    start = time.perf_counter()
    rng = np.random.default_rng(meta["model"]["seed"])
    checks = check_gradients(net, x, t, args.max_entries, rng)
    for c in checks:
        log.info(
            "%s: %d entries, max |backprop - numerical| %.3e, relative %.3e",
            c.param,
            c.entries_checked,
            c.max_abs_diff,
            c.max_rel_err,
        )
    log.info("gradient check took %.2f s", time.perf_counter() - start)
    require_within(checks, args.tolerance)
    rows = (
        {"param": c.param, "max_abs_diff": c.max_abs_diff, "max_rel_err": c.max_rel_err}
        for c in checks
    )
    write_text_atomically(args.out, to_csv(("param", "max_abs_diff", "max_rel_err"), rows))


# --- tables and figures ------------------------------------------------------------------


def cmd_accuracy_table(args) -> None:
    from scratchnet.aggregate import ACCURACY_COLUMNS, accuracy_rows, to_csv
    from scratchnet.atomic import write_text_atomically

    write_text_atomically(args.out, to_csv(ACCURACY_COLUMNS, accuracy_rows(args.evaluations)))


def cmd_loss_table(args) -> None:
    from scratchnet.aggregate import LOSS_COLUMNS, loss_rows, to_csv
    from scratchnet.atomic import write_text_atomically

    write_text_atomically(args.out, to_csv(LOSS_COLUMNS, loss_rows(args.losses)))


def cmd_metrics(args) -> None:
    from scratchnet.aggregate import metrics, read_csv, training_seconds
    from scratchnet.atomic import write_text_atomically

    summary = metrics(read_csv(args.accuracy), training_seconds(args.benchmarks))
    write_text_atomically(args.out, json.dumps(summary, indent=1) + "\n")
    log.info("%s", summary)


def _save_figure(figure, args) -> None:
    from scratchnet import plots

    written = plots.save(figure, Path(args.out_stem), args.formats)
    log.info("wrote %s", ", ".join(map(str, written)))


def _column(rows: list[dict], key: str):
    import numpy as np

    return np.array([row[key] for row in rows])


def cmd_loss_figure(args) -> None:
    import numpy as np

    from scratchnet import plots
    from scratchnet.aggregate import read_csv

    losses = read_csv(args.loss)
    if losses:
        figure = plots.loss_figure(
            _column(losses, "iteration"), _column(losses, "loss"), args.title
        )
    else:  # epochs: 0 trains nothing
        figure = plots.loss_figure(np.array([0]), np.array([np.nan]), args.title)
    _save_figure(figure, args)


def cmd_accuracy_figure(args) -> None:
    from scratchnet import plots
    from scratchnet.aggregate import read_csv

    accuracy = read_csv(args.accuracy)
    figure = plots.accuracy_figure(
        _column(accuracy, "epoch"),
        _column(accuracy, "train_acc"),
        _column(accuracy, "test_acc"),
        args.title,
    )
    _save_figure(figure, args)


def cmd_summary(args) -> None:
    from scratchnet.aggregate import summary_rows, to_csv
    from scratchnet.atomic import write_text_atomically

    runs = json.loads(args.settings)
    if len(runs) != len(args.metrics):
        raise UsageError(f"{len(runs)} runs in --settings but {len(args.metrics)} metrics files")
    rows = summary_rows(runs, dict(zip(runs, args.metrics, strict=True)))
    write_text_atomically(args.out, to_csv(rows[0].keys(), rows))
    log.info("wrote %s: %d runs", args.out, len(rows))


def _per_run(args, what: str) -> dict[str, list[dict]]:
    """Run name -> rows of its CSV, for the --names and their CSV files in order."""
    from scratchnet.aggregate import read_csv

    if len(args.names) != len(args.tables):
        raise UsageError(f"compare-{what} needs one CSV file per --names entry")
    return {name: read_csv(table) for name, table in zip(args.names, args.tables, strict=True)}


def cmd_compare_accuracy(args) -> None:
    from scratchnet import plots

    curves = {
        name: (_column(rows, "epoch"), _column(rows, "test_acc"))
        for name, rows in _per_run(args, "accuracy").items()
    }
    figure = plots.comparison_figure(curves, "epochs", "test accuracy", "Test accuracy per run")
    _save_figure(figure, args)


def cmd_compare_loss(args) -> None:
    from scratchnet import plots

    curves = {}
    for name, rows in _per_run(args, "loss").items():
        losses = _column(rows, "loss")
        window = max(1, len(losses) // 50)
        curves[name] = (_column(rows, "iteration"), plots.moving_average(losses, window))
    figure = plots.comparison_figure(curves, "iteration", "loss (moving mean)", "Loss per run")
    _save_figure(figure, args)


def cmd_serve(args) -> None:
    from scratchnet.worker import serve

    serve(args.socket, log.info)
    log.info("peak RSS %.0f MB", _peak_rss_mb())
    # Snakemake waits for the worker to stop; skip tearing down NumPy and matplotlib (~0.15 s)
    logging.shutdown()
    os._exit(0)


# --- wiring -------------------------------------------------------------------------------


def _figure_args(parser: argparse.ArgumentParser, titled: bool = True) -> None:
    parser.add_argument("--out-stem", required=True, help="path without extension")
    parser.add_argument("--formats", nargs="+", default=["png"])
    if titled:
        parser.add_argument("--title", default="")


@functools.cache  # ~8 ms to build; the warm worker builds it once for all its jobs
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("download", help="fetch one file from mirrors, verifying its payload")
    p.add_argument("--filename", required=True)
    p.add_argument("--sha256", required=True, help="SHA-256 of the decompressed payload")
    p.add_argument("--mirror", action="append", default=[], help="URL or folder, in order")
    p.add_argument("--out", required=True)
    p.add_argument("--attempts", type=int, default=3, help="tries per mirror for transient errors")
    p.add_argument("--backoff", type=float, default=1.0, help="first retry wait in seconds")
    p.add_argument("--timeout", type=float, default=30.0, help="network timeout in seconds")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("prepare", help="parse the four IDX .gz files into a pixels .npz")
    for name in ("train-images", "train-labels", "test-images", "test-labels"):
        p.add_argument(f"--{name}", required=True)
        p.add_argument(f"--{name}-sha256", help="expected SHA-256 of the decompressed file")
    p.add_argument("--num-classes", type=int, default=10)
    p.add_argument("--pixels", required=True, help="where to write pixels.npy")
    p.add_argument("--labels", required=True, help="where to write labels.npz")
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("normalize", help="the documented float32 .npz from prepare's files")
    _data_args(p)
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_normalize)

    p = sub.add_parser("pack-evaluation", help="the evaluation set: blocks without blank pixels")
    _data_args(p)
    p.add_argument("--out-pixels", required=True, help="where to write the blocks' pixels .npy")
    p.add_argument("--out-index", required=True, help="where to write the blocks' index .npz")
    p.set_defaults(func=cmd_pack_evaluation)

    p = sub.add_parser("init", help="write the seeded initial network (epoch 0)")
    _data_args(p)
    p.add_argument("--out", required=True)
    p.add_argument("--num-classes", type=int, default=10)
    _model_args(p)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("train-epoch", help="one epoch of SGD from a checkpoint")
    p.add_argument("previous")
    _data_args(p)
    p.add_argument("--out", required=True)
    p.add_argument("--losses", required=True)
    _model_args(p)
    _training_args(p)
    p.set_defaults(func=cmd_train_epoch)

    p = sub.add_parser("evaluate", help="accuracy and loss of checkpoints on train and test")
    p.add_argument("checkpoints", nargs="+", help="scored in one pass over the images")
    p.add_argument("--pixels", required=True, help="the evaluation set's .npy (pack-evaluation)")
    p.add_argument("--index", required=True, help="the evaluation set's .npz (pack-evaluation)")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("gradcheck", help="backprop vs numerical gradients, float64")
    p.add_argument("checkpoint", help="the network to check (its epoch-0 checkpoint)")
    _data_args(p)
    p.add_argument("--out", required=True)
    p.add_argument("--images", type=int, default=3)
    p.add_argument("--tolerance", type=float, default=1e-7)
    p.add_argument("--max-entries", type=int, default=None, help="sample per parameter")
    p.set_defaults(func=cmd_gradcheck)

    p = sub.add_parser("accuracy-table", help="accuracy.csv from the evaluate jobs' files")
    p.add_argument("evaluations", nargs="+")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_accuracy_table)

    p = sub.add_parser("loss-table", help="loss.csv from per-epoch mini-batch losses")
    p.add_argument("losses", nargs="*")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_loss_table)

    p = sub.add_parser("metrics", help="metrics.json from accuracy.csv and benchmarks")
    p.add_argument("--accuracy", required=True)
    p.add_argument("--benchmarks", nargs="*", default=[])
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_metrics)

    p = sub.add_parser("loss-figure", help="the mini-batch loss figure of one run")
    p.add_argument("loss", help="loss.csv of the run")
    _figure_args(p)
    p.set_defaults(func=cmd_loss_figure)

    p = sub.add_parser("accuracy-figure", help="the accuracy-per-epoch figure of one run")
    p.add_argument("accuracy", help="accuracy.csv of the run")
    _figure_args(p)
    p.set_defaults(func=cmd_accuracy_figure)

    p = sub.add_parser("summary", help="summary.csv: one row per run")
    p.add_argument("metrics", nargs="+", help="metrics.json of each run, in --settings order")
    p.add_argument("--settings", required=True, help="JSON: run name -> its settings")
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("compare-accuracy", help="test accuracy of several runs in one figure")
    p.add_argument("tables", nargs="+", help="accuracy.csv of each run, in --names order")
    p.add_argument("--names", nargs="+", required=True)
    _figure_args(p, titled=False)
    p.set_defaults(func=cmd_compare_accuracy)

    p = sub.add_parser("compare-loss", help="mini-batch loss of several runs in one figure")
    p.add_argument("tables", nargs="+", help="loss.csv of each run, in --names order")
    p.add_argument("--names", nargs="+", required=True)
    _figure_args(p, titled=False)
    p.set_defaults(func=cmd_compare_loss)

    p = sub.add_parser("serve", help="the warm worker jobs fork from (started by the workflow)")
    p.add_argument("--socket", required=True, help="Unix socket path to listen on")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("bench", help="time the pipeline against the book's loop")
    p.add_argument("--mirror", default="../shared/data/mnist")
    p.add_argument("--skip-dag", action="store_true", help="only the in-process timings")
    p.add_argument("--skip-sweep", action="store_true", help="no 4-run sweep timing")
    p.add_argument("--repeats", type=int, default=5, help="runs of each system; the median counts")
    p.set_defaults(func=lambda args: __import__("scratchnet.bench").bench.main(args))
    return parser


def _known_errors() -> tuple[type[BaseException], ...]:
    from scratchnet.checkpoint import CheckpointMismatch
    from scratchnet.download import DownloadError
    from scratchnet.gradcheck import GradientCheckFailed
    from scratchnet.idx import IdxError
    from scratchnet.train import TrainingDiverged

    return (
        UsageError,
        CheckpointMismatch,
        DownloadError,
        GradientCheckFailed,
        IdxError,
        TrainingDiverged,
        FileNotFoundError,
    )


def main(argv: list[str] | None = None, worker: int | None = None) -> int:
    """Run one command; ``worker`` is the pid of the warm worker that forked this process."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    if worker is not None:
        log.info("forked from worker %d as process %d (NumPy already loaded)", worker, os.getpid())
    if os.environ.get("SLURM_JOB_ID"):
        log.info("running in SLURM job %s on %s", os.environ["SLURM_JOB_ID"], os.uname().nodename)
    try:
        args.func(args)
    except _known_errors() as exc:
        log.error("%s", exc)
        return 1
    finally:
        log.info("peak RSS %.0f MB", _peak_rss_mb())
    return 0


def _peak_rss_mb() -> float:
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB
