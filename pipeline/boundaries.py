"""Speaker changes placed in the pause between the speakers, where there is one.

Diarization often joins two speakers' regions with no gap: one region ends on the very frame
where the next speaker's begins, although the recording has a pause there. Every such floor
transfer then measures exactly 0.00 s, and on real voices the median response latency came
out as 0.00 s on every recording. :func:`refine_changes` looks at the audio around each
change of speaker whose regions touch (gap under :data:`TOUCH_S`): within
:data:`SEARCH_S` of the change it finds the longest run of quiet frames (10 ms, below
:func:`quiet_level`) lasting at least :data:`MIN_PAUSE_S`, and moves the first region's end
to the start of that pause and the next region's start to its end. A change with no pause
near it (latched or overlapping speech) is left as it is. Only region edges at speaker
changes move, and never past another edge of the same region: of the quiet runs near the
change, only those after the first region's start and before the next region's end count.

Before that, a short region (under :data:`SILENT_MAX_S`) in which no frame rises above the
quiet level is dropped: diarization leaves such slivers of one speaker in the silence right
beside the other speaker's region, and each made a floor transfer of exactly 0.00 s.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Sequence

import numpy as np

from .audio import frame_power
from .metrics.timeline import runs_of
from .result import Segment

SR = 16000
FRAME_S = 0.01
TOUCH_S = 0.02  # regions of two speakers closer than this "touch"
SEARCH_S = 0.5  # look for the pause this far either side of the change
MIN_PAUSE_S = 0.08  # the shortest quiet run taken for a pause
BELOW_SPEECH_DB = 25.0  # quiet: this far below the loud frames of the recording's speech...
ABOVE_FLOOR_DB = 6.0  # ... or at most this far above its background, whichever is higher
SILENT_MAX_S = 0.3  # a region shorter than this with no frame above the quiet level is dropped


def frame_db(samples: np.ndarray) -> np.ndarray:
    """Level of each 10 ms frame in dB (full scale 0 dB)."""
    return 10 * np.log10(frame_power(samples, int(FRAME_S * SR)) + 1e-12)


def quiet_level(db: np.ndarray, segments: Sequence[Segment]) -> float:
    """The level below which a frame is taken for a pause (see the module docstring)."""
    speech = np.zeros(len(db), dtype=bool)
    for s in segments:
        speech[int(s.start / FRAME_S) : int(np.ceil(s.end / FRAME_S))] = True
    loud = float(np.percentile(db[speech], 90)) if speech.any() else float(np.max(db, initial=-120.0))
    floor = float(np.percentile(db, 5)) if len(db) else -120.0
    return max(loud - BELOW_SPEECH_DB, floor + ABOVE_FLOOR_DB)


def refine_changes(samples: np.ndarray, segments: Sequence[Segment]) -> list[Segment]:
    """``segments`` with each touching change of speaker moved into the pause beside it."""
    segs = sorted(segments, key=lambda s: (s.start, s.end))
    if len(segs) < 2:
        return list(segs)
    db = frame_db(samples)
    quiet = db < quiet_level(db, segs)
    out = [s for s in segs if not _silent(quiet, s)]
    for i in range(len(out) - 1):
        a, b = out[i], out[i + 1]
        if a.speaker == b.speaker or abs(b.start - a.end) >= TOUCH_S:
            continue
        pause = _pause_near(quiet, (a.end + b.start) / 2, a.start, b.end)
        if pause is None:
            continue
        p0, p1 = pause
        out[i], out[i + 1] = replace(a, end=round(p0, 3)), replace(b, start=round(p1, 3))
    return out


def _silent(quiet: np.ndarray, s: Segment) -> bool:
    """A short region (under SILENT_MAX_S) in which no frame is above the quiet level."""
    if s.duration >= SILENT_MAX_S:
        return False
    frames = quiet[int(round(s.start / FRAME_S)) : int(round(s.end / FRAME_S))]
    return frames.size > 0 and bool(frames.all())


def _pause_near(quiet: np.ndarray, t: float, after: float, before: float) -> tuple[float, float] | None:
    """The longest quiet run of at least MIN_PAUSE_S that overlaps t +- SEARCH_S, in seconds,
    among those that start after ``after`` and end before ``before`` (a pause must not
    swallow a whole region: the first region's start and the next one's end)."""
    lo = max(0, int((t - SEARCH_S) / FRAME_S))
    hi = min(len(quiet), int((t + SEARCH_S) / FRAME_S) + 1)
    if hi <= lo:
        return None
    runs = [
        (a + lo, b + lo)
        for a, b in runs_of(quiet[lo:hi])
        if (b - a) * FRAME_S >= MIN_PAUSE_S and (a + lo) * FRAME_S > after and (b + lo) * FRAME_S < before
    ]
    if not runs:
        return None
    a, b = max(runs, key=lambda r: (r[1] - r[0], -abs((r[0] + r[1]) / 2 * FRAME_S - t)))
    return a * FRAME_S, b * FRAME_S
