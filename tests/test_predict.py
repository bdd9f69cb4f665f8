"""`scratchnet predict`: your own images through a trained network, converted as the
dataset's images are; and class names reaching every figure that shows classes."""

import gzip
import subprocess
import sys

import matplotlib.text
import numpy as np
import pytest
from conftest import SPLIT_NAMES, Project, tiny_config, write_tiny_idx
from PIL import Image
from scratchnet import idx, learned, predict
from scratchnet.tables import read_csv

NAMES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> Project:
    base = tmp_path_factory.mktemp("predict")
    digests = write_tiny_idx(base / "mirror")
    config = tiny_config(base / "mirror", digests)
    config["datasets"]["tiny"]["class_names"] = NAMES
    project = Project(base / "work", config)
    project.run()
    return project


def scratchnet(project: Project, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "scratchnet", *args],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_test_set_predicted_file_by_file_scores_the_evaluations_accuracy(trained):
    test_images = trained.path(f"results/data/tiny/{SPLIT_NAMES['test_images']}")
    names, _, probs, classes, _, used = predict.predict_files(
        [test_images], trained.path("results"), "default", "final"
    )
    labels = idx.parse_labels(
        gzip.decompress(
            trained.path(f"results/data/tiny/{SPLIT_NAMES['test_labels']}").read_bytes()
        )
    )
    accuracy = read_csv(trained.path("results/default/accuracy.csv"))
    assert used.name == "epoch_003.npz" and len(names) == len(labels) == 100
    assert np.mean(probs.argmax(axis=1) == labels) == accuracy["test_acc"].iloc[-1]
    assert classes == NAMES


def test_a_drawing_dark_on_white_and_larger_is_converted_to_the_datasets_form(trained, tmp_path):
    raw = gzip.decompress(
        trained.path(f"results/data/tiny/{SPLIT_NAMES['test_images']}").read_bytes()
    )
    image = idx.parse_images(raw)[0].reshape(7, 7)
    drawn = np.kron(255 - image, np.ones((4, 4), dtype=np.uint8))  # 28x28, dark ink on white
    Image.fromarray(drawn).convert("RGB").save(tmp_path / "drawn.png")
    np.save(tmp_path / "original.npy", image)
    result = scratchnet(
        trained,
        "predict",
        str(tmp_path / "drawn.png"),
        str(tmp_path / "original.npy"),
        "--figure",
        str(tmp_path / "seen.png"),
    )
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[2:4]]
    assert [row[0] for row in rows] == ["drawn.png", "original.npy"]
    assert rows[0][1] == rows[1][1] and rows[0][1] in NAMES  # the same class either way
    assert (tmp_path / "seen.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"label,pixel0\n5,0\n", "notes.csv: cannot read it as an image (a CSV file"),
        ("tiny", "tiny.png: 1x5 pixels is too small to resize to the dataset's 7x7"),
    ],
)
def test_what_cannot_become_an_image_ends_in_one_line(trained, tmp_path, content, message):
    if content == "tiny":
        path = tmp_path / "tiny.png"
        Image.fromarray(np.zeros((1, 5), dtype=np.uint8)).save(path)
    else:
        path = tmp_path / "notes.csv"
        path.write_bytes(content)
    result = scratchnet(trained, "predict", str(path))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1 and message in errors[0], result.stderr
    assert "Traceback" not in result.stderr


def test_an_unknown_run_names_the_runs_there_are(trained, tmp_path):
    result = scratchnet(trained, "predict", "x.png", "--run", "nope")
    assert result.returncode == 1 and "pick one of: default" in result.stderr


def figure_text(fig) -> str:
    return "\n".join(t.get_text() for t in fig.findobj(matplotlib.text.Text))


def test_class_names_reach_the_confusion_and_mistakes_figures_and_table(trained):
    confusion = read_csv(trained.path("results/default/confusion.csv"))
    assert confusion["name"].tolist() == NAMES
    matrix = np.diag([3, 1]) + 1
    text = figure_text(learned.confusion_figure(matrix, "t", ["cat", "dog"]))
    assert "cat  (recall 0.800)" in text and "dog" in text
    images = np.zeros((2, 16), dtype=np.uint8)
    fig = learned.mistakes_figure(
        images,
        (4, 4),
        np.array([0, 1]),
        np.array([1, 0]),
        np.array([0.9, 0.8]),
        "t",
        ["cat", "dog"],
    )
    assert "cat\n→ dog (0.90)" in figure_text(fig) and "dog\n→ cat (0.80)" in figure_text(fig)


def test_the_final_network_is_the_runs_own_not_one_left_from_longer_training(trained, tmp_path):
    import shutil

    shutil.copytree(trained.root, tmp_path / "copy", symlinks=True)
    copy = Project(tmp_path / "copy", {**trained.config, "epochs": 2})
    copy.run()  # epoch 3 stays on disk from the longer run
    assert copy.path("results/default/checkpoints/epoch_003.npz").exists()
    said = scratchnet(copy, "predict", str(image_file(copy, tmp_path)))
    assert said.returncode == 0 and "epoch_002.npz" in said.stdout.splitlines()[0]
    beyond = scratchnet(copy, "predict", str(image_file(copy, tmp_path)), "--epoch", "3")
    assert beyond.returncode == 1 and "give final, best or an epoch from 0 to 2" in beyond.stderr


def image_file(project: Project, folder) -> object:
    path = folder / "digit.npy"
    np.save(path, np.zeros((7, 7), dtype=np.uint8) + np.eye(7, dtype=np.uint8) * 200)
    return path


@pytest.mark.parametrize(
    ("make", "args", "expected"),
    [
        (lambda p: np.save(p / "a.npy", np.array([object()])), (), "cannot read it as a NumPy"),
        (lambda p: np.save(p / "a.npy", np.ones((7, 7), complex)), (), "holds complex128 values"),
        (lambda p: (p / "a.npy").mkdir(), (), "is a folder"),
        (lambda p: np.save(p / "a.npy", np.ones((7, 7))), ("--epoch", "abc"), "--epoch abc: give"),
        (lambda p: np.save(p / "a.npy", np.ones((7, 7))), ("--top", "0"), "--top 0: give"),
        (
            lambda p: np.save(p / "a.npy", np.ones((7, 7))),
            ("--figure", "/nowhere/x.png"),
            "the folder /nowhere does not exist",
        ),
    ],
)
def test_hostile_inputs_end_in_one_line(trained, tmp_path, make, args, expected):
    make(tmp_path)
    said = scratchnet(trained, "predict", str(tmp_path / "a.npy"), *args)
    errors = [line for line in said.stderr.splitlines() if " ERROR " in line]
    assert said.returncode == 1 and len(errors) == 1 and expected in errors[0], said.stderr
    assert "Traceback" not in said.stderr


def test_a_batch_in_the_datasets_own_layouts_is_read_image_by_image(trained, tmp_path):
    raw = gzip.decompress(
        trained.path(f"results/data/tiny/{SPLIT_NAMES['test_images']}").read_bytes()
    )
    images = idx.parse_images(raw)[:10]  # 10 x 49: x_test's layout
    np.save(tmp_path / "rows.npy", images)
    np.save(tmp_path / "grid.npy", images.reshape(10, 7, 7))
    for name in ("rows.npy", "grid.npy"):
        said = scratchnet(trained, "predict", str(tmp_path / name), "--figure", str(tmp_path / "s"))
        assert said.returncode == 0, said.stderr
        assert "(10 image(s)" in said.stdout and (tmp_path / "s.png").exists()
