"""Classify images of your own with a trained network (``scratchnet predict``).

Each image is brought to the form of the dataset's own images before the network sees
it: one channel (grayscale; a transparent background counts as white), values 0-255,
the dataset's polarity (MNIST draws light ink on a dark background, a paint program dark
ink on white, so an image whose background is the other way round is inverted), and the
dataset's size: an image of another size is framed as the dataset's are, cut to its ink,
scaled to the size the dataset's ink typically takes (MNIST: a 20-pixel box in 28) and
centred; one of the dataset's own size is taken as it is. Then the network scores it
exactly as evaluation does.

Accepted: PNG, JPEG and whatever else Pillow reads; ``.npy`` arrays (rows x cols, or
rows x cols x 1, 3 or 4 channels); IDX image files (gzipped or not), every image in them.
"""

import gzip
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from scratchnet import checkpoint, dataset, idx, layout
from scratchnet.errors import KnownError
from scratchnet.names import class_numbers
from scratchnet.net import TwoLayerNet


class PredictError(KnownError, ValueError):
    """An image that cannot be read or brought to the dataset's form, or a run without
    what predict needs; the message names the file and the fix."""


@dataclass(frozen=True)
class Target:
    """What an image must become: the dataset's image shape and background."""

    image_shape: tuple[int, int]
    dark_background: bool
    ink_fraction: float  # of the image's height or width the ink's box takes (the larger)


# --- reading ------------------------------------------------------------------------------


MAX_PIXELS = 25_000_000  # larger pictures are refused before they are decoded


def _read_images(path: Path, target: Target) -> list[tuple[str, np.ndarray]]:
    """(name, 2-D or 3-D array) of each image in the file at ``path``: every image of an
    IDX file or of a .npy batch in the dataset's layouts (images x pixels, images x rows x
    cols), or the one picture."""
    if path.is_dir():
        raise PredictError(f"{path}: is a folder; give image files (PNG, JPEG, .npy, IDX)")
    if not path.is_file():
        raise PredictError(f"{path}: no such file; give image files (PNG, JPEG, .npy, IDX)")
    raw = path.read_bytes()
    payload = gzip.decompress(raw) if raw[:2] == b"\x1f\x8b" else raw
    if payload[:4] == idx.IMAGES_MAGIC.to_bytes(4, "big"):
        shape = idx.image_shape(payload, str(path))
        return _batch(path, idx.parse_images(payload, str(path)).reshape(-1, *shape))
    if payload.startswith(b"\x93NUMPY"):
        array = _npy(path)
        rows, cols = target.image_shape
        if array.ndim == 2 and array.shape[1] == rows * cols and array.shape != (rows, cols):
            return _batch(path, array.reshape(-1, rows, cols))  # x_test's layout
        if array.ndim == 3 and array.shape[1:] == (rows, cols):
            return _batch(path, array)
        if array.ndim == 1 and len(array) == rows * cols:
            return [(path.name, array.reshape(rows, cols))]
        if array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (1, 3, 4)):
            return [(path.name, array)]
        raise PredictError(
            f"{path}: an array of shape {array.shape} is not an image nor a batch of them; "
            f"give rows x cols (x 1, 3 or 4 channels), or images x {rows * cols} or images "
            f"x {rows} x {cols} as the dataset's"
        )
    return [(path.name, _picture(path))]


def _batch(path: Path, images: np.ndarray) -> list[tuple[str, np.ndarray]]:
    return [(f"{path.name}[{i}]", image) for i, image in enumerate(images)]


def _npy(path: Path) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except ValueError as exc:  # object arrays, a damaged header
        raise PredictError(f"{path}: cannot read it as a NumPy array of pixels ({exc})") from None
    if not (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)):
        raise PredictError(
            f"{path}: holds {array.dtype} values; give pixel values as integers 0-255 or floats 0-1"
        )
    return array


def _picture(path: Path) -> np.ndarray:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as picture:
            width, height = picture.size
            if width * height > MAX_PIXELS:
                raise PredictError(
                    f"{path}: {width}x{height} pixels is larger than predict reads "
                    f"({MAX_PIXELS // 1_000_000} megapixels); scale it down first"
                )
            picture.load()
            if picture.mode in ("RGBA", "LA", "PA") or "transparency" in picture.info:
                white = Image.new("RGBA", picture.size, "white")
                picture = Image.alpha_composite(white, picture.convert("RGBA"))
            return np.asarray(picture.convert("L"))
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError) as exc:
        kind = idx.what_it_is(path.read_bytes()[:4096]) or "not an image"
        raise PredictError(
            f"{path}: cannot read it as an image ({kind}: {exc}); "
            "give PNG or JPEG files, .npy arrays or IDX image files"
        ) from None


# --- to the dataset's form ----------------------------------------------------------------


