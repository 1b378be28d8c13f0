"""Listener vocalizations: backchannels ("mm-hmm") told apart from interruptions."""

from __future__ import annotations

from .context import Timeline
from .reference import RefValue as _
from .registry import Measured, Metric, metric_group

METRICS = (
    Metric(
        "clinician_backchannels",
        "presence",
        "count",
        "Short listener sounds by the clinician ('mm-hmm', 'yeah') while the patient talks, "
        "that do not take the floor.",
        "Whether they were encouraging or impatient; automatic speech detection misses very quiet or very short ones.",
        (_("female consultants median 9, male median 7 backchannels in opening statements", "mulder2023"),),
        per_10min="clinician_backchannels_per_10min",
    ),
    Metric(
        "patient_backchannels",
        "presence",
        "count",
        "Short listener sounds by the patient while the clinician talks.",
        "Whether the patient understood or agreed.",
    ),
    Metric(
        "clinician_interruptions",
        "equality",
        "count",
        "Times the clinician started talking (for more than 1 s) while the patient was "
        "talking and the patient went on at least 0.3 s.",
        "Intent: some interruptions are collaborative (finishing a sentence, urgent "
        "clarification). Simultaneous starts are not counted.",
        (_("67 % of clinician 'interruptions' in opening statements were backchannels", "mulder2023"),),
        per_10min="clinician_interruptions_per_10min",
        cohort_rank=3,
    ),
    Metric(
        "clinician_interruptions_successful",
        "equality",
        "count",
        "Clinician interruptions after which the clinician held the floor alone first.",
        "Whether the patient had finished their point.",
    ),
    Metric(
        "patient_interruptions",
        "equality",
        "count",
        "Times the patient started talking over the clinician (same rule).",
        "Patients interrupting can be a sign of engagement as well as of frustration.",
        per_10min="patient_interruptions_per_10min",
    ),
    Metric(
        "patient_interruptions_successful",
        "equality",
        "count",
        "Patient interruptions after which the patient held the floor.",
        "Intent.",
    ),
)


@metric_group("listener", METRICS)
def listener(tl: Timeline) -> Measured:
    found = tl.listener
    values = {}
    for role in tl.role_of.values():
        mine = [e for e in found.interruptions if e["role"] == role]
        values[f"{role}_backchannels"] = sum(1 for e in found.backchannels if e["role"] == role)
        values[f"{role}_interruptions"] = len(mine)
        values[f"{role}_interruptions_successful"] = sum(1 for e in mine if e["successful"])
    return Measured(values, {"backchannels": found.backchannels, "interruptions": found.interruptions})
