"""Issue 15 item 5: correct who is who without re-analysing (attune relabel)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.metrics import compute
from pipeline.outputs import write_outputs
from pipeline.relabel import RoleChange, change_roles
from pipeline.report import build_report
from pipeline.result import Recording, Result, Segment, Speaker, Word
from pipeline.store import Store

A, B, C = "SPEAKER_00", "SPEAKER_01", "SPEAKER_02"


def words(spk, start, text):
    return [Word(t, start + i * 0.4, start + i * 0.4 + 0.3, 0.9, spk) for i, t in enumerate(text.split())]


@pytest.fixture
def result():
    """A asks the questions (the clinician by the rule); B talks most; C is a stretch of B's
    voice the diarization split off."""
    segs = [Segment(A, 0.0, 3.0), Segment(B, 3.5, 20.0), Segment(C, 20.0, 26.0), Segment(A, 26.5, 29.0)]
    ws = words(A, 0.0, "How are you today?") + words(B, 3.6, "Not great my back hurts")
    ws += words(C, 20.1, "since Monday really") + words(A, 26.6, "Where does it hurt?")
    r = Result(
        recording=Recording("/data/v.wav", 30.0, 16000, 1, "f" * 64),
        speakers=[Speaker(A, "clinician", 5.5), Speaker(B, "patient", 16.5), Speaker(C, "other", 6.0)],
        segments=segs,
        exclusive_segments=segs,
        words=ws,
        roles={"rule": "most_questions", "clinician": A, "patient": B, "explanation": "A asked 2 questions"},
        created="2026-11-27T09:00:00+00:00",
        attunement_version="0.1.0",
        parameters={"asr_beam_size": 5},
    )
    r.metrics = compute(segs, A, duration=30.0, words=ws, patient=B)
    return r


def test_swap_roles_recomputes_every_number(result):
    new = change_roles(result, RoleChange(swap=True))
    assert {s.id: s.role for s in new.speakers}[B] == "clinician"
    assert {s.id: s.role for s in new.speakers}[A] == "patient"
    assert new.metrics["clinician_talk_s"] == pytest.approx(result.metrics["patient_talk_s"])
    assert new.metrics["clinician_questions"] == 0 and new.metrics["patient_questions"] == 2
    assert [t.role for t in new.turns][:2] == ["patient", "clinician"]
    assert new.roles["manual"] == ["clinician and patient swapped"]
    assert new.roles["explanation"].startswith("set by hand (clinician and patient swapped)")
    assert new.notes[-1] == "who is who was set by hand after the analysis: clinician and patient swapped"
    assert result.speakers[0].role == "clinician"  # the original is untouched


def test_merge_joins_a_split_voice(result):
    new = change_roles(result, RoleChange(merges=((C, B),)))
    assert sorted(s.id for s in new.speakers) == [A, B]
    assert [(s.speaker, s.start, s.end) for s in new.segments if s.speaker == B] == [(B, 3.5, 26.0)]
    assert new.metrics["patient_talk_s"] == pytest.approx(22.5)
    assert all(w.speaker != C for w in new.words)
    assert sum(1 for t in new.turns if t.role == "patient") == 1  # one turn now, not two
    assert {s.id: s.role for s in new.speakers} == {A: "clinician", B: "patient"}


def test_clinician_by_name_and_bad_requests(result):
    new = change_roles(result, RoleChange(clinician=B))
    assert {s.id: s.role for s in new.speakers}[B] == "clinician"
    with pytest.raises(InputError, match="no speaker SPEAKER_09"):
        change_roles(result, RoleChange(merges=(("SPEAKER_09", A),)))
    with pytest.raises(InputError, match="merged into itself"):
        change_roles(result, RoleChange(merges=((A, A),)))
    with pytest.raises(InputError, match="no such speaker"):
        change_roles(result, RoleChange(clinician="SPEAKER_07"))


def test_relabel_command_rewrites_the_set_and_the_database(result, tmp_path):
    out = tmp_path / "v.attune"
    write_outputs(result, out, extra=build_report(result, out / "report.html", include_audio=False))
    db = tmp_path / "attune.db"
    with Store(db) as store:
        store.record(result, {"student_id": "S-7"}, result_path=str(out / "result.json"))
    r = CliRunner().invoke(main, ["relabel", str(out / "result.json"), "--swap-roles", "--db", str(db)])
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == f"{out / 'result.json'}: clinician and patient swapped: clinician {B}, patient {A}"
    saved = json.loads((out / "result.json").read_text())
    assert saved["roles"]["manual"] == ["clinician and patient swapped"]
    assert "Clinician: Not great" in (out / "transcript.txt").read_text().replace("\n", " ")
    html = (out / "report.html").read_text()
    assert "set by hand (clinician and patient swapped)" in html
    with Store(db) as store:
        df = store.frame()
    assert len(df) == 1 and df.loc[0, "student_id"] == "S-7"
    assert df.loc[0, "clinician_talk_s"] == pytest.approx(result.metrics["patient_talk_s"])
    for args, message in (
        ([], "nothing to change"),
        (["--swap-roles", "--clinician", A], "cannot be used together"),
        (["--merge", "SPEAKER_02"], "expected FROM=INTO"),
        (["--merge", "SPEAKER_09=SPEAKER_00"], "--merge SPEAKER_09=SPEAKER_00: no speaker SPEAKER_09"),
        (["--swap-roles", "--db", str(tmp_path / "none.db")], "no such database"),
    ):
        r = CliRunner().invoke(main, ["relabel", str(out / "result.json"), *args])
        assert r.exit_code != 0 and message in r.stderr and r.stderr.count("\n") == 1, (args, r.stderr)


def test_the_report_says_how_to_correct_the_roles(result):
    from pipeline.report import render_html

    html = render_html(result)
    assert "attune relabel result.json --swap-roles" in html
    assert "The roles may be wrong." in html  # three speakers were found
    two = change_roles(result, RoleChange(merges=((C, B),)))
    assert "The roles may be wrong." not in render_html(two)


def test_a_merge_rewrites_the_rttm_too(result, tmp_path):
    """The RTTM beside result.json follows the merged speakers (it kept SPEAKER_02 before)."""
    out = tmp_path / "v.attune"
    write_outputs(result, out, extra=build_report(result, out / "report.html", include_audio=False))
    assert C in (out / "diarization.rttm").read_text()
    r = CliRunner().invoke(main, ["relabel", str(out / "result.json"), "--merge", f"{C}={B}"])
    assert r.exit_code == 0, r.stderr
    rttm = (out / "diarization.rttm").read_text()
    assert C not in rttm and rttm.count(f" {B} ") == 1  # one joined region, 3.5-26.0 s
