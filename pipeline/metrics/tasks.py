"""Consultation tasks (Calgary-Cambridge): found or not found, each with its timestamped evidence.

Each task is a list of phrases (regular expressions over the clinician's cleaned sentences,
:data:`TASKS`), optionally limited to the opening or the end of the consultation. A task is
*found* when at least one clinician sentence matches; its evidence is every matching
sentence (start, end, text). The tasks map to the Calgary-Cambridge stages (Silverman, Kurtz
& Draper 2013): initiating the session, gathering information, explanation and planning,
closing the session.

The agenda prompt is an invitation to raise more ("anything else you wanted to talk about",
"something else today"), not a history question ("is there anything else in the family").
It records its form: "something else" solicits more of the patient's
concerns than "anything else" (Heritage et al. 2007).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional, Sequence

from ..sentences import Sentence, clean
from .context import Timeline
from .reference import RefValue as _
from .registry import Measured, Metric, metric_group

OPENING_S = 120.0  # "in the opening": the first two minutes
CLOSING_S = 120.0  # "at the end": the last two minutes


@dataclass(frozen=True)
class Task:
    name: str
    stage: str
    label: str
    patterns: tuple[str, ...]
    within: Optional[str] = None  # "opening" or "closing"


STAGES = {
    "initiating": "Initiating the session",
    "gathering": "Gathering information",
    "explanation_planning": "Explanation and planning",
    "closing": "Closing the session",
}
TASKS = (
    Task(
        "introduction",
        "initiating",
        "introduces themselves",
        (
            r"\bmy name is\b",
            r"\bi'm (doctor|dr|nurse)\b",
            r"\bi am (doctor|dr|nurse)\b",
            r"\bi'm one of the (doctors|gps|nurses)\b",
            r"\b(i'm|i am) (the|your) (doctor|gp|nurse)\b",
        ),
        within="opening",
    ),
    Task(
        "open_invitation",
        "initiating",
        "invites the patient's story",
        (
            r"\bwhat (brings|brought|has brought|'s brought) you\b",
            r"\bwhat's brought you\b",
            r"\bhow can i help\b",
            r"\bwhat can i (do|help you with)\b",
            r"\bhow can we help\b",
            r"\btell me (what's|what has|what) (been )?(going on|happening|happened)\b",
            r"\bwhat would you like to (talk|discuss)\b",
        ),
        within="opening",
    ),
    Task(
        "agenda",
        "initiating",
        "asks what else the patient came with",
        (
            r"\b(something|anything) else (that )?(you|you'd|you'd like|you would)( like| want| wanted| wish| need| "
            r"needed)? ?(to )?(talk|discuss|mention|ask|bring up|raise|cover|tell|go through|sort out)",
            r"\b(something|anything) else (today|you came (in )?(with|about|for)|i can (help|do)|bothering you|"
            r"on your mind|worrying you|that's (been )?bothering|you're worried)",
            r"\bwhat else (can i|could i|would you like|did you want|is bothering|brings|have you come)",
        ),
    ),
    Task(
        "ideas",
        "gathering",
        "asks the patient's ideas (ICE)",
        (
            r"\bwhat do you think (is|it is|it's|might be|could be|may be|has) (causing|going on|the cause|behind)",
            r"\bwhat do you think (it is|it might be|it could be|this is|this might be)\b",
            r"\b(any|have you got any|do you have any) (thoughts|ideas) (on|about|as to) (what|why)",
            r"\bhave you (had any|got any) (thoughts|ideas)\b",
        ),
    ),
    Task(
        "concerns",
        "gathering",
        "asks the patient's concerns (ICE)",
        (
            r"\b(is there )?anything (worrying|concerning|bothering) you\b",
            r"\bwhat (worries|concerns|frightens|scares) you\b",
            r"\bwhat (are|were) you (worried|concerned) (about|might)\b",
            r"\b(are|were) you (worried|concerned) (about|that|it)\b",
            r"\b(do you have )?any (worries|concerns)\b",
            r"\bwhat's worrying you\b",
        ),
    ),
    Task(
        "expectations",
        "gathering",
        "asks the patient's expectations (ICE)",
        (
            r"\bwhat (were|are) you hoping\b",
            r"\bwere you hoping (for|that|to)\b",
            r"\bwhat would you like (us|me) to\b",
            r"\bwhat (are|were) you expecting\b",
            r"\bhow (were you hoping|would you like) (we|i|me|us)\b",
            r"\bwhat would (help|be most helpful)\b",
        ),
    ),
    Task(
        "summarising",
        "gathering",
        "summarises what was heard",
        (
            r"\bjust to (recap|summarise|summarize|sum up|check i've understood|make sure i've understood)\b",
            r"\b(so )?to (recap|summarise|summarize|sum up)\b",
            r"\blet me (just )?(summarise|summarize|recap)\b",
            r"\bif i (can )?(just )?(summarise|summarize)\b",
            r"\bso (far )?you've told me\b",
        ),
    ),
    Task(
        "checking_understanding",
        "explanation_planning",
        "checks the patient's understanding",
        (
            r"\bdoes (that|this|it|all that) make sense\b",
            r"\b(is that|is this|is everything) (clear|okay with you|ok with you)\b",
            r"\bis the (plan|treatment plan) clear\b",
            r"\b(do you have|have you got|are there) any (other )?questions\b",
            r"\bwhat questions do you have\b",
            r"\bany questions\b",
            r"\b(can|could) you (tell|explain) (that |it )?(back|to me in your own words)\b",
        ),
    ),
    Task(
        "shared_decision",
        "explanation_planning",
        "involves the patient in the decision",
        (
            r"\bhow do you feel about (that|this|the|trying|taking|starting|going)\b",
            r"\bwhat do you think about (that|this|the|trying|taking|starting|going)\b",
            r"\bwould you (like|prefer|rather) (to )?(try|take|start|go|have|wait)\b",
            r"\b(there are|we have) (a few|a couple of|two|three|several|some) (options|choices|things we could)\b",
            r"\b(one|another) option (is|would be)\b",
            r"\bit's (up to you|your (choice|decision))\b",
            r"\bwhat would you prefer\b",
        ),
    ),
    Task(
        "safety_netting",
        "closing",
        "says what to do if things change",
        (
            r"\bif (it|things|the (symptoms|pain|rash|fever)|you|your symptoms) (get|gets|are getting|"
            r"getting|become|becomes) (any )?worse\b",
            r"\bif (it|things|the symptoms|you) (doesn't|don't|do not|does not) (get better|improve|settle|go away)",
            r"\b(come back|give us a call|call us|get back in touch|see us again|book (in|an appointment)) "
            r"(if|and see)\b",
            r"\b(call|ring|phone|dial) (111|999|one one one|nine nine nine)\b",
            r"\b(111|999|one one one|nine nine nine|a and e|a&e|the emergency department|out of hours)\b",
            r"\bseek (urgent |immediate |medical )?(help|advice|attention|medical attention)\b",
            r"\bif you (notice|develop|start to|start having|get any)\b",
            r"\bif anything changes\b",
        ),
    ),
    Task(
        "closing",
        "closing",
        "closes the consultation",
        (
            r"\btake care\b",
            r"\b(bye|goodbye|bye bye)\b",
            r"\bsee you (soon|later|again|next)\b",
            r"\b(nice|lovely|good) to (meet|see|speak to|talk to) you\b",
            r"\ball the best\b",
            r"\bthank you for coming\b",
            r"\bhope you feel better\b",
        ),
        within="closing",
    ),
)
_COMPILED = {t.name: [re.compile(p) for p in t.patterns] for t in TASKS}


def find_tasks(sents: Sequence[Sentence], clinician: str, duration: float) -> list[dict]:
    """Every task, in order: name, stage, label, found, evidence [{speaker, start, end, text}] (and
    the agenda's form)."""
    out = []
    for task in TASKS:
        evidence: list[dict] = []
        for s in sents:
            if s.speaker != clinician:
                continue
            if task.within == "opening" and s.start > OPENING_S:
                continue
            if task.within == "closing" and s.end < duration - CLOSING_S:
                continue
            text = clean(s.text)
            if any(p.search(text) for p in _COMPILED[task.name]):
                evidence.append(
                    {"speaker": s.speaker, "start": round(s.start, 2), "end": round(s.end, 2), "text": s.text}
                )
        item: dict = {
            "task": task.name,
            "stage": task.stage,
            "label": task.label,
            "found": bool(evidence),
            "evidence": evidence,
        }
        if task.name == "agenda":
            forms = {f for e in evidence for f in ("something", "anything") if f + " else" in clean(e["text"])}
            item["form"] = "something else" if "something" in forms else "anything else" if forms else None
        out.append(item)
    return out


METRICS = (
    Metric(
        "tasks_found",
        "equality",
        "count",
        f"How many of the {len(TASKS)} consultation tasks were found (introduction, open invitation, "
        "agenda prompt, ideas, concerns, expectations, summarising, checking understanding, shared "
        "decision, safety-netting, closing), each by its phrase list.",
        "A task done in other words is missed; a phrase said without meaning it still counts.",
        (_("Calgary-Cambridge guide", "silverman2013"),),
    ),
    Metric(
        "ice_explored",
        "empathy",
        "count",
        "How many of ideas, concerns and expectations (ICE) the clinician asked about (0-3).",
        "Whether the patient's answer was taken up.",
        (_("Calgary-Cambridge guide", "silverman2013"),),
    ),
    Metric(
        "safety_netting",
        "presence",
        "yes/no",
        "Whether the clinician said what to do if things get worse or do not improve.",
        "Whether the advice was specific (what, when, whom to call).",
    ),
    Metric(
        "agenda_prompt",
        "equality",
        "yes/no",
        "Whether the clinician asked for anything or something else the patient wanted to raise.",
        "'Something else' invites more concerns than 'anything else' (the form is in the events).",
        (_("'some' instead of 'any' reduced unmet concerns", "heritage2007"),),
    ),
)


@metric_group("tasks", METRICS, kind="words", needs="clinician")
def task_metrics(tl: Timeline) -> Measured:
    """The consultation tasks (see the module docstring)."""
    assert tl.clinician is not None
    items = find_tasks(tl.sentences, tl.clinician, tl.n * tl.params.frame)
    found = {i["task"]: i["found"] for i in items}
    return Measured(
        {
            "tasks_found": sum(found.values()),
            "ice_explored": sum(found[k] for k in ("ideas", "concerns", "expectations")),
            "safety_netting": found["safety_netting"],
            "agenda_prompt": found["agenda"],
        },
        {"tasks": items},
    )
