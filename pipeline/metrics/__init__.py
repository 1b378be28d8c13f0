"""Consultation metrics: pure functions, speaker timing in, numbers out.

* :mod:`.timeline` — frames, activity, talkspurts, floor and turns;
* :mod:`.conversation` — the timing metrics (and the entry point :func:`compute`);
* :mod:`.language` — word-based metrics (questions, open questions, empathy);
* :mod:`.reference` — what each metric means and the literature's reference values.

Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from .conversation import METRIC_NAMES, TIMING_METRICS, WORD_METRICS, Params, as_row, compute

__all__ = ["compute", "compute_for_result", "compute_timing", "to_csv", "Params", "METRIC_NAMES", "TIMING_METRICS", "WORD_METRICS", "as_row"]


def compute_for_result(result, params: Params = Params(), clinician=None) -> dict:
    """Metrics of an analysed recording (its diarization, roles and words)."""
    roles = {s.id: s.role for s in result.speakers}
    if clinician is None:
        clinician = next((s for s, r in roles.items() if r == "clinician"), None)
        patient = next((s for s, r in roles.items() if r == "patient"), None)
    else:
        patient = None
    return compute(
        result.segments,
        clinician,
        duration=result.recording.duration_s,
        words=result.words,
        params=params,
        patient=patient,
    )


def compute_timing(timing, clinician=None, duration=None, params: Params = Params()) -> dict:
    """Metrics of a :class:`pipeline.annotations.Timing` read from a file.

    The clinician is ``clinician`` when given (it must be a speaker of the file), else the
    speaker a result.json marks as clinician, else the first speaker.
    """
    from ..errors import InputError

    speakers = timing.speakers
    patient = None
    if clinician is not None:
        if clinician not in speakers:
            known = ", ".join(speakers) or "none"
            raise InputError(f"--clinician {clinician}: no such speaker in {timing.source} (speakers: {known})")
    elif timing.roles:
        clinician = next((s for s, r in timing.roles.items() if r == "clinician"), None)
        patient = next((s for s, r in timing.roles.items() if r == "patient"), None)
    elif speakers:
        clinician = speakers[0]
    if duration is None:
        duration = timing.duration
    out = {"source": timing.source}
    out.update(compute(timing.segments, clinician, duration=duration, words=timing.words,
                       params=params, patient=patient))
    end = max((s.end for s in timing.segments), default=0.0)
    out["duration_s"] = round(duration if duration is not None else end, 3)
    return out


def to_csv(metrics: dict) -> str:
    """Header line and one row of the scalar metrics."""
    import csv
    import io

    row = {"source": metrics.get("source"), "duration_s": metrics.get("duration_s")}
    row.update(as_row(metrics))
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(row), lineterminator="\n")
    w.writeheader()
    w.writerow({k: "" if v is None else v for k, v in row.items()})
    return buf.getvalue()
