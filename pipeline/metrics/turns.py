"""Turns: how often each party took the floor, and for how long."""

from __future__ import annotations

from .context import Timeline
from .reference import RefValue as _
from .registry import Measured, Metric, metric_group

ROTER_MEAN_TURN = _("physician mean turn 13.7 s (simulated patients)", "roter2008", value=13.7)

METRICS = (
    Metric(
        "clinician_turns",
        "equality",
        "count",
        "How many times the clinician took the floor (held it alone after the patient).",
        "Whether the turns were questions, explanations or small talk.",
        (_("3.9 speaker turns per minute, both parties together", "roter2008"),),
    ),
    Metric(
        "patient_turns", "equality", "count", "How many times the patient took the floor.", "What the patient said."
    ),
    Metric(
        "clinician_longest_turn_s",
        "equality",
        "s",
        "The clinician's longest turn: a long monologue leaves the patient little room.",
        "Whether the monologue was needed (for example, explaining a procedure).",
        (ROTER_MEAN_TURN,),
    ),
    Metric(
        "patient_longest_turn_s",
        "presence",
        "s",
        "The patient's longest uninterrupted turn: room given to tell their story.",
        "Whether the patient wanted to say more.",
        (_("mean spontaneous talking time when not interrupted: 92 s", "langewitz2002", value=92.0),),
        cohort_rank=6,
    ),
    Metric(
        "clinician_mean_turn_s",
        "equality",
        "s",
        "The clinician's average turn length.",
        "Whether long turns were appropriate.",
        (ROTER_MEAN_TURN,),
    ),
    Metric(
        "patient_mean_turn_s",
        "presence",
        "s",
        "The patient's average turn length.",
        "Why the patient spoke briefly (a closed question invites a short answer).",
        (_("simulated patient mean turn 3 s", "roter2008", value=3.0),),
    ),
)


@metric_group("turns", METRICS)
def turns(tl: Timeline) -> Measured:
    values: dict[str, float | int | None] = {}
    for spk, role in tl.role_of.items():
        lengths = [t.length for t in tl.turns if t.speaker == spk]
        values[f"{role}_turns"] = len(lengths)
        values[f"{role}_longest_turn_s"] = tl.s(max(lengths)) if lengths else None
        values[f"{role}_mean_turn_s"] = tl.s(sum(lengths) / len(lengths)) if lengths else None
    events = [tl.span(t.start, t.end, speaker=t.speaker, role=tl.role_of[t.speaker]) for t in tl.turns]
    return Measured(values, {"turns": events})
