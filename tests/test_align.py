"""Words to speakers, turns and roles: hand-built cases with hand-computed answers."""

import pytest

from pipeline.align import assign_words, build_turns, speaker_for_span, split_unspoken, talk_seconds
from pipeline.errors import InputError
from pipeline.metrics.questions import is_question
from pipeline.result import Segment, Word
from pipeline.roles import assign_roles
from pipeline.sentences import count_questions

A, B, C = "SPEAKER_00", "SPEAKER_01", "SPEAKER_02"


def seg(spk, a, b):
    return Segment(spk, a, b)


def word(text, a, b, spk=None):
    return Word(text=text, start=a, end=b, probability=0.9, speaker=spk)


class TestSpeakerForSpan:
    regions = [seg(A, 0.0, 2.0), seg(B, 2.0, 3.0), seg(A, 3.0, 5.0), seg(B, 8.0, 9.0)]

    def test_inside_one_region(self):
        assert speaker_for_span(0.5, 1.0, self.regions) == A

    def test_most_overlap_wins(self):
        # 1.8-2.5: A 0.2 s, B 0.5 s
        assert speaker_for_span(1.8, 2.5, self.regions) == B
        # 2.7-3.6: B 0.3 s, A 0.6 s
        assert speaker_for_span(2.7, 3.6, self.regions) == A

    def test_overlap_summed_over_regions_of_one_speaker(self):
        # 1.6-3.3: A 0.4 + 0.3 = 0.7 s, B 1.0 s -> B; 1.2-3.5: A 0.8 + 0.5 = 1.3, B 1.0 -> A
        assert speaker_for_span(1.6, 3.3, self.regions) == B
        assert speaker_for_span(1.2, 3.5, self.regions) == A

    def test_exact_tie_goes_to_earlier_speaker(self):
        # 1.5-2.5: A 0.5, B 0.5 -> A (its region starts first)
        assert speaker_for_span(1.5, 2.5, self.regions) == A

    def test_nearest_region_within_one_second(self):
        # 5.6-6.0: 0.6 s after A's end, 2.0 s before B -> A
        assert speaker_for_span(5.6, 6.0, self.regions) == A
        # 7.2-7.5: 2.2 s after A, 0.5 s before B -> B
        assert speaker_for_span(7.2, 7.5, self.regions) == B

    def test_exactly_one_second_away_is_assigned(self):
        assert speaker_for_span(6.0, 6.5, self.regions) == A

    def test_too_far_is_unassigned(self):
        assert speaker_for_span(6.2, 6.8, self.regions) is None
        assert speaker_for_span(20.0, 21.0, self.regions) is None

    def test_no_regions(self):
        assert speaker_for_span(0.0, 1.0, []) is None

    def test_zero_length_word_inside_region_uses_nearest(self):
        # a zero-length word has no overlap; distance 0 to the region that contains it
        assert speaker_for_span(1.0, 1.0, self.regions) == A


def test_assign_words_copies_and_sets_speaker():
    words = [word("hello", 0.1, 0.4), word("there", 2.1, 2.4), word("far", 30.0, 30.2)]
    out = assign_words(words, [seg(B, 2.0, 3.0), seg(A, 0.0, 2.0)])
    assert [w.speaker for w in out] == [A, B, None]
    assert all(w.speaker is None for w in words)  # inputs untouched
    assert out[0].probability == 0.9


class TestTalkSeconds:
    def test_union_of_overlapping_regions(self):
        t = talk_seconds([seg(A, 0, 2), seg(A, 1, 3), seg(A, 5, 6), seg(B, 2.5, 4)])
        assert t[A] == pytest.approx(4.0)
        assert t[B] == pytest.approx(1.5)

    def test_touching_regions_and_empty(self):
        assert talk_seconds([seg(A, 0, 1), seg(A, 1, 2)])[A] == pytest.approx(2.0)
        assert talk_seconds([seg(A, 1, 1)]) == {}
        assert talk_seconds([]) == {}


@pytest.mark.parametrize(
    "text,expected",
    [("today?", True), ('today?"', True), ("okay.", False), ("why?)", True), ("what", False)],
)
def test_is_question(text, expected):
    assert is_question(text) is expected


def test_count_questions_ignores_unassigned():
    words = [word("how?", 0, 1, A), word("why?", 1, 2, A), word("ok?", 2, 3, B), word("eh?", 3, 4)]
    assert count_questions(words) == {A: 2, B: 1}


