"""Issue 15 item 7: the built wheel installs into a fresh virtual environment and gives a
working ``attune`` (analyze on the sample with the bundled models, and ``attune serve``),
without the source tree. The fresh environment borrows this one's dependencies (a ``.pth``
line: the 2.5 GB of PyTorch and models are not installed twice); the package itself comes
only from the wheel."""

from __future__ import annotations

import json
import subprocess
import sys
import sysconfig
import zipfile

import pytest
from helpers import ROOT, SAMPLE

pytestmark = pytest.mark.models


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, **kw)


def test_the_wheel_installs_and_runs_in_a_fresh_venv(tmp_path):
    pytest.importorskip("build")
    pytest.importorskip("hatchling")
    r = run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(tmp_path / "dist"), str(ROOT)])
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    (wheel,) = (tmp_path / "dist").glob("attunement-*-py3-none-any.whl")
    names = zipfile.ZipFile(wheel).namelist()
    for needed in (
        "pipeline/models_manifest.json",
        "pipeline/report/templates/report.html.j2",
        "pipeline/report/templates/feedback.html.j2",
        "pipeline/app/templates/home.html.j2",
        "pipeline/app/static/app.js",
    ):
        assert needed in names, needed
    assert not any(n.startswith(("tests/", "samples/", "benchmarks/")) for n in names)

    venv = tmp_path / "fresh"
    assert run([sys.executable, "-m", "venv", str(venv)]).returncode == 0
    py = venv / "bin" / "python"
    site = run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    (tmp_path / "fresh" / site.split(str(venv) + "/", 1)[1] / "borrowed-deps.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    r = run([str(py), "-m", "pip", "install", "-q", "--no-deps", "--no-index", str(wheel)])
    assert r.returncode == 0, r.stderr
    work = tmp_path / "elsewhere"
    work.mkdir()
    r = run([str(py), "-c", "import pipeline; print(pipeline.__file__)"], cwd=work)
    assert r.stdout.strip().startswith(str(venv)), r.stdout + r.stderr  # from the wheel, not the source tree
    attune = str(venv / "bin" / "attune")
    r = run([attune, "--help"], cwd=work)
    assert r.returncode == 0 and "serve" in r.stdout and "analyze" in r.stdout
    r = run([attune, "serve", "--help"], cwd=work)
    assert r.returncode == 0 and "Start the local app" in r.stdout
    r = run([attune, "analyze", str(SAMPLE), "-o", str(work / "out"), "--no-voices", "-q", "--json"], cwd=work)
    assert r.returncode == 0, r.stderr
    result = json.loads(r.stdout)
    assert result["schema"] == "attunement.result/1" and len(result["speakers"]) == 2
    assert (work / "out" / "report.html").stat().st_size > 10_000
