"""The metric registry, its documentation and the reference data stay in step."""

from pathlib import Path

import pytest

from pipeline.metrics import METRIC_NAMES, TIMING_METRICS, WORD_METRICS, compute, registry
from pipeline.metrics.reference import CITATIONS, QUALITIES
from pipeline.report import cohort
from pipeline.result import Segment, Word

DOC = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text()


def test_every_metric_is_documented():
    for name in METRIC_NAMES:
        assert f"`{name}`" in DOC, name


def test_every_registered_metric_has_a_contract():
    by_name = registry.by_name()
    assert set(by_name) == set(METRIC_NAMES)
    assert len(registry.names()) == len(set(registry.names()))  # no name twice
    for info in by_name.values():
        assert info.what and info.cannot_tell and info.unit
        assert info.quality is None or info.quality in QUALITIES
        for r in info.references:
            assert r.citation in CITATIONS
            if r.low is not None:
                assert r.high is not None and r.low <= r.high


def test_names_are_derived_from_the_registry():
    assert TIMING_METRICS == [m.name for g in registry.GROUPS if g.kind == "timing" for m in g.metrics]
    assert WORD_METRICS == [m.name for g in registry.GROUPS if g.kind == "words" for m in g.metrics]
    assert [g.name for g in registry.GROUPS] == [
        "talk",
        "turns",
        "listener",
        "latency",
        "pauses",
        "opening",
        "words",
        "responses",
        "tasks",
    ]
    assert cohort.DEFAULT_METRICS == (
        "clinician_talk_share",
        "opening_statement_s",
        "clinician_interruptions_per_10min",
        "listening_pauses_per_10min",
        "clinician_response_latency_median_s",
        "patient_longest_turn_s",
        "clinician_open_question_share",
        "clinician_empathy_per_10min",
    )
    assert cohort.PER_10MIN["clinician_empathy_per_10min"] == "clinician_empathy_statements"
    assert set(cohort.PER_10MIN.values()) <= set(METRIC_NAMES)


def test_every_group_computes_exactly_its_metrics():
    """Each group returns values only for the metrics it declares (on a two-party timeline with words)."""
    from pipeline.metrics.context import Timeline

    segs = [Segment("C", 0, 2), Segment("P", 2.2, 9), Segment("C", 8.5, 12), Segment("P", 12.5, 13)]
    words = [
        Word("How", 0.1, 0.3, speaker="C"),
        Word("are", 0.3, 0.5, speaker="C"),
        Word("you?", 0.5, 0.9, speaker="C"),
        Word("Fine.", 2.3, 2.8, speaker="P"),
    ]
    tl = Timeline(segs, "C", 14.0, words)
    for group in registry.GROUPS:
        got = set(group.compute(tl).values)
        declared = {m.name for m in group.metrics}
        assert got <= declared, (group.name, got - declared)
        if group.name != "opening":
            assert got == declared, (group.name, declared - got)


def test_a_new_group_is_picked_up_by_compute(monkeypatch):
    """Adding a metric is one registered function: compute() runs it and names it."""
    groups = list(registry.GROUPS)
    monkeypatch.setattr(registry, "GROUPS", groups)
    m = registry.Metric("clinician_first_word_s", None, "s", "When the clinician first spoke.", "Why.")

    @registry.metric_group("first_word", (m,), needs="clinician")
    def first_word(tl):
        return registry.Measured({"clinician_first_word_s": tl.s(int(tl.acts[tl.clinician].argmax()))})

    out = compute([Segment("C", 1.5, 3), Segment("P", 3, 5)], "C")
    assert out["clinician_first_word_s"] == 1.5
    with pytest.raises(AssertionError):  # a name can only be registered once
        registry.metric_group("again", (m,))(first_word)


def test_groups_follow_the_qualities():
    q = {n: m.quality for n, m in registry.by_name().items()}
    assert q["clinician_talk_share"] == q["clinician_interruptions"] == q["clinician_questions"] == "equality"
    assert q["listening_pauses"] == q["clinician_backchannels"] == q["opening_statement_s"] == "presence"
    assert q["patient_longest_turn_s"] == q["clinician_response_latency_median_s"] == "presence"
    assert q["clinician_empathy_statements"] == q["clinician_open_questions"] == "empathy"


def test_table_is_plain_data():
    rows = registry.as_table()
    assert len(rows) == len(METRIC_NAMES)
    opening = next(r for r in rows if r["name"] == "opening_first_clinician_vocalization_s")
    assert {r["value"] for r in opening["references"]} == {18.0, 23.0, 11.0, 6.5}
    assert all("Beckman" in r["citation"] or r["value"] != 18.0 for r in opening["references"])
