"""The figures' helpers: the loss curve's running mean, and stable multi-format saving."""

import numpy as np
import pytest
from scratchnet.plots import accuracy_figure, moving_average, save, wrap_title


def test_running_mean_is_trailing_and_shorter_at_the_start():
    values = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    np.testing.assert_allclose(moving_average(values, 2), [1.0, 1.5, 2.5, 3.5, 4.5])
    np.testing.assert_allclose(moving_average(values, 3), [1.0, 1.5, 2.0, 3.0, 4.0])
    np.testing.assert_array_equal(moving_average(values, 1), values)
    np.testing.assert_allclose(moving_average(values, 10), np.cumsum(values) / np.arange(1, 6))


def draw():
    epochs = np.arange(4)
    return accuracy_figure(epochs, epochs / 4, epochs / 5, "run default")


@pytest.mark.parametrize("fmt, magic", [("png", b"\x89PNG"), ("svg", b"<?xml"), ("pdf", b"%PDF")])
def test_the_same_figure_saves_to_the_same_bytes_on_any_day(tmp_path, monkeypatch, fmt, magic):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "0")  # matplotlib's clock for dates it writes
    first = save(draw(), tmp_path / "a" / "accuracy", [fmt])
    monkeypatch.setenv("SOURCE_DATE_EPOCH", str(400 * 86400))
    second = save(draw(), tmp_path / "b" / "accuracy", [fmt])
    assert first == [tmp_path / "a" / f"accuracy.{fmt}"]
    assert first[0].read_bytes().startswith(magic)
    assert first[0].read_bytes() == second[0].read_bytes()


def test_every_format_asked_for_is_written_and_nothing_else(tmp_path):
    written = save(draw(), tmp_path / "accuracy", ["png", "svg"])
    assert sorted(p.name for p in tmp_path.iterdir()) == ["accuracy.png", "accuracy.svg"]
    assert written == [tmp_path / "accuracy.png", tmp_path / "accuracy.svg"]


def test_a_long_title_wraps_inside_the_figure_and_leaves_room_for_the_axes(tmp_path):
    title = "hidden_size=100+learning_rate=0.5+seed=3 (mnist): " + "a long setting, " * 8
    fig = accuracy_figure(np.arange(3), np.zeros(3), np.zeros(3), title)
    fig.canvas.draw()
    suptitle = fig.texts[0]
    box = suptitle.get_window_extent()
    assert suptitle.get_text().replace("\n", " ") == title.strip()
    assert "\n" in suptitle.get_text()
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width and box.y1 <= fig.bbox.height
    assert fig.axes[0].get_window_extent().y1 < box.y0  # the axes sit below the title


def test_wrapping_keeps_short_titles_on_one_line():
    assert wrap_title("default (mnist): hidden 50", 7) == ["default (mnist): hidden 50"]


@pytest.mark.parametrize("level", [0.1, 0.5, 0.95])
def test_the_accuracy_legend_covers_no_point_of_the_curves(level):
    """An at-chance run's flat curves lie where a learning run's legend would go."""
    epochs = np.arange(17)
    curve = np.full(17, level)
    curve[0] = 0.1  # every run starts at chance
    fig = accuracy_figure(epochs, curve, curve - 0.01, "run", val_acc=curve + 0.01)
    fig.canvas.draw()
    ax = fig.axes[0]
    box = ax.get_legend().get_window_extent()
    for line in ax.get_lines():
        points = ax.transData.transform(line.get_xydata())
        inside = [box.contains(x, y) for x, y in points]
        assert not any(inside), line.get_label()
