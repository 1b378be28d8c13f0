"""The sample's report.html in a real headless Chromium (Playwright with Debian's chromium).

Checks what a reader sees and does: timeline, every metric card, every turn, clicking a turn
moves the player there, the search box filters, the page is not blank (the screenshot is
kept in tests/artifacts/), and the page makes no network request (the CSP blocks one).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
from helpers import chromium_page

from pipeline.report.data import metric_cards
from pipeline.report.pdf import find_browser

playwright = pytest.importorskip("playwright.sync_api")
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"

pytestmark = [pytest.mark.models, pytest.mark.browser]


@pytest.fixture(scope="module")
def page(sample_run):
    with chromium_page((sample_run["out"] / "report.html").as_uri()) as pg:
        pg.wait_for_function("document.getElementById('player').readyState >= 1", timeout=20000)
        yield pg


def spoken_turns(result):
    return [t for t in result.turns if t.text]


def test_no_script_errors(page):
    assert page.errors == []
    assert page.violations == []  # the page's own style and script satisfy its CSP


def test_timeline_is_drawn(page, sample_run):
    result = sample_run["result"]
    assert page.locator("#timeline rect.seg").count() == len(result.segments)
    assert page.locator(".lane-labels li").count() == len(result.speakers) + 1
    ev = result.metrics["events"]
    assert page.locator("#timeline .mark-int").count() == len(ev["interruptions"]) >= 1
    assert page.locator("#timeline .mark-bc").count() == len(ev["backchannels"]) >= 1
    assert page.locator("#timeline .mark-pause").count() == len(ev["listening_pauses"]) >= 1
    assert page.locator("#timeline rect.opening").count() == 1
    width = float(page.locator("#timeline").get_attribute("width"))
    page.click("#zoom-in")
    assert float(page.locator("#timeline").get_attribute("width")) == pytest.approx(2 * width, abs=2)
    page.click("#zoom-fit")


def test_every_metric_card(page, sample_run):
    expected = [c["name"] for g in metric_cards(sample_run["result"].metrics) for c in g["cards"]]
    shown = page.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.metric)")
    assert shown == expected and len(shown) >= 30
    value = page.locator("#card-clinician_talk_share .value").text_content()  # inside a closed group
    assert value.endswith("%")


def test_every_turn(page, sample_run):
    turns = spoken_turns(sample_run["result"])
    assert page.locator("#turns .turn").count() == len(turns)
    texts = page.locator("#turns .turn .text").all_inner_texts()
    assert texts == [t.text for t in turns]


def test_clicking_a_turn_seeks_the_player(page, sample_run):
    turns = spoken_turns(sample_run["result"])
    target = turns[3]
    page.locator("#turn-3 .seek").click()
    page.wait_for_function(
        f"Math.abs(document.getElementById('player').currentTime - {target.start}) < 0.3", timeout=5000
    )
    assert page.locator("#turn-3").get_attribute("class").split()[-1] == "current"
    # a timeline mark seeks too
    first_int = sample_run["result"].metrics["events"]["interruptions"][0]["start"]
    page.locator("#timeline .mark-int").first.dispatch_event("click")
    page.wait_for_function(f"Math.abs(document.getElementById('player').currentTime - {first_int}) < 0.3", timeout=5000)


def test_search_filters_the_transcript(page, sample_run):
    turns = spoken_turns(sample_run["result"])
    page.fill("#search-box", "coffee")
    visible = page.locator("#turns .turn:not([hidden])").count()
    assert visible == sum("coffee" in t.text.lower() for t in turns) >= 1
    assert page.locator("#search-count").inner_text() == f"{visible} of {len(turns)} turns"
    page.fill("#search-box", "")
    assert page.locator("#turns .turn:not([hidden])").count() == len(turns)


def test_screenshot_is_not_blank(page):
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(shot), full_page=False)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("L"), dtype=np.float32)
    assert pixels.std() > 20  # text, timeline and cards, not a flat page
    assert (pixels < 100).mean() > 0.01  # some dark ink


def test_no_network_request(page):
    assert page.requests, "the page load itself is recorded"
    assert all(u.startswith(("file:", "data:", "blob:", "about:")) for u in page.requests), page.requests
    # and the Content-Security-Policy refuses a request the page might try to make
    outcome = page.evaluate(
        """() => new Promise(resolve => {
             document.addEventListener('securitypolicyviolation', e => resolve('blocked:' + e.violatedDirective), {once: true});
             fetch('http://127.0.0.1:9/probe').then(() => resolve('sent'), () => {});
           })"""
    )
    assert outcome == "blocked:connect-src"
    assert not any(u.startswith("http") for u in page.requests)


def test_pdf(sample_run, tmp_path):
    if find_browser() is None:
        pytest.skip("Chromium is not installed")
    from click.testing import CliRunner

    from pipeline.cli import main

    html = tmp_path / "report.html"
    shutil.copy(sample_run["out"] / "result.json", tmp_path / "result.json")
    r = CliRunner().invoke(main, ["report", str(tmp_path / "result.json"), "--no-audio", "--pdf", "-o", str(html)])
    assert r.exit_code == 0, r.output + r.stderr
    pdf = html.with_suffix(".pdf")
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 20_000
    import stat

    assert stat.S_IMODE(pdf.stat().st_mode) == 0o600  # issue 16 #9: never readable by others
    assert not list(tmp_path.glob(".*.tmp*"))


def test_at_a_glance_and_moments_to_review(page, sample_run, tmp_path):
    import copy

    from pipeline.report import build_report
    from pipeline.report.glance import at_a_glance, moments

    result = sample_run["result"]
    glance = at_a_glance(result.metrics)
    assert page.locator("#glance .glance-item").count() == len(glance) >= 4
    assert page.locator("#glance .reference").count() == len(glance)  # every number has its comparison in words
    assert page.locator("#moments .moment").count() == len(moments(result)) >= 1
    # the groups of metric cards start collapsed
    assert page.locator("details.group[open]").count() == 0
    page.locator("details.group > summary").first.click()
    assert page.locator("details.group[open]").count() == 1

    # a consultation with moments to listen to: the sample with a worry the next words moved on from
    moved = copy.deepcopy(result)
    turn = next(t for t in moved.turns if t.role == "patient" and t.text and t.start > 10)
    moved.metrics["events"]["empathic_opportunities"] = [
        {
            "speaker": turn.speaker,
            "role": "patient",
            "start": turn.start,
            "end": turn.end,
            "text": turn.text,
            "cue": "explicit",
            "words": "i'm worried",
            "outcome": "moved_on",
            "response": {"kind": "closed_question"},
        }
    ]
    files = build_report(moved, tmp_path / "report.html", audio_path=result.recording.path)
    for name, content in files.items():
        (tmp_path / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    expected = [m for m in moments(moved) if m["start"] is not None]
    assert expected and expected[0]["kind"] == "missed_opportunity"
    pg = page.context.browser.new_page()  # the module's Chromium (one Playwright per process)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    try:
        pg.goto((tmp_path / "report.html").as_uri())
        pg.wait_for_function("document.getElementById('player').readyState >= 1", timeout=20000)
        buttons = pg.locator("#moments .play-from")
        assert buttons.count() == len(expected)
        for i, m in enumerate(expected):
            buttons.nth(i).click()
            pg.wait_for_function(
                f"Math.abs(document.getElementById('player').currentTime - {m['start']}) < 0.5", timeout=5000
            )
        assert pg.evaluate("!document.getElementById('player').paused")  # play-from plays
        assert "not taken up" in pg.locator("#turns").inner_text()  # the cue's mark in the transcript
        assert pg.locator("#timeline .mark-cue.missed").count() == 1
        assert errors == []
    finally:
        pg.close()


def test_the_printed_report_is_a4_with_every_section_open_and_no_empty_listen(sample_run, tmp_path, monkeypatch):
    """Issue 15 item 6: A4 unless the locale uses Letter, collapsed sections printed open, no
    empty "Listen" heading on paper, and a full first page."""
    if find_browser() is None:
        pytest.skip("Chromium is not installed")
    pypdf = pytest.importorskip("pypdf")
    from click.testing import CliRunner

    from pipeline.cli import main

    shutil.copy(sample_run["out"] / "result.json", tmp_path / "result.json")
    for lang, size in (("en_GB.UTF-8", (595, 842)), ("en_US.UTF-8", (612, 792))):
        monkeypatch.setenv("LANG", lang)
        monkeypatch.delenv("LC_ALL", raising=False)
        monkeypatch.delenv("LC_PAPER", raising=False)
        html = tmp_path / f"report-{lang[:5]}.html"
        r = CliRunner().invoke(main, ["report", str(tmp_path / "result.json"), "--pdf", "-o", str(html)])
        assert r.exit_code == 0, r.stderr
        pages = pypdf.PdfReader(str(html.with_suffix(".pdf"))).pages
        box = pages[0].mediabox
        assert (round(float(box.width)), round(float(box.height))) == size, lang
        text = "\n".join(p.extract_text() for p in pages)
        assert text.count("What it cannot tell") >= 20  # every metric card's collapsed note is printed
        assert "\nListen\n" not in "\n" + text and "Play from" not in text  # the player is left out on paper
        assert len(pages[0].extract_text()) > 1500  # the first page is full, not a heading alone
