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
from scratchnet.names import class_numbers
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
    """The initial and the final network's weight tiles side by side, each panel on its
    own colour scale symmetric around 0 (red: the pixel raises the unit's input, blue:
    lowers it): the initial weights are far smaller, and on a shared scale look blank."""
    units = initial_W1.shape[1]
    columns = max(1, math.ceil(math.sqrt(units * 2)))
    rows = math.ceil(units / columns)
    aspect = rows * (image_shape[0] + 1) / (columns * (image_shape[1] + 1))
    height = min(4.4 * aspect + 1.2, 14)  # two panels of ~4.4 in, a title and their names
    fig, axes = figure(
        (11.6, height),
        f"Input weights of each hidden unit — {title}",
        ncols=2,
        axes_titles=True,
        title_size=14,  # the report shows this wide figure at about two thirds
        left=0.01,
        right=0.92,
        bottom=0.02,
        wspace=0.12,
    )
    for ax, W1, name in (
        (axes[0], initial_W1, "initial (epoch 0), random"),
        (axes[1], final_W1, "after training"),
    ):
        scale = float(np.abs(W1).max()) or 1.0
        image = ax.imshow(
            mosaic(weight_tiles(W1, image_shape), columns),
            cmap="RdBu_r",
            vmin=-scale,
            vmax=scale,
            interpolation="nearest",
        )
        ax.set_title(f"{name}: colour scale ±{scale:.2g}", fontsize=12)
        ax.set_axis_off()
        bar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.01)
    bar.set_label("weight")  # the last bar only: the first one's label would hit the panel
    return fig


def confusion(labels: np.ndarray, predicted: np.ndarray, num_classes: int) -> np.ndarray:
    """Counts: row = true class, column = predicted class."""
    pairs = labels.astype(np.int64) * num_classes + predicted
    return np.bincount(pairs, minlength=num_classes**2).reshape(num_classes, num_classes)


def confusion_table(matrix: np.ndarray, class_names: list[str] | None = None) -> pd.DataFrame:
    """The matrix with a first column naming each row's true class (and its name)."""
    class_names = class_names or class_numbers(len(matrix))
    table = pd.DataFrame(matrix, columns=class_numbers(len(matrix)))
    table.insert(0, "true_class", range(len(matrix)))
    if class_names != class_numbers(len(matrix)):
        table.insert(1, "name", class_names)
    return table


def confusion_figure(
    matrix: np.ndarray, title: str, class_names: list[str] | None = None
) -> plt.Figure:
    """Counts per (true, predicted) pair on a log colour scale, per-class recall beside."""
    classes = len(matrix)
    class_names = class_names or class_numbers(classes)
    named = class_names != class_numbers(classes)
    recall = np.diag(matrix) / np.maximum(matrix.sum(axis=1), 1)
    longest = max(len(name) for name in class_names)
    # room for the labels: about 0.075 in per character of 10-point text
    width, height = 7.5 + 0.04 * longest, 6.5 + (0.05 * longest if named else 0)
    fig, ax = figure(
        (width, height),
        f"Test-set confusion matrix — {title}",
        left=(1.6 + 0.075 * longest) / width,
        right=0.98,
        bottom=(0.6 + (0.055 * longest if named else 0.1)) / height,
    )
    ax.imshow(np.log1p(matrix), cmap="Blues")
    ticks = range(classes)
    ax.set_xticks(
        ticks, class_names, rotation=45 if named else 0, ha="right" if named else "center"
    )
    ax.set_yticks(
        ticks, [f"{name}  (recall {r:.3f})" for name, r in zip(class_names, recall, strict=True)]
    )
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
    class_names: list[str] | None = None,
) -> plt.Figure:
    """The images in a grid, each captioned above it: true class, then the predicted
    class and the network's probability for it."""
    if class_names is None:
        class_names = class_numbers(int(max(labels.max(initial=0), predicted.max(initial=0))) + 1)
    columns = 8
    rows = max(1, math.ceil(len(images) / columns))
    tile = 9.6 / columns * image_shape[0] / image_shape[1]  # inches of one image's height
    caption = 0.5  # inches: two lines of 9-point text and a gap (the report shrinks the
    # figure to its pane: smaller text would be unreadable there)
    fig, axes = figure(
        (10, (tile + caption) * rows + 1.0),
        f"Most confident mistakes on the test set — {title}. Above each image: its true "
        "class, → the class the network chose (its probability)",
        ncols=columns,
        nrows=rows,
        left=0.01,
        right=0.99,
        bottom=0.01,
        axes_titles=True,
        wspace=0.08,
        hspace=caption / tile,
    )
    for ax in axes.flat:
        ax.set_axis_off()
    if not len(images):
        axes.flat[0].text(
            0, 0.5, "no test image is misclassified", transform=axes.flat[0].transAxes
        )
        return fig
    for ax, image, true, guess, p in zip(
        axes.flat, images, labels, predicted, confidence, strict=False
    ):
        ax.imshow(image.reshape(image_shape), cmap="gray_r", vmin=0, vmax=255)
        ax.set_title(
            f"{class_names[true]}\n→ {class_names[guess]} ({p:.2f})",
            fontsize=9,
            color="tab:red",
            pad=2,
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
    class_names: list[str] | None = None,
) -> np.ndarray:
    """What a run's network learned, from its initial and final checkpoints and the
    evaluation set's test images, into the run's folder ``out``."""
    start, _ = checkpoint.load(initial)
    end, _ = checkpoint.load(final)
    test = predictions(end, images.test)
    matrix = _write_learned(
        start.params["W1"],
        end.params["W1"],
        test,
        images.test,
        image_shape,
        out,
        title,
        formats,
        class_names,
    )
    log.info("wrote what %s learned: test accuracy %.4f", out, np.trace(matrix) / matrix.sum())
    return matrix


def _write_learned(
    initial_W1: np.ndarray,
    final_W1: np.ndarray,
    test: tuple[np.ndarray, np.ndarray, np.ndarray],
    test_blocks: list[Block],
    image_shape: tuple[int, int],
    out: Path,
    title: str,
    formats: list[str],
    class_names: list[str] | None = None,
) -> np.ndarray:
    """confusion.csv and figures/{weights,confusion,misclassified} into ``out``, from the
    test set's (predicted, probabilities, labels); returns the confusion matrix."""
    predicted, probabilities, labels = test
    names = class_names or class_numbers(probabilities.shape[1])
    matrix = confusion(labels, predicted, probabilities.shape[1])
    tables.write_csv(confusion_table(matrix, names), out / "confusion.csv")
    figures = out / "figures"
    save(weights_figure(initial_W1, final_W1, image_shape, title), figures / "weights", formats)
    save(confusion_figure(matrix, title, names), figures / "confusion", formats)
    shown = most_confident_mistakes(predicted, probabilities, labels, MISTAKES_SHOWN)
    images = full_images(test_blocks, shown, math.prod(image_shape))
    confidence = probabilities[shown, predicted[shown]]
    fig = mistakes_figure(
        images, image_shape, labels[shown], predicted[shown], confidence, title, names
    )
    save(fig, figures / "misclassified", formats)
    return matrix
