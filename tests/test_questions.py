"""The question detector: every cue, open or closed, negatives, re-segmentation, stacked runs, events."""

from __future__ import annotations

import pytest

from pipeline.metrics import compute
from pipeline.metrics import questions as q
from pipeline.metrics.language import stacked_runs
from pipeline.result import Segment, Word
from pipeline.sentences import count_questions, split


@pytest.mark.parametrize(
    "text, expected",
    [
        # punctuation alone
        ("You've had it for three days?", ["punctuation"]),
        # wh-words that ask, without a "?" (tiny.en often writes a full stop)
        ("What brings you in today.", ["wh"]),
        ("Okay, so how long have you had the pain.", ["wh"]),
        ("How many times a day are you going.", ["wh"]),
        ("What kind of pain is it.", ["wh"]),
        ("What's been going on.", ["wh"]),
        ("Whereabouts is the pain exactly.", ["wh"]),
        ("In what way has it been affecting your life.", ["wh"]),
        ("And what about alcohol.", ["wh"]),
        ("Why?", ["punctuation"]),
        ("How much.", ["wh"]),
        # auxiliary before its subject
        ("Do you have any allergies.", ["inversion"]),
        ("Have you noticed any blood in your stools.", ["inversion"]),
        ("Is it there all the time, or does it come and go.", ["inversion"]),
        ("Could you pop up on the couch for me.", ["inversion"]),
        ("Is there anything else.", ["inversion"]),
        ("Um, and apart from the inhalers, do you take any other medications.", ["inversion"]),
        ("And with those headaches have you had any problems with your eyesight.", ["inversion"]),
        ("Okay, and is uh is the treatment plan clear.", ["inversion"]),
        # the elliptic "any ..."
        ("Any fever.", ["any"]),
        ("And anything else that comes to mind.", ["any"]),
        # tag questions after a comma
        ("It started on Monday, right.", ["tag"]),
        ("This has been going on for three days, has it.", ["tag"]),
        ("That's quite painful, isn't it.", ["tag"]),
        # open requests
        ("Tell me a bit more about the pain.", ["request"]),
        ("Can you describe the pain to me.", ["inversion", "request"]),
    ],
)
def test_cues(text, expected):
    assert q.cues(text) == expected
    assert q.is_question(text)


@pytest.mark.parametrize(
    "text",
    [
        "I wonder if it is the new tablets.",
        "I wonder if it is the new tablets?",  # a statement, even with a "?"
        "I was wondering whether you had any questions.",
        "How it happened was that I slipped on the stairs.",
        "What I mean is that the pain comes and goes.",
        "When I was young I had asthma.",
        "Where it hurts is just here.",
        "Why don't we take a good history first.",
        "What we'll do is book you a blood test.",
        "You stopped vomiting, okay.",
        "That's right.",
        "Have a good day!",
        "If you do you will feel better.",
        "I think you probably have, you know, a viral illness.",
        "Yeah.",
        "Okay.",
        "The pain is on the left side.",
        "",
    ],
)
def test_not_questions(text):
    assert q.cues(text) == []


def test_lone_words_need_their_question_mark():
    assert q.cues("Yeah?") == ["punctuation"]
    assert not q.is_question("Right.")
    assert q.cues("Sorry?") == ["punctuation"]


@pytest.mark.parametrize(
    "text, kind",
    [
        ("What brings you in today?", "open"),
        ("How are you feeling about it?", "open"),
        ("Why do you think that is?", "open"),
        ("Tell me about the pain.", "open"),
        ("Can you describe the pain to me?", "open"),
        ("Could you tell me what happened?", "open"),
        ("Okay, and what else?", "open"),
        ("How many times a day?", "closed"),
        ("How long has it been going on?", "closed"),
        ("How often do you get them?", "closed"),
        ("What time did it start?", "closed"),
        ("What is your date of birth?", "closed"),
        ("What's your name?", "closed"),
        ("Do you smoke?", "closed"),
        ("Is it sharp or dull?", "closed"),
        ("When did it start?", "closed"),
        ("Where is the pain?", "closed"),
        ("Any fever?", "closed"),
        ("It started on Monday, right?", "closed"),
        # the clause that asks decides
        ("Good morning sir, how can I help you this morning?", "open"),
        ("Left side, okay, and can you describe the pain to me?", "open"),
        ("In what way has it been affecting your life?", "open"),
        ("One side, and what side is that?", "closed"),
        ("Okay, and how many times a day?", "closed"),
    ],
)
def test_open_or_closed(text, kind):
    assert q.kind(text) == kind


