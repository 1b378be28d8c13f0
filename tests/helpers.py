"""Helpers the tests share: paths, clips cut from the bundled sample, a Chromium page.

Imported by the tests as ``from helpers import ...`` (fixtures stay in conftest.py).
"""

from __future__ import annotations

import shutil
import subprocess
from contextlib import contextmanager
from pathlib import Path
from typing import Optional

import pytest
import soundfile as sf

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
            page.dismiss_dialogs = lambda d: (page.dialogs.append(d.message), d.dismiss())  # a test may replace it
            page.on("dialog", page.dismiss_dialogs)
            page.goto(url)
            yield page
        finally:
            browser.close()


class NetworkBlocked(Exception):
    pass
