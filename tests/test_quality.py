"""The project's own linters, as tests: a lint failure fails the suite."""

import subprocess
import sys

import pytest
from conftest import REPO

CHECKS = {
    "ruff check": [sys.executable, "-m", "ruff", "check", "."],
    "ruff format": [sys.executable, "-m", "ruff", "format", "--check", "."],
    "snakefmt": [sys.executable, "-m", "snakefmt", "--check", "Snakefile", "workflow"],
    "snakemake --lint": [sys.executable, "-m", "snakemake", "--lint"],
}


@pytest.mark.parametrize("name", CHECKS)
def test_linter_is_clean(name):
    result = subprocess.run(CHECKS[name], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_packages_docstring_names_every_module():
    import scratchnet

    modules = sorted(path.stem for path in (REPO / "workflow" / "scratchnet").glob("*.py"))
    missing = [m for m in modules if m != "__init__" and f"``{m}``" not in scratchnet.__doc__]
    assert missing == []
