"""Timing metrics of a consultation: speaker regions in, numbers out.

The definitions are the contract in ``docs/metrics.md``; this module implements them
exactly. Metrics come from speaker timing (diarization or annotation), never from
Whisper word times. Words, when given, only add the word-based metrics and the
word-aware backchannel variant.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict, dataclass
from typing import Optional, Sequence

from ..result import Segment, Word
from . import language
from .timeline import (
    Spurt,
    activity,
    containing,
    first_solo_at_or_after,
    floor_entries,
    runs_of,
    talkspurts,
    to_frames,
    turns_from_floor,
)


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

    def frames(self, seconds: float) -> int:
        return to_frames(seconds, self.frame)


TIMING_METRICS = [
    "clinician_talk_s", "patient_talk_s", "clinician_talk_share", "overlap_s", "silence_s",
    "clinician_turns", "patient_turns", "clinician_longest_turn_s", "patient_longest_turn_s",
    "clinician_mean_turn_s", "patient_mean_turn_s",
    "clinician_backchannels", "patient_backchannels",
    "clinician_interruptions", "clinician_interruptions_successful",
    "patient_interruptions", "patient_interruptions_successful",
    "clinician_response_latency_median_s", "patient_response_latency_median_s",
    "clinician_waits_ge_1s", "patient_pauses_ge_1s", "listening_pauses", "listening_pauses_per_10min",
    "opening_statement_s", "opening_first_clinician_vocalization_s", "opening_interrupted",
]
WORD_METRICS = [
    "clinician_words", "patient_words", "clinician_wpm", "patient_wpm",
    "clinician_questions", "clinician_open_questions", "clinician_open_question_share",
    "patient_questions", "clinician_empathy_statements",
]
METRIC_NAMES = TIMING_METRICS + WORD_METRICS


def _s(frames: float, p: Params) -> float:
    return round(frames * p.frame, 2)


def compute(
    segments: Sequence[Segment],
    clinician: Optional[str],
    duration: Optional[float] = None,
    words: Optional[Sequence[Word]] = None,
    params: Params = Params(),
    patient: Optional[str] = None,
) -> dict:
    """All metrics of one consultation.

    Args:
        segments: speaker regions (overlap-aware; any number of speakers).
        clinician: the clinician's speaker label (None: no clinician, metrics undefined).
        duration: recording length in seconds (default: end of the last region).
        words: recognised words with speakers, for the word-based metrics (optional).
        params: thresholds.
        patient: the patient's label; default the most talkative other speaker.

    Returns:
        A flat dict of every name in :data:`METRIC_NAMES` (``None`` where undefined; word
        metrics only when ``words`` is given) plus ``clinician``, ``patient``,
        ``speakers`` (per-speaker talk table), ``backchannel_variant``, ``parameters`` and
        ``notes``.
    """
    p = params
    segs = [s for s in segments if s.end > s.start]
    if duration is None:
        duration = max((s.end for s in segs), default=0.0)
    n = max(p.frames(duration), 0)  # regions past the duration are cut
    labels = sorted({s.speaker for s in segs}, key=lambda spk: (min(s.start for s in segs if s.speaker == spk), spk))
    acts = {
        spk: activity([(s.start, s.end) for s in segs if s.speaker == spk], n, p.frame, p.frames(p.min_pause))
        for spk in labels
    }
    talk = {spk: int(a.sum()) for spk, a in acts.items()}
    if patient not in labels or patient == clinician:
        patient = None
        others = [s for s in labels if s != clinician] if clinician is not None else []
        if others:
            patient = max(others, key=lambda s: (talk[s], -labels.index(s)))

    notes: list[str] = []
    out: dict = {name: None for name in TIMING_METRICS}
    if words is not None:
        out.update({name: None for name in WORD_METRICS})
    any_talk = sum(talk.values())
    out["speakers"] = [
        {
            "id": spk,
            "role": "clinician" if spk == clinician else "patient" if spk == patient else "other",
            "talk_s": _s(talk[spk], p),
            "share_of_all_talk": round(talk[spk] / any_talk, 4) if any_talk else None,
        }
        for spk in labels
    ]
    out["clinician"] = clinician
    out["patient"] = patient
    out["backchannel_variant"] = "timing"
    out["parameters"] = asdict(p)
    out["notes"] = notes

    if not labels:
        notes.append("no speech: every metric is undefined (null)")
        return out
    if clinician is None or clinician not in acts:
        notes.append("no clinician: the metrics are undefined (null)")
        return out
    c_act = acts[clinician]
    c_talk = talk[clinician]
    if patient is None:
        notes.append("only one speaker: two-party metrics are undefined (null)")
        out["clinician_talk_s"] = _s(c_talk, p)
        if words is not None:
            out.update(language.word_metrics(words, clinician, None, c_talk * p.frame, 0.0))
        return out

    p_act = acts[patient]
    p_talk = talk[patient]
    out["clinician_talk_s"] = _s(c_talk, p)
    out["patient_talk_s"] = _s(p_talk, p)
    out["clinician_talk_share"] = round(c_talk / (c_talk + p_talk), 4) if c_talk + p_talk else None
    out["overlap_s"] = _s(int((c_act & p_act).sum()), p)
    neither = ~c_act & ~p_act
    out["silence_s"] = _s(int(neither.sum()), p)

    spurts = {clinician: talkspurts(clinician, c_act), patient: talkspurts(patient, p_act)}
    entries = floor_entries(c_act, p_act, clinician, patient)
    turns = turns_from_floor(entries, spurts, n)
    role_of = {clinician: "clinician", patient: "patient"}
    for spk, role in role_of.items():
        lengths = [t.length for t in turns if t.speaker == spk]
        out[f"{role}_turns"] = len(lengths)
        out[f"{role}_longest_turn_s"] = _s(max(lengths), p) if lengths else None
        out[f"{role}_mean_turn_s"] = _s(sum(lengths) / len(lengths), p) if lengths else None

    events: dict = {"turns": [], "backchannels": [], "interruptions": [], "transfers": [],
                    "listening_pauses": [], "opening_statement": None}
    out["events"] = events
    for t in turns:
        events["turns"].append(_span(t.start, t.end, p, speaker=t.speaker, role=role_of[t.speaker]))

    # listener vocalizations: backchannels and interruptions
    turn_starts = {(t.speaker, t.start) for t in turns}
    bc_variant_words = words is not None and len(words) > 0
    out["backchannel_variant"] = "words" if bc_variant_words else "timing"
    interruptions: list[tuple[str, int, bool]] = []
    for spk, other in ((clinician, patient), (patient, clinician)):
        role = role_of[spk]
        for s in spurts[spk]:
            o = containing(spurts[other], s.start)
            if o is None or o.start >= s.start:
                continue  # the other was not already talking at S's onset
            starts_turn = (spk, s.start) in turn_starts
            is_bc_words = bc_variant_words and s.length <= p.frames(p.backchannel_words_max) and \
                language.only_backchannel_tokens(_words_in(words, spk, s, p))
            if s.length <= p.frames(p.backchannel_max) or is_bc_words:
                if not starts_turn:
                    events["backchannels"].append(_span(s.start, s.end, p, speaker=spk, role=role))
                continue
            if o.end - s.start >= p.frames(p.interrupt_overlap):
                successful = first_solo_at_or_after(entries, s.start) == spk
                interruptions.append((spk, s.start, successful))
                events["interruptions"].append(
                    _span(s.start, s.end, p, speaker=spk, role=role, successful=successful))
    events["backchannels"].sort(key=lambda e: e["start"])
    events["interruptions"].sort(key=lambda e: e["start"])
    for role in role_of.values():
        mine = [e for e in events["interruptions"] if e["role"] == role]
        out[f"{role}_backchannels"] = sum(1 for e in events["backchannels"] if e["role"] == role)
        out[f"{role}_interruptions"] = len(mine)
        out[f"{role}_interruptions_successful"] = sum(1 for e in mine if e["successful"])

    # floor transfer offsets
    ftos: dict[str, list[int]] = {"clinician": [], "patient": []}  # frames, by who takes the floor
    waits = []
    for prev, nxt in zip(turns, turns[1:]):
        if prev.speaker != nxt.speaker:
            to_role = role_of[nxt.speaker]
            ftos[to_role].append(nxt.start - prev.end)
            events["transfers"].append({"to": to_role, "from_end": _s(prev.end, p), "to_start": _s(nxt.start, p),
                                        "offset_s": _s(nxt.start - prev.end, p)})
            if to_role == "clinician" and nxt.start - prev.end >= p.frames(p.listen_pause):
                waits.append((prev.end, nxt.start))
    for role in ("clinician", "patient"):
        vals = ftos[role]
        out[f"{role}_response_latency_median_s"] = _s(statistics.median(vals), p) if vals else None

    # listening pauses
    listen = p.frames(p.listen_pause)
    for a, b in waits:
        events["listening_pauses"].append(_span(a, b, p, kind="clinician_wait"))
    pauses = 0
    for a, b in runs_of(neither):
        if b - a < listen:
            continue
        if any(t.speaker == patient and t.start <= a and b <= t.end for t in turns):
            pauses += 1
            events["listening_pauses"].append(_span(a, b, p, kind="patient_pause"))
    events["listening_pauses"].sort(key=lambda e: e["start"])
    out["clinician_waits_ge_1s"] = len(waits)
    out["patient_pauses_ge_1s"] = pauses
    out["listening_pauses"] = len(waits) + pauses
    minutes = n * p.frame / 60.0
    out["listening_pauses_per_10min"] = round(out["listening_pauses"] / minutes * 10, 2) if minutes > 0 else None

    # opening statement
    opening = next((t for t in turns if t.speaker == patient and t.length >= p.frames(p.opening_min)), None)
    if opening is not None:
        events["opening_statement"] = _span(opening.start, opening.end, p)
        out["opening_statement_s"] = _s(opening.length, p)
        first_c = next((s for s in spurts[clinician] if opening.start <= s.start < opening.end), None)
        out["opening_first_clinician_vocalization_s"] = (
            _s(first_c.start - opening.start, p) if first_c is not None else None
        )
        out["opening_interrupted"] = any(
            spk == clinician and ok and opening.start <= f < opening.end for spk, f, ok in interruptions
        )
    else:
        notes.append(f"no patient turn of at least {p.opening_min:g} s: no opening statement")

    if words is not None:
        out.update(language.word_metrics(words, clinician, patient, c_talk * p.frame, p_talk * p.frame))
    return out


def _span(start: int, end: int, p: Params, **extra) -> dict:
    return {**extra, "start": _s(start, p), "end": _s(end, p)}


def _words_in(words: Sequence[Word], speaker: str, spurt: Spurt, p: Params) -> list[Word]:
    """The speaker's words whose midpoint lies inside the talkspurt."""
    a, b = spurt.start * p.frame, spurt.end * p.frame
    return [w for w in words if w.speaker == speaker and a <= (w.start + w.end) / 2 < b]


def as_row(metrics: dict) -> dict:
    """The scalar metrics, in contract order (for CSV)."""
    names = [n for n in METRIC_NAMES if n in metrics]
    row = {"clinician": metrics.get("clinician"), "patient": metrics.get("patient")}
    row.update({n: metrics[n] for n in names})
    row["backchannel_variant"] = metrics.get("backchannel_variant")
    return row
