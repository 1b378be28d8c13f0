"""The feedback sheet: one printable page per consultation that a student or a clinician can
take away. The headline numbers against the literature's bands (and the cohort's median when
there is one), three moments to listen to with their times, and wording that describes what
happened without grading it. Plain data here; ``templates/feedback.html.j2`` draws it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Optional

from ..outputs import mmss
from ..result import Result
from .data import label_facts
from .glance import at_a_glance, moments

MOMENTS = 3
NAME_LABELS = ("student_id", "student", "candidate", "clinician")  # what a cohort's sheet is named after
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


def cohort_context(frame) -> tuple[dict[str, float], int]:
    """The medians a sheet shows beside each number, and over how many analyses: none for a
    single one (its median would only repeat its own number)."""
    return (cohort_medians(frame), len(frame)) if frame is not None and len(frame) > 1 else ({}, 0)


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


def sheet_stem(labels: dict, recording: str, taken: set) -> str:
    """A file name for a student's sheet: their label (and station), else the recording's
    name; only letters, digits, ``-``, ``_`` and ``.``; never a path; unique in ``taken``."""
    who = next((labels[k] for k in NAME_LABELS if labels.get(k)), None)
    parts = [who, labels.get("station") and f"station-{labels['station']}"] if who else [Path(recording).stem]
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", "_".join(p for p in parts if p)).strip("._") or "consultation"
    stem = "feedback-" + stem[:80]
    name, n = stem, 2
    while name in taken:
        name, n = f"{stem}-{n}", n + 1
    taken.add(name)
    return name


@dataclass
class Sheet:
    analysis_id: int
    stem: str  # the file name without its extension (:func:`sheet_stem`)
    result: Result  # with the database's labels
    html: str


def cohort_sheets(
    frame,
    context: Optional[tuple[dict[str, float], int]] = None,
    paper: Optional[str] = None,
    skip_unreadable: bool = False,
) -> tuple[list[Sheet], list[str]]:
    """One sheet per analysis of a results-database table, and a line for each one left out
    (its result.json is gone, or unreadable with ``skip_unreadable``; otherwise that raises).
    Each sheet carries the database's labels (the current ones: a redacted result.json has
    none) and the medians with their count (``context``; default: ``frame``'s,
    :func:`cohort_context`)."""
    from ..errors import AttuneError
    from ..store import label_columns
    from . import build_feedback

    medians, cohort_n = cohort_context(frame) if context is None else context
    labels = label_columns(frame)
    taken: set[str] = set()
    sheets: list[Sheet] = []
    skipped: list[str] = []
    for r in frame.to_dict(orient="records"):
        path = Path(r["result_path"]) if isinstance(r["result_path"], str) else None
        what = f"analysis {r['id']} ({Path(str(r['path'])).name})"
        if path is None or not path.is_file():
            skipped.append(f"{what}: its result.json is gone")
            continue
        try:
            result = Result.load(path)
        except AttuneError as exc:
            if not skip_unreadable:
                raise
            skipped.append(f"{what}: {exc}")
            continue
        current = {k: r[k] for k in labels if isinstance(r[k], str) and r[k].strip()}
        order = [k for k in result.labels if k in current] + [k for k in current if k not in result.labels]
        result.labels = {k: current[k] for k in order}  # in the order they were given, where known
        stem = sheet_stem(result.labels, result.recording.path, taken)
        html = build_feedback(result, f"{stem}.html", medians, cohort_n, paper)[f"{stem}.html"]
        sheets.append(Sheet(int(r["id"]), stem, result, html))
    return sheets, skipped


def marking_csv(rows: list[dict]) -> str:
    """The marking spreadsheet: one :func:`feedback_row` per sheet (with its analysis id)."""
    import pandas as pd

    from ..store import spreadsheet_safe

    return spreadsheet_safe(pd.DataFrame(rows)).to_csv(index=False)
