"""The HTML report: about one configuration only, with the numbers in it."""

import base64
import re
import shutil

import pytest
from conftest import Project, tiny_config, write_tiny_idx
from scratchnet.tables import read_csv

REPORT = "results/report.html"
BUILD_REPORT = ("--report", REPORT, "--report-after-run")


def embedded(html: str) -> dict[str, bytes]:
    """The files a Snakemake HTML report embeds, by their results path."""
    pattern = re.compile(
        r'"(results/[^"]+)": \{"name".*?"data_uri": "data:[^;]+;(?:charset=[^;]+;)?'
        r'(?:filename=[^;]+;)?base64,([A-Za-z0-9+/=]+)"',
        re.DOTALL,
    )
    return {path: base64.b64decode(data) for path, data in pattern.findall(html)}


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Project:
    base = tmp_path_factory.mktemp("report")
    digests = write_tiny_idx(base / "mirror")
    sweep = {"hidden_size": [6, 12], "learning_rate": [1.0, 2.0]}
    project = Project(base / "work", tiny_config(base / "mirror", digests, sweep=sweep, epochs=2))
    project.run(*BUILD_REPORT)  # the workflow runs first, then the report is made
    return project


def test_the_report_holds_the_ranked_summary_with_the_best_runs_accuracy(grid):
    files = embedded(grid.path(REPORT).read_text())
    summary = read_csv(grid.path("results/summary.csv"))
    page = files["results/summary.html"].decode()
    assert 'class="dataframe ranked"' in page  # the first row (best run) is highlighted
    best_row = page.split("<tbody>")[1].split("</tr>")[0]
    # the run by a short name (hs 12, lr 2.0), and its settings in their own columns
    for key in ("hidden_size", "learning_rate"):
        assert f"<td>{summary[key][0]}</td>" in best_row
    assert f"<td>{summary['final_test_acc'][0]:.4f}</td>" in best_row


def test_the_report_holds_every_runs_table_and_figures_and_where_the_data_came_from(grid):
    files = embedded(grid.path(REPORT).read_text())
    runs = read_csv(grid.path("results/summary.csv"))["run"]
    for run in runs:
        table = files[f"results/{run}/accuracy.html"].decode()
        accuracy = read_csv(grid.path(f"results/{run}/accuracy.csv"))
        assert f"<td>{accuracy['test_acc'].iloc[-1]:.4f}</td>" in table
        for name in ("loss", "accuracy", "weights", "confusion", "misclassified"):
            path = f"results/{run}/figures/{name}.png"
            assert files[path] == grid.path(path).read_bytes(), path
    for name in ("compare_heatmap", "compare_accuracy", "compare_loss"):
        assert f"results/figures/{name}.png" in files
    data = files["results/data/tiny/dataset.html"].decode()
    assert "SHA-256 of the decompressed payload" in data and "Images per class" in data
    for name in ("numerical_diff", "gradient_field", "gradient_descent"):
        assert f"results/chapter/{name}.png" in files


def test_a_report_after_a_complete_run_is_written_for_that_configuration(grid):
    grid.run("--report", "results/again.html")  # the Snakemake habit: no run first
    files = embedded(grid.path("results/again.html").read_text())
    assert files == embedded(grid.path(REPORT).read_text())


def test_a_report_of_out_of_date_results_stops_with_the_users_own_command(grid, tmp_path):
    shutil.copytree(grid.root, tmp_path / "copy", symlinks=True)
    copy = Project(tmp_path / "copy", {**grid.config, "seed": 1})
    result = copy.run("--report", "results/other.html", "--config", "epochs=2", check=False)
    assert result.returncode != 0
    output = result.stdout + result.stderr
    assert "the results in results/ are not all of this configuration" in output
    assert "snakemake --cores N (your --config or --configfile) --report FILE" in output
    assert "--report-after-run" in output
    assert "Traceback" not in output and not copy.path("results/other.html").exists()
    assert not list(copy.path(".snakemake/locks").glob("*"))  # nothing left locked


def test_a_report_for_another_configuration_shows_only_its_runs(tmp_path, tiny_mirror):
    mirror, digests = tiny_mirror
    project = Project(
        tmp_path, tiny_config(mirror, digests, epochs=2, sweep={"learning_rate": [1.0, 2.0, 3.0]})
    )
    project.run()
    project.write_config(tiny_config(mirror, digests, epochs=2, run="single"))
    project.run(*BUILD_REPORT)  # out of date for this configuration: brought up to date first
    files = embedded(project.path(REPORT).read_text())
    runs = {path.split("/")[1] for path in files if path.count("/") >= 2}
    assert runs - {"data", "chapter", "figures"} == {"single"}
    assert not any(path.startswith("results/figures/") for path in files)
    summary = files["results/summary.html"].decode()
    assert "single" in summary and "learning_rate=3.0" not in summary
