"""Rising terminal pitch: the prosodic question cue, from the speaker's own speech.

A declarative question ("you've had it for three days?") has no question words; in speech
its pitch often rises at the end. For each sentence that no other cue makes a question
(:func:`pipeline.metrics.questions.cues`), with at least :data:`MIN_WORDS` words,
:func:`terminal_rise` tracks the pitch with ``librosa.pyin`` over the sentence's last
:data:`WINDOW_S` seconds (in channel mode on the speaker's own channel) and compares the
median pitch of the last quarter of the voiced frames with that of the voiced frames before
them, in semitones. A rise of ``Params.rising_pitch_st`` semitones or more (for example
:data:`RISE_ST`) is the ``rising_pitch`` cue. The cue is off by default: on the re-voiced
benchmark consultations (text-to-speech voices) none of the 7 clinician sentences it flagged
at 2 semitones was a question, while 22 declarative questions were measured; it needs
validation on real speech before it is trusted.

The measurements are stored in ``result.json`` (``prosody``) so that ``attune metrics`` can
recompute the question metrics without the audio. They are not used by the role rule,
which runs before them.

Limits: a rise also marks continuation, lists and uncertainty; questions with falling pitch
(most wh-questions) are found by their words instead. On the synthetic re-voiced benchmark
voices the pitch follows the text-to-speech engine's rules, not a person's; see
docs/benchmarks.md for what it was measured on.
"""

from __future__ import annotations

import warnings
from typing import Callable, Optional, Sequence

import numpy as np

from .sentences import Sentence

SR = 16000
WINDOW_S = 0.8  # the end of the sentence that is tracked
MIN_WORDS = 3
MIN_VOICED = 6  # voiced 20 ms frames needed in the window
RISE_ST = 2.0  # semitones: the last quarter above the rest of the window
MAX_SENTENCES = 600  # pitch tracking is bounded per recording (about 35 ms per sentence)
PITCH = {"fmin": 65.0, "fmax": 400.0, "frame_length": 1024, "hop_length": 320, "resolution": 0.25}


def terminal_rise(samples: np.ndarray, start: float, end: float) -> Optional[float]:
    """Semitones from the earlier voiced frames to the last quarter of them (None: too little voice)."""
    import librosa

    a = max(0, int(max(start, end - WINDOW_S) * SR))
    b = min(len(samples), int((end + 0.05) * SR))
    if b - a < int(PITCH["frame_length"]):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        f0, voiced, _ = librosa.pyin(
            np.ascontiguousarray(samples[a:b], dtype=np.float32),
            sr=SR,
            fmin=PITCH["fmin"],
            fmax=PITCH["fmax"],
            frame_length=int(PITCH["frame_length"]),
            hop_length=int(PITCH["hop_length"]),
            resolution=PITCH["resolution"],
        )
    f = f0[voiced & np.isfinite(f0)]
    if len(f) < MIN_VOICED:
        return None
    k = max(2, len(f) // 4)
    return round(float(12 * np.log2(np.median(f[-k:]) / np.median(f[:-k]))), 2)


def measure(
    sentences: Sequence[Sentence],
    samples_of: Callable[[str], Optional[np.ndarray]],
    needs_pitch: Callable[[Sentence], bool],
) -> dict:
    """``result.prosody``: the terminal rise of each sentence ``needs_pitch`` selects.

    ``samples_of(speaker)`` gives the samples to track for that speaker (the mix, or their
    own channel).
    """
    out: list[dict] = []
    for s in sentences:
        if len(out) >= MAX_SENTENCES:
            break
        if len(s.words) < MIN_WORDS or not needs_pitch(s):
            continue
        x = samples_of(s.speaker)
        if x is None:
            continue
        out.append({"speaker": s.speaker, "end": round(s.end, 2), "rise_st": terminal_rise(x, s.start, s.end)})
    return {
        "method": "librosa.pyin over the sentence's last 0.8 s; median pitch of the last quarter of "
        "the voiced frames against the voiced frames before, in semitones",
        "sentences": out,
    }


def rising_ends(prosody: Optional[dict], threshold: Optional[float]) -> dict[tuple[str, float], bool]:
    """(speaker, sentence end rounded to 10 ms) -> whether the pitch rose there by ``threshold``
    semitones or more (empty when ``threshold`` is None: the cue is not used)."""
    if threshold is None or not isinstance(prosody, dict):
        return {}
    out = {}
    for e in prosody.get("sentences") or []:
        rise = e.get("rise_st")
        out[(e["speaker"], round(float(e["end"]), 2))] = rise is not None and rise >= threshold
    return out
