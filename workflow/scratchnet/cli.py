"""Command line: one subcommand per job the Snakemake rules run, plus ``show``.

Each subcommand only parses its arguments and calls the package. The rules pass every
setting (their defaults live in the config schema alone). Known failures end in one line
on stderr, naming the file or setting, the cause and the fix, and exit code 1.
"""

import os

# One BLAS thread: faster for these small matrices, and every result independent of the
# machine's core count (bit-identical reruns). Set before NumPy is first imported.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[_var] = "1"

import argparse  # noqa: E402
import errno  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import logging  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from scratchnet import provenance  # noqa: E402  (every job checks its code)
from scratchnet.errors import WRITABLE_FIX, KnownError  # noqa: E402

log = logging.getLogger("scratchnet")
PACKAGE = Path(__file__).resolve().parent


class UsageError(KnownError, ValueError):
    """Arguments that parse but make no sense together."""


# --- the commands ------------------------------------------------------------------------


def cmd_download(args) -> None:
    from scratchnet.download import Retry, download

    mirrors = json.loads(args.mirrors)
    if not mirrors:
        raise UsageError("no mirror to download from: add one to 'mirrors' in config.yaml")
    retry = Retry(args.attempts, args.backoff, args.timeout)
    source = download(args.filename, args.sha256, mirrors, Path(args.out), retry, Path(args.keep))
    log.info("wrote %s from %s", args.out, source)


def cmd_prepare(args) -> None:
    from scratchnet import dataset
    from scratchnet.atomic import write_text_atomically

    files = {split: Path(getattr(args, split)) for split in dataset.SPLITS}
    sha256 = {split: getattr(args, f"{split}_sha256") for split in dataset.SPLITS}
    data = dataset.prepare(files, Path(args.pixels), Path(args.labels), args.num_classes, sha256)
    about = dataset.describe(args.dataset, data, files, sha256, args.num_classes)
    write_text_atomically(args.about, json.dumps(about, indent=1) + "\n")
    log.info("wrote %s, %s and %s: %s", args.pixels, args.labels, args.about, about)


def cmd_normalize(args) -> None:
    from scratchnet.dataset import write_normalized

    write_normalized(_load_data(args), Path(args.out))
    log.info("wrote %s", args.out)


def cmd_pack_evaluation(args) -> None:
    from scratchnet import evalset

    packed = evalset.pack(_load_data(args))
    evalset.save(packed, args.out_pixels, args.out_index)
    log.info("wrote %s and %s: %s", args.out_pixels, args.out_index, evalset.describe(packed))


def cmd_train(args) -> None:
    from scratchnet.train import continue_training

    data, validation = _training_data(args)
    continue_training(
        Path(args.previous) if args.previous else None,
        [Path(path) for path in args.checkpoints],
        [Path(path) for path in args.timing],
        data,
        _model(args),
        _training(args),
        args.num_classes,
        validation,
    )


def cmd_split(args) -> None:
    from scratchnet import holdout

    said = holdout.write_split(Path(args.labels), args.validation, args.seed, Path(args.out))
    log.info("wrote %s: %s", args.out, said)


def cmd_evaluate(args) -> None:
    from scratchnet.evaluate import write_evaluation

    split = Path(args.validation) if args.validation else None
    checkpoints = [Path(p) for p in args.checkpoints]
    write_evaluation(checkpoints, args.pixels, args.index, Path(args.out), split)


def cmd_run_results(args) -> None:
    from scratchnet.gradcheck import write_gradient_check
    from scratchnet.results import write_run_results

    out = Path(args.out)
    write_gradient_check(
        Path(args.checkpoints[0]),
        _load_data(args),
        args.images,
        args.tolerance,
        args.max_entries,
        out / "gradcheck.csv",
    )
    write_run_results(
        [Path(p) for p in args.evaluations],
        [Path(p) for p in args.checkpoints],
        [Path(p) for p in args.timing],
        out,
        args.title,
        args.formats,
    )


