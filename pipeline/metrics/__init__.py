"""Consultation metrics (filled in by the metrics issue)."""

from __future__ import annotations


def compute_for_result(result) -> dict:
    """Metrics of an analysed recording; empty until the metrics module lands."""
    return {}
