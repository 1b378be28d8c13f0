"""Consultation metrics: pure functions, speaker timing in, numbers out.

* :mod:`.timeline` — frames, activity, talkspurts, floor and turns;
* :mod:`.conversation` — the timing metrics (and the entry point :func:`compute`);
* :mod:`.language` — word-based metrics (questions, open questions, empathy);
* :mod:`.reference` — what each metric means and the literature's reference values.

Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from .conversation import METRIC_NAMES, TIMING_METRICS, WORD_METRICS, Params, as_row, compute

__all__ = ["compute", "compute_for_result", "Params", "METRIC_NAMES", "TIMING_METRICS", "WORD_METRICS", "as_row"]


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
