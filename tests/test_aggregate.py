"""Tables built from per-epoch files: order, exact numbers, the best epoch, the summary."""

import json

from scratchnet.aggregate import (
    ACCURACY_COLUMNS,
    LOSS_COLUMNS,
    SUMMARY_METRICS,
    accuracy_rows,
    loss_rows,
    metrics,
    read_csv,
    summary_rows,
    to_csv,
    training_seconds,
)


def evaluation(epoch: int, test_acc: float) -> dict:
    """What an evaluation job writes for one checkpoint (plus a column tables leave out)."""
    losses = {"train_loss": 2.3 / (epoch + 1), "test_loss": 2.4 / (epoch + 1)}
    accuracies = {"train_acc": test_acc - 0.01, "test_acc": test_acc}
    return {"epoch": epoch, "iteration": 600 * epoch, **accuracies, **losses, "seconds": 0.2}


def test_csv_round_trip_keeps_every_float_exactly(tmp_path):
    rows = [
        {"iteration": 1, "epoch": 1, "loss": 0.1 + 0.2},
        {"iteration": 2, "epoch": 1, "loss": 1e-17},
    ]
    path = tmp_path / "loss.csv"
    path.write_text(to_csv(LOSS_COLUMNS, rows))
    assert path.read_text().splitlines()[0] == "iteration,epoch,loss"
    assert read_csv(path) == rows


def test_accuracy_rows_come_by_epoch_with_the_table_columns_only(tmp_path):
    paths = []
    for epochs in ((10, 11), (2,), (0, 1)):  # 10 sorts before 2 as text
        paths.append(tmp_path / f"epochs_{epochs[0]}.json")
        paths[-1].write_text(json.dumps([evaluation(e, 0.5 + e / 100) for e in epochs]))
    rows = accuracy_rows(paths)
    assert [r["epoch"] for r in rows] == [0, 1, 2, 10, 11]
    assert [r["test_acc"] for r in rows] == [0.5, 0.51, 0.52, 0.6, 0.61]
    assert all(tuple(r) == ACCURACY_COLUMNS for r in rows)


def test_loss_rows_follow_training_order_across_epoch_files(tmp_path):
    second, first = tmp_path / "epoch_002.csv", tmp_path / "epoch_001.csv"
    second.write_text(
        to_csv(LOSS_COLUMNS, [{"iteration": i, "epoch": 2, "loss": 1.0} for i in (3, 4)])
    )
    first.write_text(
        to_csv(LOSS_COLUMNS, [{"iteration": i, "epoch": 1, "loss": 2.0} for i in (1, 2)])
    )
    assert [r["iteration"] for r in loss_rows([second, first])] == [1, 2, 3, 4]


def test_the_best_epoch_is_the_first_to_reach_the_best_test_accuracy():
    table = [evaluation(0, 0.1), evaluation(1, 0.9), evaluation(2, 0.9), evaluation(3, 0.8)]
    result = metrics(table, seconds=1.5)
    assert (result["best_test_acc"], result["best_epoch"]) == (0.9, 1)
    assert (result["final_test_acc"], result["epochs"], result["iterations"]) == (0.8, 3, 1800)
    assert result["final_train_acc"] == table[-1]["train_acc"]


def test_training_seconds_add_up_snakemakes_benchmark_files(tmp_path):
    header = "s\th:m:s\tmax_rss\n"
    for name, seconds in (("a.tsv", "0.25"), ("b.tsv", "1.5")):
        (tmp_path / name).write_text(f"{header}{seconds}\t0:00:01\t80.1\n")
    assert training_seconds([tmp_path / "a.tsv", tmp_path / "b.tsv"]) == 1.75


def test_summary_has_one_row_per_run_with_its_settings_then_its_metrics(tmp_path):
    runs = {"lr=0.1": {"learning_rate": 0.1}, "lr=0.5": {"learning_rate": 0.5}}
    files = {}
    for name, acc in (("lr=0.1", 0.94), ("lr=0.5", 0.96)):
        files[name] = tmp_path / f"{name}.json"
        files[name].write_text(json.dumps(metrics([evaluation(0, 0.1), evaluation(1, acc)], 2.0)))
    rows = summary_rows(runs, files)
    assert [(r["run"], r["learning_rate"], r["final_test_acc"]) for r in rows] == [
        ("lr=0.1", 0.1, 0.94),
        ("lr=0.5", 0.5, 0.96),
    ]
    assert list(rows[0]) == ["run", "learning_rate", *SUMMARY_METRICS, "train_seconds"]
