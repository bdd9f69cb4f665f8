"""The comparison figures: which run is best, for grids, named runs and single settings."""

import numpy as np
import pandas as pd
import pytest
from scratchnet import compare, spread


def curves(names, finals):
    """Accuracy and loss tables of runs that end at ``finals``."""
    out = {}
    for name, final in zip(names, finals, strict=True):
        epochs = np.arange(17)
        test_acc = 0.1 + (final - 0.1) * (1 - np.exp(-epochs / 3))
        accuracy = pd.DataFrame({"epoch": epochs, "test_acc": test_acc, "train_acc": test_acc})
        iterations = np.arange(1, 9601)
        loss = pd.DataFrame({"iteration": iterations, "loss": 2.3 * np.exp(-iterations / 3000)})
        out[name] = (accuracy, loss)
    return out


def summary_of(settings: dict[str, dict], finals: dict[str, float], setting_of=None):
    """The per-run summary (ranked) and its table per setting: each run its own setting,
    unless ``setting_of`` says which setting it repeats."""
    rows = [
        {
            "run": name,
            "setting": (setting_of or {}).get(name, name),
            "seed": 0,
            **values,
            "final_test_acc": finals[name],
            "best_test_acc": finals[name],
            "diverged_at_epoch": pd.NA,
            "at_chance": False,
        }
        for name, values in settings.items()
    ]
    summary = pd.DataFrame(rows).sort_values("final_test_acc", ascending=False, ignore_index=True)
    keys = [key for key in summary.columns if key in {"hidden_size", "learning_rate", "seed"}]
    return summary, spread.by_setting(summary, keys)


def setting_curves(summary, tables):
    """Each setting's runs' tables, as results.write_summary gathers them."""
    grouped = {}
    for run, setting in zip(summary["run"], summary["setting"], strict=True):
        grouped.setdefault(setting, []).append(tables[run])
    return grouped


GRID = {
    f"hidden_size={h}+learning_rate={lr}": {"hidden_size": h, "learning_rate": lr}
    for h in (50, 100)
    for lr in (0.1, 0.5)
}
FINALS = dict(zip(GRID, (0.9464, 0.9651, 0.9512, 0.9712), strict=True))


def test_settings_with_the_same_accuracy_are_tied_and_none_is_crowned():
    """Five samples at 1.0000 on an easy dataset: their order is the table's, no result."""
    runs = {f"sample={i}": {"learning_rate": 0.1 * (i + 1), "seed": 0} for i in range(3)}
    _, table = summary_of(runs, {"sample=0": 1.0, "sample=1": 1.0, "sample=2": 0.25})
    assert spread.verdict(table) == spread.EVEN and not spread.crowned(table)
    assert "no best" in spread.claim(table)
    _, table = summary_of(runs, {"sample=0": 1.0, "sample=1": 0.99, "sample=2": 0.25})
    assert spread.verdict(table) == spread.FIRST and spread.crowned(table)


def test_two_varied_settings_give_a_heatmap_with_every_cell_and_the_best_marked():
    summary, table = summary_of(GRID, FINALS)
    fig = compare.heatmap_or_ranking(table, summary, ["hidden_size", "learning_rate"], "4 runs")
    ax = fig.axes[0]
    texts = [t.get_text() for t in ax.texts]
    assert sorted(texts) == sorted(["0.9464", "0.9651", "0.9512", f"{compare.BEST} 0.9712"])
    best = next(t for t in ax.texts if t.get_text().startswith(compare.BEST))
    assert best.get_position() == (1, 1)  # hidden 100 (row 1), learning rate 0.5 (column 1)
    assert [label.get_text() for label in ax.get_yticklabels()] == ["50", "100"]
    assert ax.get_xlabel() == "learning_rate" and ax.get_ylabel() == "hidden_size"
    assert "not measured" in fig.texts[-1].get_text()  # one seed each: says so


@pytest.mark.parametrize("varied", [["learning_rate"], ["hidden_size", "learning_rate", "seed"]])
def test_one_or_three_varied_settings_rank_the_runs_best_on_top(varied):
    settings = {name: {**values, "seed": i} for i, (name, values) in enumerate(GRID.items())}
    summary, table = summary_of(settings, FINALS)
    fig = compare.heatmap_or_ranking(table, summary, varied, "mnist, 4 runs")
    ax = fig.axes[0]
    ticks = dict(
        zip(ax.get_yticks(), [label.get_text() for label in ax.get_yticklabels()], strict=True)
    )
    top = ticks[max(ticks)]  # the highest tick: the best run
    assert top.startswith(compare.BEST) and "learning_rate=0.5" in top


def test_named_runs_keep_their_names_in_the_ranking_and_no_accuracy_axis_passes_one():
    """Two runs people named, both at 1.0 (an easy dataset): the labels say which is which."""
    runs = {"slow": {"learning_rate": 0.05}, "fast": {"learning_rate": 0.5}}
    summary, table = summary_of(runs, {"slow": 1.0, "fast": 1.0})
    fig = compare.heatmap_or_ranking(table, summary, ["learning_rate"], "shapes, 2 runs")
    ax = fig.axes[0]
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert sorted(labels) == ["fast: learning_rate=0.5", "slow: learning_rate=0.05"]
    assert ax.get_xlim()[1] <= 1.005


