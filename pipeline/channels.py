"""Dual-channel (multi-channel) recordings: each channel is one speaker.

When each party has their own microphone or line (telehealth platforms, two lapel
microphones, a phone line recorded in stereo), who spoke when is known from the channels;
blind diarization would only add error.

Speech activity per channel comes from the Silero VAD model (v6, the ONNX file shipped in
the faster-whisper wheel) on 32 ms frames, with a **crosstalk rule**: a channel's frame
counts as speech only if the VAD says speech (probability >= :data:`VAD_THRESHOLD`) *and*
the channel's energy in that frame is within :data:`CROSSTALK_DB` dB of the loudest
channel's. The other party's voice leaking into a microphone is typically 15-30 dB below
that party's own channel, so it fails the rule; two people really talking at once are each
loudest on their own channel, so both count (overlap is kept). Runs of speech shorter than
:data:`MIN_ON_S` are dropped (stray frames), then gaps shorter than :data:`MIN_OFF_S` are
bridged.

The threshold (0.35) and the bridging of gaps under 0.5 s were chosen on the re-voiced
PriMock57 stereo consultations, whose reference regions are whole utterances with their
short internal pauses (docs/benchmarks.md).

``auto`` uses channel mode only for a file whose channels carry different voices: not the
same signal twice (waveform correlation below :data:`SAME_SIGNAL_CORR`), at least
:data:`MIN_SPEECH_S` of speech on every channel, and every channel at least
:data:`DOMINANT_DB` dB louder than all the others in at least :data:`DOMINANT_SHARE` of its
own speech frames. Otherwise the mix is diarized, and the result says why.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Optional, Sequence

import numpy as np

from .audio import frame_power
from .errors import InputError
from .metrics.timeline import runs_of
from .result import Segment

SAMPLE_RATE = 16000
FRAME = 512  # samples: 32 ms, Silero VAD's frame
FRAME_S = FRAME / SAMPLE_RATE
VAD_THRESHOLD = 0.35
CROSSTALK_DB = 10.0
MIN_ON_S = 0.1
MIN_OFF_S = 0.5
MIN_SPEECH_S = 1.0
SAME_SIGNAL_CORR = 0.95
DOMINANT_DB = 6.0
DOMINANT_SHARE = 0.5
LABELS = ("clinician", "patient", "other")


@dataclass
class ChannelPlan:
    """What channel mode will do: one speaker id and role per channel."""

    speakers: list[str]
    roles: Optional[list[str]]  # None: roles come from the automatic rule
    reason: str


def parse_channel_roles(value: str, channels: int) -> Optional[list[str]]:
    """``clinician,patient`` -> per-channel roles; ``auto`` -> None. Raises on a mismatch."""
    if value == "auto":
        return None
    labels = [x.strip().lower() for x in value.split(",") if x.strip()]
    bad = [x for x in labels if x not in LABELS]
    if bad:
        raise InputError(
            f"{{channels}} {value}: unknown label {bad[0]!r} (use clinician, patient, other, or auto)", "channels"
        )
    if labels.count("clinician") != 1 or labels.count("patient") > 1:
        raise InputError(
            f"{{channels}} {value}: name exactly one clinician channel (and at most one patient)", "channels"
        )
    if channels < 2:
        raise InputError(
            f"{{channels}} {value}: the recording is mono (1 channel); channel mode needs one channel per speaker",
            "channels",
        )
    if len(labels) != channels:
        raise InputError(
            f"{{channels}} {value}: {len(labels)} labels for a recording with {channels} channels", "channels"
        )
    return labels


@lru_cache(maxsize=1)
def vad_model():
    """Silero VAD v6 (ONNX) as shipped in the faster-whisper wheel; loaded once."""
    from faster_whisper.vad import get_vad_model

    return get_vad_model()


def speech_probability(x: np.ndarray) -> np.ndarray:
    """Silero speech probability per 32 ms frame."""
    n = len(x) // FRAME
    if n == 0:
        return np.zeros(0, dtype=np.float32)
    pad = np.zeros(n * FRAME, dtype=np.float32)
    pad[:] = x[: n * FRAME]
    return vad_model()(pad).reshape(-1)[:n].astype(np.float32)


def frame_db(x: np.ndarray) -> np.ndarray:
    """Energy (dBFS) per 32 ms frame."""
    return 10 * np.log10(frame_power(x, FRAME) + 1e-12)


def activity(channels: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-channel speech frames after the crosstalk rule.

    Returns (active (C, F) bool, VAD probabilities (C, F), energies (C, F) in dB).
    """
    probs = np.stack([speech_probability(c) for c in channels])
    db = np.stack([frame_db(c) for c in channels])
    n = min(probs.shape[1], db.shape[1])
    probs, db = probs[:, :n], db[:, :n]
    loudest = db.max(axis=0, keepdims=True)
    active = (probs >= VAD_THRESHOLD) & (db >= loudest - CROSSTALK_DB)
    return np.stack([_smooth(a) for a in active]), probs, db


