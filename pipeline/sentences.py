"""Sentences in recognised words: one segmentation for the role rule and the word metrics.

A sentence is the recognised words of one speaker, in time order. It ends after a word
ending in ``.``, ``?`` or ``!``, whenever the speaker changes, and where the recogniser ran
two sentences together:

* at a pause of :data:`SPLIT_PAUSE_S` or more between two words;
* at a pause of :data:`QUESTION_PAUSE_S` or more before words that open a question
  (an auxiliary before its subject, or a wh-word that asks), once the sentence has
  :data:`MIN_WORDS_BEFORE_SPLIT` words.

Whether a sentence is a question is decided in :mod:`pipeline.metrics.questions`.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable, Iterable, Optional

from .result import Word

_END = re.compile(r"[.?!][\"')\]]*$")
SPLIT_PAUSE_S = 1.0
QUESTION_PAUSE_S = 0.4
MIN_WORDS_BEFORE_SPLIT = 3


@dataclass(frozen=True)
class Sentence:
    speaker: str
    start: float
    end: float
    text: str
    words: tuple[Word, ...]


def clean(text: str) -> str:
    """Lower case, one apostrophe, punctuation other than ' and - dropped, single spaces."""
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"[^\w\s'-]", " ", t)
    return " ".join(t.split())


def _opens_question(words: list[Word]) -> bool:
    from .metrics.questions import opens_question

    return opens_question(" ".join(w.text for w in words[:4]))


def split(words: Iterable[Word], opens_question: Optional[Callable[[list[Word]], bool]] = None) -> list[Sentence]:
    """The sentences of ``words`` (words without a speaker are left out)."""
    opens = opens_question or _opens_question
    ordered = [w for w in sorted(words, key=lambda w: (w.start, w.end)) if w.speaker is not None]
    out: list[Sentence] = []
    cur: list[Word] = []

    def close() -> None:
        if cur:
            spk = cur[0].speaker
            assert spk is not None
            out.append(Sentence(spk, cur[0].start, cur[-1].end, " ".join(w.text.strip() for w in cur), tuple(cur)))
            cur.clear()

    for i, w in enumerate(ordered):
        if cur:
            gap = w.start - cur[-1].end
            if (
                w.speaker != cur[-1].speaker
                or gap >= SPLIT_PAUSE_S
                or (gap >= QUESTION_PAUSE_S and len(cur) >= MIN_WORDS_BEFORE_SPLIT and opens(ordered[i : i + 4]))
            ):
                close()
        cur.append(w)
        if _END.search(w.text.strip()):
            close()
    close()
    return out


def sentences(words: Iterable[Word]) -> list[tuple[str, str]]:
    """(speaker, sentence text) pairs, in time order."""
    return [(s.speaker, s.text) for s in split(words)]


def count_questions(words: Iterable[Word]) -> dict[str, int]:
    """Questions per speaker (:func:`pipeline.metrics.questions.is_question` on each sentence)."""
    from .metrics.questions import is_question

    counts: dict[str, int] = defaultdict(int)
    for s in split(words):
        if is_question(s.text):
            counts[s.speaker] += 1
    return dict(counts)