def cmd_classes(args) -> None:
    from scratchnet.atomic import write_text_atomically

    names = json.loads(args.names)
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise UsageError(f"--names must be a JSON list of names (got {args.names!r})")
    write_text_atomically(args.out, json.dumps({"names": names}, indent=1) + "\n")
    log.info("wrote %s: %s", args.out, ", ".join(names))


def cmd_learned(args) -> None:
    from scratchnet import evalset
    from scratchnet.learned import write_run_pictures

    write_run_pictures(
        Path(args.initial),
        Path(args.final),
        evalset.load(args.eval_pixels, args.eval_index),
        _load_data(args).image_shape,
        Path(args.out),
        args.title,
        args.formats,
        json.loads(Path(args.classes).read_text())["names"],
    )


def cmd_predict(args) -> None:
    from scratchnet import predict
    from scratchnet.plots import save
    from scratchnet.tables import terminal_table

    figure = _figure_path(args.figure) if args.figure else None
    results = Path(args.results)
    names, pixels, probs, classes, target, used = predict.predict_files(
        [Path(f) for f in args.images], results, args.run, args.epoch
    )
    if not 1 <= args.top <= len(classes):
        raise UsageError(f"--top {args.top}: give a number of classes from 1 to {len(classes)}")
    table = predict.prediction_table(names, probs, classes, args.top)
    print(f"{used} ({len(names)} image(s), most likely classes first)")
    print(terminal_table(table))
    if figure:
        title = f"What {args.run}'s network ({used.name}) sees and says"
        fig = predict.inputs_figure(names, pixels, probs, classes, target, title)
        save(fig, figure.with_suffix(""), [figure.suffix.lstrip(".")])
        print(f"wrote {figure}")


def _figure_path(name: str) -> Path:
    """Where --figure draws: a .png, .svg or .pdf file (.png if none is given) in a folder
    that exists."""
    path = Path(name)
    path = path if path.suffix else path.with_suffix(".png")
    if path.suffix not in (".png", ".svg", ".pdf"):
        raise UsageError(f"--figure {name}: give a .png, .svg or .pdf file")
    if not path.parent.is_dir():
        raise UsageError(f"--figure {name}: the folder {path.parent} does not exist")
    return path


def cmd_dataset_entry(args) -> None:
    from scratchnet.idx import dataset_entry

    entry = dataset_entry([Path(path) for path in args.files])
    shape = "x".join(map(str, entry.pop("image_shape")))
    files = "\n".join(
        f"      {split}: {{name: {spec['name']}, sha256: {spec['sha256']}}}"
        for split, spec in entry["files"].items()
    )
    print(
        f"# {shape}-pixel images, {entry['num_classes']} classes: add under `datasets:` in "
        f"config.yaml, list where the files are under mirrors, and choose dataset: "
        f"{args.name}\n  {args.name}:\n    num_classes: {entry['num_classes']}\n"
        f"    mirrors: []\n    files:\n{files}"
    )


def cmd_summary(args) -> None:
    from scratchnet.results import write_summary

    classes = json.loads(Path(args.classes).read_text())["names"]
    write_summary(
        json.loads(args.plan), Path(args.dataset_json), classes, Path(args.out), args.formats
    )


def cmd_chapter(args) -> None:
    from scratchnet.chapter import write_chapter

    write_chapter(Path(args.out), args.formats)
    log.info("wrote the chapter's worked values and figures into %s", args.out)


def cmd_show(args) -> None:
    from scratchnet import show

    results = Path(args.results)
    print(show.run_text(results, args.run) if args.run else show.summary_text(results))


def cmd_serve(args) -> None:
    from scratchnet.worker import UNSERVED_COMMANDS, serve

    served = [command for command in provenance.commands() if command not in UNSERVED_COMMANDS]
    serve(args.socket, args.watch_fd, log.info, main, provenance.libraries(served))


def _load_data(args):
    from scratchnet import dataset

    return dataset.load(args.pixels, args.labels)


def _training_data(args):
    """The dataset training draws from, without the validation split's images (if any),
    and what a checkpoint records of the split."""
    from dataclasses import replace

    from scratchnet import holdout

    data = _load_data(args)
    if not args.validation:
        return data, None
    held, recorded = holdout.load(args.validation, data.digest)
    return replace(data, train_rows=holdout.kept_rows(len(data.t_train), held)), recorded


