"""The metric contract, its documentation and the reference table stay in step."""

from pathlib import Path

from pipeline.metrics import METRIC_NAMES
from pipeline.metrics.reference import BY_NAME, CITATIONS, QUALITIES, as_table

DOC = (Path(__file__).resolve().parent.parent / "docs" / "metrics.md").read_text()


def test_every_metric_is_documented():
    for name in METRIC_NAMES:
        assert f"`{name}`" in DOC, name


def test_every_metric_has_a_reference_entry():
    assert set(BY_NAME) == set(METRIC_NAMES)
    for info in BY_NAME.values():
        assert info.what and info.cannot_tell and info.unit
        assert info.quality is None or info.quality in QUALITIES
        for r in info.references:
            assert r.citation in CITATIONS
            if r.low is not None:
                assert r.high is not None and r.low <= r.high


def test_groups_follow_the_issue():
    q = {n: BY_NAME[n].quality for n in BY_NAME}
    assert q["clinician_talk_share"] == q["clinician_interruptions"] == q["clinician_questions"] == "equality"
    assert q["listening_pauses"] == q["clinician_backchannels"] == q["opening_statement_s"] == "presence"
    assert q["patient_longest_turn_s"] == q["clinician_response_latency_median_s"] == "presence"
    assert q["clinician_empathy_statements"] == q["clinician_open_questions"] == "empathy"


def test_table_is_plain_data():
    rows = as_table()
    assert len(rows) == len(METRIC_NAMES)
    opening = next(r for r in rows if r["name"] == "opening_first_clinician_vocalization_s")
    assert {r["value"] for r in opening["references"]} == {18.0, 23.0, 11.0, 6.5}
    assert all("Beckman" in r["citation"] or r["value"] != 18.0 for r in opening["references"])