def _words(spec, speaker="C", t0=0.0, gap=0.05, dur=0.3):
    """Words from text; '|' marks a pause of 1.2 s, '/' one of 0.5 s."""
    out, t = [], t0
    for token in spec.split():
        if token == "|":
            t += 1.2
            continue
        if token == "/":
            t += 0.5
            continue
        out.append(Word(token, round(t, 2), round(t + dur, 2), 0.9, speaker))
        t += dur + gap
    return out


def test_a_long_pause_splits_a_run_on_sentence():
    sents = split(_words("okay that sounds sore | how long has it been going on"))
    assert [s.text for s in sents] == ["okay that sounds sore", "how long has it been going on"]


def test_a_shorter_pause_splits_only_before_a_question():
    sents = split(_words("you mentioned the pain / do you have any fever"))
    assert [s.text for s in sents] == ["you mentioned the pain", "do you have any fever"]
    sents = split(_words("you mentioned the pain / in your tummy"))
    assert [s.text for s in sents] == ["you mentioned the pain in your tummy"]
    sents = split(_words("ok / do you smoke"))  # too short before the pause: kept whole
    assert len(sents) == 1


def test_sentences_end_at_punctuation_and_speaker_changes():
    words = _words("Hello. How are") + _words("fine thanks", speaker="P", t0=5.0)
    assert [(s.speaker, s.text) for s in split(words)] == [("C", "Hello."), ("C", "How are"), ("P", "fine thanks")]
    assert split([Word("x", 0.0, 0.1, 0.9, None)]) == []


def test_count_questions_uses_the_detector():
    words = _words("what brings you in today.") + _words("my knee.", speaker="P", t0=5.0)
    words += _words("do you have any swelling.", t0=8.0)
    assert count_questions(words) == {"C": 2}


def test_stacked_runs_reset_on_a_real_answer_not_a_backchannel():
    words = (
        _words("do you smoke.", t0=0.0)
        + _words("mm", speaker="P", t0=2.0)
        + _words("do you drink.", t0=3.0)
        + _words("how much.", t0=5.0)
        + _words("about ten units a week.", speaker="P", t0=7.0)
        + _words("any allergies?", t0=10.0)
        + _words("no none.", speaker="P", t0=12.0)
    )
    sents = split(words)
    runs = stacked_runs(sents, q.question_events(sents, "C", "P"), "C", "P")
    assert runs == [{"start": 0.0, "end": 5.65, "questions": 3, "closed": 3}]


def test_question_events_in_the_metrics():
    words = (
        _words("what brings you in today.", t0=0.0)
        + _words("my knee hurts when I walk.", speaker="P", t0=3.0)
        + _words("is it worse on the stairs, right.", t0=6.0)
        + _words("does it swell.", t0=8.5)
        + _words("yes it does.", speaker="P", t0=10.0)
    )
    segments = [Segment("C", 0.0, 2.0), Segment("P", 3.0, 5.5), Segment("C", 6.0, 9.5), Segment("P", 10.0, 11.0)]
    m = compute(segments, "C", words=words)
    events = m["events"]["questions"]
    assert [(e["speaker"], e["role"], e["kind"], e["cues"]) for e in events] == [
        ("C", "clinician", "open", ["wh"]),
        ("C", "clinician", "closed", ["inversion", "tag"]),
        ("C", "clinician", "closed", ["inversion"]),
    ]
    assert events[0]["start"] == 0.0 and events[0]["text"] == "what brings you in today."
    assert m["clinician_questions"] == 3
    assert m["clinician_open_questions"] == 1 and m["clinician_closed_questions"] == 2
    assert m["clinician_open_question_share"] == pytest.approx(1 / 3, abs=1e-4)
    assert m["clinician_stacked_questions"] == 1
    assert m["events"]["stacked_questions"] == [{"start": 6.0, "end": 9.5, "questions": 2, "closed": 2}]
    assert m["patient_questions"] == 0


