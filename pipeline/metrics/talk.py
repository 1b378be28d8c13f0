"""Talk time: who held the air, overlap and silence."""

from __future__ import annotations

from .context import Timeline
from .reference import RefValue as _
from .registry import Measured, Metric, metric_group

METRICS = (
    Metric(
        "clinician_talk_s",
        "equality",
        "s",
        "Time the clinician was talking (overlap included).",
        "Anything about content.",
    ),
    Metric(
        "patient_talk_s",
        "equality",
        "s",
        "Time the patient was talking (overlap included).",
        "Anything about content.",
    ),
    Metric(
        "clinician_talk_share",
        "equality",
        "share",
        "The clinician's share of the time either party was talking (clinician seconds / "
        "(clinician + patient seconds)).",
        "Whether the talk was useful: explaining a diagnosis or a plan rightly takes time. "
        "Seconds are not utterances, so it is not directly comparable with RIAS counts.",
        (_("a different unit: physicians said 59-66 % of the utterances (RIAS, primary care)", "rias"),),
        cohort_rank=1,
    ),
    Metric("overlap_s", None, "s", "Time both were talking at once.", "Whether overlap was competitive or supportive."),
    Metric(
        "silence_s",
        None,
        "s",
        "Time neither clinician nor patient was talking.",
        "What happened in the silence (examination, writing, thinking).",
    ),
)


@metric_group("talk", METRICS, needs="clinician")
def talk(tl: Timeline) -> Measured:
    assert tl.clinician is not None
    c_talk = tl.talk[tl.clinician]
    if tl.patient is None:
        return Measured({"clinician_talk_s": tl.s(c_talk)})
    p_talk = tl.talk[tl.patient]
    both = tl.acts[tl.clinician] & tl.acts[tl.patient]
    return Measured(
        {
            "clinician_talk_s": tl.s(c_talk),
            "patient_talk_s": tl.s(p_talk),
            "clinician_talk_share": round(c_talk / (c_talk + p_talk), 4) if c_talk + p_talk else None,
            "overlap_s": tl.s(int(both.sum())),
            "silence_s": tl.s(int(tl.neither.sum())),
        }
    )