def _smooth(mask: np.ndarray) -> np.ndarray:
    """Drop runs shorter than MIN_ON_S (stray frames: leaked speech at the noise floor),
    bridge gaps shorter than MIN_OFF_S, then drop runs still shorter than MIN_ON_S."""
    out = mask.copy()
    for a, b in runs_of(out):
        if (b - a) * FRAME_S < MIN_ON_S:
            out[a:b] = False
    runs = runs_of(out)
    for (_a0, e0), (s1, _e1) in zip(runs, runs[1:]):
        if (s1 - e0) * FRAME_S < MIN_OFF_S:
            out[e0:s1] = True
    for a, b in runs_of(out):
        if (b - a) * FRAME_S < MIN_ON_S:
            out[a:b] = False
    return out


def segments_of(active: np.ndarray, speakers: Sequence[str]) -> list[Segment]:
    segs = [
        Segment(spk, round(a * FRAME_S, 3), round(b * FRAME_S, 3))
        for spk, mask in zip(speakers, active)
        for a, b in runs_of(mask)
    ]
    segs.sort(key=lambda s: (s.start, s.end, s.speaker))
    return segs


def detect(channels: np.ndarray, active: np.ndarray, db: np.ndarray) -> tuple[bool, str]:
    """Do the channels carry different voices? (for ``--channels auto``)"""
    c = channels.shape[0]
    if c < 2:
        return False, "the recording is mono"
    step = max(1, channels.shape[1] // 2_000_000)
    sub = channels[:, ::step].astype(np.float64)
    corr = np.atleast_2d(np.corrcoef(sub))
    off = corr[~np.eye(c, dtype=bool)]
    if np.nanmax(off) >= SAME_SIGNAL_CORR:
        return False, f"the channels carry the same signal (correlation {np.nanmax(off):.2f}): diarizing the mix"
    speech = [float(a.sum() * FRAME_S) for a in active]
    if min(speech) < MIN_SPEECH_S:
        quiet = int(np.argmin(speech)) + 1
        return False, f"channel {quiet} has {min(speech):.1f} s of speech: diarizing the mix"
    shares = []
    for i in range(c):
        others = np.delete(db, i, axis=0).max(axis=0)
        own = active[i]
        shares.append(float(np.mean(db[i][own] - others[own] >= DOMINANT_DB)) if own.any() else 0.0)
    if min(shares) < DOMINANT_SHARE:
        return False, (
            f"the channels are not separated (a channel is {DOMINANT_DB:g} dB louder than the others in "
            f"only {min(shares) * 100:.0f} % of its speech): diarizing the mix"
        )
    return True, (
        f"each channel carries its own voice (correlation {np.nanmax(off):.2f}; each channel is "
        f"{DOMINANT_DB:g} dB louder than the others in at least {min(shares) * 100:.0f} % of its speech)"
    )


def masked(x: np.ndarray, active: np.ndarray, pad_s: float = 0.2) -> np.ndarray:
    """The channel with everything outside its own speech (plus ``pad_s``) silenced, so that
    speech recognition does not transcribe the other party's leaked voice."""
    keep = np.zeros(len(x), dtype=bool)
    pad = int(pad_s * SAMPLE_RATE)
    for a, b in runs_of(active):
        keep[max(0, a * FRAME - pad) : min(len(x), b * FRAME + pad)] = True
    return np.where(keep, x, 0.0).astype(np.float32)
