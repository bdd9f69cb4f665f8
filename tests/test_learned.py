"""What the network learned: weight tiles, the confusion matrix and its mistakes."""

import numpy as np
import pytest
from scratchnet import learned


def test_each_hidden_units_weights_become_one_image_of_the_datas_shape():
    W1 = np.arange(5 * 9 * 4, dtype=np.float32).reshape(45, 4)  # 5x9 images, 4 units
    tiles = learned.weight_tiles(W1, (5, 9))
    assert tiles.shape == (4, 5, 9)
    np.testing.assert_array_equal(tiles[2].ravel(), W1[:, 2])


def test_a_mosaic_places_tiles_with_a_blank_pixel_between():
    tiles = np.ones((5, 2, 3))
    mosaic = learned.mosaic(tiles, columns=2)
    assert mosaic.shape == (3 * 3 - 1, 2 * 4 - 1)
    assert np.isnan(mosaic[2, 0]) and np.isnan(mosaic[0, 3])
    assert np.isnan(mosaic[6:, 4:]).all()  # the sixth place stays empty
    assert np.nansum(mosaic) == 5 * 6


def test_the_confusion_matrix_counts_true_rows_against_predicted_columns():
    labels = np.array([0, 0, 1, 2, 2, 2])
    predicted = np.array([0, 1, 1, 2, 0, 2])
    matrix = learned.confusion(labels, predicted, 3)
    np.testing.assert_array_equal(matrix, [[1, 1, 0], [0, 1, 0], [1, 0, 2]])
    table = learned.confusion_table(matrix)
    assert table.columns.tolist() == ["true_class", "0", "1", "2"]


def test_the_most_confident_mistakes_come_first():
    labels = np.array([0, 1, 1, 0])
    predicted = np.array([1, 1, 0, 1])
    probabilities = np.array([[0.4, 0.6], [0.1, 0.9], [0.99, 0.01], [0.2, 0.8]])
    shown = learned.most_confident_mistakes(predicted, probabilities, labels, 2)
    assert shown.tolist() == [2, 3]


def test_full_images_put_the_left_out_blank_columns_back():
    from scratchnet.evalset import blocks_of

    rng = np.random.default_rng(0)
    images = rng.integers(1, 255, (7, 12), dtype=np.uint8)
    images[:, [0, 5]] = 0
    blocks = blocks_of(images, np.zeros(7, np.uint8), (3, 4), block_rows=3)
    indices = np.arange(7)
    rebuilt = learned.full_images(blocks, indices, 12)
    assert sorted(map(bytes, rebuilt)) == sorted(map(bytes, images))


@pytest.mark.parametrize("classes", [3, 10, 25])
def test_the_figures_draw_for_any_class_count_and_image_shape(classes):
    rng = np.random.default_rng(1)
    matrix = rng.integers(0, 50, (classes, classes))
    fig = learned.confusion_figure(matrix, "run x")
    recall = [label.get_text() for label in fig.axes[0].get_yticklabels()]
    assert len(recall) == classes and all("recall" in text for text in recall)
    assert len(fig.axes[0].texts) == (classes * classes if classes <= 20 else 0)
    shape = (5, 9)
    images = rng.integers(0, 255, (11, 45), dtype=np.uint8)
    fig = learned.mistakes_figure(
        images, shape, np.zeros(11, int), np.ones(11, int), np.full(11, 0.9), "run x"
    )
    captions = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert captions == ["0\n→ 1 (0.90)"] * 11  # each above its own image
    fig = learned.weights_figure(
        0.01 * rng.standard_normal((45, 7)), rng.standard_normal((45, 7)), shape, "run x"
    )
    assert len(fig.axes) == 4  # two panels, each with its colour bar
    scales = [image.get_clim()[1] for ax in fig.axes[:2] for image in ax.get_images()]
    assert scales[0] < 0.1 < 1 < scales[1]  # the faint initial weights on their own scale


def test_the_weights_title_wraps_inside_the_figure_above_the_panels_titles():
    """Its title is set larger than the other figures' (the report shows this wide figure
    smaller): the room above the panels must follow."""
    rng = np.random.default_rng(2)
    weights = rng.standard_normal((784, 50))
    title = "hidden_size=100+learning_rate=0.5+seed=3 (mnist): " + "a long setting, " * 12
    fig = learned.weights_figure(0.01 * weights, weights, (28, 28), title)
    fig.canvas.draw()
    suptitle = fig.get_suptitle()
    box = fig.texts[0].get_window_extent()
    assert fig.texts[0].get_text() == suptitle and suptitle.count("\n") >= 2
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    for panel in fig.axes[:2]:
        assert panel.title.get_window_extent().y1 < box.y0
