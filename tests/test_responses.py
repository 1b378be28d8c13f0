"""Reflections and empathic opportunities with the clinician's response: hand-made exchanges."""

from __future__ import annotations

import pytest

from pipeline.metrics import compute
from pipeline.metrics import responses as rs
from pipeline.result import Segment, Word
from pipeline.sentences import split


def say(text: str, speaker: str, t0: float) -> list[Word]:
    return [
        Word(w, round(t0 + 0.3 * i, 2), round(t0 + 0.3 * i + 0.25, 2), 0.9, speaker) for i, w in enumerate(text.split())
    ]


def exchange(*lines: tuple[str, str]) -> list[Word]:
    words, t = [], 0.0
    for speaker, text in lines:
        words += say(text, speaker, t)
        t += 0.3 * len(text.split()) + 1.5
    return words


@pytest.mark.parametrize(
    "text, patient, how",
    [
        ("So you're saying the pain wakes you up.", "", {"stem": "so you're saying"}),
        ("It sounds like it has been a hard week.", "", {"stem": "it sounds like"}),
        ("Okay, you feel it is getting worse.", "", {"stem": "you feel"}),
        (
            "The headaches come every morning then.",
            "I get these headaches every morning.",
            {"shared": ["headach", "morn"]},
        ),
    ],
)
def test_reflections(text, patient, how):
    assert rs.is_reflection(text, patient) == how


@pytest.mark.parametrize(
    "text, patient",
    [
        ("So you're saying the pain wakes you up?", ""),  # a question is not a reflection
        ("Do the headaches come every morning.", "I get these headaches every morning."),
        ("Headaches, mornings.", "I get these headaches every morning."),  # under four words
        ("I will prescribe some tablets for the pain.", "The pain in my knee is bad."),  # one shared word
        ("It seems like you have a viral infection.", "I have a cough."),  # an explanation
    ],
)
def test_not_reflections(text, patient):
    assert rs.is_reflection(text, patient) is None


@pytest.mark.parametrize(
    "text, cue",
    [
        ("I'm really worried about it.", "explicit"),
        ("I'm a bit scared to be honest.", "explicit"),
        ("It's been really hard since the operation.", "explicit"),
        ("I just can't cope with it any more.", "explicit"),
        ("What if it's something serious.", "explicit"),
        ("I haven't been able to sleep properly.", "hint"),
        ("Work has been really stressful lately.", "explicit"),
        ("I've been under a lot of stress at work.", "hint"),
        ("It's affecting my day to day life.", "hint"),
    ],
)
def test_opportunities(text, cue):
    found = rs.opportunity(text)
    assert found is not None and found["cue"] == cue


@pytest.mark.parametrize(
    "text", ["The pain is on the left side.", "I take paracetamol for it.", "No, no blood.", "I'm fine thanks."]
)
def test_not_opportunities(text):
    assert rs.opportunity(text) is None


def _run(*lines):
    words = exchange(*lines)
    sents = split(words)
    empathic = [s.text for s in sents if s.speaker == "C" and "must be" in s.text]
    return rs.opportunities(sents, "C", "P", empathic)


def test_an_empathic_response():
    (o,) = _run(("P", "I'm really worried it could be cancer."), ("C", "That must be really frightening."))
    assert o["outcome"] == "responded" and o["response"]["kind"] == "empathy"
    assert o["cue"] == "explicit" and o["words"].startswith("i'm really worried")


def test_a_reflection_and_an_exploring_question_respond():
    (o,) = _run(
        ("P", "It's been really hard since my husband left."), ("C", "It sounds like things at home are tough.")
    )
    assert o["response"]["kind"] == "reflection"
    (o,) = _run(("P", "I'm scared about the operation."), ("C", "What worries you most about it?"))
    assert o["response"]["kind"] == "exploring"
    (o,) = _run(("P", "I'm scared about the operation."), ("C", "Is it the operation itself?"))
    assert o["response"]["kind"] == "exploring"  # closed, but it takes up the cue's words


def test_moving_on():
    (o,) = _run(("P", "I'm so stressed at the moment."), ("C", "Do you smoke?"))
    assert o["outcome"] == "moved_on" and o["response"]["kind"] == "closed_question"
    (o,) = _run(("P", "I'm so stressed at the moment."), ("C", "Right, I will check your blood pressure."))
    assert o["response"]["kind"] == "other_topic"
    (o,) = _run(("P", "I'm so stressed at the moment."))
    assert o["response"] == {"kind": "no_reply"}


