"""What the report template receives: plain data prepared from a result (no HTML here).

Everything the page shows is computed here and tested on its own (``tests/test_report_data.py``):
header facts, timeline lanes and marks, metric cards with their reference cue, transcript
turns with inline marks, and the two charts.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Optional

from ..align import talk_seconds
from ..metrics.reference import CITATIONS, QUALITIES
from ..metrics.registry import all_metrics
from ..outputs import mmss, speaker_label
from ..result import Result, Segment
from .glance import at_a_glance, moments

CAVEAT = (
    "Automatic analysis: the numbers are proxies computed from who spoke when and what the "
    "speech recogniser heard. They are context for reflection, not a verdict on the consultation."
)
ROLE_ORDER = {"clinician": 0, "patient": 1, "other": 2}
GROUPS = [
    ("equality", QUALITIES["equality"]),
    ("presence", QUALITIES["presence"]),
    ("empathy", QUALITIES["empathy"]),
    (None, "Context: numbers that help read the others."),
]
LATENCY_BINS = [-math.inf, -1.0, -0.5, -0.2, 0.0, 0.2, 0.5, 1.0, 2.0, math.inf]


def fmt_value(value: Any, unit: str) -> str:
    """A metric value as shown on its card."""
    if value is None:
        return "n/a (not enough speech to measure)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if unit == "share":
        return f"{value * 100:.0f} %"
    if unit == "s":
        return f"{value:.1f} s" if abs(value) < 60 else f"{mmss(value)} (m:s)"
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


def card_title(name: str) -> str:
    """'clinician_waits_ge_1s' -> 'Clinician waits (1 s or more)'."""
    t = name.replace("_ge_1s", " (1 s or more)").replace("_per_10min", " per 10 min")
    if t.endswith("_s"):
        t = t[:-2]
    t = t.replace("_wpm", " words per minute").replace("_", " ")
    return t[:1].upper() + t[1:]


def _cue(value: Any, unit: str, refs) -> Optional[dict]:
    """Where the value sits relative to the reference values (percent positions on one axis)."""
    if value is None or isinstance(value, bool) or not refs:
        return None
    numeric = [r for r in refs if r.value is not None or r.low is not None]
    if not numeric:
        return None
    if unit == "share":
        lo_axis, hi_axis = 0.0, 1.0
    else:
        points = [value] + [x for r in numeric for x in (r.value, r.low, r.high) if x is not None]
        lo_axis = min(0.0, min(points))
        hi_axis = max(points) * 1.15 if max(points) > 0 else 1.0
    span = (hi_axis - lo_axis) or 1.0

    def pct(x: float) -> float:
        return round(max(0.0, min(100.0, (x - lo_axis) / span * 100)), 2)

    band = None
    ticks = []
    for r in numeric:
        if r.low is not None:
            band = {"lo": pct(r.low), "hi": pct(r.high), "label": r.label}
        else:
            ticks.append({"pct": pct(r.value), "label": r.label, "value": r.value})
    return {
        "marker": pct(float(value)),
        "band": band,
        "ticks": ticks,
        "axis": [fmt_value(lo_axis, unit), fmt_value(hi_axis, unit)],
    }


def metric_cards(metrics: dict) -> list[dict]:
    """Cards grouped by the quality each metric is a proxy for."""
    groups = []
    for key, title in GROUPS:
        cards = []
        for info in all_metrics():
            if info.quality != key or info.name not in metrics:
                continue
            value = metrics[info.name]
            cards.append(
                {
                    "name": info.name,
                    "title": card_title(info.name),
                    "value": fmt_value(value, info.unit),
                    "raw": value,
                    "what": info.what,
                    "cannot_tell": info.cannot_tell,
                    "references": [{"label": r.label, "citation": CITATIONS[r.citation]} for r in info.references],
                    "cue": _cue(value, info.unit, info.references),
                }
            )
        if cards:
            groups.append({"key": key or "context", "title": title, "cards": cards})
    return groups


def _lanes(result: Result) -> list[dict]:
    speakers = sorted(result.speakers, key=lambda s: (ROLE_ORDER.get(s.role, 3), s.id))
    lanes = []
    for s in speakers:
        label = {"clinician": "Clinician", "patient": "Patient"}.get(s.role, f"Other ({s.id})")
        if s.name:
            label += f" ({s.name})"
        lanes.append({"id": s.id, "role": s.role, "label": label})
    return lanes


def _overlaps(segments: list[Segment]) -> list[dict]:
    """Times when two or more speakers talk at once."""
    points = sorted([(s.start, 1) for s in segments] + [(s.end, -1) for s in segments])
    out, active, start = [], 0, 0.0
    for t, d in points:
        before = active
        active += d
        if before < 2 <= active:
            start = t
        elif before >= 2 > active and t > start:
            out.append({"start": round(start, 3), "end": round(t, 3)})
    return out


def _attach_marks(turns: list[dict], events: dict, roles: dict[str, str]) -> None:
    """Interruptions on the interrupting turn, backchannels on the turn they were said over."""

    def find(t: float, speaker: Optional[str], other: bool) -> Optional[dict]:
        cands = [x for x in turns if (x["speaker"] != speaker if other else x["speaker"] == speaker)]
        inside = [x for x in cands if x["start"] - 0.3 <= t <= x["end"]]
        if inside:
            return inside[0]
        return min(cands, key=lambda x: abs(x["start"] - t), default=None)

    for e in events.get("interruptions", []):
        turn = find(e["start"], e["speaker"], other=False)
        if turn is not None:
            who = "patient" if e["role"] == "clinician" else "clinician"
            turn["marks"].append(
                {
                    "kind": "interruption",
                    "time": e["start"],
                    "text": f"interrupts the {who}" + (" and takes the floor" if e["successful"] else ""),
                }
            )
    for e in events.get("questions") or []:
        turn = find(e["start"], e["speaker"], other=False)
        if turn is not None and e["role"] == "clinician":
            turn["marks"].append({"kind": "question", "time": e["start"], "text": f"{e['kind']} question"})
    for e in events.get("reflections") or []:
        turn = find(e["start"], e["speaker"], other=False)
        if turn is not None:
            turn["marks"].append({"kind": "reflection", "time": e["start"], "text": "reflection"})
    for e in events.get("empathic_opportunities") or []:
        turn = find(e["start"], e["speaker"], other=False)
        if turn is not None:
            taken = "taken up" if e["outcome"] == "responded" else "not taken up in the next words"
            turn["marks"].append({"kind": "cue", "time": e["start"], "text": f"worry or feeling voiced ({taken})"})
    for e in events.get("backchannels", []):
        turn = find(e["start"], e["speaker"], other=True)
        if turn is not None:
            turn["marks"].append(
                {
                    "kind": "backchannel",
                    "time": e["start"],
                    "text": f"{e['role'].capitalize()} backchannel at {mmss(e['start'])}",
                }
            )


def transcript(result: Result) -> list[dict]:
    turns = []
    for i, t in enumerate(x for x in result.turns if x.text):
        turns.append(
            {
                "i": i,
                "speaker": t.speaker,
                "role": t.role,
                "label": speaker_label(t),
                "start": t.start,
                "end": t.end,
                "clock": mmss(t.start),
                "text": t.text,
                "marks": [],
            }
        )
    _attach_marks(turns, result.metrics.get("events", {}), {s.id: s.role for s in result.speakers})
    return turns


def talk_per_minute(result: Result) -> list[dict]:
    """Seconds of clinician and patient talk in each minute, and the clinician's share."""
    roles = {s.id: s.role for s in result.speakers}
    minutes = max(1, math.ceil(result.recording.duration_s / 60))
    rows = []
    for m in range(minutes):
        a, b = m * 60.0, min((m + 1) * 60.0, result.recording.duration_s)
        clipped = [
            Segment(roles[s.speaker], max(a, s.start), min(b, s.end))
            for s in result.segments
            if roles.get(s.speaker) in ("clinician", "patient") and s.end > a and s.start < b
        ]
        talk = talk_seconds(clipped)
        secs = {role: round(talk.get(role, 0.0), 2) for role in ("clinician", "patient")}
        both = secs["clinician"] + secs["patient"]
        rows.append(
            {
                "minute": m + 1,
                "clinician_s": secs["clinician"],
                "patient_s": secs["patient"],
                "clinician_share": round(secs["clinician"] / both, 4) if both > 0 else None,
            }
        )
    return rows