class TestRoles:
    def test_most_questions_is_clinician_most_talkative_other_is_patient(self):
        segs = [seg(A, 0, 10), seg(B, 10, 12), seg(C, 12, 15)]
        words = [word("pain?", 0, 1, B), word("so", 1, 2, A), word("yes", 12, 13, C)]
        speakers, info = assign_roles(segs, words)
        roles = {s.id: s.role for s in speakers}
        assert roles == {A: "patient", B: "clinician", C: "other"}
        assert info["rule"] == "most_questions"
        assert info["clinician"] == B and info["patient"] == A
        assert [s.id for s in speakers] == [A, B, C]  # order of first appearance
        talk = {s.id: s.talk_s for s in speakers}
        assert talk == {A: 10.0, B: 2.0, C: 3.0}
        assert {s.id: s.questions for s in speakers} == {A: 0, B: 1, C: 0}

    def test_question_tie_broken_by_who_speaks_first(self):
        segs = [seg(B, 1, 3), seg(A, 3, 9)]
        words = [word("why?", 1, 2, B), word("how?", 4, 5, A)]
        speakers, info = assign_roles(segs, words)
        assert {s.id: s.role for s in speakers} == {B: "clinician", A: "patient"}

    def test_no_questions_first_speaker_is_clinician(self):
        segs = [seg(B, 0.5, 2), seg(A, 2, 9)]
        speakers, info = assign_roles(segs, [])
        assert {s.id: s.role for s in speakers} == {B: "clinician", A: "patient"}
        assert info["rule"] == "first_speaker"

    def test_patient_tie_broken_by_who_speaks_first(self):
        segs = [seg(A, 0, 1), seg(C, 1, 3), seg(B, 3, 5)]
        speakers, _ = assign_roles(segs, [])
        assert {s.id: s.role for s in speakers} == {A: "clinician", C: "patient", B: "other"}

    def test_override(self):
        segs = [seg(A, 0, 2), seg(B, 2, 9)]
        words = [word("why?", 0, 1, A)]
        speakers, info = assign_roles(segs, words, clinician=B)
        assert {s.id: s.role for s in speakers} == {A: "patient", B: "clinician"}
        assert info["rule"] == "override"

    def test_unknown_override_is_a_clear_error(self):
        with pytest.raises(
            InputError, match=r"clinician SPEAKER_09: no such speaker \(speakers found: SPEAKER_00, SPEAKER_01\)"
        ):
            assign_roles([seg(A, 0, 2), seg(B, 2, 9)], [], clinician="SPEAKER_09")

    def test_single_speaker_has_no_patient(self):
        speakers, info = assign_roles([seg(A, 0, 5)], [])
        assert [(s.id, s.role) for s in speakers] == [(A, "clinician")]
        assert info["patient"] is None

    def test_no_speech(self):
        speakers, info = assign_roles([], [])
        assert speakers == [] and info["rule"] == "no_speakers"


class TestTurns:
    roles = {A: "clinician", B: "patient"}

    def test_consecutive_words_merge(self):
        words = [
            word("Hi", 0.0, 0.3, A),
            word("there.", 0.3, 0.6, A),
            word("Hello.", 1.0, 1.4, B),
            word("How", 2.0, 2.2, A),
            word("are", 2.2, 2.4, A),
            word("you?", 2.4, 2.7, A),
        ]
        regions = [seg(A, 0, 0.7), seg(B, 0.9, 1.5), seg(A, 1.9, 2.8)]
        turns = build_turns(words, regions, self.roles)
        assert [(t.speaker, t.role, t.start, t.end, t.text) for t in turns] == [
            (A, "clinician", 0.0, 0.7, "Hi there."),
            (B, "patient", 0.9, 1.5, "Hello."),
            (A, "clinician", 1.9, 2.8, "How are you?"),
        ]

    def test_wordless_region_makes_its_own_turn(self):
        words = [word("I", 0.0, 0.2, B), word("see", 3.0, 3.3, B)]
        regions = [seg(B, 0, 1), seg(A, 1.2, 2.0), seg(B, 2.8, 3.5)]
        turns = build_turns(words, regions, self.roles)
        assert [(t.speaker, t.start, t.end, t.text) for t in turns] == [
            (B, 0.0, 1.0, "I"),
            (A, 1.2, 2.0, ""),
            (B, 2.8, 3.5, "see"),
        ]

    def test_unassigned_words_form_unknown_turns(self):
        words = [word("yes", 0.0, 0.2, A), word("far", 9.0, 9.2, None)]
        turns = build_turns(words, [seg(A, 0, 0.5)], self.roles)
        assert [(t.speaker, t.role, t.text) for t in turns] == [(A, "clinician", "yes"), ("", "unknown", "far")]

    def test_other_speaker_role(self):
        turns = build_turns([word("hey", 0, 1, C)], [seg(C, 0, 1)], self.roles)
        assert turns[0].role == "other"

    def test_empty(self):
        assert build_turns([], [], {}) == []


