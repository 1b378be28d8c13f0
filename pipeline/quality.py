"""How far to trust who-spoke-when on this recording: quality signals and plain warnings.

Computed after the analysis from the audio and the result (``result.quality``):

* ``speaker_separation``: how well the two main speakers' voices are told apart. Their
  speech is cut into windows of :data:`WINDOW_S`; each window's CAM++ embedding is compared
  with both speakers' mean voices, and the separation is the mean of (similarity to its own
  speaker - similarity to the other). Near 0, the two voices look alike to the model and
  speaker changes may be missed or invented.
* ``speaker_similarity``: cosine similarity of the two mean voices (context).
* ``snr_db``: speech power over the power outside every speaker region.
* ``overlap_share``: seconds both main speakers talk at once, over all talk.
* ``low_confidence_words``: share of words the recogniser gave a probability below 0.5.

A warning is added when a signal passes its limit in :data:`LIMITS`; ``attribution_doubtful``
is set when a warning concerns who spoke when (or when an enrolled voice and the question
rule disagree, ``roles.conflict``). The separation and SNR limits were chosen on the tuning
part of ``benchmarks/real_voices.py`` (they flag every tuning recording with a DER above
15 %); how well they predict a high DER on the other part is in docs/benchmarks.md.
"""

from __future__ import annotations

from typing import Optional

import numpy as np

from .audio import frame_power
from .result import Result
from .roles import of_result

SR = 16000
WINDOW_S = 3.0
MAX_WINDOWS = 20  # per speaker
LIMITS = {
    "speaker_separation": 0.20,  # below: the voices are hard to tell apart
    "snr_db": 15.0,  # below: noisy
    "overlap_share": 0.15,  # above: much talking at once
    "low_confidence_words": 0.30,  # above: the words are unreliable
}
WARNINGS = {
    "speaker_separation": "the two voices are hard to tell apart; check the timeline before relying on turn "
    "counts, interruptions and talk share",
    "snr_db": "the recording is noisy (speech {value:.1f} dB above the background); speaker changes and short "
    "sounds such as backchannels may be missed",
    "overlap_share": "the speakers talk over each other a lot ({value:.0%} of the talk); who held the floor "
    "is uncertain in those stretches",
    "low_confidence_words": "many words are uncertain ({value:.0%} below 50 % confidence); question and "
    "word counts are less reliable",
}
ATTRIBUTION = ("speaker_separation", "snr_db", "overlap_share")
ONE_VOICE_SPEECH_S = 20.0
ONE_VOICE = (
    "only one voice was found in {:.0f} s of speech or more; if two people spoke, their voices were not told apart "
    "and the two-party numbers are missing (try the speaker count option, or a dual-channel recording)"
).format(ONE_VOICE_SPEECH_S)


def assess(samples: np.ndarray, result: Result, embedder=None) -> dict:
    """The quality signals and warnings of one analysed recording (see the module docstring)."""
    clinician, patient = of_result(result)
    signals: dict[str, Optional[float]] = {
        "speaker_separation": None,
        "speaker_similarity": None,
        "snr_db": snr_db(samples, result),
        "overlap_share": _overlap_share(result),
        "low_confidence_words": _low_confidence(result),
    }
    if embedder is not None and clinician and patient and result.mode.get("name") != "channels":
        sep = separation(samples, result.exclusive_segments, clinician, patient, embedder)
        if sep is not None:
            signals["speaker_separation"], signals["speaker_similarity"] = sep
    warnings = []
    flagged = []
    for name, limit in LIMITS.items():
        value = signals.get(name)
        if value is None:
            continue
        bad = value < limit if name in ("speaker_separation", "snr_db") else value > limit
        if bad:
            flagged.append(name)
            warnings.append(WARNINGS[name].format(value=value))
    conflict = result.roles.get("conflict")
    if conflict:
        warnings.insert(0, conflict)
    speech_s = sum(s.end - s.start for s in result.exclusive_segments)
    one_voice = len(result.speakers) == 1 and speech_s >= ONE_VOICE_SPEECH_S
    if one_voice:
        warnings.insert(0, ONE_VOICE)
    return {
        "signals": {k: (round(v, 4) if v is not None else None) for k, v in signals.items()},
        "limits": dict(LIMITS),
        "warnings": warnings,
        "attribution_doubtful": bool(conflict) or one_voice or any(n in ATTRIBUTION for n in flagged),
    }


def _windows(samples: np.ndarray, regions, speaker: str) -> list[np.ndarray]:
    win = int(WINDOW_S * SR)
    out = []
    for s in sorted((r for r in regions if r.speaker == speaker), key=lambda r: r.end - r.start, reverse=True):
        a, b = int(s.start * SR), int(s.end * SR)
        for i in range(a, b - win + 1, win):
            out.append(samples[i : i + win])
            if len(out) >= MAX_WINDOWS:
                return out
    return out


def separation(samples: np.ndarray, regions, clinician: str, patient: str, embedder):
    """(separation, similarity of the mean voices), or None without 2 windows per speaker."""
    embs = {}
    for spk in (clinician, patient):
        wins = _windows(samples, regions, spk)
        if len(wins) < 2:
            return None
        embs[spk] = np.stack([embedder.embed(w) for w in wins])
    means = {k: v.mean(axis=0) / (np.linalg.norm(v.mean(axis=0)) + 1e-9) for k, v in embs.items()}
    margins = []
    for own, other in ((clinician, patient), (patient, clinician)):
        e = embs[own]
        margins += list(e @ means[own] - e @ means[other])
    return float(np.mean(margins)), float(means[clinician] @ means[patient])


def snr_db(samples: np.ndarray, result: Result) -> Optional[float]:
    """Speech power over the power outside every speaker region (None without 1 s of each)."""
    hop = SR // 50  # 20 ms
    n = len(samples) // hop
    if n == 0 or not result.segments:
        return None
    power = frame_power(samples, hop)
    speech = np.zeros(n, dtype=bool)
    for s in result.segments:
        speech[int(s.start * 50) : int(np.ceil(s.end * 50))] = True
    if speech.sum() < 50 or (~speech).sum() < 50:
        return None
    noise = float(np.median(power[~speech]))
    level = float(np.mean(power[speech]))
    if noise <= 1e-12:
        return 60.0
    return float(np.clip(10 * np.log10(max(level - noise, 1e-12) / noise), -20.0, 60.0))


def _overlap_share(result: Result) -> Optional[float]:
    m = result.metrics
    c, p, o = m.get("clinician_talk_s"), m.get("patient_talk_s"), m.get("overlap_s")
    if c is None or p is None or o is None or c + p - o <= 0:
        return None
    return o / (c + p - o)


def _low_confidence(result: Result) -> Optional[float]:
    if not result.words:
        return None
    return sum(1 for w in result.words if w.probability < 0.5) / len(result.words)
