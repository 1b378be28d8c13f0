"""Metrics on hand-built timelines, each value computed by hand in the comments."""

import pytest

from pipeline.metrics import METRIC_NAMES, TIMING_METRICS, WORD_METRICS, compute
from pipeline.result import Segment, Word


def timeline(*spans):
    """timeline(("C", 0, 2), ("P", 2.5, 6)) -> segments."""
    return [Segment(spk, a, b) for spk, a, b in spans]


def metrics(*spans, duration=None, clinician="C", words=None, **kw):
    return compute(timeline(*spans), clinician, duration=duration, words=words, **kw)


def check(m, **expected):
    for k, v in expected.items():
        assert m[k] == (pytest.approx(v) if isinstance(v, float) else v), f"{k}: {m[k]!r} != {v!r}"


class TestSimpleExchange:
    # C 0-2, P 2.5-6, C 6.2-8 in a 10 s recording
    m = metrics(("C", 0, 2), ("P", 2.5, 6), ("C", 6.2, 8), duration=10)

    def test_talk(self):
        # C = 2 + 1.8 = 3.8 s, P = 3.5 s, share 3.8 / 7.3 = 0.52055, silence 10 - 7.3
        check(
            self.m, clinician_talk_s=3.8, patient_talk_s=3.5, clinician_talk_share=0.5205, overlap_s=0.0, silence_s=2.7
        )

    def test_turns(self):
        check(
            self.m,
            clinician_turns=2,
            patient_turns=1,
            clinician_longest_turn_s=2.0,
            clinician_mean_turn_s=1.9,
            patient_longest_turn_s=3.5,
            patient_mean_turn_s=3.5,
        )

    def test_latency_and_pauses(self):
        # P -> C transfer: 6.2 - 6.0 = 0.2 s; C -> P: 2.5 - 2.0 = 0.5 s; no wait or pause >= 1 s
        check(
            self.m,
            clinician_response_latency_median_s=0.2,
            patient_response_latency_median_s=0.5,
            clinician_waits_ge_1s=0,
            patient_pauses_ge_1s=0,
            listening_pauses=0,
            listening_pauses_per_10min=0.0,
        )

    def test_opening(self):
        check(self.m, opening_statement_s=3.5, opening_first_clinician_vocalization_s=None, opening_interrupted=False)

    def test_no_listener_vocalizations(self):
        check(
            self.m,
            clinician_backchannels=0,
            patient_backchannels=0,
            clinician_interruptions=0,
            clinician_interruptions_successful=0,
            patient_interruptions=0,
            patient_interruptions_successful=0,
        )

    def test_every_timing_metric_present_and_no_word_metrics_without_words(self):
        assert set(TIMING_METRICS) <= set(self.m)
        assert not set(WORD_METRICS) & set(self.m)
        assert self.m["clinician"] == "C" and self.m["patient"] == "P"
        assert self.m["backchannel_variant"] == "timing"


