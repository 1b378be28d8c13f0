"""Frame-level timeline: activity, talkspurts, floor and turns (see ``docs/metrics.md``).

Everything works on integer frame indices (default 10 ms) so that thresholds such as
"at least 0.3 s" are exact. Frame ``i`` covers ``[i * frame, (i + 1) * frame)``; a region
``[start, end)`` covers frames ``round(start / frame)`` to ``round(end / frame) - 1``.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from typing import Iterable, Optional, Sequence

import numpy as np


@dataclass(frozen=True)
class Spurt:
    """A talkspurt: a maximal run of one speaker's activity, in frames ``[start, end)``."""

    speaker: str
    start: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class FloorEntry:
    """A run of solo frames of one speaker (consecutive runs of that speaker merged)."""

    speaker: str
    first: int  # first solo frame
    last: int  # last solo frame (inclusive)


@dataclass(frozen=True)
class TurnSpan:
    """A turn in frames ``[start, end)``."""

    speaker: str
    start: int
    end: int
    entry_first: int  # first solo frame of the floor entry that made it

    @property
    def length(self) -> int:
        return self.end - self.start


def to_frames(t: float, frame: float) -> int:
    return int(round(t / frame))


def activity(regions: Iterable[tuple[float, float]], n_frames: int, frame: float, min_pause_frames: int) -> np.ndarray:
    """Boolean activity of one speaker; interior silences shorter than the pause are filled."""
    act = np.zeros(n_frames, dtype=bool)
    for start, end in regions:
        a, b = max(0, to_frames(start, frame)), min(n_frames, to_frames(end, frame))
        if b > a:
            act[a:b] = True
    if min_pause_frames > 0:
        runs = runs_of(act)
        for (_s0, e0), (s1, _e1) in zip(runs, runs[1:]):
            if s1 - e0 < min_pause_frames:
                act[e0:s1] = True
    return act


def runs_of(mask: np.ndarray) -> list[tuple[int, int]]:
    """Maximal runs of True as ``[start, end)`` pairs."""
    if mask.size == 0:
        return []
    padded = np.concatenate(([False], mask, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(edges[i]), int(edges[i + 1])) for i in range(0, len(edges), 2)]


def talkspurts(speaker: str, act: np.ndarray) -> list[Spurt]:
    return [Spurt(speaker, a, b) for a, b in runs_of(act)]


def floor_entries(c_act: np.ndarray, p_act: np.ndarray, c: str, p: str) -> list[FloorEntry]:
    """Runs of solo frames (exactly one of the two active), same-speaker runs merged."""
    entries: list[FloorEntry] = []
    solo_c = c_act & ~p_act
    solo_p = p_act & ~c_act
    runs = [(a, b, c) for a, b in runs_of(solo_c)] + [(a, b, p) for a, b in runs_of(solo_p)]
    runs.sort()
    for a, b, spk in runs:
        if entries and entries[-1].speaker == spk:
            entries[-1] = FloorEntry(spk, entries[-1].first, b - 1)
        else:
            entries.append(FloorEntry(spk, a, b - 1))
    return entries


def containing(spurts: Sequence[Spurt], frame_index: int) -> Optional[Spurt]:
    """The talkspurt that covers ``frame_index`` (None if none). ``spurts``: one speaker's, in
    order and apart (as :func:`talkspurts` makes them), so a bisection finds it."""
    i = bisect.bisect_right(spurts, frame_index, key=lambda s: s.start) - 1
    if i >= 0 and spurts[i].start <= frame_index < spurts[i].end:
        return spurts[i]
    return None


def turns_from_floor(entries: Sequence[FloorEntry], spurts: dict[str, list[Spurt]], n_frames: int) -> list[TurnSpan]:
    """One turn per floor entry.

    Start = onset of the speaker's talkspurt containing the entry's first solo frame; end =
    the latest end of the speaker's talkspurts that begin before the next entry's first solo
    frame (or the recording end).
    """
    turns = []
    for k, e in enumerate(entries):
        own = spurts[e.speaker]
        first = containing(own, e.first)
        start = first.start if first is not None else e.first
        limit = entries[k + 1].first if k + 1 < len(entries) else n_frames
        # the speaker's spurts are in order and apart: the last one that begins before the limit
        # ends latest
        i = bisect.bisect_left(own, limit, key=lambda s: s.start) - 1
        end = own[i].end if i >= 0 and own[i].end > start else e.last + 1
        turns.append(TurnSpan(e.speaker, start, end, e.first))
    return turns


def first_solo_at_or_after(entries: Sequence[FloorEntry], frame_index: int) -> Optional[str]:
    """Speaker of the first solo frame at or after ``frame_index`` (``entries`` in time order)."""
    i = bisect.bisect_left(entries, frame_index, key=lambda e: e.last)
    return entries[i].speaker if i < len(entries) else None
