"""Issue 15: the local app in Debian's Chromium, for both people it is for, with the real models.

* The GP: open the printed link, add the sample, watch the queue reach Done, open the report,
  delete the analysis (and everything it made).
* The OSCE assessor: add three recordings with labels, open the cohort page, download the
  feedback sheets.
* Every request the pages make stays on 127.0.0.1. Ctrl-C while an analysis runs leaves no
  partial outputs and no temporary files, and the job shows as interrupted at the next start.

Screenshots are kept in tests/artifacts/ (docs/app-*.png are copies)."""

from __future__ import annotations

import io
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT, SAMPLE, chromium_page, sample_clip

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
pytestmark = [pytest.mark.models, pytest.mark.browser]


def default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Server:
    def __init__(self, data: Path, scratch: Path):
        env = dict(os.environ, PYTHONUNBUFFERED="1", TMPDIR=str(scratch), ATTUNE_DATA_DIR=str(data))
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pipeline.cli", "serve", "--no-browser", "--data-dir", str(data / "app")],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,  # Ctrl-C goes to the whole group, as from a terminal
            preexec_fn=default_sigint,
        )
        self.lines: list[str] = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            self.lines.append(line)
            m = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=\S+", line)
            if m:
                self.url, self.base = m.group(0), m.group(1)
                return
        raise AssertionError("attune serve printed no link: " + "".join(self.lines) + self.proc.stderr.read())

    def stop(self) -> tuple[int, str, str]:
        os.killpg(self.proc.pid, signal.SIGINT)
        out, err = self.proc.communicate(timeout=60)
        return self.proc.returncode, "".join(self.lines) + out, err


def foreign(requests: list[str], base: str) -> list[str]:
    return [u for u in requests if not (u.startswith(base + "/") or u.startswith(("data:", "blob:")))]


def wait_for(page, selector: str, n: int = 1, timeout_s: float = 300) -> None:
    """Until ``n`` elements match ``selector`` (polled from here: the app's CSP forbids the
    string evaluation Playwright's wait_for_function uses)."""
    deadline = time.monotonic() + timeout_s
    while page.locator(selector).count() < n:
        assert time.monotonic() < deadline, f"timed out waiting for {n} x {selector}"
        page.wait_for_timeout(500)


def shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"app-{name}.png"), full_page=True)


def test_the_gp_adds_a_recording_reads_the_report_and_deletes_it(tmp_path):
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = Server(tmp_path / "data", scratch)
    try:
        with chromium_page(server.url, viewport={"width": 1200, "height": 900}) as page:
            assert page.url == server.base + "/"  # the token went into a cookie and out of the address
            page.remove_listener("dialog", page.dismiss_dialogs)
            page.on("dialog", lambda d: (page.dialogs.append(d.message), d.accept()))  # "Delete ...?": yes
            page.set_input_files("#files", str(SAMPLE))
            page.fill("input[name=clinician]", "Dr Morgan")
            page.click("#start")
            wait_for(page, ".job[data-status=running], .job[data-status=done]", timeout_s=60)
            shot(page, "queue")
            wait_for(page, ".job[data-status=done]", timeout_s=300)
            assert page.locator(".job .state.done").inner_text() == "Done"
            page.click("text=Open the report")
            assert page.locator("h1").inner_text() == "Consultation review: consultation.flac"
            assert page.locator("dt", has_text="Clinician").count() >= 1 and "Dr Morgan" in page.content()
            shot(page, "report")
            page.goto(server.base + "/history")
            assert page.locator("table.history tbody tr").count() == 1
            shot(page, "history")
            page.click("button.delete")
            page.wait_for_selector("text=Deleted consultation.flac.")
            assert page.dialogs[-1].startswith("Delete the analysis of consultation.flac? Its report")
            assert page.locator("table.history tbody tr").count() == 0
            assert foreign(page.requests, server.base) == []
            assert page.errors == [] and page.violations == []
        app = tmp_path / "data" / "app"
        assert list((app / "results").iterdir()) == [] and list((app / "uploads").iterdir()) == []
    finally:
        code, out, err = server.stop()
    assert code == 0 and "Traceback" not in err, err
    assert list(scratch.iterdir()) == []  # no temporary files left


def test_the_assessor_adds_a_labelled_cohort_and_downloads_the_feedback_sheets(tmp_path):
    clips = [sample_clip(tmp_path / f"student{i}.wav", i * 20, i * 20 + 15) for i in range(3)]
    server = Server(tmp_path / "data", tmp_path)
    try:
        with chromium_page(server.url, viewport={"width": 1200, "height": 900}) as page:
            for i, clip in enumerate(clips):  # three at once would share labels: one per student
                page.set_input_files("#files", str(clip))
                page.fill("input[name=student]", f"S-{i + 1:02}")
                page.fill("input[name=station]", "3")
                page.click("#start")
                page.wait_for_selector("#upload-status:has-text('1 added')")
            wait_for(page, ".job[data-status=done]", n=3, timeout_s=400)
            page.goto(server.base + "/history?label=station&value=3")
            assert page.locator("table.history tbody tr").count() == 3
            page.click("text=compare them (Cohort)")
            assert "Cohort report: 3 consultations by station" in page.locator("h1").inner_text()
            shot(page, "cohort")
            page.goto(server.base + "/history?label=station&value=3")
            with page.expect_download(timeout=120_000) as dl:
                page.click("text=download their feedback sheets")
            data = Path(dl.value.path()).read_bytes()
            assert foreign(page.requests, server.base) == []
        names = sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())
        assert names[-1] == "feedback.csv" and len(names) == 4
        assert names[:3] == [f"feedback-S-0{i}_station-3.pdf" for i in (1, 2, 3)], names
        rows = zipfile.ZipFile(io.BytesIO(data)).read("feedback.csv").decode().splitlines()
        assert len(rows) == 4 and rows[0].startswith("id,student,station,recording,")
    finally:
        code, out, err = server.stop()
    assert code == 0 and "Traceback" not in err, err


def test_ctrl_c_during_an_analysis_leaves_nothing_half_written(tmp_path):
    import soundfile as sf

    x, sr = sf.read(SAMPLE, dtype="float32")
    import numpy as np

    long = tmp_path / "long.wav"
    sf.write(long, np.concatenate([x, x, x]), sr)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    server = Server(tmp_path / "data", scratch)
    with chromium_page(server.url) as page:
        page.set_input_files("#files", str(long))
        page.click("#start")
        wait_for(page, ".job[data-status=running] .stages li.running", timeout_s=120)
    time.sleep(3)
    code, out, err = server.stop()
    assert code == 0, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    assert "analyses that were still running show as interrupted" in out
    app = tmp_path / "data" / "app"
    assert list((app / "results").iterdir()) == []  # nothing half written
    assert list(scratch.iterdir()) == []  # no temporary files
    jobs = json.loads((app / "jobs.json").read_text())
    assert [j["status"] for j in jobs] == ["interrupted"]
    # the next start shows it, with a way to try again
    server = Server(tmp_path / "data", scratch)
    try:
        with chromium_page(server.url) as page:
            page.wait_for_selector(".job[data-status=interrupted]")
            assert page.locator(".job button[data-action=retry]").count() == 1
    finally:
        server.stop()