class TestBackchannelAndInterruptionEdges:
    def test_backchannel_exactly_1s_and_interruption_overlap_exactly_03s(self):
        # P talks 0-10. C "mm-hmm" 3-4 (exactly 1.0 s: a backchannel). C starts 9.7 and talks
        # to 12 (2.3 s > 1 s) while P goes on 0.3 s after C's onset: an interruption, and
        # successful because the first solo frame from 9.7 on (10.0) is C's.
        m = metrics(("P", 0, 10), ("C", 3, 4), ("C", 9.7, 12), duration=12)
        check(
            m,
            clinician_backchannels=1,
            clinician_interruptions=1,
            clinician_interruptions_successful=1,
            patient_backchannels=0,
            patient_interruptions=0,
        )
        # turns: P 0-10 (10 s), C 9.7-12 (2.3 s); FTO P -> C = 9.7 - 10 = -0.3
        check(
            m,
            patient_turns=1,
            patient_longest_turn_s=10.0,
            clinician_turns=1,
            clinician_longest_turn_s=2.3,
            clinician_response_latency_median_s=-0.3,
            patient_response_latency_median_s=None,
            clinician_waits_ge_1s=0,
        )
        # overlap 1.0 + 0.3; C 3.3 s, P 10 s, share 3.3 / 13.3 = 0.24812
        check(m, overlap_s=1.3, clinician_talk_s=3.3, patient_talk_s=10.0, clinician_talk_share=0.2481, silence_s=0.0)
        # opening: P's 10 s turn; C's first vocalization 3 s in; the interruption at 9.7 is inside it
        check(m, opening_statement_s=10.0, opening_first_clinician_vocalization_s=3.0, opening_interrupted=True)

    def test_events_list_what_was_counted(self):
        m = metrics(("P", 0, 10), ("C", 3, 4), ("C", 9.7, 12), duration=12)
        ev = m["events"]
        assert ev["backchannels"] == [{"speaker": "C", "role": "clinician", "start": 3.0, "end": 4.0}]
        assert ev["interruptions"] == [
            {"speaker": "C", "role": "clinician", "successful": True, "start": 9.7, "end": 12.0}
        ]
        assert ev["turns"] == [
            {"speaker": "P", "role": "patient", "start": 0.0, "end": 10.0},
            {"speaker": "C", "role": "clinician", "start": 9.7, "end": 12.0},
        ]
        assert ev["transfers"] == [{"to": "clinician", "from_end": 10.0, "to_start": 9.7, "offset_s": -0.3}]
        assert ev["opening_statement"] == {"start": 0.0, "end": 10.0}

    def test_just_over_1s_is_not_a_backchannel_but_an_unsuccessful_interruption(self):
        # C 3-4.01 (1.01 s) inside P 0-10: P goes on 6 s after C's onset -> interruption; the
        # first solo frame after 3.0 is P's (4.01) -> not successful
        m = metrics(("P", 0, 10), ("C", 3, 4.01), duration=10)
        check(
            m,
            clinician_backchannels=0,
            clinician_interruptions=1,
            clinician_interruptions_successful=0,
            opening_interrupted=False,
            opening_first_clinician_vocalization_s=3.0,
        )

    def test_overlap_just_under_03s_is_not_an_interruption(self):
        # C starts 9.71, P stops 10.0: 0.29 s < 0.3 s -> a turn change, not an interruption
        m = metrics(("P", 0, 10), ("C", 9.71, 12), duration=12)
        check(m, clinician_interruptions=0, clinician_backchannels=0, clinician_response_latency_median_s=-0.29)

    def test_short_vocalization_that_takes_the_floor_is_no_backchannel(self):
        # C 8.5-9.5 (1 s) starts inside P 0-9 and then holds the floor alone (9.0-9.5): it
        # starts a turn of C, so it is neither a backchannel nor (being <= 1 s) an interruption
        m = metrics(("P", 0, 9), ("C", 8.5, 9.5), duration=10)
        check(m, clinician_backchannels=0, clinician_interruptions=0, clinician_turns=1)

    def test_patient_backchannels_are_counted_for_the_patient(self):
        m = metrics(("C", 0, 8), ("P", 2, 2.5), ("P", 5, 5.8), ("P", 9, 12), duration=12)
        check(m, patient_backchannels=2, clinician_backchannels=0, patient_turns=1, clinician_turns=1)


class TestPausesAndWaits:
    def test_pause_exactly_1s_inside_patient_turn_and_wait_exactly_1s(self):
        # C 0-2, P 2.5-5, silence 5-6 (1.0 s, inside P's turn 2.5-9), P 6-9, C 10-11
        m = metrics(("C", 0, 2), ("P", 2.5, 5), ("P", 6, 9), ("C", 10, 11), duration=11)
        check(
            m,
            patient_turns=1,
            patient_longest_turn_s=6.5,
            clinician_turns=2,
            patient_pauses_ge_1s=1,
            clinician_waits_ge_1s=1,
            listening_pauses=2,
            clinician_response_latency_median_s=1.0,
            patient_response_latency_median_s=0.5,
            opening_statement_s=6.5,
        )
        # 2 pauses / (11 s / 60) * 10 = 109.0909...
        check(m, listening_pauses_per_10min=109.09)
        assert m["events"]["listening_pauses"] == [
            {"kind": "patient_pause", "start": 5.0, "end": 6.0},
            {"kind": "clinician_wait", "start": 9.0, "end": 10.0},
        ]

    def test_just_under_1s_counts_nothing(self):
        m = metrics(("C", 0, 2), ("P", 2.5, 5), ("P", 5.99, 9), ("C", 9.99, 11), duration=11)
        check(m, patient_pauses_ge_1s=0, clinician_waits_ge_1s=0, listening_pauses=0)

    def test_silence_after_the_patient_turn_is_not_a_patient_pause(self):
        # P 0-4, silence 4-6, C 6-7: the 2 s gap is a wait (P -> C), not a pause inside P's turn
        m = metrics(("C", 0, 0.5), ("P", 1, 4), ("C", 6, 7), duration=7)
        check(m, clinician_waits_ge_1s=1, patient_pauses_ge_1s=0, clinician_response_latency_median_s=2.0)

    def test_median_of_several_transfers(self):
        # P -> C transfers: 0.5, 1.5, 3.0 -> median 1.5; waits >= 1 s: 2
        m = metrics(
            ("P", 0, 1),
            ("C", 1.5, 2),
            ("P", 2.5, 3),
            ("C", 4.5, 5),
            ("P", 5.5, 6),
            ("C", 9, 10),
            clinician="C",
            duration=10,
        )
        check(
            m, clinician_response_latency_median_s=1.5, clinician_waits_ge_1s=2, patient_response_latency_median_s=0.5
        )


