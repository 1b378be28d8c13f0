"""Output writers and result.json round trip."""

import json
import os

import pytest

from pipeline.errors import InputError, OutputError
from pipeline.outputs import (
    default_output_dir,
    mmss,
    render_rttm,
    render_srt,
    render_txt,
    render_vtt,
    write_outputs,
)
from pipeline.result import SCHEMA, ModelInfo, Recording, Result, Segment, Speaker, Turn, Word


@pytest.fixture
def result():
    return Result(
        recording=Recording(
            path="/x/visit one.wav",
            duration_s=75.5,
            sample_rate=44100,
            channels=2,
            sha256="ab" * 32,
            codec="pcm_s16le",
            container="wav",
        ),
        models=[ModelInfo("asr", "whisper-tiny.en", "faster-whisper 1.2.1", "pkg")],
        speakers=[
            Speaker("SPEAKER_01", "clinician", 3.0, 3, 1),
            Speaker("SPEAKER_00", "patient", 4.5, 2, 0),
            Speaker("SPEAKER_02", "other", 1.0, 1, 0),
        ],
        segments=[
            Segment("SPEAKER_01", 0.5, 3.5),
            Segment("SPEAKER_00", 3.25, 7.75),
            Segment("SPEAKER_02", 70.0, 71.0),
        ],
        exclusive_segments=[Segment("SPEAKER_01", 0.5, 3.5), Segment("SPEAKER_00", 3.5, 7.75)],
        words=[
            Word("How", 0.5, 0.9, 0.9, "SPEAKER_01"),
            Word("are", 0.9, 1.1, 0.9, "SPEAKER_01"),
            Word("you?", 1.1, 1.5, 0.9, "SPEAKER_01"),
            Word("Fine", 3.5, 4.0, 0.8, "SPEAKER_00"),
            Word("thanks.", 4.0, 4.6, 0.8, "SPEAKER_00"),
            Word("<b>Hi</b>", 70.0, 70.5, 0.5, "SPEAKER_02"),
        ],
        turns=[
            Turn("SPEAKER_01", "clinician", 0.5, 3.5, "How are you?"),
            Turn("SPEAKER_00", "patient", 3.5, 7.75, "Fine thanks."),
            Turn("SPEAKER_01", "clinician", 8.0, 9.0, ""),
            Turn("SPEAKER_02", "other", 70.0, 71.0, "<b>Hi</b> --> x"),
            Turn("", "unknown", 3725.2, 3726.0, "lost"),
        ],
    )


def test_mmss():
    assert mmss(0) == "00:00"
    assert mmss(59.99) == "00:59"
    assert mmss(61) == "01:01"
    assert mmss(3725.2) == "62:05"


def test_txt_one_line_per_spoken_turn(result):
    assert render_txt(result) == (
        "[00:00] Clinician: How are you?\n"
        "[00:03] Patient: Fine thanks.\n"
        "[01:10] Other (SPEAKER_02): <b>Hi</b> --> x\n"
        "[62:05] Unassigned: lost\n"
    )


def test_txt_no_speech(result):
    result.turns = []
    assert render_txt(result) == "(no speech found)\n"


def test_vtt(result):
    vtt = render_vtt(result)
    assert vtt.startswith("WEBVTT\n\n1\n00:00:00.500 --> 00:00:03.500\n<v Clinician>How are you?\n")
    assert "2\n00:00:03.500 --> 00:00:07.750\n<v Patient>Fine thanks.\n" in vtt
    # markup in recognised text is escaped, and '-->' cannot break a cue
    assert "<v Other (SPEAKER_02)>&lt;b&gt;Hi&lt;/b&gt; --&gt; x" in vtt
    assert "01:02:05.200 --> 01:02:06.000" in vtt


def test_srt(result):
    srt = render_srt(result)
    assert srt.startswith("1\n00:00:00,500 --> 00:00:03,500\nClinician: How are you?\n\n2\n")
    assert srt.count("-->") == 4


def test_rttm_uri_has_no_spaces(result):
    rttm = render_rttm(result.segments, "visit one")
    assert rttm.splitlines() == [
        "SPEAKER visit_one 1 0.500 3.000 <NA> <NA> SPEAKER_01 <NA> <NA>",
        "SPEAKER visit_one 1 3.250 4.500 <NA> <NA> SPEAKER_00 <NA> <NA>",
        "SPEAKER visit_one 1 70.000 1.000 <NA> <NA> SPEAKER_02 <NA> <NA>",
    ]


def test_result_round_trip(result, tmp_path):
    d = result.to_dict()
    assert list(d)[0] == "schema" and d["schema"] == SCHEMA
    for key in ("recording", "models", "parameters", "speakers", "segments", "words", "turns", "metrics", "timings"):
        assert key in d
    assert Result.from_dict(json.loads(result.to_json())) == result
    p = tmp_path / "r.json"
    p.write_text(result.to_json())
    assert Result.load(p) == result


