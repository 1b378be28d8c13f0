"""Invariants of the metrics, checked on random timelines (hypothesis)."""

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.metrics import compute
from pipeline.result import Segment

SYMMETRIC = [
    "talk_s",
    "turns",
    "longest_turn_s",
    "mean_turn_s",
    "backchannels",
    "interruptions",
    "interruptions_successful",
    "response_latency_median_s",
]

# times on the 10 ms grid (integers of centiseconds), so no rounding can blur a threshold
region = st.tuples(st.integers(0, 6000), st.integers(1, 800))


@st.composite
def two_party(draw):
    a = draw(st.lists(region, min_size=1, max_size=12))
    b = draw(st.lists(region, min_size=1, max_size=12))
    segs = [Segment("A", s / 100, (s + d) / 100) for s, d in a] + [Segment("B", s / 100, (s + d) / 100) for s, d in b]
    return segs


@settings(max_examples=150, deadline=None)
@given(two_party())
def test_talk_shares_sum_to_one(segs):
    a = compute(segs, "A", duration=70)
    b = compute(segs, "B", duration=70)
    if a["clinician_talk_share"] is not None:
        assert abs(a["clinician_talk_share"] + b["clinician_talk_share"] - 1) <= 1e-4
        assert abs(sum(s["share_of_all_talk"] for s in a["speakers"]) - 1) <= 1e-3


@settings(max_examples=150, deadline=None)
@given(two_party())
def test_swapping_roles_swaps_the_metrics(segs):
    a = compute(segs, "A", duration=70)
    b = compute(segs, "B", duration=70)
    for name in SYMMETRIC:
        assert a[f"clinician_{name}"] == b[f"patient_{name}"], name
        assert a[f"patient_{name}"] == b[f"clinician_{name}"], name
    for name in ("overlap_s", "silence_s"):
        assert a[name] == b[name]


@settings(max_examples=150, deadline=None)
@given(two_party())
def test_renaming_speakers_changes_nothing(segs):
    renamed = [Segment({"A": "doctor", "B": "patient 1"}[s.speaker], s.start, s.end) for s in segs]
    a = compute(segs, "A", duration=70)
    r = compute(renamed, "doctor", duration=70)
    for k in a:
        if k not in ("speakers", "clinician", "patient", "events"):
            assert a[k] == r[k], k
    if "events" in a:
        strip = lambda ev: {  # noqa: E731
            k: [{f: v for f, v in e.items() if f != "speaker"} for e in vals] if isinstance(vals, list) else vals
            for k, vals in ev.items()
        }
        assert strip(a["events"]) == strip(r["events"])


@settings(max_examples=150, deadline=None)
@given(two_party(), st.integers(0, 23), st.data())
def test_splitting_a_region_at_a_short_pause_changes_nothing(segs, gap, data):
    i = data.draw(st.integers(0, len(segs) - 1))
    s = segs[i]
    start, end = round(s.start * 100), round(s.end * 100)
    if end - start < gap + 2:
        return
    cut = data.draw(st.integers(start + 1, end - gap - 1))
    split = (
        segs[:i]
        + [Segment(s.speaker, start / 100, cut / 100), Segment(s.speaker, (cut + gap) / 100, end / 100)]
        + segs[i + 1 :]
    )
    assert compute(split, "A", duration=70) == compute(segs, "A", duration=70)


@settings(max_examples=100, deadline=None)
@given(two_party())
def test_counts_are_consistent(segs):
    m = compute(segs, "A", duration=70)
    if m["patient"] is None:
        return
    for role in ("clinician", "patient"):
        assert 0 <= m[f"{role}_interruptions_successful"] <= m[f"{role}_interruptions"]
    assert m["listening_pauses"] == m["clinician_waits_ge_1s"] + m["patient_pauses_ge_1s"]
    total = m["clinician_talk_s"] + m["patient_talk_s"] - m["overlap_s"] + m["silence_s"]
    assert abs(total - 70) < 0.02
    assert abs(m["clinician_turns"] - m["patient_turns"]) <= 1


@given(st.lists(st.tuples(st.integers(0, 400), st.integers(1, 30)), max_size=40), st.integers(0, 500))
def test_bisected_lookups_match_a_plain_scan(raw, probe):
    # issue 16 #17: containing() and the turn ends scanned every talkspurt for each one
    import numpy as np

    from pipeline.metrics.timeline import containing, talkspurts

    act = np.zeros(500, dtype=bool)
    for a, n in raw:
        act[a : a + n] = True
    spurts = talkspurts("A", act)
    plain = next((s for s in spurts if s.start <= probe < s.end), None)
    assert containing(spurts, probe) == plain
