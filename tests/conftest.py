"""Shared fixtures: the bundled sample, short clips made from it, and the one real-model run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

# the tests never touch the user's own voice book (a folder removed when the session ends)
_DATA_DIR = tempfile.mkdtemp(prefix="attune-test-data-")
os.environ["ATTUNE_DATA_DIR"] = _DATA_DIR


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "consultation.flac"
SAMPLE_REF = ROOT / "samples" / "consultation.ref.json"
SHARED_DATA = ROOT.parent / "shared" / "data"


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("the ffmpeg program is not installed (make setup installs it)")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def sample_clip(path: Path, start_s: float, end_s: float) -> Path:
    """Write seconds ``start_s`` to ``end_s`` of the bundled sample to ``path``."""
    x, sr = sf.read(SAMPLE, dtype="float32")
    sf.write(path, x[int(start_s * sr) : int(end_s * sr)], sr)
    return path


def sample_parts(folder: Path, n: int = 4) -> Path:
    """``n`` 10-second recordings (part0.wav...) cut from the sample every 15 s, in ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        sample_clip(folder / f"part{i}.wav", i * 15, i * 15 + 10)
    return folder


def wait_for_rows(db: Path, proc, n: int = 1, timeout_s: float = 240) -> int:
    """Poll a running batch's results database until it holds ``n`` rows (or the process
    ends, or time runs out); returns the rows seen."""
    import time

    from pipeline.store import Store

    rows, deadline = 0, time.time() + timeout_s
    while time.time() < deadline and proc.poll() is None and rows < n:
        time.sleep(0.5)
        if db.exists():
            try:
                with Store(db) as store:
                    rows = len(store.frame())
            except Exception:  # the batch is creating or writing it
                rows = 0
    return rows


@contextmanager
def chromium_page(url: str, viewport: Optional[dict] = None):
    """The page at ``url`` in Debian's Chromium (through Playwright), with what it requested
    (``page.requests``), its script errors (``page.errors``), Content-Security-Policy
    violations (``page.violations``) and dialogs (``page.dialogs``) recorded. Skips the test
    when Playwright or Chromium is missing."""
    playwright = pytest.importorskip("playwright.sync_api")
    from pipeline.report.pdf import PRIVATE_FLAGS, find_browser

    browser_path = find_browser()
    if browser_path is None:
        pytest.skip("Chromium is not installed (make test installs it)")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=browser_path, args=[f for f in PRIVATE_FLAGS if f != "--headless"])
        try:
            page = browser.new_page(viewport=viewport or {"width": 1200, "height": 900})
            page.requests, page.errors, page.violations, page.dialogs = [], [], [], []
            page.on("request", lambda r: page.requests.append(r.url))
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.on(
                "console", lambda m: page.violations.append(m.text) if "Content Security Policy" in m.text else None
            )
            page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))
            page.goto(url)
            yield page
        finally:
            browser.close()


@pytest.fixture(scope="session")
def sample_ref() -> dict:
    return json.loads(SAMPLE_REF.read_text())


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    """4 s of the sample (clinician speaking) as WAV, plus a stereo version."""
    d = tmp_path_factory.mktemp("clips")
    audio, sr = sf.read(SAMPLE, dtype="float32")
    clip = audio[: 4 * sr]
    sf.write(d / "clip.wav", clip, sr)
    sf.write(d / "stereo.wav", np.stack([clip, 0.5 * clip], axis=1), sr)
    return d


class NetworkBlocked(Exception):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Every outbound connection attempt raises (and is recorded)."""
    attempts = []

    def guard(self, address, *args, **kwargs):
        attempts.append(address)
        raise NetworkBlocked(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: guard(None, address))
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: guard(None, host))
    return attempts


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """``attune analyze`` on the sample with outbound sockets blocked (models load here too)."""
    from pipeline.cli import main
    from pipeline.result import Result

    out = tmp_path_factory.mktemp("sample") / "consultation.attune"
    attempts = []

    def guard(self, address, *a, **k):
        attempts.append(address)
        raise NetworkBlocked(f"network access attempted: {address!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", guard)
        mp.setattr(socket.socket, "connect_ex", guard)
        mp.setattr(socket, "create_connection", lambda address, *a, **k: guard(None, address))
        mp.setattr(socket, "getaddrinfo", lambda host, *a, **k: guard(None, host))
        r = CliRunner().invoke(main, ["analyze", str(SAMPLE), "-o", str(out), "--json", "--quiet"])
    assert r.exit_code == 0, (r.output, r.stderr)
    return {"stdout": r.stdout, "out": out, "attempts": attempts, "result": Result.load(out / "result.json")}