def test_the_patient_going_on_and_a_backchannel_do_not_end_the_cue():
    (o,) = _run(
        ("P", "I'm so stressed at the moment."),
        ("C", "mm"),
        ("P", "with the kids and everything."),
        ("C", "That must be hard for you."),
    )
    assert o["response"]["kind"] == "empathy"


def test_the_group_counts_and_events():
    words = exchange(
        ("C", "What brings you in today?"),
        ("P", "I've been having headaches and I'm worried about them."),
        ("C", "So you're worried about the headaches."),
        ("C", "Do you get them every day?"),
        ("P", "Yes most days, it's affecting my work."),
        ("C", "Any sickness?"),
    )
    end = words[-1].end
    segments = [Segment(w.speaker, w.start, w.end) for w in words]
    m = compute(segments, "C", words=words, duration=end + 1)
    assert m["clinician_questions"] == 3
    assert m["clinician_reflections"] == 1 and m["reflection_to_question_ratio"] == pytest.approx(1 / 3, abs=1e-3)
    assert m["empathic_opportunities"] == 2
    assert m["empathic_responses"] == 1 and m["missed_empathic_opportunities"] == 1
    opps = m["events"]["empathic_opportunities"]
    assert [o["outcome"] for o in opps] == ["responded", "moved_on"]
    assert opps[0]["response"]["kind"] == "reflection" and opps[1]["response"]["kind"] == "closed_question"
    assert m["events"]["reflections"][0]["stem"] == "you're worried"


def test_the_response_reads_the_whole_turn_and_skips_fragments():
    # the worry is in the first sentence; the question takes it up after the patient went on
    (o1, o2) = _run(
        ("P", "I'm just really worried."),
        ("P", "I read that it could be a sign of cancer."),
        ("C", "Is that all you're worried about?"),
    )
    assert o1["outcome"] == o2["outcome"] == "responded" and o2["response"]["kind"] == "exploring"
    (o,) = _run(
        ("P", "Work has been really stressful."),
        ("C", "Have you been"),  # cut off: not the reply
        ("P", "Yes the managers are on at me."),
        ("C", "Is it getting you down?"),  # about mood: exploring
    )
    assert o["response"]["kind"] == "exploring"
    (o,) = _run(("P", "I'm worried about my job."), ("C", "What do you do for work?"))
    assert o["outcome"] == "moved_on" and o["response"]["kind"] == "other_question"  # "work" is not "job"
    (o,) = _run(("P", "I'm worried about my job."), ("C", "What is it about the job that worries you?"))
    assert o["response"]["kind"] == "exploring"


def test_an_interruption_during_the_cue_is_moving_on():
    opps = [
        {"speaker": "P", "start": 10.0, "end": 13.0, "outcome": "moved_on", "response": {"kind": "closed_question"}},
        {"speaker": "P", "start": 20.0, "end": 22.0, "outcome": "responded", "response": {"kind": "empathy"}},
        {"speaker": "P", "start": 30.0, "end": 32.0, "outcome": "moved_on", "response": {"kind": "other_topic"}},
    ]
    cuts = [
        {"speaker": "C", "start": 12.0, "successful": True},
        {"speaker": "C", "start": 21.0, "successful": True},
        {"speaker": "P", "start": 31.0, "successful": False},  # the patient's own: not the clinician cutting in
    ]
    out = rs.interrupted(opps, cuts, "C")
    assert out[0]["response"] == {"kind": "interruption", "at": 12.0}
    assert out[1]["response"] == {"kind": "empathy"}  # taken up after all
    assert out[2]["response"] == {"kind": "other_topic"}


def test_empathy_statements_are_events():
    words = exchange(("P", "I'm really worried about it."), ("C", "That must be frightening."), ("C", "Do you smoke?"))
    segments = [Segment(w.speaker, w.start, w.end) for w in words]
    m = compute(segments, "C", words=words, duration=words[-1].end + 1)
    assert m["clinician_empathy_statements"] == 1
    (e,) = m["events"]["empathy_statements"]
    assert e["kind"] == "naming" and e["text"] == "That must be frightening." and e["role"] == "clinician"
