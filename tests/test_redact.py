"""--redact: identifiers out of the transcript outputs and the report, metrics unchanged.

Hand-made sentences with known identifiers (each type the issue names), clinical talk that
must stay as it is, and the whole command on the sample with the network blocked."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("presidio_analyzer")

from helpers import sample_clip  # noqa: E402

from pipeline.cli import main  # noqa: E402
from pipeline.metrics import compute_for_result  # noqa: E402
from pipeline.redact import find, redact_result, redact_words  # noqa: E402
from pipeline.result import Word  # noqa: E402

# every test here runs Presidio with spaCy's English model
pytestmark = pytest.mark.models


def words_of(text: str, speaker="S0") -> list[Word]:
    return [Word(t, i * 0.5, i * 0.5 + 0.4, 0.9, speaker) for i, t in enumerate(text.split())]


def redacted(text: str) -> str:
    out, _ = redact_words(words_of(text))
    return " ".join(w.text for w in out)


@pytest.mark.parametrize(
    "text, expected",
    [
        ("My name is Alex Johnson.", "My name is [NAME] [NAME]."),
        ("It's Liam Davies, I'm here for my appointment.", "It's [NAME] [NAME], I'm here for my appointment."),
        (
            "Good morning, I'm Dr. Morgan, what brings you in today?",
            "Good morning, I'm Dr. [NAME], what brings you in today?",
        ),
        ("I was born on the 12th of March 1985.", "I was born on [DATE] [DATE] [DATE] [DATE] [DATE]."),
        ("My date of birth is 12/03/1985.", "My date of birth is [DATE]."),
        ("You can call me on 07700 900123.", "You can call me on [PHONE] [PHONE]."),
        ("Please email me at alex.j@example.co.uk, thanks.", "Please email me at [EMAIL], thanks."),
        ("My NHS number is 943 476 5919.", "My NHS number is [ID] [ID] [ID]."),
        ("I live at 14 Elm Road, near the park.", "I live at [ADDRESS] [ADDRESS] [ADDRESS], near the park."),
        ("The postcode is LS6 2AB.", "The postcode is [ADDRESS] [ADDRESS]."),
    ],
)
def test_each_kind_of_identifier(text, expected):
    assert redacted(text) == expected


def test_a_known_false_positive_is_still_safe():
    # spaCy takes a sentence-initial "Email" for a name: over-redaction, never a leak
    out = redacted("Email me at alex.j@example.co.uk please.")
    assert "alex.j" not in out and "[EMAIL]" in out


@pytest.mark.parametrize(
    "text",
    [
        "I've had headaches for about three weeks now, and Paracetamol didn't help.",
        "Take 400 mg of ibuprofen three times a day for 5 days.",
        "Any chest pain, shortness of breath or fevers since yesterday?",
        "How are you feeling today? That sounds really difficult.",
    ],
)
def test_clinical_talk_is_left_alone(text):
    assert redacted(text) == text


def test_overlapping_spans_prefer_checked_patterns():
    spans = find("call 07700 900123 now")
    assert [ph for _, _, ph in spans] == ["[PHONE]"]


def test_words_are_analysed_per_speaker_run_and_keep_times():
    ws = words_of("My name is Alex.", "S1") + [Word("Thanks", 3.0, 3.4, 0.9, "S0")]
    out, counts = redact_words(ws)
    assert [w.text for w in out] == ["My", "name", "is", "[NAME].", "Thanks"]
    assert [(w.start, w.end, w.speaker) for w in out] == [(w.start, w.end, w.speaker) for w in ws]
    assert counts == {"[NAME]": 1}


def test_redact_result_keeps_metrics_and_timing(sample_run):
    result = sample_run["result"]
    red = redact_result(result)
    assert red.segments == result.segments
    # the numbers are the same; only the text of events (questions) follows the redacted words
    strip = {k: v for k, v in result.metrics.items() if k != "events"}
    assert {k: v for k, v in red.metrics.items() if k != "events"} == strip

    def no_text(x):
        if isinstance(x, list):
            return [no_text(v) for v in x]
        if isinstance(x, dict):
            return {k: no_text(v) for k, v in x.items() if k != "text"}
        return x

    assert no_text(red.metrics["events"]) == no_text(result.metrics["events"])
    assert "Morgan" not in json.dumps(red.metrics)
    assert len(red.words) == len(result.words)
    assert [(w.start, w.end) for w in red.words] == [(w.start, w.end) for w in result.words]
    assert "Morgan" in " ".join(w.text for w in result.words)
    assert "Morgan" not in " ".join(t.text for t in red.turns)
    assert red.redaction["replaced_words"].get("[NAME]", 0) >= 1
    # recomputed from the redacted words, the timing metrics are identical
    again = compute_for_result(red)
    for name in ("clinician_talk_share", "clinician_interruptions", "listening_pauses", "clinician_words"):
        assert again[name] == result.metrics[name], name
    assert [(t.start, t.end, t.speaker) for t in red.turns] == [(t.start, t.end, t.speaker) for t in result.turns]


def test_analyze_redact_offline(tmp_path, no_network):
    clip = sample_clip(tmp_path / "opening.wav", 0, 20)
    out = tmp_path / "out"
    r = CliRunner().invoke(main, ["analyze", str(clip), "-o", str(out), "--redact", "--no-voices", "-q"])
    assert r.exit_code == 0, r.stderr
    assert no_network == []  # Presidio's e-mail check would fetch the public suffix list: it does not
    for name in ("transcript.txt", "transcript.vtt", "transcript.srt", "result.json", "report.html"):
        text = (out / name).read_text()
        assert "Morgan" not in text, name
    assert "[NAME]" in (out / "transcript.txt").read_text()
    result = json.loads((out / "result.json").read_text())
    assert result["redaction"]["replaced_words"]["[NAME]"] >= 1
    html = (out / "report.html").read_text()
    assert "<audio" not in html and "redacted: personal identifiers" in html


def _named_result():
    from pipeline.metrics import compute
    from pipeline.result import Recording, Result, Segment, Speaker, Turn

    c, p = "SPEAKER_00", "SPEAKER_01"
    segs = [Segment(c, 0.0, 4.0), Segment(p, 4.5, 9.0)]
    words = words_of("Good morning, I'm Dr. Morgan.", c)
    words += [
        Word(w.text, 4.6 + i * 0.5, 5.0 + i * 0.5, 0.9, p) for i, w in enumerate(words_of("My name is Alex Johnson."))
    ]
    r = Result(
        recording=Recording("/data/visit.wav", 10.0, 16000, 1, ""),
        speakers=[Speaker(c, "clinician", 4.0), Speaker(p, "patient", 4.5)],
        segments=segs,
        exclusive_segments=segs,
        words=words,
        turns=[
            Turn(c, "clinician", 0.0, 4.0, "Good morning, I'm Dr. Morgan."),
            Turn(p, "patient", 4.5, 9.0, "My name is Alex Johnson."),
        ],
        created="2026-11-27T08:00:00+00:00",
        attunement_version="0.1.0",
    )
    r.metrics = compute(segs, c, duration=10.0, words=words, patient=p)
    return r


def test_report_redact_writes_a_whole_redacted_set_elsewhere(tmp_path):
    """Issue 16 item 5: `attune report RESULT --redact` redacted only report.html, beside a
    result.json and transcripts that kept every name, and overwrote the report with audio."""
    from pipeline.outputs import write_outputs
    from pipeline.report import build_report

    out = tmp_path / "visit.attune"
    r = _named_result()
    write_outputs(r, out, extra=build_report(r, out / "report.html", include_audio=False))
    before = {f.name: f.read_bytes() for f in out.iterdir()}
    res = CliRunner().invoke(main, ["report", str(out / "result.json"), "--redact"])
    assert res.exit_code == 0, res.stderr
    assert {f.name: f.read_bytes() for f in out.iterdir()} == before  # the originals are untouched
    red = tmp_path / "visit.attune.redacted"
    assert f"redacted copy: {red}" in res.stdout
    names = sorted(f.name for f in red.iterdir())
    assert names == sorted(
        ["diarization.rttm", "report.html", "result.json", "transcript.srt", "transcript.txt", "transcript.vtt"]
    )
    for f in red.iterdir():
        text = f.read_text()
        assert "Morgan" not in text and "Johnson" not in text, f.name
    assert json.loads((red / "result.json").read_text())["redaction"]["replaced_words"]["[NAME]"] >= 3
    # beside the unredacted set it is refused, and nothing is written
    res = CliRunner().invoke(main, ["report", str(out / "result.json"), "--redact", "-o", str(out / "shared.html")])
    assert res.exit_code == 1 and "cannot go beside the unredacted result.json" in res.stderr
    assert not (out / "shared.html").exists()
    # -o elsewhere: the set goes into that folder
    res = CliRunner().invoke(
        main, ["report", str(out / "result.json"), "--redact", "-o", str(tmp_path / "share" / "x.html")]
    )
    assert res.exit_code == 0, res.stderr
    assert (tmp_path / "share" / "x.html").exists() and (tmp_path / "share" / "result.json").exists()
    # a result that is already redacted renders in place, as before
    res = CliRunner().invoke(main, ["report", str(red / "result.json"), "--redact"])
    assert res.exit_code == 0 and "redacted copy" not in res.stdout
