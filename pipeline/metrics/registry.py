"""One home per metric: the registry of metric groups.

A metric group is a function over the :class:`~pipeline.metrics.context.Timeline` of one
consultation (built once: activity, talkspurts, floor, turns, words) that returns its
metrics' values and events. It is registered with :func:`metric_group`, which declares its
metrics: name, unit, what it measures, what it cannot tell, and the literature's reference
values. Everything else is derived from here: the metric names and their order
(``TIMING_METRICS``, ``WORD_METRICS``), the report's cards, the cohort page's defaults and
per-10-minute rates, the results database's columns and the docs consistency test.

Adding a metric means adding it to a group's ``metrics`` and computing it in the group's
function (or adding a new group), plus its entry in ``docs/metrics.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional

from .reference import CITATIONS, RefValue

if TYPE_CHECKING:
    from .context import Timeline

KINDS = ("timing", "words")  # from speaker timing only, or needing the recognised words
NEEDS = ("clinician", "two_parties")  # computed with a clinician alone, or only with a patient too


@dataclass(frozen=True)
class Metric:
    """A metric's contract: what it measures, in which unit, and what it cannot tell."""

    name: str
    quality: Optional[str]  # key of reference.QUALITIES; None for context numbers
    unit: str
    what: str
    cannot_tell: str
    references: tuple[RefValue, ...] = ()
    per_10min: Optional[str] = None  # the cohort's per-10-minute rate of this count, by that name
    cohort_rank: Optional[int] = None  # position among the cohort page's default metrics


@dataclass
class Measured:
    """What a group computed: metric values, and events (``metrics.events``) by kind."""

    values: dict[str, Any]
    events: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricGroup:
    name: str
    kind: str
    needs: str
    metrics: tuple[Metric, ...]
    compute: Callable[["Timeline"], Measured]


GROUPS: list[MetricGroup] = []


def metric_group(name: str, metrics: tuple[Metric, ...], kind: str = "timing", needs: str = "two_parties"):
    """Register the decorated ``compute(timeline) -> Measured`` as the group ``name``."""
    assert kind in KINDS and needs in NEEDS

    def register(compute: Callable[["Timeline"], Measured]):
        taken = {m.name for g in GROUPS for m in g.metrics}
        clash = [m.name for m in metrics if m.name in taken]
        assert not clash and name not in {g.name for g in GROUPS}, (name, clash)
        GROUPS.append(MetricGroup(name, kind, needs, tuple(metrics), compute))
        return compute

    return register


def all_metrics() -> tuple[Metric, ...]:
    return tuple(m for g in GROUPS for m in g.metrics)


def names(kind: Optional[str] = None) -> list[str]:
    """Metric names in registry order (of one kind, when given)."""
    return [m.name for g in GROUPS if kind is None or g.kind == kind for m in g.metrics]


def by_name() -> dict[str, Metric]:
    return {m.name: m for m in all_metrics()}


def per_10min() -> dict[str, str]:
    """Derived per-10-minute rate name -> the count it is computed from."""
    return {m.per_10min: m.name for m in all_metrics() if m.per_10min}


def cohort_defaults() -> tuple[str, ...]:
    """The cohort page's default metrics, in order (a count by its per-10-minute rate)."""
    ranked = sorted((m for m in all_metrics() if m.cohort_rank is not None), key=lambda m: m.cohort_rank or 0)
    return tuple(m.per_10min or m.name for m in ranked)


def as_table() -> list[dict]:
    """Every metric's contract as plain data (for templates and JSON)."""
    return [
        {
            "name": m.name,
            "quality": m.quality,
            "unit": m.unit,
            "what": m.what,
            "cannot_tell": m.cannot_tell,
            "references": [
                {"label": r.label, "value": r.value, "low": r.low, "high": r.high, "citation": CITATIONS[r.citation]}
                for r in m.references
            ],
        }
        for m in all_metrics()
    ]