def grayscale(image: np.ndarray, name: str) -> np.ndarray:
    """One channel of values 0-255."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim == 3:
        if image.shape[2] == 4:  # transparent means background: composite on white
            alpha = image[..., 3:] / 255.0
            image = image[..., :3] * alpha + 255.0 * (1 - alpha)
        image = image[..., :3].mean(axis=2) if image.shape[2] >= 3 else image[..., 0]
    if not np.isfinite(image).all():
        raise PredictError(f"{name}: holds NaN or infinite values; give pixel values 0-255")
    if image.size and image.max() <= 1.0:  # floats in [0, 1], as in the normalized .npz
        image = image * 255.0
    if image.min() < 0 or image.max() > 255:
        raise PredictError(f"{name}: values {image.min():g} to {image.max():g}; give 0-255")
    return image


def background(image: np.ndarray) -> float:
    """The median of the image's border pixels: what it is drawn on."""
    border = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return float(np.median(border))


INK = 0.25  # of the way from background to the strongest pixel: counts as drawn


def ink_box(image: np.ndarray) -> tuple[slice, slice] | None:
    """Rows and columns of the image's ink (light on dark), or None if it has none."""
    inked = image > image.min() + INK * (image.max() - image.min())
    rows, cols = np.flatnonzero(inked.any(axis=1)), np.flatnonzero(inked.any(axis=0))
    if not len(rows) or image.max() == image.min():
        return None
    return slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1)


def _dataset_target(data: dataset.Dataset, sample: int = 1000) -> Target:
    """The dataset's image shape, whether its images are drawn on a dark background, and
    how much of the image their ink takes."""
    shape = data.image_shape or (1, data.input_size)
    images = np.asarray(data.pixels_train[:sample], dtype=np.float64).reshape(-1, *shape)
    dark = float(np.median([background(i) for i in images])) < 128
    fractions = []
    for image in images if dark else 255.0 - images:
        box = ink_box(image)
        if box:
            rows, cols = box
            height, width = rows.stop - rows.start, cols.stop - cols.start
            fractions.append(max(height / shape[0], width / shape[1]))
    return Target(shape, dark, float(np.median(fractions)) if fractions else 1.0)


def _to_dataset_form(image: np.ndarray, name: str, target: Target) -> np.ndarray:
    """The image as one row of uint8 pixels, as the dataset's images are."""
    from PIL import Image

    pixels = grayscale(image, name)
    if min(pixels.shape) < 2:
        raise PredictError(
            f"{name}: {pixels.shape[0]}x{pixels.shape[1]} pixels is too small to resize to "
            f"the dataset's {target.image_shape[0]}x{target.image_shape[1]}"
        )
    if background(pixels) >= 128:  # light background: turn to light ink on dark
        pixels = 255.0 - pixels
    rows, cols = target.image_shape
    if pixels.shape == (rows, cols):  # the dataset's own size: taken as its images are
        out = pixels if target.dark_background else 255.0 - pixels
        return np.rint(out).astype(np.uint8).reshape(-1)
    box = ink_box(pixels)
    if box is None:
        raise PredictError(f"{name}: the image is blank (one colour); draw something on it")
    framed = _padded_to_aspect(pixels[box], rows / cols)
    inner = (max(1, round(rows * target.ink_fraction)), max(1, round(cols * target.ink_fraction)))
    resized = Image.fromarray(framed.astype(np.float32), mode="F").resize(
        (inner[1], inner[0]), Image.Resampling.LANCZOS
    )
    out = np.zeros((rows, cols))
    top, left = (rows - inner[0]) // 2, (cols - inner[1]) // 2
    out[top : top + inner[0], left : left + inner[1]] = np.clip(np.asarray(resized), 0, 255)
    if not target.dark_background:
        out = 255.0 - out
    return np.rint(out).astype(np.uint8).reshape(-1)


def _padded_to_aspect(pixels: np.ndarray, aspect: float) -> np.ndarray:
    """``pixels`` (light on dark) centred on black, grown to rows / cols == ``aspect``."""
    height, width = pixels.shape
    rows = max(height, round(width * aspect))
    cols = max(width, round(height / aspect))
    out = np.zeros((rows, cols))
    top, left = (rows - height) // 2, (cols - width) // 2
    out[top : top + height, left : left + width] = pixels
    return out


# --- the run's network and the dataset it was trained on ----------------------------------


def _run_checkpoint(results: Path, run: str, epoch: str) -> tuple[Path, int]:
    """The run's checkpoint and its epoch: ``final`` or ``best`` (as its metrics.json,
    written for the run's current settings, says), or an epoch number up to the final;
    never a checkpoint left beyond them by an earlier configuration."""
    metrics_file = results / run / "metrics.json"
    if not metrics_file.is_file():
        runs = sorted(p.parent.name for p in results.glob("*/metrics.json"))
        known = f", or pick one of: {', '.join(runs)}" if runs else ""
        raise PredictError(f"{metrics_file}: missing; run snakemake to make the run{known}")
    metrics = json.loads(metrics_file.read_text())
    chosen = {"final": metrics["epochs"], "best": metrics["best_epoch"]}.get(epoch)
    if chosen is None:
        if not epoch.isdigit() or int(epoch) > metrics["epochs"]:
            raise PredictError(
                f"--epoch {epoch}: give final, best or an epoch from 0 to {metrics['epochs']}"
            )
        chosen = int(epoch)
    return results / run / "checkpoints" / layout.checkpoint_file(chosen), chosen