def _model(args):
    from scratchnet.train import ModelSettings

    return ModelSettings(args.hidden_size, args.weight_init_std, args.seed, args.dtype)


def _training(args):
    from scratchnet.train import TrainingSettings

    iters = None if args.iters_per_epoch == "auto" else int(args.iters_per_epoch)
    return TrainingSettings(
        args.learning_rate, args.batch_size, iters, args.sampling, args.gradient
    )


# --- the parser ------------------------------------------------------------------------------


def _data_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pixels", required=True, help="pixels.npy written by prepare")
    parser.add_argument("--labels", required=True, help="labels.npz written by prepare")


def _model_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--hidden-size", type=int, required=True)
    parser.add_argument("--weight-init-std", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--dtype", choices=("float32", "float64"), required=True)


def _training_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--learning-rate", type=float, required=True)
    parser.add_argument("--batch-size", type=int, required=True)
    parser.add_argument("--iters-per-epoch", required=True, help="a count, or auto")
    parser.add_argument("--sampling", choices=("replacement", "permutation"), required=True)
    parser.add_argument("--gradient", choices=("backprop", "numerical"), required=True)


def _code_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--code", help="the code Snakemake planned the job with (provenance.code_digest)"
    )


def _figure_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--formats", nargs="+", required=True, choices=("png", "svg", "pdf"))


