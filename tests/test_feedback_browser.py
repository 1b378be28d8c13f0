"""The feedback sheets in Debian's Chromium: each prints to exactly one page, makes no request,
breaks no CSP rule, and looks like a sheet (screenshot kept in tests/artifacts/)."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from helpers import chromium_page
from test_feedback import _cohort

from pipeline.cli import main
from pipeline.report.pdf import find_browser

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
pytestmark = pytest.mark.browser


def pages_of(pdf: Path) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf.read_bytes()))


def test_a_cohort_of_sheets_prints_one_page_each(tmp_path):
    if find_browser() is None:
        pytest.skip("Chromium is not installed (make test installs it)")
    db = _cohort(tmp_path)
    out = tmp_path / "sheets"
    r = CliRunner().invoke(main, ["feedback", "--db", str(db), "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    pdfs = sorted(out.glob("*.pdf"))
    assert [p.name for p in pdfs] == [
        "feedback-S-00_station-3.pdf",
        "feedback-S-01_station-3.pdf",
        "feedback-S-02_station-4.pdf",
    ]
    assert [pages_of(p) for p in pdfs] == [1, 1, 1]
    assert "feedback-S-02_station-4.pdf" in (out / "feedback.csv").read_text()
    with chromium_page(
        (out / "feedback-S-01_station-3.html").as_uri(), viewport={"width": 900, "height": 1200}
    ) as page:
        assert page.errors == [] and page.violations == []
        assert all(u.startswith("file://") for u in page.requests), page.requests
        assert page.locator("h1").inner_text() == "Feedback on a consultation: S-01"
        assert page.locator("tbody tr").count() == 6
        ARTIFACTS.mkdir(exist_ok=True)
        shot = ARTIFACTS / "feedback-sheet.png"
        page.emulate_media(media="print")
        page.screenshot(path=str(shot), full_page=True)
        assert shot.stat().st_size > 20_000
    shutil.copy(pdfs[0], ARTIFACTS / "feedback-sheet.pdf")