class TestFillingAndOverlap:
    def test_gap_shorter_than_min_pause_is_filled(self):
        # C 0-1 and 1.2-2: the 0.2 s gap is filled -> 2.0 s of talk, one talkspurt
        m = metrics(("C", 0, 1), ("C", 1.2, 2), ("P", 3, 5), duration=5)
        check(m, clinician_talk_s=2.0, clinician_turns=1, clinician_longest_turn_s=2.0, silence_s=1.0)

    def test_gap_of_exactly_min_pause_is_kept(self):
        # 0.25 s is not shorter than MIN_PAUSE: talk 1.75 s, but still one turn 0-2
        m = metrics(("C", 0, 1), ("C", 1.25, 2), ("P", 3, 5), duration=5)
        check(m, clinician_talk_s=1.75, clinician_turns=1, clinician_longest_turn_s=2.0, silence_s=1.25)

    def test_overlapping_turns(self):
        # C 0-5, P 4-9: turns C 0-5 and P 4-9 overlap; P's onset at 4 is inside C's talk, lasts
        # 5 s, C goes on 1 s -> a successful patient interruption; FTO C -> P = 4 - 5 = -1
        m = metrics(("C", 0, 5), ("P", 4, 9), duration=9)
        check(
            m,
            clinician_turns=1,
            patient_turns=1,
            clinician_longest_turn_s=5.0,
            patient_longest_turn_s=5.0,
            overlap_s=1.0,
            clinician_talk_share=0.5,
            patient_interruptions=1,
            patient_interruptions_successful=1,
            patient_response_latency_median_s=-1.0,
            opening_statement_s=5.0,
            opening_first_clinician_vocalization_s=None,
        )

    def test_recording_that_starts_with_overlap(self):
        # C 0-0.6 and P 0-5 start on the same frame: neither was already talking, so the short
        # C vocalization is no backchannel (and earns no turn: it has no solo frame);
        # P's turn 0-5; C 6-8 after a 1 s wait
        m = metrics(("C", 0, 0.6), ("P", 0, 5), ("C", 6, 8), duration=8)
        check(
            m,
            clinician_backchannels=0,
            patient_backchannels=0,
            clinician_interruptions=0,
            clinician_turns=1,
            patient_turns=1,
            overlap_s=0.6,
            clinician_talk_s=2.6,
            patient_talk_s=5.0,
            clinician_talk_share=0.3421,
            silence_s=1.0,
            clinician_waits_ge_1s=1,
            clinician_response_latency_median_s=1.0,
            patient_response_latency_median_s=None,
            listening_pauses_per_10min=75.0,
            opening_statement_s=5.0,
            opening_first_clinician_vocalization_s=0.0,
        )


class TestSpeakers:
    def test_third_speaker_only_in_talk_table(self):
        m = metrics(("C", 0, 5), ("P", 4, 9), ("O", 9.5, 10), duration=10)
        assert m["patient"] == "P"
        assert [(s["id"], s["role"], s["talk_s"]) for s in m["speakers"]] == [
            ("C", "clinician", 5.0),
            ("P", "patient", 5.0),
            ("O", "other", 0.5),
        ]
        # the third speaker is not C or P: 9-10 is silence for the two-party metrics
        check(m, silence_s=1.0, clinician_talk_share=0.5)
        assert sum(s["share_of_all_talk"] for s in m["speakers"]) == pytest.approx(1.0, abs=1e-3)

    def test_patient_is_the_most_talkative_other(self):
        m = metrics(("C", 0, 1), ("X", 1, 2), ("Y", 2, 6), duration=6)
        assert m["patient"] == "Y"

    def test_single_speaker_gives_nulls_and_a_note(self):
        m = metrics(("C", 0, 5), duration=6)
        assert m["clinician_talk_s"] == 5.0
        assert m["patient"] is None
        for k in TIMING_METRICS:
            if k != "clinician_talk_s":
                assert m[k] is None, k
        assert any("only one speaker" in n for n in m["notes"])

    def test_no_speech_gives_nulls_and_a_note(self):
        m = compute([], None, duration=30)
        assert all(m[k] is None for k in TIMING_METRICS)
        assert m["speakers"] == [] and "no speech" in m["notes"][0]

    def test_regions_past_the_duration_are_cut(self):
        m = metrics(("C", 0, 2), ("P", 3, 8), duration=5)
        check(m, patient_talk_s=2.0, silence_s=1.0)

    def test_no_opening_statement_note(self):
        m = metrics(("C", 0, 2), ("P", 2.5, 4), duration=4)
        assert m["opening_statement_s"] is None
        assert any("no opening statement" in n for n in m["notes"])