@functools.cache  # the warm worker builds it once for all its jobs
def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="scratchnet", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("show", help="print the runs best first, or one run's table")
    p.add_argument("run", nargs="?", help="a run name: its accuracy and loss per epoch")
    p.add_argument("--results", default="results", help="the results folder (default: results)")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("predict", help="classify your own images with a run's network")
    p.add_argument("images", nargs="+", help="PNG/JPEG files, .npy arrays or IDX image files")
    p.add_argument("--run", default="default", help="the run whose network (default: default)")
    p.add_argument("--epoch", default="final", help="final (default), best, or an epoch number")
    p.add_argument("--top", type=int, default=3, help="classes shown per image (default: 3)")
    p.add_argument("--figure", help="also draw the images as the network saw them (.png/.svg/.pdf)")
    p.add_argument("--results", default="results", help="the results folder (default: results)")
    p.set_defaults(func=cmd_predict)

    p = sub.add_parser("dataset-entry", help="the config entry for your own IDX dataset")
    p.add_argument("files", nargs=4, help="its four IDX files (gzipped or not)")
    p.add_argument("--name", default="mydata", help="the dataset's name (default: mydata)")
    p.set_defaults(func=cmd_dataset_entry)

    p = sub.add_parser("classes", help="the dataset's class names, for figures and predict")
    p.add_argument("--names", required=True, help="JSON list of names, in label order")
    p.add_argument("--out", required=True)
    _code_arg(p)
    p.set_defaults(func=cmd_classes)

    p = sub.add_parser("download", help="fetch one file from mirrors, verifying its payload")
    p.add_argument("--filename", required=True)
    p.add_argument("--sha256", required=True, help="SHA-256 of the decompressed payload")
    p.add_argument("--mirrors", required=True, help="JSON list of URLs or folders, in order")
    p.add_argument("--out", required=True)
    p.add_argument("--keep", required=True, help="folder of verified files, tried first")
    p.add_argument("--attempts", type=int, default=3, help="tries per mirror for transient errors")
    p.add_argument("--backoff", type=float, default=1.0, help="first retry wait in seconds")
    p.add_argument("--timeout", type=float, default=30.0, help="network timeout in seconds")
    p.set_defaults(func=cmd_download)

    p = sub.add_parser("prepare", help="parse the four IDX .gz files into the arrays jobs read")
    p.add_argument("--dataset", required=True, help="the dataset's name, for people")
    for split in ("train_images", "train_labels", "test_images", "test_labels"):
        flag = split.replace("_", "-")
        p.add_argument(f"--{flag}", dest=split, required=True)
        p.add_argument(
            f"--{flag}-sha256",
            dest=f"{split}_sha256",
            required=True,
            help="expected SHA-256 of the decompressed file",
        )
    p.add_argument("--num-classes", type=int, required=True)
    p.add_argument("--pixels", required=True, help="where to write pixels.npy")
    p.add_argument("--labels", required=True, help="where to write labels.npz")
    p.add_argument("--about", required=True, help="where to write dataset.json")
    _code_arg(p)
    p.set_defaults(func=cmd_prepare)

    p = sub.add_parser("normalize", help="the documented float32 .npz from prepare's files")
    _data_args(p)
    p.add_argument("--out", required=True)
    _code_arg(p)
    p.set_defaults(func=cmd_normalize)

    p = sub.add_parser("pack-evaluation", help="the evaluation set: blocks without blank pixels")
    _data_args(p)
    p.add_argument("--out-pixels", required=True, help="where to write the blocks' pixels .npy")
    p.add_argument("--out-index", required=True, help="where to write the blocks' index .npz")
    _code_arg(p)
    p.set_defaults(func=cmd_pack_evaluation)

    p = sub.add_parser("train", help="epochs of SGD, one checkpoint each")
    p.add_argument("--previous", help="the checkpoint to continue from; none: start at epoch 0")
    _data_args(p)
    p.add_argument("--checkpoints", nargs="+", required=True, help="one per epoch, in order")
    p.add_argument("--timing", nargs="*", required=True, help="one per trained epoch: seconds")
    p.add_argument("--num-classes", type=int, required=True)
    p.add_argument("--validation", help="the validation split (split): images never trained on")
    _model_args(p)
    _training_args(p)
    _code_arg(p)
    p.set_defaults(func=cmd_train)

    p = sub.add_parser("split", help="the training images held out for validation")
    p.add_argument("--labels", required=True, help="labels.npz written by prepare")
    p.add_argument("--validation", type=float, required=True, help="a count, or a fraction")
    p.add_argument("--seed", type=int, required=True, help="which images: the split's seed")
    p.add_argument("--out", required=True)
    _code_arg(p)
    p.set_defaults(func=cmd_split)

    p = sub.add_parser("evaluate", help="accuracy and loss of checkpoints on train and test")
    p.add_argument("checkpoints", nargs="+", help="scored in one pass over the images")
    p.add_argument("--pixels", required=True, help="the evaluation set's .npy (pack-evaluation)")
    p.add_argument("--index", required=True, help="the evaluation set's .npz (pack-evaluation)")
    p.add_argument("--validation", help="the validation split (split): its images scored apart")
    p.add_argument("--out", required=True)
    _code_arg(p)
    p.set_defaults(func=cmd_evaluate)

    p = sub.add_parser("run-results", help="a run's gradient check, tables, metrics, figures")
    _data_args(p)
    p.add_argument("--images", type=int, required=True, help="gradient check: images used")
    p.add_argument("--tolerance", type=float, required=True, help="gradient check: largest error")
    p.add_argument("--max-entries", required=True, help="gradient check: entries, or all")
    p.add_argument("--evaluations", nargs="+", required=True, help="the evaluate jobs' files")
    p.add_argument("--checkpoints", nargs="+", required=True, help="every checkpoint, in order")
    p.add_argument("--timing", nargs="*", required=True, help="every trained epoch's seconds")
    p.add_argument("--title", required=True)
    p.add_argument("--out", required=True, help="the run's results folder")
    _figure_args(p)
    _code_arg(p)
    p.set_defaults(func=cmd_run_results)

    p = sub.add_parser("learned", help="what a run's network learned: weights, confusions")
    _data_args(p)
    p.add_argument("--initial", required=True, help="the run's epoch-0 checkpoint")
    p.add_argument("--final", required=True, help="the run's last checkpoint")
    p.add_argument("--eval-pixels", required=True, help="the evaluation set's .npy")
    p.add_argument("--eval-index", required=True, help="the evaluation set's .npz")
    p.add_argument("--classes", required=True, help="classes.json: the class names")
    p.add_argument("--title", required=True)
    p.add_argument("--out", required=True, help="the run's results folder")
    _figure_args(p)
    _code_arg(p)
    p.set_defaults(func=cmd_learned)

    p = sub.add_parser("summary", help="the summary and comparison of the runs")
    p.add_argument("--plan", required=True, help="JSON: what the results are of (plan.described)")
    p.add_argument("--dataset-json", required=True, help="dataset.json written by prepare")
    p.add_argument("--classes", required=True, help="classes.json: the class names")
    p.add_argument("--out", required=True, help="the results folder, with a folder per run")
    _figure_args(p)
    _code_arg(p)
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("chapter", help="the chapter's worked values and figures")
    p.add_argument("--out", required=True, help="the folder to write them into")
    _figure_args(p)
    _code_arg(p)
    p.set_defaults(func=cmd_chapter)

    p = sub.add_parser("serve", help="the warm worker jobs fork from (started by the workflow)")
    p.add_argument("--socket", required=True, help="Unix socket path to listen on")
    p.add_argument(
        "--watch-fd",
        type=int,
        required=True,
        help="a pipe's read end: its end of file means the workflow has ended",
    )
    p.set_defaults(func=cmd_serve)
    return parser