@pytest.mark.parametrize(
    "content,match",
    [
        ("{not json", "cannot read result.json"),
        ('{"schema": "other/1"}', "not an attunement result"),
        ("[1, 2]", "not an attunement result"),
        ('{"schema": "attunement.result/1"}', "malformed result.json"),
    ],
)
def test_result_load_errors(tmp_path, content, match):
    p = tmp_path / "bad.json"
    p.write_text(content)
    with pytest.raises(InputError, match=match):
        Result.load(p)


def test_result_load_missing(tmp_path):
    with pytest.raises(InputError, match="no such file"):
        Result.load(tmp_path / "nope.json")


def test_write_outputs_all_files(result, tmp_path):
    out = tmp_path / "a" / "b.attune"
    written = write_outputs(result, out)
    assert sorted(p.name for p in written) == sorted(
        ["result.json", "transcript.txt", "transcript.vtt", "transcript.srt", "diarization.rttm"]
    )
    assert Result.load(out / "result.json") == result
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_default_output_dir(tmp_path):
    assert default_output_dir(tmp_path / "visit.m4a") == tmp_path / "visit.attune"


def test_write_outputs_to_a_file_path_fails_cleanly(result, tmp_path):
    f = tmp_path / "file"
    f.write_text("x")
    with pytest.raises(OutputError, match="exists and is not a folder"):
        write_outputs(result, f)


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_write_outputs_unwritable_parent(result, tmp_path):  # pragma: no cover - non-root only
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    with pytest.raises(OutputError, match="cannot be written"):
        write_outputs(result, ro / "out")


def test_failed_render_writes_nothing(result, tmp_path, monkeypatch):
    import pipeline.outputs as outputs

    def boom(_):
        raise RuntimeError("render failed")

    monkeypatch.setitem(outputs.RENDERERS, "transcript.srt", boom)
    out = tmp_path / "out"
    with pytest.raises(RuntimeError):
        write_outputs(result, out)
    assert not out.exists()


def test_failed_write_leaves_no_partial_files(result, tmp_path, monkeypatch):
    import pipeline.outputs as outputs

    real = outputs._stage
    calls = []

    def flaky(path, text, mode=0o600):
        calls.append(path.name)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        return real(path, text, mode)

    monkeypatch.setattr(outputs, "_stage", flaky)
    out = tmp_path / "out"
    with pytest.raises(OutputError, match="No space left on device"):
        write_outputs(result, out)
    assert not out.exists()


def test_a_failed_rerun_keeps_the_earlier_complete_set(result, tmp_path, monkeypatch):
    # issue 16 #2: the disk fills up on the second run; the first run's files must stay whole
    import pipeline.outputs as outputs

    out = tmp_path / "out"
    first = {p.name: p.read_bytes() for p in write_outputs(result, out)}
    real = outputs._stage
    calls = []

    def flaky(path, text, mode=0o600):
        calls.append(path.name)
        if len(calls) == len(first) - 1:  # the second-to-last file does not fit
            raise OSError(28, "No space left on device")
        return real(path, text, mode)

    monkeypatch.setattr(outputs, "_stage", flaky)
    result.notes.append("a second run with different content")
    with pytest.raises(OutputError, match="No space left on device"):
        write_outputs(result, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == first  # every earlier file, unchanged; no temp files


def test_outputs_are_private_by_default(result, tmp_path):
    import stat

    out = tmp_path / "private"
    written = write_outputs(result, out)
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o600}


def test_shared_outputs(result, tmp_path):
    import stat

    out = tmp_path / "shared"
    written = write_outputs(result, out, private=False)
    assert {stat.S_IMODE(p.stat().st_mode) for p in written} == {0o644}


def test_stale_temp_files_of_a_killed_run_are_removed(result, tmp_path):
    # issue 16 #9: a SIGKILL during the write phase left hidden .NAME.*.tmp files with transcript text
    import os
    import time

    out = tmp_path / "out"
    out.mkdir()
    old = out / ".transcript.txt.k3j2.tmp"
    old.write_text("Patient: my name is ...")
    os.utime(old, (time.time() - 3600, time.time() - 3600))
    recent = out / ".result.json.x9.tmp"  # perhaps another run writing now: left alone
    recent.write_text("{}")
    write_outputs(result, out)
    assert not old.exists() and recent.exists()


def test_a_set_of_files_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    # issue 16 #15: cohort on a full disk kept cohort.html without its CSVs
    import pipeline.outputs as outputs

    target = tmp_path / "pages" / "cohort.html"
    outputs.write_files(target, {"cohort.html": "old page", "cohort.groups.csv": "old groups"})
    real = outputs._stage
    calls = []

    def flaky(path, text, mode=0o600):
        calls.append(path.name)
        if len(calls) == 2:
            raise OSError(28, "No space left on device")
        return real(path, text, mode)

    monkeypatch.setattr(outputs, "_stage", flaky)
    with pytest.raises(OutputError, match="No space left on device"):
        outputs.write_files(target, {"cohort.html": "new page", "cohort.groups.csv": "new groups"})
    assert {p.name: p.read_text() for p in target.parent.iterdir()} == {
        "cohort.html": "old page",
        "cohort.groups.csv": "old groups",
    }