def w(text, a, b, spk):
    return Word(text=text, start=a, end=b, probability=1.0, speaker=spk)


class TestWordMetrics:
    words = [
        w("Okay,", 0.0, 0.3, "C"),
        w("so", 0.3, 0.5, "C"),
        w("what", 0.5, 0.8, "C"),
        w("brings", 0.8, 1.1, "C"),
        w("you", 1.1, 1.3, "C"),
        w("in?", 1.3, 1.6, "C"),
        w("My", 2.0, 2.2, "P"),
        w("head", 2.2, 2.5, "P"),
        w("hurts.", 2.5, 3.0, "P"),
        w("Is", 3.5, 3.7, "P"),
        w("it", 3.7, 3.8, "P"),
        w("bad?", 3.8, 4.0, "P"),
        w("That", 4.5, 4.7, "C"),
        w("must", 4.7, 4.9, "C"),
        w("be", 4.9, 5.0, "C"),
        w("hard.", 5.0, 5.4, "C"),
        w("Do", 5.5, 5.7, "C"),
        w("you", 5.7, 5.9, "C"),
        w("smoke?", 5.9, 6.3, "C"),
    ]
    m = metrics(("C", 0, 1.6), ("P", 2, 4), ("C", 4.5, 6.3), duration=7, words=words)

    def test_counts(self):
        # C: 13 words in 3.4 s of talk -> 13 / (3.4 / 60) = 229.4 wpm; P: 6 words in 2 s -> 180
        check(self.m, clinician_words=13, patient_words=6, clinician_wpm=229.4, patient_wpm=180.0)

    def test_questions(self):
        # "Okay, so what brings you in?" (open: markers skipped), "Do you smoke?" (closed)
        check(
            self.m,
            clinician_questions=2,
            clinician_open_questions=1,
            clinician_open_question_share=0.5,
            patient_questions=1,
        )

    def test_empathy(self):
        check(self.m, clinician_empathy_statements=1)

    def test_all_names_present(self):
        assert set(METRIC_NAMES) <= set(self.m)
        assert self.m["backchannel_variant"] == "words"


class TestWordAwareBackchannels:
    def test_long_yeah_okay_is_a_backchannel_with_words(self):
        # C "yeah, okay" 3.0-4.5 (1.5 s) inside P 0-10: an interruption by timing alone, a
        # backchannel when its words are all backchannel tokens (<= 2 s)
        spans = (("P", 0, 10), ("C", 3, 4.5), ("C", 11, 12))
        words = [w("yeah,", 3.0, 3.6, "C"), w("okay.", 3.7, 4.4, "C"), w("Right.", 11, 12, "C")]
        timing_only = metrics(*spans, duration=12)
        check(timing_only, clinician_backchannels=0, clinician_interruptions=1)
        with_words = metrics(*spans, duration=12, words=words)
        check(with_words, clinician_backchannels=1, clinician_interruptions=0)

    def test_longer_than_2s_stays_an_interruption(self):
        words = [w("yeah", 3.0, 4.0, "C"), w("yeah", 4.0, 5.2, "C")]
        m = metrics(("P", 0, 10), ("C", 3, 5.2), duration=10, words=words)
        check(m, clinician_backchannels=0, clinician_interruptions=1)

    def test_real_words_stay_an_interruption(self):
        words = [w("But", 3.0, 3.5, "C"), w("wait", 3.5, 4.4, "C")]
        m = metrics(("P", 0, 10), ("C", 3, 4.5), duration=10, words=words)
        check(m, clinician_backchannels=0, clinician_interruptions=1)
