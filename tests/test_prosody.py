"""The rising-pitch cue: pyin on hand-made voiced signals, and how the metrics read it."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import prosody
from pipeline.metrics import Params, compute
from pipeline.result import Segment, Word
from pipeline.sentences import split

SR = 16000


def voice(f_start: float, f_end: float, seconds: float = 0.8, glide_s: float = 0.25) -> np.ndarray:
    """A voiced signal (five harmonics) at f_start Hz, gliding to f_end Hz over its last glide_s."""
    n = int(seconds * SR)
    t = np.arange(n) / SR
    f = np.where(t < seconds - glide_s, f_start, f_start + (f_end - f_start) * (t - (seconds - glide_s)) / glide_s)
    phase = 2 * np.pi * np.cumsum(f) / SR
    x = sum(np.sin(k * phase) / k for k in range(1, 6))
    return (0.2 * x / np.max(np.abs(x))).astype(np.float32)


def test_a_rise_a_fall_and_level_pitch():
    rise = prosody.terminal_rise(voice(150, 200), 0.0, 0.8)
    assert rise is not None and rise > prosody.RISE_ST  # 150 -> 200 Hz is 5 semitones at the very end
    fall = prosody.terminal_rise(voice(200, 150), 0.0, 0.8)
    assert fall is not None and fall < -prosody.RISE_ST
    level = prosody.terminal_rise(voice(160, 160), 0.0, 0.8)
    assert level is not None and abs(level) < 0.5


def test_silence_and_too_short_give_no_measure():
    assert prosody.terminal_rise(np.zeros(SR, dtype=np.float32), 0.0, 1.0) is None
    assert prosody.terminal_rise(voice(150, 200), 0.0, 0.03) is None


def _words(text: str, speaker: str, t0: float) -> list[Word]:
    return [Word(w, t0 + 0.3 * i, t0 + 0.3 * i + 0.25, 0.9, speaker) for i, w in enumerate(text.split())]


def test_measure_only_the_selected_sentences_and_the_metrics_read_it():
    x = np.zeros(6 * SR, dtype=np.float32)
    x[int(0.1 * SR) : int(0.9 * SR)] = voice(150, 200)  # "you have had it three days" rises
    words = _words("you have had it three days.", "C", 0.0)
    words += _words("yes since monday.", "P", 2.0) + _words("do you smoke.", "C", 4.0)
    sentences = split(words)
    measured = prosody.measure(sentences, lambda spk: x, lambda s: not s.text.startswith("do"))
    assert [(e["speaker"], e["end"]) for e in measured["sentences"]] == [("C", 1.75), ("P", 2.85)]
    # the first sentence is 1.75 s long: only its last 0.8 s (0.95-1.75, silence here) is tracked
    assert measured["sentences"][0]["rise_st"] is None
    rising = {("C", 1.75): True}
    segments = [Segment("C", 0.0, 1.8), Segment("P", 2.0, 2.9), Segment("C", 4.0, 4.9)]
    measured_rise = {"sentences": [{"speaker": "C", "end": 1.75, "rise_st": 3.1}]}
    with_rise = compute(segments, "C", words=words, prosody=measured_rise, params=Params(rising_pitch_st=2.0))
    off = compute(segments, "C", words=words, prosody=measured_rise)  # the cue is off by default
    without = compute(segments, "C", words=words)
    assert with_rise["clinician_questions"] == 2 and without["clinician_questions"] == off["clinician_questions"] == 1
    assert with_rise["events"]["questions"][0]["cues"] == ["rising_pitch"]
    assert prosody.rising_ends(measured_rise, 2.0) == rising
    assert prosody.rising_ends(measured_rise, 4.0) == {("C", 1.75): False}
    assert prosody.rising_ends(measured_rise, None) == {}
    assert prosody.rising_ends(None, 2.0) == {}


@pytest.mark.parametrize("rise", [None, 1.9])
def test_no_cue_without_a_clear_rise(rise):
    words = _words("you have had it three days.", "C", 0.0) + _words("yes.", "P", 2.0)
    segments = [Segment("C", 0.0, 1.8), Segment("P", 2.0, 2.3)]
    m = compute(
        segments,
        "C",
        words=words,
        prosody={"sentences": [{"speaker": "C", "end": 1.75, "rise_st": rise}]},
        params=Params(rising_pitch_st=2.0),
    )
    assert m["clinician_questions"] == 0


def test_the_threshold_is_validated():
    from pipeline.errors import AttuneError

    with pytest.raises(AttuneError, match="rising_pitch_st"):
        Params(rising_pitch_st=0.0).validate()
    Params(rising_pitch_st=2.5).validate()
