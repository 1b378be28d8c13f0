"""Response latency and listening pauses: how each party took the floor, and the silences left."""

from __future__ import annotations

import statistics

from .context import Timeline
from .reference import RefValue as _
from .registry import Measured, Metric, metric_group
from .timeline import runs_of

GAPS = _("conversational gaps cluster at about 0-200 ms across languages", "stivers2009", low=0.0, high=0.2)

LATENCY = (
    Metric(
        "clinician_response_latency_median_s",
        "presence",
        "s",
        "Typical gap between the patient finishing and the clinician starting (negative = overlap).",
        "A fast reply can be attentive or hurried; a slow one thoughtful or distracted.",
        (GAPS,),
        cohort_rank=5,
    ),
    Metric(
        "patient_response_latency_median_s",
        "presence",
        "s",
        "Typical gap between the clinician finishing and the patient starting.",
        "Why the patient paused (thinking, emotion, a hard question).",
        (GAPS,),
    ),
)
PAUSES = (
    Metric(
        "clinician_waits_ge_1s",
        "presence",
        "count",
        "Times the clinician waited at least 1 s after the patient stopped before speaking.",
        "Whether the wait was attentive silence or distraction (for example, typing).",
    ),
    Metric(
        "patient_pauses_ge_1s",
        "presence",
        "count",
        "Silences of at least 1 s inside the patient's turns that the clinician left unfilled.",
        "Whether the patient wanted the clinician to come in.",
    ),
    Metric(
        "listening_pauses",
        "presence",
        "count",
        "Clinician waits plus patient pauses of at least 1 s.",
        "The quality of the silence.",
    ),
    Metric(
        "listening_pauses_per_10min",
        "presence",
        "per 10 min",
        "Listening pauses per 10 minutes of recording, to compare consultations of different lengths.",
        "The quality of the silence.",
        cohort_rank=4,
    ),
)


@metric_group("latency", LATENCY)
def latency(tl: Timeline) -> Measured:
    values = {}
    for role in ("clinician", "patient"):
        offsets = tl.transfers.offsets[role]
        values[f"{role}_response_latency_median_s"] = tl.s(statistics.median(offsets)) if offsets else None
    return Measured(values, {"transfers": tl.transfers.events})


@metric_group("pauses", PAUSES)
def pauses(tl: Timeline) -> Measured:
    waits = tl.transfers.waits
    events = [tl.span(a, b, kind="clinician_wait") for a, b in waits]
    listen = tl.params.frames(tl.params.listen_pause)
    patient_turns = [t for t in tl.turns if t.speaker == tl.patient]
    n_pauses = 0
    for a, b in runs_of(tl.neither):
        if b - a >= listen and any(t.start <= a and b <= t.end for t in patient_turns):
            n_pauses += 1
            events.append(tl.span(a, b, kind="patient_pause"))
    events.sort(key=lambda e: e["start"])
    minutes = tl.n * tl.params.frame / 60.0
    total = len(waits) + n_pauses
    return Measured(
        {
            "clinician_waits_ge_1s": len(waits),
            "patient_pauses_ge_1s": n_pauses,
            "listening_pauses": total,
            "listening_pauses_per_10min": round(total / minutes * 10, 2) if minutes > 0 else None,
        },
        {"listening_pauses": events},
    )
