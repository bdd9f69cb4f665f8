"""What the network learned: its first layer's weights as images, the test set's
confusion matrix, and the test images it gets most confidently wrong.

Every size comes from the data: the image shape from the prepared dataset, the number of
classes from the network's output layer.
"""

import logging
import math
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from scratchnet import checkpoint, tables
from scratchnet.evalset import Block, EvaluationSet
from scratchnet.evaluate import predictions
from scratchnet.plots import figure, save

log = logging.getLogger(__name__)

MISTAKES_SHOWN = 32
ANNOTATED_CLASSES = 20  # up to this many classes, each cell of the matrix shows its count


def mosaic(tiles: np.ndarray, columns: int) -> np.ndarray:
    """Tiles (count, rows, cols) side by side, ``columns`` to a row, one NaN pixel between
    them (drawn as background)."""
    count, height, width = tiles.shape
    rows = math.ceil(count / columns)
    out = np.full((rows * (height + 1) - 1, columns * (width + 1) - 1), np.nan)
    for i, tile in enumerate(tiles):
        top, left = (i // columns) * (height + 1), (i % columns) * (width + 1)
        out[top : top + height, left : left + width] = tile
    return out


def weight_tiles(W1: np.ndarray, image_shape: tuple[int, int]) -> np.ndarray:
    """Each hidden unit's input weights (a column of W1) as an image."""
    return W1.T.reshape(W1.shape[1], *image_shape).astype(np.float64)


def weights_figure(
    initial_W1: np.ndarray, final_W1: np.ndarray, image_shape: tuple[int, int], title: str
) -> plt.Figure:
    """The initial and the final network's weight tiles side by side, one colour scale
    symmetric around 0 (red: the pixel raises the unit's input, blue: lowers it)."""
    units = initial_W1.shape[1]
    columns = max(1, math.ceil(math.sqrt(units * 2)))
    rows = math.ceil(units / columns)
    aspect = rows * (image_shape[0] + 1) / (columns * (image_shape[1] + 1))
    scale = float(max(np.abs(initial_W1).max(), np.abs(final_W1).max())) or 1.0
    height = min(4.4 * aspect + 1.2, 14)  # two panels of ~4.4 in, a title and their names
    fig, axes = figure(
        (11, height),
        f"Input weights of each hidden unit — {title}",
        ncols=2,
        left=0.02,
        right=0.9,
        bottom=0.02,
        wspace=0.05,
    )
    for ax, W1, name in (
        (axes[0], initial_W1, "initial (epoch 0)"),
        (axes[1], final_W1, "after training"),
    ):
        image = ax.imshow(
            mosaic(weight_tiles(W1, image_shape), columns),
            cmap="RdBu_r",
            vmin=-scale,
            vmax=scale,
            interpolation="nearest",
        )
        ax.set_title(name, fontsize=10)
        ax.set_axis_off()
    colorbar = fig.add_axes((0.92, 0.1, 0.015, 0.7))
    fig.colorbar(image, cax=colorbar, label="weight")
    return fig


def confusion(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts: row = true class, column = predicted class."""
    pairs = labels.astype(np.int64) * num_classes + predicted
    return np.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def confusion_table(matrix: np.ndarray) -> pd.DataFrame:
    """The matrix with a first column naming each row's true class."""
    table = pd.DataFrame(matrix, columns=[str(c) for c in range(len(matrix))])
    table.insert(0, "true_class", range(len(matrix)))
    return table


def confusion_figure(matrix: np.ndarray, title: str) -> plt.Figure:
    """Counts per (true, predicted) pair on a log colour scale, per-class recall beside."""
    classes = len(matrix)
    recall = np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)
    fig, ax = figure(
        (7.5, 6.5), f"Test-set confusion matrix — {title}", left=0.2, right=0.98, bottom=0.1
    )
    ax.imshow(np.log1p(matrix), cmap="Blues")
    ticks = range(classes)
    ax.set_xticks(ticks, [str(c) for c in ticks])
    ax.set_yticks(ticks, [f"{c}  (recall {r:.3f})" for c, r in zip(ticks, recall, strict=True)])
    ax.set(xlabel="predicted class", ylabel="true class")
    if classes <= ANNOTATED_CLASSES:
        light = np.log1p(matrix) < np.log1p(matrix).max() / 2
        for (i, j), count in np.ndenumerate(matrix):
            ax.text(
                j,
                i,
                str(count),
                ha="center",
                va="center",
                fontsize=7,
                color="black" if light[i, j] else "white",
            )
    return fig


def most_confident_mistakes(
    predicted: np.ndarray, probabilities: np.ndarray, labels: np.ndarray, count: int
) -> np.ndarray:
    """Indices of wrongly classified images, the highest predicted probability first."""
    wrong = np.flatnonzero(predicted != labels)
    confidence = probabilities[wrong, predicted[wrong]]
    return wrong[np.argsort(-confidence, kind="stable")[:count]]


def full_images(blocks: list[Block], indices: np.ndarray, pixels: int) -> np.ndarray:
    """The images at ``indices`` (counted through the blocks in order), their blank
    columns put back."""
    starts = np.cumsum([0, *(len(block.labels) for block in blocks)])
    images = np.zeros((len(indices), pixels), dtype=np.uint8)
    for out, index in enumerate(indices):
        b = int(np.searchsorted(starts, index, side="right")) - 1
        block = blocks[b]
        images[out, block.columns] = block.pixels[index - starts[b]]
    return images


def mistakes_figure(
    images: np.ndarray,
    image_shape: tuple[int, int],
    labels: np.ndarray,
    predicted: np.ndarray,
    confidence: np.ndarray,
    title: str,
) -> plt.Figure:
    """The images in a grid, each captioned true -> predicted (probability)."""
    columns = 8
    rows = max(1, math.ceil(len(images) / columns))
    tile = 9.8 / columns * image_shape[0] / image_shape[1]  # inches per row of images
    fig, ax = figure(
        (10, tile * rows + 0.9),
        f"Most confident mistakes on the test set — {title}",
        left=0.01,
        right=0.99,
        bottom=0.01,
    )
    ax.set_axis_off()
    if not len(images):
        ax.text(0.5, 0.5, "no test image is misclassified", ha="center", transform=ax.transAxes)
        return fig
    tiles = images.reshape(len(images), *image_shape).astype(np.float64)
    ax.imshow(mosaic(tiles, columns), cmap="gray_r", vmin=0, vmax=255, interpolation="nearest")
    height, width = image_shape
    for i in range(len(images)):
        x, y = (i % columns) * (width + 1), (i // columns) * (height + 1)
        ax.text(
            x + width / 2,
            y + height - 0.5,
            f"{labels[i]}→{predicted[i]} ({confidence[i]:.2f})",
            ha="center",
            va="top",
            fontsize=7,
            color="tab:red",
        )
    return fig


def write_run_pictures(
    initial: Path,
    final: Path,
    images: EvaluationSet,
    image_shape: tuple[int, int],
    out: Path,
    title: str,
    formats: list[str],
) -> np.ndarray:
    """What a run's network learned, from its initial and final checkpoints and the
    evaluation set's test images, into the run's folder ``out``."""
    start, _ = checkpoint.load(initial)
    end, _ = checkpoint.load(final)
    test = predictions(end, images.test)
    matrix = write_learned(
        start.params["W1"], end.params["W1"], test, images.test, image_shape, out, title, formats
    )
    log.info("wrote what %s learned: test accuracy %.4f", out, np.trace(matrix) / matrix.sum())
    return matrix


def write_learned(
    initial_W1: np.ndarray,
    final_W1: np.ndarray,
    test: tuple[np.ndarray, np.ndarray, np.ndarray],
    test_blocks: list[Block],
    image_shape: tuple[int, int],
    out: Path,
    title: str,
    formats: list[str],
) -> np.ndarray:
    """confusion.csv and figures/{weights,confusion,misclassified} into ``out``, from the
    test set's (predicted, probabilities, labels); returns the confusion matrix."""
    predicted, probabilities, labels = test
    matrix = confusion(labels, predicted, probabilities.shape[1])
    tables.write_csv(confusion_table(matrix), out / "confusion.csv")
    figures = out / "figures"
    save(weights_figure(initial_W1, final_W1, image_shape, title), figures / "weights", formats)
    save(confusion_figure(matrix, title), figures / "confusion", formats)
    shown = most_confident_mistakes(predicted, probabilities, labels, MISTAKES_SHOWN)
    images = full_images(test_blocks, shown, math.prod(image_shape))
    confidence = probabilities[shown, predicted[shown]]
    fig = mistakes_figure(images, image_shape, labels[shown], predicted[shown], confidence, title)
    save(fig, figures / "misclassified", formats)
    return matrix
