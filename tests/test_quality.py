"""Quality signals and warnings: hand-built recordings with hand-computed answers."""

import numpy as np
import pytest

from pipeline.quality import LIMITS, WARNINGS, assess, separation, snr_db
from pipeline.result import Recording, Result, Segment, Speaker, Word

SR = 16000


def result(segments, words=(), metrics=None, mode="diarization"):
    return Result(
        recording=Recording("x.wav", 20.0, SR, 1, "0" * 64),
        speakers=[Speaker("A", "clinician", 0.0), Speaker("B", "patient", 0.0)],
        segments=list(segments),
        exclusive_segments=list(segments),
        words=list(words),
        metrics=metrics or {},
        mode={"name": mode},
    )


class VoiceEmbedder:
    """A fake CAM++: the embedding of a window is the direction its constant level encodes."""

    def __init__(self, voices):
        self.voices = voices  # level -> unit vector

    def embed(self, x):
        level = round(float(np.mean(x)), 2)
        return self.voices[level]


def test_snr_of_a_tone_over_known_noise():
    rng = np.random.default_rng(0)
    noise = 0.01 * rng.standard_normal(20 * SR)
    x = noise.copy()
    t = np.arange(10 * SR) / SR
    x[5 * SR : 15 * SR] += 0.1 * np.sqrt(2) * np.sin(2 * np.pi * 220 * t)  # power 0.01 vs noise 1e-4: 20 dB
    snr = snr_db(x.astype(np.float32), result([Segment("A", 5, 15)]))
    assert snr == pytest.approx(20.0, abs=0.5)


def test_snr_needs_speech_and_background():
    x = np.zeros(20 * SR, dtype=np.float32)
    assert snr_db(x, result([])) is None
    assert snr_db(x, result([Segment("A", 0, 20)])) is None  # no background at all
    x[: 10 * SR] = 0.1
    assert snr_db(x, result([Segment("A", 0, 10)])) == 60.0  # digital silence outside speech


def test_separation_of_distinct_and_identical_voices():
    x = np.zeros(20 * SR, dtype=np.float32)
    x[: 10 * SR] = 0.2  # A speaks 0-10 s, B 10-20 s
    x[10 * SR :] = 0.4
    segs = [Segment("A", 0, 10), Segment("B", 10, 20)]
    distinct = VoiceEmbedder({0.2: np.array([1.0, 0.0]), 0.4: np.array([0.0, 1.0])})
    sep, sim = separation(x, segs, "A", "B", distinct)
    assert sep == pytest.approx(1.0) and sim == pytest.approx(0.0)
    same = VoiceEmbedder({0.2: np.array([1.0, 0.0]), 0.4: np.array([1.0, 0.0])})
    sep, sim = separation(x, segs, "A", "B", same)
    assert sep == pytest.approx(0.0) and sim == pytest.approx(1.0)
    assert separation(x, [Segment("A", 0, 10), Segment("B", 10, 12)], "A", "B", distinct) is None  # one window


def test_warnings_follow_the_limits():
    x = np.zeros(20 * SR, dtype=np.float32)
    x[: 10 * SR] = 0.2
    x[10 * SR :] = 0.4
    segs = [Segment("A", 0, 10), Segment("B", 10, 20)]
    words = [Word("a", 1, 1.2, 0.1, "A"), Word("b", 2, 2.2, 0.2, "A"), Word("c", 11, 11.2, 0.9, "B")]
    same = VoiceEmbedder({0.2: np.array([1.0, 0.0]), 0.4: np.array([1.0, 0.0])})
    metrics = {"clinician_talk_s": 10.0, "patient_talk_s": 12.0, "overlap_s": 4.0}
    q = assess(x, result(segs, words, metrics), same)
    assert q["signals"]["speaker_separation"] == 0.0
    assert q["signals"]["overlap_share"] == round(4 / 18, 4)
    assert q["signals"]["low_confidence_words"] == round(2 / 3, 4)
    assert q["warnings"][0] == WARNINGS["speaker_separation"]
    assert any("talk over each other a lot (22% of the talk)" in w for w in q["warnings"])
    assert any("many words are uncertain (67% below 50 % confidence)" in w for w in q["warnings"])
    assert q["attribution_doubtful"] is True and q["limits"] == LIMITS


def test_a_clear_recording_has_no_warning():
    rng = np.random.default_rng(1)
    x = (0.001 * rng.standard_normal(20 * SR)).astype(np.float32)
    x[: 8 * SR] += 0.2
    x[10 * SR : 18 * SR] += 0.4
    segs = [Segment("A", 0, 8), Segment("B", 10, 18)]
    distinct = VoiceEmbedder({0.2: np.array([1.0, 0.0]), 0.4: np.array([0.0, 1.0])})
    metrics = {"clinician_talk_s": 8.0, "patient_talk_s": 8.0, "overlap_s": 0.0}
    q = assess(x, result(segs, [Word("a", 1, 1.2, 0.9, "A")], metrics), distinct)
    assert q["warnings"] == [] and q["attribution_doubtful"] is False
    assert q["signals"]["snr_db"] > 40


def test_channel_mode_needs_no_voice_separation():
    x = np.zeros(20 * SR, dtype=np.float32)
    q = assess(x, result([Segment("A", 0, 8)], mode="channels"), embedder=None)
    assert q["signals"]["speaker_separation"] is None


def test_a_voice_conflict_leads_the_warnings():
    x = np.zeros(20 * SR, dtype=np.float32)
    r = result([Segment("A", 0, 8)])
    r.roles["conflict"] = "the voice match says the clinician is A, who asked 0 question(s), but B asked 5: check"
    q = assess(x, r)
    assert q["warnings"][0] == r.roles["conflict"] and q["attribution_doubtful"] is True


def test_one_voice_in_a_long_recording_is_doubtful():
    x = np.zeros(40 * SR, dtype=np.float32)
    r = result([Segment("A", 0, 30)])
    r.speakers = [Speaker("A", "clinician", 30.0)]
    q = assess(x, r)
    assert q["warnings"][0].startswith("only one voice was found in 20 s of speech or more")
    assert q["attribution_doubtful"] is True
    short = result([Segment("A", 0, 10)])
    short.speakers = [Speaker("A", "clinician", 10.0)]
    assert assess(x, short)["warnings"] == []


def test_the_summary_says_what_to_check(capsys):
    from pathlib import Path

    from pipeline.cli.analyze import summary

    r = result([Segment("A", 0, 8)])
    r.quality = {"warnings": ["the recording is noisy (speech 9 dB above the background); ..."]}
    summary(r, Path("out"))
    lines = capsys.readouterr().out.splitlines()
    assert "  check: the recording is noisy (speech 9 dB above the background); ..." in lines
