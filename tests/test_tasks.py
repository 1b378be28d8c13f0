"""Consultation tasks: every task's phrases, the opening/closing windows, the agenda's form, the metrics."""

from __future__ import annotations

import pytest

from pipeline.metrics import compute
from pipeline.metrics.tasks import TASKS, find_tasks
from pipeline.result import Segment, Word
from pipeline.sentences import Sentence


def found(text: str, start: float = 10.0, duration: float = 600.0, speaker: str = "C") -> list[str]:
    s = Sentence(speaker, start, start + 2.0, text, ())
    return [t["task"] for t in find_tasks([s], "C", duration) if t["found"]]


@pytest.mark.parametrize(
    "text, task",
    [
        ("Hello, my name is Dr Shah, one of the GPs.", "introduction"),
        ("Hi, I'm Doctor Patel.", "introduction"),
        ("What brings you in today?", "open_invitation"),
        ("Good morning, how can I help you?", "open_invitation"),
        ("Is there anything else you wanted to talk about today?", "agenda"),
        ("What do you think might be causing it?", "ideas"),
        ("Did you have any thoughts about what it could be?", "ideas"),
        ("Is there anything worrying you about it?", "concerns"),
        ("Were you worried that it might be something serious?", "concerns"),
        ("What were you hoping we could do today?", "expectations"),
        ("Just to recap, the pain started on Monday.", "summarising"),
        ("Let me just summarise what you've told me.", "summarising"),
        ("Does that make sense?", "checking_understanding"),
        ("What questions do you have?", "checking_understanding"),
        ("How do you feel about trying the tablets?", "shared_decision"),
        ("There are a couple of options we could try.", "shared_decision"),
        ("If it gets worse, come back and see us.", "safety_netting"),
        ("If you develop a high fever, call 111.", "safety_netting"),
        ("If it doesn't settle in a week, book an appointment.", "safety_netting"),
    ],
)
def test_each_task(text, task):
    assert task in found(text)


def test_windows_and_other_speakers():
    assert found("Hello, my name is Dr Shah.", start=300.0) == []  # an introduction is in the first 2 minutes
    assert found("Take care, bye.", start=100.0) == []  # closing: in the last 2 minutes
    assert found("Take care, bye.", start=590.0) == ["closing"]
    assert found("What brings you in today?", speaker="P") == []


@pytest.mark.parametrize(
    "text", ["Apart from migraines, is there anything else in the family?", "Or is that for something else?"]
)
def test_a_history_question_is_not_an_agenda_prompt(text):
    assert "agenda" not in found(text)


def test_agenda_form_and_order():
    sents = [Sentence("C", 5.0, 7.0, "Is there something else today?", ())]
    items = find_tasks(sents, "C", 600.0)
    assert [t["task"] for t in items] == [t.name for t in TASKS]
    agenda = next(t for t in items if t["task"] == "agenda")
    assert agenda["form"] == "something else" and agenda["stage"] == "initiating"
    assert agenda["evidence"] == [{"speaker": "C", "start": 5.0, "end": 7.0, "text": "Is there something else today?"}]
    missing = next(t for t in items if t["task"] == "safety_netting")
    assert missing["found"] is False and missing["evidence"] == [] and missing["stage"] == "closing"


def test_task_metrics():
    def say(text, speaker, t0):
        return [Word(w, t0 + 0.3 * i, t0 + 0.3 * i + 0.25, 0.9, speaker) for i, w in enumerate(text.split())]

    words = say("Hello, my name is Dr Shah. How can I help?", "C", 0.0) + say("My knee hurts.", "P", 5.0)
    words += say("Is anything worrying you about it?", "C", 8.0) + say("Not really.", "P", 11.0)
    words += say("If it gets worse come back. Bye.", "C", 13.0)
    segments = [Segment(w.speaker, w.start, w.end) for w in words]
    m = compute(segments, "C", words=words, duration=16.0)
    assert m["tasks_found"] == 5  # introduction, invitation, concerns, safety-netting, closing
    assert m["ice_explored"] == 1 and m["safety_netting"] is True and m["agenda_prompt"] is False
    assert [t["task"] for t in m["events"]["tasks"] if t["found"]] == [
        "introduction",
        "open_invitation",
        "concerns",
        "safety_netting",
        "closing",
    ]