# ---------------------------------------------------------------- words where nobody spoke
class TestSplitUnspoken:
    regions = [seg(A, 0.0, 2.0), seg(B, 2.5, 4.0), seg(A, 9.0, 10.0)]

    def test_words_without_a_speaker_are_dropped(self):
        kept, dropped = split_unspoken([word("yes", 0.5, 0.8, A), word("you", 20, 20.3, None)], self.regions)
        assert [w.text for w in kept] == ["yes"] and [w.text for w in dropped] == ["you"]

    def test_unlikely_word_in_a_long_silence_is_dropped(self):
        # 4.0-9.0 is a 5 s silence; 4.5-4.8 is within 1 s of B, so it has a speaker
        unlikely = Word("Thank", 4.5, 4.8, 0.2, B)
        likely = Word("and", 4.5, 4.8, 0.9, B)
        kept, dropped = split_unspoken([unlikely, likely], self.regions)
        assert dropped == [unlikely] and kept == [likely]

    def test_unlikely_word_in_a_short_gap_is_kept(self):
        # 2.0-2.5 is a 0.5 s gap between two speakers: word times drift there
        w = Word("we", 2.1, 2.3, 0.01, A)
        assert split_unspoken([w], self.regions) == ([w], [])

    def test_unlikely_word_touching_speech_is_kept(self):
        w = Word("um", 3.9, 4.3, 0.1, B)  # overlaps B's region
        assert split_unspoken([w], self.regions) == ([w], [])

    def test_silence_before_the_first_region_counts_from_the_start(self):
        regions = [seg(A, 3.0, 4.0)]
        early = Word("You", 2.2, 2.4, 0.3, A)  # 0-3 s: a 3 s silence
        assert split_unspoken([early], regions) == ([], [early])

    def test_no_regions_drops_every_word(self):
        w = word("You", 1.0, 1.3, None)
        assert split_unspoken([w], []) == ([], [w])


# ---------------------------------------------------------------- long recordings in pieces
def test_cut_points_fall_in_the_quietest_place_near_each_target():
    import numpy as np

    from pipeline.asr import cut_points

    sr = 16000
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(sr * 1500) * 0.1).astype(np.float32)  # 25 minutes of "speech"
    x[int(607.0 * sr) : int(608.0 * sr)] = 0.0  # a pause 7 s after the first target
    x[int(1195.0 * sr) : int(1196.0 * sr)] = 0.0  # and one near the second (607.5 + 600 = 1207.5)
    cuts = cut_points(x, sr, chunk_s=600.0, search_s=15.0)
    assert len(cuts) == 2
    assert 607.0 <= cuts[0] / sr <= 608.0
    assert 1195.0 <= cuts[1] / sr <= 1196.0
    assert cut_points(x[: sr * 614], sr) == []  # shorter than 600 + 15 s: one piece


def test_transcribe_long_shifts_word_times_by_each_piece():
    import numpy as np

    from pipeline.asr import ASREngine, transcribe_long
    from pipeline.result import ModelInfo, Word

    class Fake(ASREngine):
        def __init__(self):
            self.lengths = []

        def transcribe(self, samples, progress=None, speech_only=False):
            self.lengths.append(len(samples) / 16000)
            if progress:
                progress(len(samples) / 16000, len(samples) / 16000)
            return [Word("w", 1.0, 1.5, 0.9)]

        def info(self):
            return ModelInfo("asr", "fake", "0", "here")

    x = np.ones(16000 * 1300, dtype=np.float32)
    x[16000 * 600 : 16000 * 601] = 0.0
    x[16000 * 1201 : 16000 * 1202] = 0.0
    eng, seen = Fake(), []
    words = transcribe_long(eng, x, progress=lambda d, t: seen.append((d, t)))
    assert len(eng.lengths) == 3 and abs(sum(eng.lengths) - 1300) < 1e-6
    starts = [w.start for w in words]
    assert starts[0] == 1.0 and 600.0 < starts[1] < 602.5 and 1201.0 < starts[2] < 1204.0
    assert seen[-1] == (1300.0, 1300.0) and all(d <= t for d, t in seen)


