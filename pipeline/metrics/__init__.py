"""Consultation metrics: pure functions, speaker timing in, numbers and events out.

* :mod:`.registry` — every metric group and its metrics' contract (one home per metric);
* :mod:`.context` — the :class:`Timeline` every group reads (built once) and :class:`Params`;
* :mod:`.timeline` — frames, activity, talkspurts, floor and turns;
* the groups, in registry order: :mod:`.talk`, :mod:`.turns`, :mod:`.listener`,
  :mod:`.pauses` (latency and listening pauses), :mod:`.opening`, :mod:`.language` (words);
* :mod:`.conversation` — :func:`compute`, which runs them all;
* :mod:`.reference` — the qualities, citations and reference values.

Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from importlib import import_module

from .context import Params
from .conversation import as_row, compute
from .registry import names

# the metric groups register themselves on import, in this order (the order of the metrics
# in result.json, the CSV columns and the docs)
GROUP_MODULES = ("talk", "turns", "listener", "pauses", "opening", "language", "responses", "tasks")
for _module in GROUP_MODULES:
    import_module(f"{__name__}.{_module}")

TIMING_METRICS = names("timing")
WORD_METRICS = names("words")
METRIC_NAMES = TIMING_METRICS + WORD_METRICS

__all__ = [
    "compute",
    "compute_for_result",
    "compute_timing",
    "to_csv",
    "Params",
    "METRIC_NAMES",
    "TIMING_METRICS",
    "WORD_METRICS",
    "as_row",
]


def compute_for_result(result, params: Params = Params(), clinician=None) -> dict:
    """Metrics of an analysed recording (its diarization, roles and words)."""
    from ..roles import of_result

    if clinician is None:
        clinician, patient = of_result(result)
    else:
        patient = None
    return compute(
        result.segments,
        clinician,
        duration=result.recording.duration_s,
        words=result.words,
        params=params,
        patient=patient,
        prosody=result.prosody,
    )


def compute_timing(timing, clinician=None, duration=None, params: Params = Params()) -> dict:
    """Metrics of a :class:`pipeline.annotations.Timing` read from a file.

    A file with text but no word times (a reference JSON, a TextGrid with words) gets the word
    metrics too, each utterance's span shared out by characters. The clinician is
    ``clinician`` when given (it must be a speaker of the file), else the
    speaker the file marks as clinician, else the first speaker (:func:`pipeline.roles.for_timing`).
    """
    from ..annotations import words_from_utterances
    from ..roles import for_timing

    clinician, patient = for_timing(timing, clinician)
    words = timing.words
    if words is None and any(str(u.get("text", "")).strip() for u in timing.utterances):
        words = words_from_utterances(timing.utterances)  # text without word times
    if duration is None:
        duration = timing.duration
    out = {"source": timing.source}
    out.update(compute(timing.segments, clinician, duration=duration, words=words, params=params, patient=patient))
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
