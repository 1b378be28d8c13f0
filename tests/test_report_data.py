"""What the report template receives, and the HTML's safety properties (no browser)."""

import json
import re

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.metrics import compute
from pipeline.metrics.reference import RefValue
from pipeline.metrics.registry import all_metrics
from pipeline.report import build_report, json_for_script, render_html
from pipeline.report.data import (
    _cue,
    _overlaps,
    card_title,
    fmt_value,
    latency_histogram,
    metric_cards,
    prepare,
    talk_per_minute,
    transcript,
)
from pipeline.result import Recording, Result, Segment, Speaker, Turn, Word

C, P = "SPEAKER_00", "SPEAKER_01"


@pytest.fixture
def result():
    segs = [Segment(C, 0.0, 5.0), Segment(P, 4.0, 70.0), Segment(C, 30.0, 30.8), Segment(C, 71.0, 90.0)]
    words = [
        Word("How", 0.2, 0.5, 1, C),
        Word("are", 0.5, 0.8, 1, C),
        Word("you?", 0.8, 1.2, 1, C),
        Word("Well", 4.5, 5.0, 1, P),
        Word("<script>alert(1)</script>", 5.0, 8.0, 1, P),
        Word("Right.", 71.0, 72.0, 1, C),
    ]
    r = Result(
        recording=Recording("/data/visit.wav", 95.0, 16000, 1, ""),
        speakers=[Speaker(C, "clinician", 24.8), Speaker(P, "patient", 66.0)],
        segments=segs,
        exclusive_segments=segs,
        words=words,
        turns=[
            Turn(C, "clinician", 0.0, 4.0, "How are you?"),
            Turn(P, "patient", 4.0, 70.0, "Well <script>alert(1)</script>"),
            Turn(C, "clinician", 30.0, 30.8, ""),
            Turn(C, "clinician", 71.0, 90.0, "Right."),
        ],
        created="2026-11-27T08:00:00+00:00",
        attunement_version="0.1.0",
    )
    r.metrics = compute(segs, C, duration=95.0, words=words, patient=P)
    return r


def test_fmt_value():
    assert fmt_value(None, "s") == "n/a (not enough speech to measure)"
    assert fmt_value(True, "yes/no") == "yes" and fmt_value(False, "yes/no") == "no"
    assert fmt_value(0.6161, "share") == "62 %"
    assert fmt_value(12.345, "s") == "12.3 s"
    assert fmt_value(92.0, "s") == "01:32 (m:s)"
    assert fmt_value(7, "count") == "7"
    assert fmt_value(176.61, "words/min") == "176.6"


def test_card_titles():
    assert card_title("clinician_waits_ge_1s") == "Clinician waits (1 s or more)"
    assert card_title("listening_pauses_per_10min") == "Listening pauses per 10 min"
    assert card_title("opening_statement_s") == "Opening statement"
    assert card_title("clinician_talk_share") == "Clinician talk share"
    assert card_title("patient_wpm") == "Patient words per minute"


def test_cue_positions_share_band():
    cue = _cue(0.5, "share", (RefValue("rias", "rias", low=0.59, high=0.66),))
    assert cue == {
        "marker": 50.0,
        "band": {"lo": 59.0, "hi": 66.0, "label": "rias"},
        "ticks": [],
        "axis": ["0 %", "100 %"],
    }


def test_cue_positions_values():
    # axis 0 .. 1.15 * max(6, 18, 23) = 26.45; marker 6 -> 22.68 %, ticks 18 -> 68.05 %, 23 -> 86.96 %
    cue = _cue(6.0, "s", (RefValue("a", "beckman1984", value=18.0), RefValue("b", "marvel1999", value=23.0)))
    assert cue["marker"] == 22.68
    assert [t["pct"] for t in cue["ticks"]] == [68.05, 86.96]
    assert cue["band"] is None and cue["axis"] == ["0.0 s", "26.4 s"]


def test_cue_absent_without_numeric_reference_or_value():
    assert _cue(3, "count", ()) is None
    assert _cue(None, "s", (RefValue("a", "stivers2009", low=0, high=0.2),)) is None
    assert _cue(True, "yes/no", (RefValue("a", "mulder2023"),)) is None


