"""Issue 15 item 3: the feedback sheet (one printable page per consultation), one per student
for a whole cohort in one go, and the CSV for the marking spreadsheet."""

from __future__ import annotations

import csv
import io
import re

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.metrics import compute
from pipeline.outputs import write_outputs
from pipeline.report import build_feedback, build_report
from pipeline.report.feedback import cohort_medians, sheet_stem
from pipeline.report.pdf import paper_size
from pipeline.result import Recording, Result, Segment, Speaker, Word
from pipeline.store import Store

C, P = "SPEAKER_00", "SPEAKER_01"


def ws(spk, start, text):
    return [Word(t, start + i * 0.4, start + i * 0.4 + 0.3, 0.9, spk) for i, t in enumerate(text.split())]


def consultation(path="/data/v.wav", sha="e" * 64, share=0.0):
    segs = [Segment(C, 0.0, 4.0), Segment(P, 4.5, 30.0 - share), Segment(C, 30.5, 34.0), Segment(P, 34.5, 50.0)]
    words = ws(C, 0.0, "What brings you in today?") + ws(P, 4.6, "I am really worried about this pain in my chest")
    words += ws(C, 30.6, "Does it hurt? Is it sharp? Any cough?") + ws(P, 34.6, "It is sharp yes")
    r = Result(
        recording=Recording(path, 60.0, 16000, 1, sha),
        speakers=[Speaker(C, "clinician", 7.5), Speaker(P, "patient", 41.0)],
        segments=segs,
        exclusive_segments=segs,
        words=words,
        created="2026-11-27T09:00:00+00:00",
        attunement_version="0.1.0",
        parameters={"asr_beam_size": 5},
    )
    from pipeline.align import build_turns

    r.turns = build_turns(words, segs, {C: "clinician", P: "patient"})
    r.metrics = compute(segs, C, duration=60.0, words=words, patient=P)
    return r


def test_the_sheet_shows_numbers_bands_cohort_and_moments():
    r = consultation()
    r.labels = {"student_id": "S-0042", "station": "3"}
    html = build_feedback(r, "f.html", medians={"clinician_talk_share": 0.5}, cohort_n=12, paper="A4")["f.html"]
    assert "<title>Feedback on a consultation: S-0042</title>" in html
    assert "<dt>Student id</dt><dd>S-0042</dd>" in html and "<dt>Station</dt><dd>3</dd>" in html
    assert "Cohort median (12)" in html and "50 %" in html
    assert "Langewitz" in html  # the literature band of the opening account
    assert "@page { size: A4; margin: 12mm; }" in html
    assert "script-src 'none'" in html and "<script" not in html  # nothing runs on the sheet
    clocks = re.findall(r'<span class="clock">([0-9:]+)</span>', html)
    assert 1 <= len(clocks) <= 3
    assert "The patient voiced a worry or a feeling" in html  # "really worried", then closed questions
    for word in ("poor", "bad", "fail", "wrong", "should have"):
        assert word not in html.lower().replace("wrong way", ""), word  # describes, does not grade


def test_paper_follows_the_locale():
    assert paper_size({"LANG": "en_GB.UTF-8"}) == "A4"
    assert paper_size({"LANG": "en_US.UTF-8"}) == "Letter"
    assert paper_size({"LC_PAPER": "fr_CA.UTF-8", "LANG": "en_GB.UTF-8"}) == "Letter"
    assert paper_size({"LC_ALL": "de_DE@euro", "LC_PAPER": "en_US"}) == "A4"
    assert paper_size({}) == "A4" and paper_size({"LANG": "C"}) == "A4"


def test_sheet_names_are_safe_and_unique():
    taken: set = set()
    assert sheet_stem({"student_id": "S-1", "station": "3"}, "/x/a.wav", taken) == "feedback-S-1_station-3"
    assert sheet_stem({"student_id": "S-1", "station": "3"}, "/x/b.wav", taken) == "feedback-S-1_station-3-2"
    assert sheet_stem({"student": "../../etc/passwd"}, "/x/c.wav", taken) == "feedback-etc_passwd"
    assert sheet_stem({}, "/x/..wav", taken) == "feedback-consultation"


def _cohort(tmp_path, n=3):
    db = tmp_path / "attune.db"
    with Store(db) as store:
        for i in range(n):
            r = consultation(f"/data/rec{i}.wav", str(i) * 64, share=i * 3.0)
            out = tmp_path / f"rec{i}.attune"
            write_outputs(r, out, extra=build_report(r, out / "report.html", include_audio=False))
            store.record(r, {"student_id": f"S-{i:02}", "station": "3" if i < 2 else "4"}, str(out / "result.json"))
    return db


def test_one_sheet_from_a_result_with_the_cohort_median(tmp_path):
    db = _cohort(tmp_path)
    r = CliRunner().invoke(main, ["feedback", str(tmp_path / "rec0.attune" / "result.json"), "--db", str(db)])
    assert r.exit_code == 0, r.stderr
    sheet = tmp_path / "rec0.attune" / "feedback.html"
    assert r.stdout.strip() == f"feedback: {sheet}"
    assert "Cohort median (3)" in sheet.read_text()
    medians = cohort_medians(Store(db).frame())
    assert medians["clinician_talk_share"] == pytest.approx(7.5 / 45.5, abs=1e-3)  # the middle of 48.5, 45.5, 42.5 s


def test_a_cohort_in_one_go(tmp_path):
    db = _cohort(tmp_path)
    out = tmp_path / "sheets"
    r = CliRunner().invoke(main, ["feedback", "--db", str(db), "--where", "station=3", "-o", str(out), "--no-pdf"])
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == f"feedback: 2 sheets and feedback.csv in {out}"
    assert sorted(p.name for p in out.iterdir()) == [
        "feedback-S-00_station-3.html",
        "feedback-S-01_station-3.html",
        "feedback.csv",
    ]
    rows = list(csv.DictReader(io.StringIO((out / "feedback.csv").read_text())))
    assert [row["student_id"] for row in rows] == ["S-00", "S-01"]
    assert rows[0]["sheet"] == "feedback-S-00_station-3.html" and rows[0]["recording"] == "rec0.wav"
    assert float(rows[0]["clinician_talk_share"]) == pytest.approx(7.5 / 48.5, abs=1e-3)
    assert "Cohort median (2)" in (out / "feedback-S-01_station-3.html").read_text()
    for args, message in (
        (["feedback"], "give RESULT.json, or --db DB"),
        (["feedback", "--db", str(db), "--where", "station=9", "--no-pdf"], "no analyses match station=9"),
        (["feedback", str(tmp_path / "rec0.attune" / "result.json"), "--where", "station=3"], "--where goes with --db"),
    ):
        r = CliRunner().invoke(main, args)
        assert r.exit_code != 0 and message in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)


def test_a_database_of_one_analysis_shows_no_cohort_median(tmp_path):
    """Its median would only repeat its own numbers ("Cohort median (1)" beside each one)."""
    db = _cohort(tmp_path, n=1)
    r = CliRunner().invoke(main, ["feedback", str(tmp_path / "rec0.attune" / "result.json"), "--db", str(db)])
    assert r.exit_code == 0, r.stderr
    assert "Cohort median" not in (tmp_path / "rec0.attune" / "feedback.html").read_text()
    r = CliRunner().invoke(main, ["feedback", "--db", str(db), "-o", str(tmp_path / "s"), "--no-pdf"])
    assert r.stdout.strip() == f"feedback: 1 sheet and feedback.csv in {tmp_path / 's'}"
    assert "Cohort median" not in (tmp_path / "s" / "feedback-S-00_station-3.html").read_text()