def test_redaction_rebuilds_the_event_text_from_the_redacted_words():
    from pipeline.redact import _with_redacted_event_text

    words = [Word("Is", 1.0, 1.2, 0.9, "C"), Word("[NAME]", 1.25, 1.5, 0.9, "C"), Word("here?", 1.55, 1.8, 0.9, "C")]
    words += [Word("Yes.", 1.9, 2.1, 0.9, "P")]
    metrics = {
        "clinician_questions": 1,
        "events": {
            "questions": [{"speaker": "C", "start": 1.0, "end": 1.8, "text": "Is Morgan here?", "kind": "closed"}],
            "turns": [{"speaker": "C", "start": 1.0, "end": 1.8}],
        },
    }
    out = _with_redacted_event_text(metrics, words)
    assert out["events"]["questions"][0]["text"] == "Is [NAME] here?"
    assert out["events"]["turns"] == metrics["events"]["turns"]
    assert metrics["events"]["questions"][0]["text"] == "Is Morgan here?"  # the input is left as it was
    assert _with_redacted_event_text({"x": 1}, words) == {"x": 1}


def test_redaction_removes_every_enrolled_voice_name():
    # issue 16 #4: the voice book's names (even of clinicians absent from the recording)
    import json

    from pipeline.redact import without_voice_names

    roles = {
        "rule": "voices",
        "voices": {
            "threshold": 0.75,
            "looked_for": ["Dr Morgan", "Dr Absent"],
            "matches": [{"speaker": "S0", "name": "Dr Morgan", "role": "clinician", "similarity": 0.9}],
            "similarities": {"S0": {"Dr Morgan": 0.9, "Dr Absent": 0.2}, "S1": {"Dr Morgan": 0.1, "Dr Absent": 0.3}},
        },
    }
    parameters = {"voices": ["Dr Morgan", "Dr Absent"], "threads": 2}
    r, p = without_voice_names(roles, parameters)
    text = json.dumps([r, p])
    assert "Morgan" not in text and "Absent" not in text
    assert r["voices"]["looked_for"] == ["[VOICE 1]", "[VOICE 2]"]
    assert r["voices"]["matches"][0]["name"] == "[VOICE 1]" and r["voices"]["matches"][0]["similarity"] == 0.9
    assert r["voices"]["similarities"]["S1"] == {"[VOICE 1]": 0.1, "[VOICE 2]": 0.3}
    assert p == {"voices": ["[VOICE 1]", "[VOICE 2]"], "threads": 2}
    assert roles["voices"]["looked_for"] == ["Dr Morgan", "Dr Absent"]  # the input is left as it was
    assert without_voice_names({"rule": "most_questions"}, {}) == ({"rule": "most_questions"}, {})


def test_a_relative_clause_is_not_a_question():
    assert q.cues("There are things you can get from the pharmacy, which help replenish your minerals.") == []


def test_one_speaker_with_words_has_question_metrics_and_no_crash():
    words = _words("how are you today.") + _words("fine.", t0=3.0)
    m = compute([Segment("C", 0.0, 4.0)], "C", words=words, duration=5.0)
    assert m["clinician_questions"] == 1 and m["patient_questions"] is None and m["clinician_stacked_questions"] is None
    assert m["tasks_found"] is not None and m.get("clinician_reflections") is None
