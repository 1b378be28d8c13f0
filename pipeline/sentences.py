"""Sentences and questions in recognised words: one rule for the role rule and the word metrics.

A sentence is the recognised words of one speaker, in time order, split after a word ending
in ``.``, ``?`` or ``!`` and whenever the speaker changes. A question is a sentence ending in
``?`` (closing quotes and brackets allowed after it).
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Iterable, Optional

from .result import Word

_END = re.compile(r"[.?!][\"')\]]*$")
_QUESTION_END = re.compile(r"\?[\"')\]]*$")


def clean(text: str) -> str:
    """Lower case, one apostrophe, punctuation other than ' and - dropped, single spaces."""
    t = text.lower().replace("\u2019", "'")
    t = re.sub(r"[^\w\s'-]", " ", t)
    return " ".join(t.split())


def is_question(text: str) -> bool:
    """A recognised sentence (or its last word) is a question when it ends in a question mark."""
    return bool(_QUESTION_END.search(text.strip()))


def sentences(words: Iterable[Word]) -> list[tuple[str, str]]:
    """(speaker, sentence text) pairs, in time order (words without a speaker are left out)."""
    out: list[tuple[str, str]] = []
    cur: list[str] = []
    cur_spk: Optional[str] = None
    for w in sorted(words, key=lambda w: (w.start, w.end)):
        if w.speaker is None:
            continue
        if cur and w.speaker != cur_spk and cur_spk is not None:
            out.append((cur_spk, " ".join(cur)))
            cur = []
        cur_spk = w.speaker
        cur.append(w.text.strip())
        if _END.search(w.text.strip()):
            out.append((cur_spk, " ".join(cur)))
            cur = []
    if cur and cur_spk is not None:
        out.append((cur_spk, " ".join(cur)))
    return out


def count_questions(words: Iterable[Word]) -> dict[str, int]:
    """Questions per speaker: the words that end a sentence with '?'."""
    counts: dict[str, int] = defaultdict(int)
    for w in words:
        if w.speaker is not None and is_question(w.text):
            counts[w.speaker] += 1
    return dict(counts)
