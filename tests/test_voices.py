"""Known voices: the voice book, enrolment, and matching diarized speakers."""

from __future__ import annotations

import json
import os
import stat

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from helpers import SAMPLE

from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.result import Result, Segment
from pipeline.voices import MATCH_THRESHOLD, Voice, VoiceBook, match, speaker_samples


def voice(name, vec, role="clinician"):
    v = np.asarray(vec, dtype=np.float32)
    return Voice(name, role, v / np.linalg.norm(v), 10.0, "x.wav", "2026-11-27T00:00:00+00:00", "CAM++")


class TestBook:
    def test_add_list_remove(self, tmp_path):
        with VoiceBook(tmp_path / "book.sqlite") as book:
            book.add(voice("Dr A", [1, 0, 0]))
            book.add(voice("Pat", [0, 1, 0], role="patient"))
            assert [(v.name, v.role) for v in book.voices()] == [("Dr A", "clinician"), ("Pat", "patient")]
            np.testing.assert_allclose(book.get("Dr A").embedding, [1, 0, 0])
            book.remove("Pat")
            assert [v.name for v in book.voices()] == ["Dr A"]
        assert stat.S_IMODE(os.stat(tmp_path / "book.sqlite").st_mode) == 0o600

    def test_duplicate_needs_replace_and_changes_nothing(self, tmp_path):
        with VoiceBook(tmp_path / "b.sqlite") as book:
            book.add(voice("Dr A", [1, 0, 0]))
            with pytest.raises(InputError, match="already enrolled"):
                book.add(voice("Dr A", [0, 1, 0]))
            np.testing.assert_allclose(book.get("Dr A").embedding, [1, 0, 0])
            book.add(voice("Dr A", [0, 1, 0]), replace=True)
            np.testing.assert_allclose(book.get("Dr A").embedding, [0, 1, 0])

    def test_remove_unknown(self, tmp_path):
        with VoiceBook(tmp_path / "b.sqlite") as book, pytest.raises(InputError, match="no enrolled voice named 'X'"):
            book.remove("X")


def test_match_is_one_to_one_best_first_with_threshold():
    voices = [voice("A", [1, 0, 0]), voice("B", [0, 1, 0], role="patient")]
    emb = {"S0": np.array([0.9, 0.1, 0.0]), "S1": np.array([0.8, 0.6, 0.0]), "S2": np.array([0, 0, 1.0])}
    matches, sims = match(emb, voices, threshold=0.75)
    # cos(S0, A) = 0.9939, cos(S1, A) = 0.8, cos(S1, B) = 0.6, S2 matches nothing
    assert sims["S0"]["A"] == pytest.approx(0.9939, abs=1e-4)
    assert sims["S1"] == {"A": 0.8, "B": 0.6}
    assert matches == [{"speaker": "S0", "name": "A", "role": "clinician", "similarity": 0.9939}]


def test_speaker_samples_takes_longest_own_regions():
    x = np.arange(16000 * 10, dtype=np.float32)
    regions = [Segment("A", 0, 1), Segment("B", 1, 4), Segment("A", 5, 5.2), Segment("A", 6, 9)]
    out = speaker_samples(x, regions, "A", max_s=3.5)
    # longest first: 6-9 (3 s), then 0.5 s of 0-1; the 0.2 s region is skipped
    assert len(out) == int(3.5 * 16000)
    assert out[0] == 6 * 16000 and out[3 * 16000] == 0


def clean_part(ref, role, a, b, path):
    """The sample's own speech of one role between a and b seconds (no overlap), as a file."""
    x, sr = sf.read(SAMPLE, dtype="float32")
    spans = [(u["start"], u["end"]) for u in ref["utterances"] if u["role"] == role and a <= u["start"] < b]
    others = [(u["start"], u["end"]) for u in ref["utterances"] if u["role"] != role]
    keep = []
    for s, e in spans:
        if any(os_ < e and s < oe for os_, oe in others):
            continue
        keep.append(x[int(s * sr) : int(e * sr)])
    sf.write(path, np.concatenate(keep), sr)
    return path


def run(args):
    r = CliRunner().invoke(main, args)
    return r, r.stderr.strip().splitlines()


pytestmark = pytest.mark.models


@pytest.fixture(scope="module")
def book_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("voices")
    old = os.environ.get("ATTUNE_DATA_DIR")
    os.environ["ATTUNE_DATA_DIR"] = str(d)
    yield d
    if old is None:
        os.environ.pop("ATTUNE_DATA_DIR", None)
    else:
        os.environ["ATTUNE_DATA_DIR"] = old


@pytest.fixture(scope="module")
def second_half(tmp_path_factory):
    x, sr = sf.read(SAMPLE, dtype="float32")
    p = tmp_path_factory.mktemp("half") / "second_half.wav"
    sf.write(p, x[40 * sr :], sr)
    return p


