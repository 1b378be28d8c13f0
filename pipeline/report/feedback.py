"""The feedback sheet: one printable page per consultation that a student or a clinician can
take away. The headline numbers against the literature's bands (and the cohort's median when
there is one), three moments to listen to with their times, and wording that describes what
happened without grading it. Plain data here; ``templates/feedback.html.j2`` draws it.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Mapping, Optional

from ..outputs import mmss
from ..result import Result
from .data import label_facts
from .glance import at_a_glance, moments

MOMENTS = 3
# the "At a glance" item each cohort median belongs to, and how to write it
COHORT_METRIC = {
    "talk_share": ("clinician_talk_share", lambda v: f"{v * 100:.0f} %"),
    "opening": ("opening_statement_s", lambda v: mmss(v) + " (m:s)"),
    "questions": ("clinician_open_question_share", lambda v: f"{v * 100:.0f} %"),
    "empathy": ("empathic_responses", lambda v: f"{v:g}"),
    "tasks": ("tasks_found", lambda v: f"{v:g} of 11"),
    "pauses": ("listening_pauses_per_10min", lambda v: f"{v:.1f}"),
}
INTRO = (
    "These numbers describe what happened in this recording, measured from who spoke when and "
    "the words recognised. They are prompts for reflection, not marks: every consultation is "
    "different, and a number outside a band can be exactly right for this patient."
)


def cohort_medians(frame) -> dict[str, float]:
    """The median of each headline metric over a results-database table (the cohort)."""
    from .cohort import add_derived

    df = add_derived(frame.copy())
    out = {}
    for metric, _fmt in COHORT_METRIC.values():
        if metric in df.columns:
            values = df[metric].dropna().astype(float)
            if len(values):
                out[metric] = float(values.median())
    return out


def prepare_feedback(result: Result, medians: Optional[Mapping[str, float]] = None, cohort_n: int = 0) -> dict:
    """Everything the feedback template draws."""
    m = result.metrics or {}
    items = at_a_glance(m) if m.get("clinician") else []
    for item in items:
        metric, fmt = COHORT_METRIC.get(item["key"], (None, None))
        v = (medians or {}).get(metric) if metric else None
        item["cohort"] = fmt(v) if v is not None and fmt is not None and math.isfinite(v) else None
    timed = [x for x in moments(result) if x["start"] is not None][:MOMENTS] if m.get("clinician") else []
    labels = label_facts(result.labels)
    who = next((f["value"] for f in labels if f["name"] in ("Student", "Student id", "Candidate")), None)
    return {
        "title": "Feedback on a consultation" + (f": {who}" if who else ""),
        "labels": labels,
        "recording": Path(result.recording.path).name,
        "duration": mmss(result.recording.duration_s),
        "analysed": result.created[:10],
        "intro": INTRO,
        "items": items,
        "has_cohort": any(i["cohort"] for i in items),
        "cohort_n": cohort_n,
        "moments": timed,
        "warnings": list((result.quality or {}).get("warnings", [])),
        "redacted": result.redaction is not None,
        "version": result.attunement_version,
    }


def feedback_row(result: Result, sheet: str) -> dict:
    """One line of the marking spreadsheet: the labels, the headline numbers, the sheet's file."""
    m = result.metrics or {}
    row: dict = {**result.labels, "recording": Path(result.recording.path).name}
    for metric, _fmt in COHORT_METRIC.values():
        row[metric] = m.get(metric)
    row["moments_to_listen"] = "; ".join(f"{x['clock']} {x['title']}" for x in prepare_feedback(result)["moments"])
    row["sheet"] = sheet
    return row