# ---------------------------------------------------------------- voices against the question rule
def test_a_strong_disagreement_between_voice_and_questions_is_said():
    from pipeline.roles import decide

    segs = [seg(A, 0, 5), seg(B, 5, 10)]
    words = [word("Really?", 1, 1.5, A)] + [word(f"q{i}?", 5 + i, 5.5 + i, B) for i in range(5)]
    speakers, info = decide(segs, words, voice_roles={A: "clinician"})
    assert {s.id: s.role for s in speakers} == {A: "clinician", B: "patient"}  # the voice is still used
    assert info["conflict"] == (
        f"the voice match says the clinician is {A}, who asked 1 question(s), but {B} asked 5: "
        "check who is who before relying on the per-role numbers"
    )
    _speakers, info = decide(segs, words[:4], voice_roles={A: "clinician"})  # 1 against 3: no conflict
    assert "conflict" not in info


# ---------------------------------------------------------------- sentences kept whole
def spoken(*runs):
    """Words from (speaker, "text ...") runs, 0.3 s each, in order."""
    out, t = [], 0.0
    for spk, text in runs:
        for tok in text.split():
            out.append(Word(tok, round(t, 1), round(t + 0.3, 1), 0.9, spk))
            t += 0.3
    return out


def speakers_of(words):
    return [(w.text, w.speaker) for w in words]


class TestKeepSentencesWhole:
    def test_the_tail_of_a_question_goes_back_to_its_asker(self):
        from pipeline.align import keep_sentences_whole

        words = spoken((A, "and is the stool"), (B, "more loose? Yes it is."))
        assert speakers_of(keep_sentences_whole(words)) == speakers_of(
            spoken((A, "and is the stool more loose?"), (B, "Yes it is."))
        )

    def test_the_head_of_a_sentence_goes_to_its_speaker(self):
        from pipeline.align import keep_sentences_whole

        words = spoken((A, "I see. Any"), (B, "other symptoms? No."))
        assert speakers_of(keep_sentences_whole(words)) == speakers_of(
            spoken((A, "I see."), (B, "Any other symptoms? No."))
        )

    def test_a_short_reply_inside_an_unfinished_sentence_stays(self):
        from pipeline.align import keep_sentences_whole

        words = spoken((A, "so how long"), (B, "Yes."), (A, "have you had it?"))
        assert keep_sentences_whole(words) == words

    def test_nothing_moves_without_punctuation_or_beyond_two_words(self):
        from pipeline.align import keep_sentences_whole

        plain = spoken((A, "and is the stool"), (B, "more loose yes it is"))
        assert keep_sentences_whole(plain) == plain
        long_head = spoken((A, "and is the stool"), (B, "really very loose? Yes."))
        assert keep_sentences_whole(long_head) == long_head
        both_long = spoken((A, "I see. And what about"), (B, "the back pain? It hurts."))
        assert keep_sentences_whole(both_long) == both_long
        even = spoken((A, "I see. And so"), (B, "the pain? It hurts."))  # 2 against 2
        assert keep_sentences_whole(even) == even

    def test_a_sentence_finished_by_the_other_speaker_goes_to_the_longer_part(self):
        from pipeline.align import keep_sentences_whole

        words = spoken((A, "I see. And what about"), (B, "the pain? It hurts."))
        assert speakers_of(keep_sentences_whole(words)) == speakers_of(
            spoken((A, "I see. And what about the pain?"), (B, "It hurts."))
        )

    def test_words_without_a_speaker_are_left_alone(self):
        from pipeline.align import keep_sentences_whole

        words = spoken((A, "and is it"), (None, "loose?"), (B, "Yes."))
        assert keep_sentences_whole(words) == words


def test_a_word_given_back_to_its_sentence_does_not_split_the_turn():
    # B's region starts at 2.0, but A's "loose?" (2.1-2.4) finishes A's sentence
    words = [word("more", 1.6, 1.9, A), word("loose?", 2.1, 2.4, A), word("Yes.", 2.6, 2.9, B)]
    regions = [seg(A, 0.0, 2.0), seg(B, 2.0, 3.0)]
    turns = build_turns(words, regions, {A: "clinician", B: "patient"})
    assert [(t.speaker, t.start, t.end, t.text) for t in turns] == [
        (A, 0.0, 2.4, "more loose?"),
        (B, 2.4, 3.0, "Yes."),
    ]