def _require_the_runs(path: Path, meta: dict, epoch: int, recorded: dict | None) -> None:
    """A checkpoint is the run's own: of the epoch asked for and, where the summary
    records the run (summary.json), made with its settings."""
    settings = (recorded or {}).get("settings", {})
    made = {**meta["model"], **meta.get("training", {})}
    differ = sorted(  # a setting of None (iters_per_epoch: auto) was resolved in training
        key for key in made if settings.get(key) is not None and made[key] != settings[key]
    )
    if meta["epoch"] != epoch or differ:
        said = f"settings {', '.join(differ)}" if differ else f"epoch {meta['epoch']}"
        raise PredictError(
            f"{path}: was made with other {said} than the run's own now; run snakemake to "
            "bring the run up to date"
        )


def _trained_on(results: Path, digest: str) -> Path:
    """The folder of the prepared dataset with ``digest`` (results/data/<name>)."""
    for labels in sorted(results.glob("data/*/labels.npz")):
        with np.load(labels, allow_pickle=False) as arrays:
            if str(arrays["digest"]) == digest:
                return labels.parent
    raise PredictError(
        f"{results}/data: the dataset this network was trained on is not prepared there; "
        "run snakemake with the run's configuration first"
    )


def class_names(folder: Path, classes: int) -> list[str]:
    """The dataset's class names (classes.json), or the class numbers."""
    path = folder / "classes.json"
    names = json.loads(path.read_text())["names"] if path.is_file() else []
    return names if len(names) == classes else class_numbers(classes)


# --- predicting ---------------------------------------------------------------------------


def probabilities(net: TwoLayerNet, pixels: np.ndarray) -> np.ndarray:
    """Class probabilities (images x classes) of uint8 pixel rows, as evaluation scores."""
    x = dataset.normalize(pixels).astype(net.dtype, copy=False)
    return net.predict(x)


def prediction_table(names: list[str], probs: np.ndarray, classes: list[str], top: int):
    """One row per image: its top classes and their probabilities, most likely first."""
    order = np.argsort(-probs, axis=1, kind="stable")[:, :top]
    rows = []
    for name, ranked, p in zip(names, order, probs, strict=True):
        row = {"image": name}
        for rank, c in enumerate(ranked, start=1):
            row[f"class_{rank}"] = classes[c]
            row[f"p_{rank}"] = float(p[c])
        rows.append(row)
    return pd.DataFrame(rows)


def predict_files(files: list[Path], results: Path, run: str, epoch: str) -> tuple:
    """Every image of ``files`` as the run's network sees it and what it says: (image
    names, their uint8 pixel rows, class probabilities, class names, the dataset's target
    form, the checkpoint used)."""
    run = layout.run_called(results, run)
    path, chosen = _run_checkpoint(results, run, epoch)
    net, meta = checkpoint.load(path)
    summary = results / "summary.json"
    recorded = json.loads(summary.read_text())["runs"].get(run) if summary.is_file() else None
    _require_the_runs(path, meta, chosen, recorded)
    folder = _trained_on(results, meta["dataset_digest"])
    data = dataset.load(folder / "pixels.npy", folder / "labels.npz")
    target = _dataset_target(data)
    names, pixels = [], []
    for file in files:
        for name, image in _read_images(file, target):
            names.append(name)
            pixels.append(_to_dataset_form(image, name, target))
    probs = probabilities(net, np.stack(pixels))
    classes = class_names(folder, probs.shape[1])
    return names, np.stack(pixels), probs, classes, target, path


def inputs_figure(names, pixels, probs, classes, target: Target, title: str):
    """The images as the network saw them, each titled with its most likely class."""
    import math

    from scratchnet.plots import figure

    columns = min(len(names), 6)
    rows = math.ceil(len(names) / columns)
    fig, axes = figure(
        (1.8 * columns + 0.4, 2.1 * rows + 0.8),
        title,
        ncols=columns,
        nrows=rows,
        axes_titles=True,
        left=0.02,
        right=0.98,
        bottom=0.02,
        hspace=0.5,
    )
    for ax in np.atleast_1d(axes).flat:
        ax.set_axis_off()
    for ax, name, row, p in zip(np.atleast_1d(axes).flat, names, pixels, probs, strict=False):
        best = int(p.argmax())
        ax.imshow(row.reshape(target.image_shape), cmap="gray", vmin=0, vmax=255)
        ax.set_title(f"{name}\n{classes[best]} ({p[best]:.2f})", fontsize=8)
    return fig