def latency_histogram(events: dict) -> list[dict]:
    """Floor transfer offsets in bins, separately for replies by the clinician and by the patient."""
    bins = []
    for lo, hi in zip(LATENCY_BINS, LATENCY_BINS[1:]):
        if lo == -math.inf:
            label = f"< {hi:g}"
        elif hi == math.inf:
            label = f">= {lo:g}"
        else:
            label = f"{lo:g} to {hi:g}"
        counts = {"clinician": 0, "patient": 0}
        for e in events.get("transfers", []):
            if lo <= e["offset_s"] < hi:
                counts[e["to"]] += 1
        bins.append({"label": label, "lo": lo, "hi": hi, **counts})
    return bins


def timeline_data(result: Result, turns: list[dict]) -> dict:
    lanes = _lanes(result)
    index = {lane["id"]: i for i, lane in enumerate(lanes)}
    ev = result.metrics.get("events", {})
    return {
        "duration": result.recording.duration_s,
        "lanes": lanes,
        "segments": [
            {"lane": index[s.speaker], "start": s.start, "end": s.end} for s in result.segments if s.speaker in index
        ],
        "overlaps": _overlaps(result.segments),
        "interruptions": ev.get("interruptions", []),
        "backchannels": ev.get("backchannels", []),
        "pauses": ev.get("listening_pauses", []),
        "opening": ev.get("opening_statement"),
        "questions": [
            {"start": e["start"], "kind": e["kind"]} for e in ev.get("questions") or [] if e.get("role") == "clinician"
        ],
        "cues": [{"start": e["start"], "outcome": e["outcome"]} for e in ev.get("empathic_opportunities") or []],
        "turns": [{"i": t["i"], "start": t["start"], "end": t["end"]} for t in turns],
    }


