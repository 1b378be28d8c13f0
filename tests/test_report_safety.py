"""Hostile text in a result cannot run in the report: script and event-handler payloads put
into a transcript word, a speaker's name and id, and the file name are shown as text, and
nothing executes in headless Chromium (the CSP would also refuse any inline script)."""

from __future__ import annotations

import copy

import pytest
from helpers import chromium_page

from pipeline.report import build_report
from pipeline.result import Result

pytestmark = [pytest.mark.models, pytest.mark.browser]

PAYLOADS = [
    "<script>window.__pwned = 'word'</script>",
    '"><img src=x onerror="window.__pwned=\'name\'">',
    "<img src=x onerror=\"window.__pwned='file'\">",  # a file name cannot hold a '/'
    "'-alert(1)-'",
    "<svg onload=window.__pwned='svg'>",
]


@pytest.fixture(scope="module")
def hostile(sample_run, tmp_path_factory):
    result = Result.from_dict(copy.deepcopy(sample_run["result"].to_dict()))
    result.words[0].text = PAYLOADS[0]
    result.turns[0].text = PAYLOADS[0] + " " + result.turns[0].text
    result.speakers[0].name = PAYLOADS[1]
    result.recording.path = f"/data/{PAYLOADS[2]}{PAYLOADS[3]}.wav"
    other = result.speakers[1]
    old_id, other.id = other.id, PAYLOADS[4]
    other.role = "other"
    for seg in result.segments:
        if seg.speaker == old_id:
            seg.speaker = other.id
    for turn in result.turns:
        if turn.speaker == old_id:
            turn.speaker, turn.role = other.id, "other"
    out = tmp_path_factory.mktemp("hostile") / "report.html"
    files = build_report(result, out, include_audio=False)
    out.write_text(files["report.html"], encoding="utf-8")
    return out


def test_payloads_are_escaped_in_the_html(hostile):
    html = hostile.read_text()
    for p in PAYLOADS:
        assert p not in html  # never verbatim: always escaped
    assert "&lt;script&gt;window.__pwned" in html


def test_nothing_runs_in_the_browser(hostile):
    with chromium_page(hostile.as_uri()) as page:
        page.wait_for_timeout(500)
        assert page.evaluate("typeof window.__pwned") == "undefined"
        assert page.dialogs == [] and page.errors == []
        assert [u for u in page.requests if not u.startswith("file://") and not u.startswith("data:")] == []
        body = page.inner_text("body")
        assert "<script>window.__pwned = 'word'</script>" in body  # shown as text
        assert PAYLOADS[2] in page.title() and PAYLOADS[2] in body  # the file name, as text
