"""The patient's opening statement: how long it ran, and when the clinician first came in."""

from __future__ import annotations

from .context import Timeline
from .reference import RefValue as _
from .registry import Measured, Metric, metric_group

METRICS = (
    Metric(
        "opening_statement_s",
        "presence",
        "s",
        "Length of the patient's first turn of at least 3 s: their opening account.",
        "Whether the patient had finished when the turn ended, or what the turn was about.",
        (
            _("mean 92 s when doctors wait", "langewitz2002", value=92.0),
            _("median 31.4 s to a floor-changing interruption", "mulder2023", value=31.4),
        ),
        cohort_rank=2,
    ),
    Metric(
        "opening_first_clinician_vocalization_s",
        "presence",
        "s",
        "Seconds into the opening statement before the clinician first made any sound (a backchannel counts).",
        "Whether that sound was encouraging ('mm-hmm') or redirecting; see opening_interrupted.",
        (
            _("18 s before redirection", "beckman1984", value=18.0),
            _("23 s before redirection", "marvel1999", value=23.0),
            _("median 11 s before interruption", "singhospina2019", value=11.0),
            _("median 6.5 s to any interruption (mostly backchannels)", "mulder2023", value=6.5),
        ),
    ),
    Metric(
        "opening_interrupted",
        "presence",
        "yes/no",
        "Whether the clinician took the floor with an interruption during the opening statement.",
        "Whether the patient had said what they came to say.",
        (_("55 % of opening statements not finished because of a floor-changing interruption", "mulder2023"),),
    ),
)


@metric_group("opening", METRICS)
def opening(tl: Timeline) -> Measured:
    p = tl.params
    first = next((t for t in tl.turns if t.speaker == tl.patient and t.length >= p.frames(p.opening_min)), None)
    if first is None:
        tl.notes.append(f"no patient turn of at least {p.opening_min:g} s: no opening statement")
        return Measured({})
    clinician, _patient = tl.parties
    inside = [s for s in tl.spurts[clinician] if first.start <= s.start < first.end]
    interrupted = any(
        i.speaker == tl.clinician and i.successful and first.start <= i.start < first.end for i in tl.listener.raw
    )
    return Measured(
        {
            "opening_statement_s": tl.s(first.length),
            "opening_first_clinician_vocalization_s": tl.s(inside[0].start - first.start) if inside else None,
            "opening_interrupted": interrupted,
        },
        {"opening_statement": tl.span(first.start, first.end)},
    )