def prepare(result: Result, audio: Optional[dict] = None) -> dict:
    """Everything the template needs.

    Args:
        result: the analysis.
        audio: ``{"src": url, "mime": type, "embedded": bool}`` or None (no player).
    """
    turns = transcript(result)
    m = result.metrics
    return {
        "title": f"Consultation review: {Path(result.recording.path).name}",
        "labels": label_facts(result.labels),
        "recording": Path(result.recording.path).name,
        "analysed": result.created.replace("T", " ").replace("+00:00", " UTC"),
        "duration": mmss(result.recording.duration_s),
        "models": [{"stage": x.stage, "name": x.name, "version": x.version} for x in result.models],
        "version": result.attunement_version,
        "caveat": CAVEAT,
        "notes": list(result.notes) + list(m.get("notes", [])) + _redaction_note(result),
        "warnings": list((result.quality or {}).get("warnings", [])),
        "roles": result.roles.get("explanation", ""),
        "roles_uncertain": roles_uncertain(result),
        "mode": result.mode.get("reason", ""),
        "variant": m.get("backchannel_variant"),
        "groups": metric_cards(m) if m.get("clinician") else [],
        "glance": at_a_glance(m) if m.get("clinician") else [],
        "moments": moments(result) if m.get("clinician") else [],
        "turns": turns,
        "talk_per_minute": talk_per_minute(result),
        "latencies": latency_histogram(m.get("events", {})),
        "timeline": timeline_data(result, turns),
        "audio": audio,
    }


def roles_uncertain(result: Result) -> bool:
    """Whether the report should say that the roles may be wrong: nobody asked a question (the
    first speaker was taken), the voice match and the question rule disagree, or more than two
    speakers were found. Roles set by hand are not doubted."""
    r = result.roles
    if r.get("manual"):
        return False
    return r.get("rule") == "first_speaker" or bool(r.get("conflict")) or len(result.speakers) > 2


def label_name(key: str) -> str:
    """A label's key as a heading: ``student_id`` -> ``Student id``."""
    text = key.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def label_facts(labels: dict[str, str]) -> list[dict]:
    """The labels for the report header, the usual ones first (student, clinician, station, date)."""
    first = ("student", "student_id", "candidate", "clinician", "station", "date", "examiner")
    keys = sorted(labels, key=lambda k: (first.index(k) if k in first else len(first), k.lower()))
    return [{"name": label_name(k), "value": labels[k]} for k in keys if str(labels[k]).strip()]


def _redaction_note(result: Result) -> list[str]:
    """What --redact did, for the top of the report."""
    if not result.redaction:
        return []
    counts = result.redaction.get("replaced_words") or {}
    done = ", ".join(f"{n} x {ph}" for ph, n in sorted(counts.items())) or "nothing was found to replace"
    return [
        f"redacted: personal identifiers in the transcript were replaced ({done}) by "
        f"{result.redaction.get('engine', 'Presidio')}; automatic detection misses some, so check before "
        "sharing. The audio is left out."
    ]
