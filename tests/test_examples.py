"""The examples run as a user would run them (two epochs each, in a fresh folder)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


@pytest.mark.parametrize("script", ["fit_and_sample.py", "edit_schema.py", "conditional.py"])
def test_python_example_runs(script, tmp_path):
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), "--epochs", "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]


@pytest.mark.skipif(shutil.which("tabvae") is None, reason="the tabvae command is not installed")
def test_command_line_example_runs(tmp_path):
    done = subprocess.run(
        ["bash", str(EXAMPLES / "cli.sh"), "2"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert (tmp_path / "example-cli" / "report.html").is_file()
    assert (tmp_path / "example-cli" / "synthetic.parquet").is_file()