def test_enrol_in_one_part_identify_in_another(book_dir, second_half, sample_ref, tmp_path, sample_run):
    clin = clean_part(sample_ref, "clinician", 0, 40, tmp_path / "dr_morgan.wav")
    r, lines = run(["voices", "enroll", "Dr Morgan", str(clin), "--role", "clinician"])
    assert r.exit_code == 0, r.stderr
    assert "enrolled Dr Morgan (clinician)" in r.stdout
    listing = json.loads(CliRunner().invoke(main, ["voices", "list", "--json"]).stdout)
    assert listing["voice_book"] == str(book_dir / "voices.sqlite")
    assert [v["name"] for v in listing["voices"]] == ["Dr Morgan"]

    # by default every enrolled clinician is looked for
    r, _ = run(["analyze", str(second_half), "-o", str(tmp_path / "o"), "--quiet", "--no-audio"])
    assert r.exit_code == 0, r.stderr
    res = Result.load(tmp_path / "o" / "result.json")
    info = res.roles["voices"]
    assert info["looked_for"] == ["Dr Morgan"] and len(info["matches"]) == 1
    m = info["matches"][0]
    assert m["name"] == "Dr Morgan" and m["similarity"] >= MATCH_THRESHOLD
    named = next(s for s in res.speakers if s.name == "Dr Morgan")
    assert named.role == "clinician"
    other = next(s for s in res.speakers if s.id != named.id)
    assert info["similarities"][other.id]["Dr Morgan"] < MATCH_THRESHOLD  # a different voice does not match
    assert other.role == "patient" and other.name is None

    # --redact: no enrolled name anywhere in the outputs (issue 16 #4), the match itself kept
    r, _ = run(["analyze", str(second_half), "-o", str(tmp_path / "r"), "--quiet", "--no-audio", "--redact"])
    assert r.exit_code == 0, r.stderr
    for f in (tmp_path / "r").iterdir():
        assert "Morgan" not in f.read_text(encoding="utf-8", errors="replace"), f.name
    red = Result.load(tmp_path / "r" / "result.json")
    assert (
        red.roles["voices"]["looked_for"] == ["[VOICE 1]"] and red.roles["voices"]["matches"][0]["name"] == "[VOICE 1]"
    )


def test_role_comes_from_the_enrolment(book_dir, second_half, sample_ref, tmp_path, sample_run):
    pat = clean_part(sample_ref, "patient", 0, 40, tmp_path / "sp.wav")
    # enrol the patient's voice as a *clinician*: the enrolment, not the question rule, decides
    r, _ = run(["voices", "enroll", "Odd", str(pat), "--role", "clinician"])
    assert r.exit_code == 0, r.stderr
    r, _ = run(["analyze", str(second_half), "-o", str(tmp_path / "o"), "--quiet", "--no-audio", "--voice", "Odd"])
    assert r.exit_code == 0, r.stderr
    res = Result.load(tmp_path / "o" / "result.json")
    assert res.roles["rule"] == "voices"
    odd = next(s for s in res.speakers if s.name == "Odd")
    assert odd.role == "clinician"
    assert next(s for s in res.speakers if s.id != odd.id).role == "patient"
    run(["voices", "remove", "Odd"])


def test_no_voices_flag_ignores_the_book(book_dir, second_half, tmp_path, sample_run):
    r, _ = run(["analyze", str(second_half), "-o", str(tmp_path / "o"), "--quiet", "--no-audio", "--no-voices"])
    assert r.exit_code == 0
    res = Result.load(tmp_path / "o" / "result.json")
    assert "voices" not in res.roles and all(s.name is None for s in res.speakers)


def test_unknown_voice(book_dir, clip_dir, tmp_path):
    r, lines = run(["analyze", str(clip_dir / "clip.wav"), "-o", str(tmp_path / "o"), "--voice", "Nobody"])
    assert r.exit_code == 2 and len(lines) == 1
    assert "--voice Nobody: no such voice" in lines[0]
    assert not (tmp_path / "o").exists()


def test_enrol_silence_and_too_little_speech(book_dir, clip_dir, tmp_path):
    silent = tmp_path / "silent.wav"
    sf.write(silent, np.zeros(5 * 16000, dtype=np.float32), 16000)
    r, lines = run(["voices", "enroll", "Quiet", str(silent)])
    assert r.exit_code == 2 and lines == [
        f"attune: error: {silent}: no speech (at least 3 s of the person's speech is needed)"
    ]
    x, sr = sf.read(clip_dir / "clip.wav", dtype="float32")
    short = tmp_path / "short.wav"
    sf.write(short, x[: int(2.2 * sr)], sr)
    r, lines = run(["voices", "enroll", "Brief", str(short)])
    assert r.exit_code == 2 and "only" in lines[0] and "s of speech (at least 3 s" in lines[0]
    names = [v["name"] for v in json.loads(CliRunner().invoke(main, ["voices", "list", "--json"]).stdout)["voices"]]
    assert "Quiet" not in names and "Brief" not in names  # nothing half-written


def test_remove_unknown_voice(book_dir):
    r, lines = run(["voices", "remove", "Ghost"])
    assert r.exit_code == 2 and lines == ["attune: error: no enrolled voice named 'Ghost'"]


def test_voices_list_shows_control_characters_escaped(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTUNE_DATA_DIR", str(tmp_path))
    with VoiceBook() as book:
        book.add(voice("Dr A\nrm -rf /\x1b[31m", [1, 0, 0]))
    r = CliRunner().invoke(main, ["voices", "list"])
    assert r.exit_code == 0
    lines = r.stdout.splitlines()
    assert len(lines) == 2 and "Dr A\\nrm -rf /\\x1b[31m [clinician]" in lines[1]
