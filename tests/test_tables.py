"""The result tables with pandas: order, exact numbers, the best epoch, the ranked summary,
and their HTML and terminal renderings."""

import json

import pandas as pd
import pytest
from scratchnet import checkpoint, spread, tables
from scratchnet.net import TwoLayerNet


def evaluation(epoch: int, test_acc: float) -> dict:
    """What an evaluation job writes for one checkpoint."""
    losses = {"train_loss": 2.3 / (epoch + 1), "test_loss": 2.4 / (epoch + 1)}
    accuracies = {"train_acc": test_acc - 0.01, "test_acc": test_acc}
    return {"epoch": epoch, "iteration": 600 * epoch, **accuracies, **losses}


def test_csv_round_trip_keeps_every_float_exactly(tmp_path):
    table = pd.DataFrame({"iteration": [1, 2], "epoch": [1, 1], "loss": [0.1 + 0.2, 1e-17]})
    tables.write_csv(table, tmp_path / "loss.csv")
    assert (tmp_path / "loss.csv").read_text() == (
        "iteration,epoch,loss\n1,1,0.30000000000000004\n2,1,1e-17\n"
    )
    pd.testing.assert_frame_equal(tables.read_csv(tmp_path / "loss.csv"), table)


def test_accuracy_rows_come_by_epoch_with_the_table_columns_only(tmp_path):
    paths = []
    for epochs in ((9, 10), (0, 1, 2)):
        path = tmp_path / f"epochs_{epochs[0]}.json"
        path.write_text(json.dumps([evaluation(e, 0.5 + e / 100) for e in epochs]))
        paths.append(path)
    table = tables.accuracy_table(paths)
    assert list(table.columns) == tables.ACCURACY_COLUMNS
    assert table["epoch"].tolist() == [0, 1, 2, 9, 10]
    assert table["test_acc"].tolist() == [0.5, 0.51, 0.52, 0.59, 0.6]


def test_loss_rows_come_from_the_checkpoints_in_training_order(tmp_path):
    net = TwoLayerNet(4, 3, 2)
    epochs = {0: [], 1: [2.0, 1.0], 2: [0.5, 0.25]}  # epoch 0 follows no update
    paths = []
    for epoch, losses in epochs.items():
        paths.append(tmp_path / f"epoch_{epoch}.npz")
        checkpoint.save(paths[-1], net, {"epoch": epoch, "iteration": 2 * epoch}, losses)
    table = tables.loss_table(reversed(paths))
    assert table.columns.tolist() == tables.LOSS_COLUMNS
    assert table["iteration"].tolist() == [1, 2, 3, 4]
    assert table["epoch"].tolist() == [1, 1, 2, 2]
    assert table["loss"].tolist() == [2.0, 1.0, 0.5, 0.25]
    assert tables.loss_table(paths[:1]).empty


def test_the_best_epoch_is_the_first_to_reach_the_best_test_accuracy():
    accuracy = pd.DataFrame([evaluation(e, acc) for e, acc in enumerate([0.1, 0.9, 0.8, 0.9])])
    metrics = tables.run_metrics(accuracy, 1.5, None)
    assert metrics["best_epoch"] == 1 and metrics["best_test_acc"] == 0.9
    assert metrics["final_test_acc"] == 0.9 and metrics["final_train_acc"] == 0.9 - 0.01
    assert metrics["iterations"] == 1800 and metrics["diverged_at_epoch"] is None


def test_training_seconds_add_up_each_epochs_own_timing(tmp_path):
    for epoch, seconds in ((1, 1.25), (2, 2.5)):
        (tmp_path / f"{epoch}.json").write_text(json.dumps({"epoch": epoch, "seconds": seconds}))
    assert tables.training_seconds([tmp_path / "1.json", tmp_path / "2.json"]) == 3.75


def write_metrics(folder, name, final, diverged=None):
    metrics = {
        "final_test_acc": final,
        "best_test_acc": final + 0.01,
        "best_epoch": 3,
        "final_train_acc": final,
        "diverged_at_epoch": diverged,
        "train_seconds": 1.0,
    }
    (folder / f"{name}.json").write_text(json.dumps(metrics))
    return folder / f"{name}.json"