def test_metric_cards_grouped_and_complete(result):
    groups = metric_cards(result.metrics)
    assert [g["key"] for g in groups] == ["equality", "presence", "empathy", "context"]
    names = [c["name"] for g in groups for c in g["cards"]]
    assert sorted(names) == sorted(m.name for m in all_metrics())
    share = next(c for g in groups for c in g["cards"] if c["name"] == "clinician_talk_share")
    assert share["value"] == fmt_value(result.metrics["clinician_talk_share"], "share")
    assert share["references"] and "RIAS" in share["references"][0]["citation"]


def test_transcript_marks(result):
    turns = transcript(result)
    assert [t["text"] for t in turns] == ["How are you?", "Well <script>alert(1)</script>", "Right."]
    assert [t["label"] for t in turns] == ["Clinician", "Patient", "Clinician"]
    # the patient's onset at 4.0 is inside the clinician's talk (0-5), lasts > 1 s and the
    # clinician goes on 1 s: a successful patient interruption, marked on the patient's turn
    assert turns[1]["marks"][0] == {
        "kind": "interruption",
        "time": 4.0,
        "text": "interrupts the clinician and takes the floor",
    }
    # the clinician's 0.8 s at 30.0 inside the patient's talk: a backchannel, shown on that turn
    assert {"kind": "backchannel", "time": 30.0, "text": "Clinician backchannel at 00:30"} in turns[1]["marks"]


def test_talk_per_minute(result):
    rows = talk_per_minute(result)
    # minute 1 (0-60): C 0-5 and 30-30.8 = 5.8 s; P 4-60 = 56 s; minute 2 (60-95): C 71-90 = 19, P 60-70 = 10
    assert rows == [
        {"minute": 1, "clinician_s": 5.8, "patient_s": 56.0, "clinician_share": round(5.8 / 61.8, 4)},
        {"minute": 2, "clinician_s": 19.0, "patient_s": 10.0, "clinician_share": round(19 / 29, 4)},
    ]


def test_latency_histogram():
    ev = {
        "transfers": [
            {"to": "clinician", "offset_s": -0.3},
            {"to": "clinician", "offset_s": 0.1},
            {"to": "patient", "offset_s": 0.1},
            {"to": "patient", "offset_s": 2.5},
            {"to": "patient", "offset_s": -1.0},
        ]
    }
    bins = {b["label"]: (b["clinician"], b["patient"]) for b in latency_histogram(ev)}
    assert bins["-0.5 to -0.2"] == (1, 0)
    assert bins["0 to 0.2"] == (1, 1)
    assert bins[">= 2"] == (0, 1)
    assert bins["-1 to -0.5"] == (0, 1)
    assert sum(c + p for c, p in bins.values()) == 5


def test_overlaps():
    segs = [Segment("a", 0, 5), Segment("b", 4, 6), Segment("c", 4.5, 7), Segment("a", 10, 11)]
    assert _overlaps(segs) == [{"start": 4.0, "end": 6.0}]


def test_prepare_header(result):
    d = prepare(result)
    assert d["recording"] == "visit.wav" and d["duration"] == "01:35"
    assert d["analysed"] == "2026-11-27 08:00:00 UTC"
    assert "not a verdict" in d["caveat"]
    assert d["timeline"]["lanes"] == [
        {"id": C, "role": "clinician", "label": "Clinician"},
        {"id": P, "role": "patient", "label": "Patient"},
    ]
    assert d["audio"] is None


def test_html_escapes_transcript_and_data(result):
    html = render_html(result)
    assert "<script>alert(1)</script>" not in html
    assert "Well &lt;script&gt;alert(1)&lt;/script&gt;" in html
    # only two script elements: the JSON data and the report's own script
    assert len(re.findall(r"<script[ >]", html)) == 2
    assert (
        json_for_script({"t": "</script><script>x()</script>"})
        == '{"t":"\\u003c/script\\u003e\\u003cscript\\u003ex()\\u003c/script\\u003e"}'
    )


def test_csp_forbids_the_network_and_pins_the_script(result):
    html = render_html(result)
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', html).group(1)
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+';", csp)
    assert "unsafe-inline" not in csp and "http" not in csp
    assert not re.search(r"<(link|img|iframe)\b", html)
    assert not re.search(r'\b(src|href)="https?:', html)


