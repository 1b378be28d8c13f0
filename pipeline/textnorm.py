"""Text normalisation for word error rate (documented; used by tests and ``evaluate``).

Steps, in order: lower-case; unify apostrophes; expand common English contractions and
title abbreviations (``I'm`` -> ``i am``, ``Dr.`` -> ``doctor``); unify backchannel
spellings (``mm-hmm``, ``mhm``, ``mm hmm`` -> ``mhm``); drop punctuation (hyphens become
spaces); optionally drop filler words (um, uh, er, erm, hmm); collapse whitespace.
"""

from __future__ import annotations

import re

CONTRACTIONS = {
    "i'm": "i am",
    "you're": "you are",
    "we're": "we are",
    "they're": "they are",
    "he's": "he is",
    "she's": "she is",
    "it's": "it is",
    "that's": "that is",
    "there's": "there is",
    "what's": "what is",
    "let's": "let us",
    "i've": "i have",
    "you've": "you have",
    "we've": "we have",
    "they've": "they have",
    "i'll": "i will",
    "you'll": "you will",
    "we'll": "we will",
    "it'll": "it will",
    "i'd": "i would",
    "you'd": "you would",
    "we'd": "we would",
    "don't": "do not",
    "doesn't": "does not",
    "didn't": "did not",
    "can't": "cannot",
    "won't": "will not",
    "isn't": "is not",
    "aren't": "are not",
    "wasn't": "was not",
    "weren't": "were not",
    "haven't": "have not",
    "hasn't": "has not",
    "couldn't": "could not",
    "wouldn't": "would not",
    "shouldn't": "should not",
}
ABBREVIATIONS = {"dr": "doctor", "mr": "mister", "mrs": "missus", "ms": "miss"}
FILLERS = {"um", "uh", "er", "erm", "hmm", "ah", "eh"}
_BACKCHANNEL = re.compile(r"\b(mm+[- ]?h+m+|m+h+m+|uh[- ]huh)\b")
_PUNCT = re.compile(r"[^\w\s']")


def normalize(text: str, drop_fillers: bool = False) -> str:
    """Normalise ``text`` for word error rate scoring (see the module docstring)."""
    t = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    t = _BACKCHANNEL.sub("mhm", t)
    t = t.replace("-", " ")
    t = _PUNCT.sub(" ", t)
    words = []
    for w in t.split():
        w = w.strip("'")
        if not w:
            continue
        w = CONTRACTIONS.get(w, w)
        w = ABBREVIATIONS.get(w, w)
        words.extend(w.split())
    if drop_fillers:
        words = [w for w in words if w not in FILLERS]
    return " ".join(words)
