"""Word-based metrics: words per minute, questions (open, closed, stacked), empathy statements.

Sentences follow :mod:`pipeline.sentences` and questions :mod:`.questions` (the same rules as
the role rule). The phrase lists are data and are printed in ``docs/metrics.md``.
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from ..result import Word
from ..sentences import Sentence
from ..sentences import clean as _clean
from . import questions as q
from .context import Timeline
from .reference import RefValue as _
from .registry import Measured, Metric, metric_group

# Empathy phrases in the spirit of the NURSE model (Naming, Understanding, Respecting,
# Supporting, Exploring). A clinician sentence that matches any pattern counts once.
EMPATHY_PATTERNS: dict[str, tuple[str, ...]] = {
    "naming": (
        r"\bthat must (be|have been)\b",
        r"\bit must (be|have been)\b",
        r"\bi can see (your|you're|you are|that you're|how) (concern|worried|upset|anxious|worry|frustrat)",
        r"\b(a lot of|lots of) (worry|concern|stress) (there|for you)\b",
        r"\byou (seem|sound|look) (really |very |quite |so )?"
        r"(worried|upset|anxious|concerned|frustrated|tired|down|scared|stressed)",
        r"\bthat sounds (really |very |so |quite )?(difficult|hard|tough|awful|terrible|frustrating|painful|"
        r"worrying|scary|upsetting|stressful|exhausting|distressing)",
        r"\bsounds like (it|that) (has been|was|is) (really |very |so |quite )?"
        r"(difficult|hard|tough|awful|frustrating|worrying|stressful)",
    ),
    "understanding": (
        r"\bi can (imagine|understand|see why|see how|see that)\b",
        r"\bi understand\b",
        r"\b(that is|that's|it is|it's) (completely |totally |very )?understandable\b",
        r"\bno wonder\b",
        r"\bmakes (complete |total )?sense\b",
    ),
    "respecting": (
        r"\b(you have|you've) (done|coped|managed) (really |very )?(well|brilliantly)\b",
        r"\bwell done\b",
        r"\bthank you for (telling|sharing|being)\b",
        r"\bi appreciate\b",
        r"\b(it's|it is) good that you\b",
    ),
    "supporting": (
        r"\b(put|puts|set|sets) your mind at (ease|rest)\b",
        r"\bi hope that (helps|reassures)\b",
        r"\b(we will|we'll|we can|let's) (work|get through|sort|figure)\b",
        r"\bi('m| am) here (for|to)\b",
        r"\b(i will|i'll) help\b",
        r"\btogether\b",
        r"\byou('re| are) not alone\b",
    ),
    "exploring": (
        r"\btell me more\b",
        r"\bhow (are|do) you feel(ing)? about\b",
        r"\bwhat (worries|concerns|frightens) you\b",
        r"\bwhat('s| is) (worrying|bothering|concerning) you\b",
        r"\bhow (has|is) (this|that|it) (been )?affect",
    ),
    "sorry": (r"\bsorry to hear\b", r"\b(i'm|i am) (so |very |really )?sorry (that|about|you)\b"),
}

# Tokens that make up a backchannel ("mm-hmm", "yeah", "I see" ...).
BACKCHANNEL_TOKENS = (
    "mm",
    "mhm",
    "mm-hmm",
    "mmhmm",
    "mm-hm",
    "hmm",
    "uh-huh",
    "uhuh",
    "yeah",
    "yes",
    "yep",
    "right",
    "okay",
    "ok",
    "i see",
    "sure",
    "oh",
)
_BC_RE = re.compile(
    r"^(?:(?:" + "|".join(re.escape(t) for t in sorted(BACKCHANNEL_TOKENS, key=len, reverse=True)) + r")\s*)+$"
)


def only_backchannel_tokens(words: Sequence[Word]) -> bool:
    """True when there are words and every one of them is a backchannel token."""
    text = _clean(" ".join(w.text for w in words))
    return bool(text) and bool(_BC_RE.match(text))


_EMPATHY_BY_KIND = [(kind, re.compile(p)) for kind, pats in EMPATHY_PATTERNS.items() for p in pats]


def empathy_kind(sentence: str) -> Optional[str]:
    """The NURSE kind of the first phrase the sentence matches (naming, understanding, ...), or None."""
    text = _clean(sentence)
    return next((kind for kind, r in _EMPATHY_BY_KIND if r.search(text)), None)


def is_empathy_statement(sentence: str) -> bool:
    return empathy_kind(sentence) is not None


METRICS = (
    Metric(
        "clinician_words",
        None,
        "count",
        "Words the clinician said (as recognised).",
        "Speech recognition misses some words.",
    ),
    Metric(
        "patient_words",
        None,
        "count",
        "Words the patient said (as recognised).",
        "Speech recognition misses some words.",
    ),
    Metric(
        "clinician_wpm",
        None,
        "words/min",
        "Clinician speaking rate over their own talk time.",
        "Whether the pace suited the patient.",
    ),
    Metric(
        "patient_wpm",
        None,
        "words/min",
        "Patient speaking rate over their own talk time.",
        "Why the patient spoke fast or slowly.",
    ),
    Metric(
        "clinician_questions",
        "equality",
        "count",
        "Clinician sentences that ask: a question mark, a wh-word that asks, an auxiliary before "
        "its subject, an 'any ...' ellipsis, a tag question or an open request ('tell me about').",
        "Declarative questions said with a rise ('you've had it three days?') without a '?' are missed; "
        "the recogniser's sentence breaks decide what one question is.",
        per_10min="clinician_questions_per_10min",
    ),
    Metric(
        "clinician_open_questions",
        "empathy",
        "count",
        "Clinician questions that invite an answer in the patient's own words: how/what/why "
        "(except those asking for one fact: how many/long/often, what time/dose) and open requests "
        "(tell me, describe, talk me through).",
        "Whether the question was genuinely open in context ('What else?' is open by form).",
    ),
    Metric(
        "clinician_closed_questions",
        "empathy",
        "count",
        "Clinician questions that are not open: yes/no, either/or, a single fact, or a tag.",
        "Closed questions are right for focused history-taking and safety checks.",
    ),
    Metric(
        "clinician_open_question_share",
        "empathy",
        "share",
        "Open questions as a share of the clinician's questions.",
        "Closed questions are right for focused history-taking.",
        cohort_rank=7,
    ),
    Metric(
        "clinician_stacked_questions",
        "presence",
        "count",
        "Runs of two or more clinician questions in a row before the patient says more than "
        "backchannel tokens ('mm', 'yeah').",
        "A rephrased question after a silence also counts; the patient may have answered by a nod.",
    ),
    Metric(
        "patient_questions",
        "equality",
        "count",
        "Patient sentences that ask (the same cues as clinician_questions): the patient's agenda.",
        "Same limits as clinician_questions.",
    ),
    Metric(
        "clinician_empathy_statements",
        "empathy",
        "count",
        "Clinician sentences matching the empathy phrase list (NURSE: naming, understanding, "
        "respecting, supporting, exploring).",
        "Empathy shown by tone, timing or action; a phrase said mechanically still counts.",
        (_("NURSE model", "back2005"),),
        per_10min="clinician_empathy_per_10min",
        cohort_rank=8,
    ),
)


def stacked_runs(
    sents: Sequence[Sentence], questions: Sequence[dict], clinician: str, patient: Optional[str]
) -> list[dict]:
    """Runs of two or more clinician questions (``questions``: the question events of ``sents``)
    before the patient says more than backchannel tokens."""
    asked = {(e["speaker"], e["start"]) for e in questions}
    runs: list[dict] = []
    run: list[Sentence] = []

    def close() -> None:
        if len(run) >= 2:
            kinds = [q.kind(s.text) for s in run]
            runs.append(
                {
                    "start": round(run[0].start, 2),
                    "end": round(run[-1].end, 2),
                    "questions": len(run),
                    "closed": kinds.count("closed"),
                }
            )
        run.clear()

    for s in sents:
        if s.speaker == clinician and (s.speaker, round(s.start, 2)) in asked:
            run.append(s)
        elif s.speaker == patient and not only_backchannel_tokens(list(s.words)):
            close()
    close()
    return runs


@metric_group("words", METRICS, kind="words", needs="clinician")
def word_metrics(tl: Timeline) -> Measured:
    """The word-based metrics (see the module docstring)."""
    words: Sequence[Word] = tl.words or []
    clinician, patient = tl.clinician, tl.patient
    assert clinician is not None
    c_talk_s = tl.talk[clinician] * tl.params.frame
    p_talk_s = tl.talk[patient] * tl.params.frame if patient is not None else 0.0
    sents = tl.sentences
    events = tl.questions
    stacked = stacked_runs(sents, events, clinician, patient)
    empathy = [
        {
            "speaker": s.speaker,
            "role": "clinician",
            "start": round(s.start, 2),
            "end": round(s.end, 2),
            "text": s.text,
            "kind": kind,
        }
        for s in sents
        if s.speaker == clinician and (kind := empathy_kind(s.text)) is not None
    ]
    c_words = sum(1 for w in words if w.speaker == clinician)
    p_words = sum(1 for w in words if patient is not None and w.speaker == patient)
    c_q = [e for e in events if e["speaker"] == clinician]
    c_open = [e for e in c_q if e["kind"] == "open"]
    two = patient is not None
    return Measured(
        {
            "clinician_words": c_words,
            "patient_words": p_words if two else None,
            "clinician_wpm": round(c_words / (c_talk_s / 60), 1) if c_talk_s > 0 else None,
            "patient_wpm": round(p_words / (p_talk_s / 60), 1) if two and p_talk_s > 0 else None,
            "clinician_questions": len(c_q),
            "clinician_open_questions": len(c_open),
            "clinician_closed_questions": len(c_q) - len(c_open),
            "clinician_open_question_share": round(len(c_open) / len(c_q), 4) if c_q else None,
            "clinician_stacked_questions": len(stacked) if two else None,
            "patient_questions": sum(1 for e in events if e["speaker"] == patient) if two else None,
            "clinician_empathy_statements": len(empathy),
        },
        {"questions": events, "stacked_questions": stacked, "empathy_statements": empathy},
    )