def main(argv: list[str] | None = None, worker: int | None = None) -> int:
    """Run one command; ``worker`` is the pid of the warm worker that forked this process."""
    args = _build_parser().parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr
    )
    if worker is not None:
        log.info("forked from worker %d as process %d (NumPy already loaded)", worker, os.getpid())
    # which code runs: the workflow's own package, never another copy (README "Install")
    log.info("scratchnet %s in %s", args.command, PACKAGE)
    if os.environ.get("SLURM_JOB_ID"):
        log.info("running in SLURM job %s on %s", os.environ["SLURM_JOB_ID"], os.uname().nodename)
    _warn_of_another_checkout()
    try:
        if getattr(args, "code", None):
            _require_planned_code(args.command, args.code)
        args.func(args)
    except (KnownError, OSError) as exc:
        log.error("%s", _one_line(exc))
        return 1
    except KeyboardInterrupt:
        log.error("interrupted: no file is left half-written; run snakemake again to finish")
        return 130
    finally:
        if args.command != "show":
            log.info("peak RSS %.0f MB", _peak_rss_mb())
    return 0


def _warn_of_another_checkout() -> None:
    """The command runs this package; a checkout in the working folder has its own."""
    here = Path.cwd() / "workflow" / PACKAGE.name
    if here.is_dir() and here.resolve() != PACKAGE:
        log.warning(
            "this folder's checkout has its own package (%s), but this is %s: to run that "
            "one, PYTHONPATH=workflow python -m scratchnet ...",
            here,
            PACKAGE,
        )


def _require_planned_code(command: str, planned: str) -> None:
    """Before a job writes anything: the modules it runs (imported now) are the ones its
    rule's digest recorded when Snakemake planned it; an edit since then stops it."""
    import importlib

    for module in provenance.command_modules(command) - {"__main__"}:
        importlib.import_module(f"{__package__}.{module}" if module != "__init__" else __package__)
    changed = provenance.changed_since(command, planned)
    if changed:
        files = ", ".join(f"{PACKAGE.name}/{module}.py" for module in changed)
        raise UsageError(
            f"{files} changed since this job was planned, so its outputs would not come "
            "from the code recorded for them; run snakemake again (it reruns what the "
            "change affects)"
        )


def _one_line(exc: BaseException) -> str:
    """The error's message; for a failed read or write: which file, why, and what to do."""
    if not isinstance(exc, OSError) or exc.filename is None:
        return str(exc)
    fixes = {
        errno.ENOSPC: "free some space and run snakemake again (it redoes this job)",
        errno.EACCES: f"{WRITABLE_FIX}, and run snakemake again",
        errno.EROFS: "the file system is read-only: work in a writable folder",
        errno.ENOENT: "run snakemake to make it",
    }
    fix = fixes.get(exc.errno, "fix that and run snakemake again")
    return f"{exc.filename}: {exc.strerror}; {fix}"


def _peak_rss_mb() -> float:
    import resource

    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024 if sys.platform == "darwin" else 1024)  # bytes on macOS