def planned(runs: dict[str, dict]) -> dict[str, dict]:
    """Runs as the plan describes them: each its own setting (no repeats)."""
    return {name: {"setting": name, "settings": settings} for name, settings in runs.items()}


def test_the_summary_ranks_runs_best_first_and_diverged_runs_last(tmp_path):
    runs = {
        "a": {"learning_rate": 0.1},
        "b": {"learning_rate": 1000.0},
        "c": {"learning_rate": 0.5},
        "d": {"learning_rate": 0.2},
    }
    finals = {"a": 0.90, "b": 0.98, "c": 0.95, "d": 0.90}
    files = {
        name: write_metrics(tmp_path, name, finals[name], 2 if name == "b" else None)
        for name in runs
    }
    summary = tables.summary_table(planned(runs), files, "mnist")
    assert summary["run"].tolist() == ["c", "a", "d", "b"]  # ties keep the config's order
    assert summary.columns.tolist()[:4] == ["run", "setting", "dataset", "learning_rate"]
    assert summary["dataset"].unique().tolist() == ["mnist"]
    assert summary["diverged_at_epoch"].iloc[:3].isna().all()
    assert summary["diverged_at_epoch"].iloc[3] == 2
    assert tables.varied_settings(summary, ["learning_rate"]) == ["learning_rate"]


def test_the_html_table_is_a_real_table_with_the_best_row_marked():
    table = pd.DataFrame([evaluation(e, 0.5 + e / 10) for e in range(3)])
    html = tables.html_table(table, "run x & y", highlight_first=True)
    assert html.startswith("<!DOCTYPE html>") and "<caption>run x &amp; y</caption>" in html
    assert '<table class="dataframe ranked">' in html
    assert "<td>0.7000</td>" in html and "<td>1.15000</td>" in html  # 4 and 5 decimals
    assert html == tables.html_table(table, "run x & y", highlight_first=True)  # no random ids


def test_the_terminal_table_aligns_columns_and_shows_missing_values_as_dashes():
    table = pd.DataFrame({"run": ["long-name", "b"], "test_acc": [0.91234, None]})
    lines = tables.terminal_table(table).splitlines()
    assert len({len(line) for line in lines}) == 1  # aligned
    assert "0.9123" in lines[1] and lines[2].rstrip().endswith("-")


@pytest.mark.parametrize("column", ["train_acc", "test_loss"])
def test_float_columns_render_with_fixed_decimals(column):
    table = pd.DataFrame({column: [1 / 3]})
    assert "0.3333" in tables.terminal_table(table)


def test_a_run_no_better_than_answering_the_commonest_class_is_marked_at_chance(tmp_path):
    runs = {"stuck": {"learning_rate": 20.0, "seed": 0}, "fine": {"learning_rate": 0.1, "seed": 0}}
    files = {"stuck": write_metrics(tmp_path, "stuck", 0.098, None),
             "fine": write_metrics(tmp_path, "fine", 0.9464, None)}  # fmt: skip
    chance = tables.chance_accuracy([980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009])
    assert chance == 0.1135  # MNIST's test set: always answering 1
    summary = tables.summary_table(planned(runs), files, "mnist", chance)
    assert summary.set_index("run")["at_chance"].to_dict() == {"fine": False, "stuck": True}
    assert "at_chance" in tables.result_columns(summary, ["learning_rate"])
    healthy = summary[summary["run"] == "fine"]
    assert "at_chance" not in tables.result_columns(healthy, [])  # nothing to say
    tables.write_csv(summary, tmp_path / "summary.csv")
    by_setting = spread.by_setting(summary, tables.setting_columns(summary))
    tables.write_csv(by_setting, tmp_path / "summary_by_setting.csv")
    from scratchnet import show

    brief = show.brief(tmp_path).splitlines()
    assert "AT CHANCE" in brief[2] and "stuck" in brief[2] and "AT CHANCE" not in brief[1]
    assert "at_chance" in show.summary_text(tmp_path).splitlines()[1]
