"""The benchmark's statistics (the benchmark itself is not part of pytest: it times things)."""

import os

import pytest
from scratchnet.bench import (
    _median,
    _spread,
    machine_busy_seconds,
    peak_rss_by_rule,
    round_ratios,
)


def test_the_median_run_counts_and_every_time_is_kept():
    runs = [{"seconds": 3.0, "test_acc": 0.3}, None, {"seconds": 1.0, "test_acc": 0.1},
            {"seconds": 2.0, "test_acc": 0.2}]  # fmt: skip
    median = _median(runs)
    assert median["seconds"] == 2.0
    assert median["test_acc"] == 0.2  # the whole run, not a mix of runs
    assert median["all_seconds"] == [1.0, 2.0, 3.0]
    assert _spread(median) == "1.0-3.0"


def test_an_even_count_takes_the_lower_middle_run():
    runs = [{"seconds": s} for s in (4.0, 1.0, 3.0, 2.0)]
    assert _median(runs)["seconds"] == 2.0


def test_no_finished_run_gives_none_and_a_single_run_no_range():
    assert _median([None, None]) is None
    assert _spread(_median([{"seconds": 5.0}])) == ""


def test_ratios_pair_the_runs_of_each_round_and_skip_unfinished_ones():
    sweeps = [{"seconds": 25.0}, {"seconds": 30.0}, None]
    one_runs = [{"seconds": 10.0}, {"seconds": 12.0}, {"seconds": 11.0}]
    assert round_ratios(sweeps, one_runs) == [2.5, 2.5]
    with pytest.raises(ValueError):
        round_ratios(sweeps, one_runs[:2])


@pytest.mark.skipif(not os.path.exists("/proc/stat"), reason="Linux /proc/stat only")
def test_machine_busy_seconds_reads_a_counter_that_never_goes_back():
    first = machine_busy_seconds()
    sum(i * i for i in range(200_000))
    second = machine_busy_seconds()
    assert isinstance(first, float)
    assert second >= first > 0


def test_peak_rss_is_the_largest_each_rule_logged(tmp_path):
    logs = {
        "results/default/logs/evaluate_000.log": "peak RSS 90.0 MB",
        "results/default/logs/evaluate_001-002.log": "x\npeak RSS 85.5 MB\n",
        "results/other/logs/evaluate_015-016.log": "peak RSS 91.5 MB",
        "results/default/logs/train_epoch_012.log": "peak RSS 102.0 MB",
        "results/default/logs/accuracy_table.log": "peak RSS 40.0 MB",
        "results/data/logs/mnist/download_t10k-images-idx3-ubyte.gz.log": "peak RSS 60.0 MB",
        ".snakemake/log/scratchnet-worker.log": "peak RSS 127.0 MB",
        "results/default/logs/gradcheck.log": "no figure logged",
    }
    for name, text in logs.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    assert peak_rss_by_rule(tmp_path) == {
        "accuracy_table": 40.0,
        "download": 60.0,
        "evaluate": 91.5,
        "train_epoch": 102.0,
        "worker": 127.0,
    }