def test_line_figures_colour_by_one_setting_style_by_another_and_zoom_the_second_half():
    summary, table = summary_of(GRID, FINALS)
    fig = compare.accuracy_curves(
        compare.setting_rows(table),
        ["hidden_size", "learning_rate"],
        setting_curves(summary, curves(GRID, FINALS.values())),
        "mnist, 4 runs",
        table,
    )
    full, zoom = fig.axes
    lines = full.get_lines()
    assert len({line.get_color() for line in lines}) == 2  # by hidden size
    assert len({line.get_linestyle() for line in lines}) == 2  # by learning rate
    assert not full.collections  # one seed each: no bands
    assert zoom.get_xlim()[0] == pytest.approx(8.0)
    low, high = zoom.get_ylim()
    assert 0.8 < low < 0.95 < 0.97 < high < 1.0  # the small differences fill the panel
    legend = fig.legends[0]
    texts = [t.get_text() for t in legend.get_texts()]
    assert any(t.startswith(compare.BEST) and "(best)" in t for t in texts)
    fig.canvas.draw()
    assert legend.get_window_extent().x0 >= zoom.get_window_extent().x1  # outside the data


def test_many_runs_get_a_legend_of_colours_and_styles_instead():
    settings = {
        f"seed={s}+learning_rate={lr}": {"seed": s, "learning_rate": lr}
        for s in range(5)
        for lr in (0.1, 0.2, 0.3)
    }
    finals = {name: 0.9 + i / 1000 for i, name in enumerate(settings)}
    summary, table = summary_of(settings, finals)
    fig = compare.loss_curves(
        compare.setting_rows(table),
        ["seed", "learning_rate"],
        setting_curves(summary, curves(settings, finals.values())),
        "15 runs",
        table,
    )
    texts = [t.get_text() for t in fig.legends[0].get_texts()]
    assert len(texts) == 1 + 5 + 3 and texts[0].startswith(compare.BEST)


def test_a_single_run_draws_no_comparison(tmp_path):
    summary, table = summary_of({"default": {"learning_rate": 0.1}}, {"default": 0.95})
    lines = setting_curves(summary, curves(["default"], [0.95]))
    written = compare.draw_all(table, summary, [], lines, "1 run", tmp_path, ["png"])
    assert written == [] and list(tmp_path.iterdir()) == []


def repeated_grid(finals_per_setting: dict[str, list[float]]):
    """Per-repeat summary (three seeds per GRID setting), its table per setting, curves."""
    settings, finals, of = {}, {}, {}
    for name, values in GRID.items():
        for seed, final in enumerate(finals_per_setting[name]):
            run = name if seed == 0 else f"{name}+seed={seed}"
            settings[run], finals[run], of[run] = {**values, "seed": seed}, final, name
    summary, table = summary_of(settings, finals, of)
    return summary, table, setting_curves(summary, curves(settings, finals.values()))


CLEAR = {name: [final - 0.0005, final, final + 0.0005] for name, final in FINALS.items()}
TIED = {**CLEAR, "hidden_size=100+learning_rate=0.5": [0.9600, 0.9712, 0.9800]}


@pytest.mark.parametrize(("finals", "crowned"), [(CLEAR, True), (TIED, False)])
def test_with_repeats_the_heatmap_gives_mean_and_sd_and_crowns_only_beyond_noise(
    tmp_path, finals, crowned
):
    summary, table, lines = repeated_grid(finals)
    varied = ["hidden_size", "learning_rate", "seed"]
    written = compare.draw_all(table, summary, varied, lines, "4 x 3", tmp_path, ["png"])
    assert {path.stem for path in written} >= {
        "compare_heatmap",
        "compare_accuracy",
        "compare_best",
    }
    fig = compare.heatmap_or_ranking(table, summary, varied[:2], "4 x 3")
    ax = fig.axes[0]
    cells = {t.get_position(): t.get_text() for t in ax.texts}
    top = table.iloc[0]
    said = f"{top['final_test_acc_mean']:.4f}\n± {top['final_test_acc_sd']:.4f}"
    assert cells[(1, 1)] == (f"{compare.BEST} {said}" if crowned else said)
    note = fig.texts[-1].get_text()
    assert ("best: above the runner-up" in note) == crowned
    assert ("tied within seed noise" in note) == (not crowned)
    accuracy = compare.accuracy_curves(compare.setting_rows(table), varied[:2], lines, "", table)
    assert len(accuracy.axes[0].collections) == 4  # a band per setting
    legend = [t.get_text() for t in accuracy.legends[0].get_texts()]
    assert any(("(best)" if crowned else "(top, tied within seed noise)") in t for t in legend)


def test_with_repeats_and_one_varied_setting_the_ranking_shows_every_seed_and_the_interval():
    summary, table, _ = repeated_grid(CLEAR)
    fig = compare.heatmap_or_ranking(table, summary, ["learning_rate"], "4 x 3")
    ax = fig.axes[0]
    seeds = [line for line in ax.get_lines() if line.get_marker() == "."]
    assert sum(len(line.get_xdata()) for line in seeds) == 12
    bars = [c for c in ax.containers if hasattr(c, "has_xerr") and c.has_xerr]
    assert len(bars) == 4
