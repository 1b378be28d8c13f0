"""The benchmark scripts run (on the bundled sample only: the full suite is too slow for CI)."""

import subprocess
import sys

import pytest
from helpers import ROOT

pytestmark = pytest.mark.models


def test_accuracy_script_runs_on_the_sample(tmp_path, sample_run):
    out = tmp_path / "acc.md"
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "benchmarks" / "accuracy.py"),
            "--sample-only",
            "--configs",
            "default",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    text = out.read_text()
    assert "### default:" in text and "| consultation.flac | 81 s |" in text
    row = next(line for line in text.splitlines() if line.startswith("| consultation.flac"))
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[5] == "100 %"  # both roles right
    assert float(cells[3].rstrip(" %")) <= 1.5  # DER collar 0.25
