"""The :class:`Timeline` of one consultation: what every metric group reads, built once.

Frames, each speaker's activity, the clinician and the patient, their talkspurts, the floor
and the turns, the listener vocalizations (backchannels and interruptions) and the floor
transfers. Each piece is computed the first time a group asks for it (definitions:
``docs/metrics.md``).
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property
from typing import Optional, Sequence

import numpy as np

from ..errors import InputError
from ..result import Segment, Word
from ..roles import most_talkative
from ..sentences import Sentence, split
from .questions import question_events
from .timeline import (
    FloorEntry,
    Spurt,
    TurnSpan,
    activity,
    containing,
    first_solo_at_or_after,
    floor_entries,
    talkspurts,
    to_frames,
    turns_from_floor,
)

MAX_DURATION_S = 24 * 3600  # 8.6 million 10 ms frames per speaker at most


@dataclass(frozen=True)
class Params:
    """Metric parameters (seconds). All are options of ``attune metrics``."""

    frame: float = 0.01
    min_pause: float = 0.25
    backchannel_max: float = 1.0
    interrupt_overlap: float = 0.3
    listen_pause: float = 1.0
    opening_min: float = 3.0
    backchannel_words_max: float = 2.0
    # the rising-pitch question cue: a rise of this many semitones at a sentence's end (None: not
    # used; on the re-voiced benchmark none of the rises it found was a question, docs/benchmarks.md)
    rising_pitch_st: Optional[float] = None

    def frames(self, seconds: float) -> int:
        return to_frames(seconds, self.frame)

    def validate(self) -> None:
        """Raise :class:`~pipeline.errors.AttuneError` (naming the parameter) on an impossible value."""
        from ..errors import AttuneError

        for name in (
            "frame",
            "min_pause",
            "backchannel_max",
            "interrupt_overlap",
            "listen_pause",
            "opening_min",
            "backchannel_words_max",
        ):
            v = getattr(self, name)
            if name == "frame" and not (0 < v <= 1):
                raise AttuneError(f"{{frame}} must be between 0 and 1 seconds (got {v})", "frame")
            if not (v >= 0):
                raise AttuneError(f"{{{name}}} must be zero or more seconds (got {v})", name)
        if self.rising_pitch_st is not None and not (self.rising_pitch_st > 0):
            raise AttuneError(
                f"{{rising_pitch_st}} must be more than 0 semitones (got {self.rising_pitch_st})", "rising_pitch_st"
            )


@dataclass(frozen=True)
class Interruption:
    speaker: str
    start: int  # frame
    successful: bool


@dataclass
class Listener:
    """Listener vocalizations: backchannels and interruptions (events), in time order."""

    backchannels: list[dict]
    interruptions: list[dict]
    raw: list[Interruption]


@dataclass
class Transfers:
    """Floor transfers: offsets (frames) by who takes the floor, their events, clinician waits."""

    offsets: dict[str, list[int]]
    events: list[dict]
    waits: list[tuple[int, int]]


class Timeline:
    """One consultation on the frame grid (see the module docstring)."""

    def __init__(
        self,
        segments: Sequence[Segment],
        clinician: Optional[str],
        duration: Optional[float] = None,
        words: Optional[Sequence[Word]] = None,
        params: Params = Params(),
        patient: Optional[str] = None,
        rising: Optional[dict[tuple[str, float], bool]] = None,
    ):
        p = self.params = params
        self.rising = rising or {}  # (speaker, sentence end) -> pitch rose (pipeline.prosody)
        segs = [s for s in segments if s.end > s.start]
        if duration is None:
            duration = max((s.end for s in segs), default=0.0)
        if not duration <= MAX_DURATION_S:  # also NaN: the frame grid would not fit in memory
            raise InputError(
                f"implausible consultation length: {duration:g} s "
                f"(the metrics cover at most {MAX_DURATION_S // 3600} h)"
            )
        self.n = max(p.frames(duration), 0)  # regions past the duration are cut
        first: dict[str, float] = {}
        for s in segs:
            first[s.speaker] = min(first.get(s.speaker, s.start), s.start)
        self.labels = sorted(first, key=lambda spk: (first[spk], spk))
        self.acts = {
            spk: activity([(s.start, s.end) for s in segs if s.speaker == spk], self.n, p.frame, p.frames(p.min_pause))
            for spk in self.labels
        }
        self.talk = {spk: int(a.sum()) for spk, a in self.acts.items()}
        if patient not in self.labels or patient == clinician:
            talk = {k: float(v) for k, v in self.talk.items()}
            patient = most_talkative(talk, self.labels, clinician) if clinician is not None else None
        self.clinician = clinician
        self.patient = patient
        self.words = words
        self.notes: list[str] = []

    # ------------------------------------------------------------------ helpers
    def s(self, frames: float) -> float:
        """Frames -> seconds (rounded to 10 ms)."""
        return round(frames * self.params.frame, 2)

    def span(self, start: int, end: int, **extra) -> dict:
        return {**extra, "start": self.s(start), "end": self.s(end)}

    @property
    def two_parties(self) -> bool:
        return self.clinician in self.acts and self.patient is not None

    @property
    def parties(self) -> tuple[str, str]:
        """(clinician, patient): only for the two-party metrics."""
        assert self.clinician is not None and self.patient is not None, "a two-party metric without two parties"
        return self.clinician, self.patient

    @property
    def role_of(self) -> dict[str, str]:
        c, p = self.parties
        return {c: "clinician", p: "patient"}

    # ------------------------------------------------------------------ built once
    @cached_property
    def sentences(self) -> list[Sentence]:
        """The recognised words as sentences (:func:`pipeline.sentences.split`), split once for
        every word group."""
        return split(self.words or [])

    @cached_property
    def questions(self) -> list[dict]:
        """Every question of any speaker, as events (:func:`.questions.question_events`)."""
        return question_events(self.sentences, self.clinician, self.patient, self.rising)

    @cached_property
    def neither(self) -> np.ndarray:
        """Frames in which neither the clinician nor the patient is talking."""
        c, p = self.parties
        return ~self.acts[c] & ~self.acts[p]

    @cached_property
    def spurts(self) -> dict[str, list[Spurt]]:
        c, p = self.parties
        return {c: talkspurts(c, self.acts[c]), p: talkspurts(p, self.acts[p])}

    @cached_property
    def entries(self) -> list[FloorEntry]:
        c, p = self.parties
        return floor_entries(self.acts[c], self.acts[p], c, p)

    @cached_property
    def turns(self) -> list[TurnSpan]:
        return turns_from_floor(self.entries, self.spurts, self.n)

    @cached_property
    def listener(self) -> Listener:
        """Each talkspurt that starts while the other is already talking: a backchannel when
        short (or, with words, only backchannel tokens), an interruption when the other goes
        on for at least ``interrupt_overlap``."""
        p = self.params
        turn_starts = {(t.speaker, t.start) for t in self.turns}
        by_words = bool(self.words)
        out = Listener([], [], [])
        c, pt = self.parties
        for spk, other in ((c, pt), (pt, c)):
            role = self.role_of[spk]
            for s in self.spurts[spk]:
                o = containing(self.spurts[other], s.start)
                if o is None or o.start >= s.start:
                    continue  # the other was not already talking at S's onset
                if s.length <= p.frames(p.backchannel_max) or (by_words and self._backchannel_words(spk, s)):
                    if (spk, s.start) not in turn_starts:
                        out.backchannels.append(self.span(s.start, s.end, speaker=spk, role=role))
                    continue
                if o.end - s.start >= p.frames(p.interrupt_overlap):
                    successful = first_solo_at_or_after(self.entries, s.start) == spk
                    out.raw.append(Interruption(spk, s.start, successful))
                    out.interruptions.append(self.span(s.start, s.end, speaker=spk, role=role, successful=successful))
        out.backchannels.sort(key=lambda e: e["start"])
        out.interruptions.sort(key=lambda e: e["start"])
        return out

    def _backchannel_words(self, speaker: str, spurt: Spurt) -> bool:
        from .language import only_backchannel_tokens

        p = self.params
        return spurt.length <= p.frames(p.backchannel_words_max) and only_backchannel_tokens(
            self.words_in(speaker, spurt)
        )

    @cached_property
    def _words_by_mid(self) -> tuple[list[float], list[tuple[int, Word]]]:
        """The words sorted by midpoint (with their original index), for bisection."""
        ws = sorted(enumerate(self.words or []), key=lambda iw: (iw[1].start + iw[1].end) / 2)
        return [(w.start + w.end) / 2 for _i, w in ws], ws

    def words_in(self, speaker: str, spurt: Spurt) -> list[Word]:
        """The speaker's words whose midpoint lies inside the talkspurt (in their given order)."""
        a, b = spurt.start * self.params.frame, spurt.end * self.params.frame
        mids, ws = self._words_by_mid
        lo, hi = bisect.bisect_left(mids, a), bisect.bisect_left(mids, b)
        return [w for _i, w in sorted(ws[lo:hi], key=lambda iw: iw[0]) if w.speaker == speaker]

    @cached_property
    def transfers(self) -> Transfers:
        """Changes of floor between consecutive turns, and the clinician's long waits."""
        p = self.params
        out = Transfers({"clinician": [], "patient": []}, [], [])
        for prev, nxt in zip(self.turns, self.turns[1:]):
            if prev.speaker == nxt.speaker:
                continue
            to_role = self.role_of[nxt.speaker]
            out.offsets[to_role].append(nxt.start - prev.end)
            out.events.append(
                {
                    "to": to_role,
                    "from_end": self.s(prev.end),
                    "to_start": self.s(nxt.start),
                    "offset_s": self.s(nxt.start - prev.end),
                }
            )
            if to_role == "clinician" and nxt.start - prev.end >= p.frames(p.listen_pause):
                out.waits.append((prev.end, nxt.start))
        return out