def test_no_audio_when_recording_missing(result, tmp_path):
    files = build_report(result, tmp_path / "report.html")
    assert list(files) == ["report.html"]
    assert "was not found: the report has no player" in files["report.html"]
    assert 'id="player"' not in files["report.html"]


def test_report_command_rejects_wrong_schema(tmp_path):
    p = tmp_path / "result.json"
    p.write_text(json.dumps({"schema": "attunement.result/0"}))
    r = CliRunner().invoke(main, ["report", str(p)])
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"attune: error: {p}: not an attunement result (schema 'attunement.result/0', expected 'attunement.result/1')"
    )


def test_report_command_names_missing_fields(tmp_path):
    p = tmp_path / "result.json"
    p.write_text(json.dumps({"schema": "attunement.result/1", "models": []}))
    r = CliRunner().invoke(main, ["report", str(p)])
    assert r.exit_code == 2 and "malformed result.json: missing field 'recording'" in r.stderr


def test_report_command_writes_html_without_audio(result, tmp_path):
    p = tmp_path / "result.json"
    p.write_text(result.to_json())
    r = CliRunner().invoke(main, ["report", str(p), "--no-audio", "-o", str(tmp_path / "r" / "x.html")])
    assert r.exit_code == 0, r.output
    html = (tmp_path / "r" / "x.html").read_text()
    assert "No audio in this report" in html and "How are you?" in html
    import stat

    assert stat.S_IMODE((tmp_path / "r").stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "r" / "x.html").stat().st_mode) == 0o600
    r = CliRunner().invoke(main, ["report", str(p), "--no-audio", "--shared-output", "-o", str(tmp_path / "s.html")])
    assert r.exit_code == 0 and stat.S_IMODE((tmp_path / "s.html").stat().st_mode) == 0o644


def test_report_command_rejects_a_different_audio_file(result, tmp_path, clip_dir):
    result.recording.sha256 = "0" * 64
    p = tmp_path / "result.json"
    p.write_text(result.to_json())
    r = CliRunner().invoke(main, ["report", str(p), "--audio", str(clip_dir / "clip.wav")])
    assert r.exit_code == 2 and "is not the analysed recording" in r.stderr
    assert not (tmp_path / "report.html").exists()


def test_pdf_without_chromium_is_a_clear_error(result, tmp_path, monkeypatch):
    monkeypatch.setenv("ATTUNE_CHROMIUM", str(tmp_path / "no-such-browser"))
    p = tmp_path / "result.json"
    p.write_text(result.to_json())
    r = CliRunner().invoke(main, ["report", str(p), "--no-audio", "--pdf"])
    assert r.exit_code == 1
    assert "--pdf needs Chromium, which is not installed" in r.stderr


def test_quality_warnings_open_the_report(result):
    result.quality = {"warnings": ["the two voices are hard to tell apart; <check> the timeline"], "signals": {}}
    html = render_html(result)
    assert "Check before relying on these numbers:" in html
    assert "the two voices are hard to tell apart; &lt;check&gt; the timeline" in html
    assert html.index("Check before relying") < html.index("Who spoke when")
    result.quality = {"warnings": [], "signals": {}}
    assert "Check before relying" not in render_html(result)


def test_report_command_refuses_audio_it_cannot_check(result, tmp_path, clip_dir):
    """A result.json with an empty sha256 used to skip the check that --audio is the analysed file."""
    result.recording.sha256 = ""
    p = tmp_path / "result.json"
    p.write_text(result.to_json())
    r = CliRunner().invoke(main, ["report", str(p), "--audio", str(clip_dir / "clip.wav")])
    assert r.exit_code == 2 and "cannot be checked against the analysis" in r.stderr and "--no-audio" in r.stderr
    assert not (tmp_path / "report.html").exists()


def test_at_a_glance_says_what_each_number_is_compared_with():
    from pipeline.report.glance import at_a_glance

    m = {
        "clinician_talk_share": 0.62,
        "opening_statement_s": 12.0,
        "opening_interrupted": True,
        "clinician_questions": 10,
        "clinician_open_question_share": 0.3,
        "empathic_opportunities": 3,
        "empathic_responses": 1,
        "tasks_found": 4,
        "ice_explored": 1,
        "safety_netting": False,
        "listening_pauses_per_10min": 2.25,
    }
    items = {g["key"]: g for g in at_a_glance(m)}
    assert list(items) == ["talk_share", "opening", "questions", "empathy", "tasks", "pauses"]
    assert items["talk_share"]["value"] == "62 %" and "different unit" in items["talk_share"]["reference"]
    assert (
        items["opening"]["value"] == "00:12 (m:s)" and items["opening"]["plain"] == "ended when the clinician came in"
    )
    assert items["questions"]["value"] == "30 %" and "10 questions" in items["questions"]["plain"]
    assert items["empathy"]["value"] == "1 of 3"
    assert items["tasks"]["value"] == "4 of 11" and "1 of 3" in items["tasks"]["plain"]
    assert "not heard" in items["tasks"]["plain"]
    assert items["pauses"]["value"] == "2.2" or items["pauses"]["value"] == "2.3"
    none = {g["key"]: g for g in at_a_glance({"clinician_talk_share": None})}
    assert none["talk_share"]["value"] == "n/a" and "not enough speech" in none["talk_share"]["plain"]


def test_moments_are_ranked_and_capped():
    from pipeline.report.glance import MAX_PER_KIND, moments
    from pipeline.result import Recording, Result, Turn

    turns = [
        Turn("C", "clinician", 0.0, 50.0, "Let me explain the results in some detail."),
        Turn("P", "patient", 51.0, 60.0, "I'm worried."),
    ]
    events = {
        "empathic_opportunities": [
            {
                "start": 51.0,
                "end": 52.0,
                "text": "I'm worried.",
                "words": "i'm worried",
                "outcome": "moved_on",
                "response": {"kind": "closed_question"},
            },
            {
                "start": 70.0,
                "end": 71.0,
                "text": "I'm scared.",
                "words": "i'm scared",
                "outcome": "responded",
                "response": {"kind": "empathy"},
            },
        ],
        "stacked_questions": [{"start": s, "end": s + 3, "questions": 3, "closed": 2} for s in (100.0, 200.0, 300.0)],
        "turns": [{"speaker": "C", "role": "clinician", "start": 0.0, "end": 50.0}],
        "opening_statement": {"start": 60.0, "end": 70.0},
    }
    metrics = {"events": events, "opening_interrupted": True, "ice_explored": 0, "tasks_found": 3}
    r = Result(recording=Recording("x.wav", 400.0, 16000, 1, ""), turns=turns, metrics=metrics)
    out = moments(r)
    assert [m["kind"] for m in out] == [
        "missed_opportunity",
        "opening_cut_short",
        "stacked_questions",
        "stacked_questions",
        "monologue",
        "ice_not_explored",
    ]
    assert sum(m["kind"] == "stacked_questions" for m in out) == MAX_PER_KIND
    assert out[0]["clock"] == "00:51" and "closed question" in out[0]["why"]
    assert out[-1]["start"] is None and out[-1]["clock"] is None
    assert out[4]["excerpt"].startswith("Let me explain")


def test_a_report_rendered_without_audio_removes_the_stale_audio_file(result, tmp_path):
    """Issue 16 item 5: report.audio.mp3 (recordings over an hour) stayed beside a report
    re-rendered with --no-audio, so the recording was still shared with the report."""
    p = tmp_path / "result.json"
    p.write_text(result.to_json())
    (tmp_path / "report.audio.mp3").write_bytes(b"ID3 old recording")
    (tmp_path / "other.audio.mp3").write_bytes(b"not ours")
    r = CliRunner().invoke(main, ["report", str(p), "--no-audio"])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "report.html").exists()
    assert not (tmp_path / "report.audio.mp3").exists()
    assert (tmp_path / "other.audio.mp3").exists()  # a file of another report is not touched


def test_remove_stale_audio_keeps_the_file_the_report_uses(tmp_path):
    from pipeline.report import remove_stale_audio

    (tmp_path / "report.audio.mp3").write_bytes(b"ID3")
    assert remove_stale_audio(tmp_path / "report.html", {"report.html": "", "report.audio.mp3": b"ID3"}) is None
    assert (tmp_path / "report.audio.mp3").exists()
    assert remove_stale_audio(tmp_path / "report.html", {"report.html": ""}) == tmp_path / "report.audio.mp3"
    assert not (tmp_path / "report.audio.mp3").exists()
    assert remove_stale_audio(tmp_path / "report.html", {"report.html": ""}) is None  # nothing there: fine
