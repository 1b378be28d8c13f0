"""Questions without relying on the recogniser's "?": cues, open or closed, stacked.

A recognised sentence (:func:`pipeline.sentences.split`) is a **question** when at least one
cue says so and no negative form rules it out. The cues, in the order they are listed in an
event's ``cues``:

* ``punctuation``: it ends in "?".
* ``wh``: after leading discourse markers ("okay, so ..."), it opens with a wh-word that asks:
  followed (possibly after one to three words such as "long", "kind of", "medications") by an
  auxiliary or a verb of asking ("what brings", "how long have", "where is"). A wh-word
  followed by a subject without inversion ("how it happened was", "what I mean is") is a
  clause, not a question.
* ``inversion``: it opens with an auxiliary before its subject ("do you", "have you had",
  "is it", "could you", "is there", "are they").
* ``any``: it opens with "any"/"anything"/"anyone" (the elliptic "any fever?", "anything
  else?").
* ``tag``: it ends with a tag after a comma (", isn't it", ", right", ", did you", ", no").
* ``rising_pitch``: the speaker's pitch rises at its end (:mod:`pipeline.prosody`), given when
  the recording's prosody was measured.

Negative forms: a sentence opening "I wonder", "I was wondering" (a statement, even with
"?") is never a question; a lone tag word ("yeah", "okay", "right") needs its "?".
* ``request``: an open request ("tell me about ...", "can you describe ..."), counted as an
  open question although it is not a grammatical one (MITI and Calgary-Cambridge count it).

**Open or closed** (Calgary-Cambridge): a question is *open* when it invites an answer in
the patient's own words: "how", "what" or "why" questions, and requests such as "tell me",
"describe", "talk me through", "can you tell me about", except those that ask for one fact
("how many/much/long/often/old/far", "what time/day/date/dose/age/colour", "what is your
name"). Everything else (inversion, "any", tags, "where/when/who/which", declarative
questions) is *closed*. A question asking for a narrative in request form ("tell me about
...") is counted as an open question even without "?".

**Stacked**: two or more clinician questions in a row, before the patient says anything
other than backchannel tokens ("mm", "yeah").
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Optional, Sequence

from ..sentences import clean

if TYPE_CHECKING:
    from ..sentences import Sentence

WH = ("what", "how", "why", "when", "where", "whereabouts", "who", "whom", "whose", "which")
# a preposition before the wh-word ("in what way", "for how long", "since when")
WH_PREPOSITIONS = ("in", "for", "at", "from", "with", "about", "to", "since", "on", "by")
# wh-openers that suggest rather than ask
SUGGESTIONS = ("why don't we", "why not", "how about we", "what we'll do", "what i'll do", "what we can do")
AUX = (
    "do", "does", "did", "have", "has", "had", "is", "are", "was", "were", "am", "can", "could",
    "would", "will", "should", "shall", "may", "might", "must", "don't", "doesn't", "didn't",
    "haven't", "hasn't", "isn't", "aren't", "wasn't", "weren't", "can't", "couldn't", "wouldn't",
    "won't", "shouldn't",
)  # fmt: skip
SUBJECTS = (
    "you", "it", "he", "she", "they", "we", "i", "there", "that", "this", "these", "those", "the",
    "your", "anyone", "anything", "anybody", "someone", "somebody", "any", "he's", "she's",
    "it's", "you've", "you're", "my", "his", "her", "their",
)  # fmt: skip
# wh-word contractions that carry their auxiliary ("what's", "how's", "where'd")
WH_AUX = re.compile(r"^(what|how|why|when|where|who|which)('s|'re|'d|'ve|'ll)$")
# words that may sit between a wh-word and its auxiliary ("how long have", "what kind of pain is")
WH_COMPLEMENT_MAX = 5
ASKING_VERBS = (
    "brings", "brought", "happened", "happens", "makes", "made", "helps", "helped", "worries",
    "worried", "concerns", "concerned", "causes", "caused", "triggers", "started", "starts",
    "goes", "went", "came", "comes", "hurts", "bothers", "matters", "else", "about",
)  # fmt: skip
DISCOURSE_MARKERS = frozenset(
    "okay ok so and or right well now um uh erm er alright oh yeah yes no but then also sorry fine good "
    "great again".split()
)
ANY_OPENERS = ("any", "anything", "anyone", "anybody", "anywhere", "any other")
TAGS = (
    "isn't it", "is it", "aren't you", "are you", "don't you", "do you", "didn't you", "did you",
    "haven't you", "have you", "wasn't it", "was it", "doesn't it", "does it", "didn't it", "did it",
    "isn't that", "is that right", "right", "correct", "no", "am i right", "has it", "hasn't it",
    "have they", "haven't they", "will you", "won't you", "would you", "can you", "could you",
    "shall we", "do they", "don't they", "are they", "aren't they", "is he", "is she", "isn't he",
    "isn't she", "was he", "was she", "were you", "weren't you", "have you had",
)  # fmt: skip
NEGATIVE_OPENERS = ("i wonder", "i was wondering", "i'm wondering", "i am wondering")
# open requests: they ask for a narrative although they are not grammatical questions
OPEN_REQUESTS = (
    "tell me", "describe", "explain", "talk me through", "walk me through", "can you tell me",
    "could you tell me", "can you describe", "could you describe", "can you explain",
    "could you explain", "would you tell me", "would you describe", "do you want to tell me",
)  # fmt: skip
OPEN_WH = ("what", "how", "why")
# ... except when they ask for one fact
FACT_AFTER_HOW = ("many", "much", "long", "often", "old", "far", "frequently", "soon", "tall", "heavy")
FACT_AFTER_WHAT = (
    "time", "day", "date", "dose", "dosage", "age", "colour", "color", "number", "year", "month",
    "week", "side", "size", "temperature", "medication", "medications", "tablets", "name",
)  # fmt: skip
FACT_PHRASES = ("what is your name", "what's your name", "what is your date", "what's your date")

_CUE_ORDER = ("punctuation", "wh", "inversion", "any", "tag", "rising_pitch", "request")


FILLERS = frozenset({"um", "uh", "erm", "er", "hmm", "mm"})


def _tokens(text: str) -> list[str]:
    """Cleaned words without fillers, a word said twice in a row kept once ("is uh is it")."""
    out: list[str] = []
    for w in clean(text).split():
        if w not in FILLERS and (not out or out[-1] != w):
            out.append(w)
    return out


def _head(tokens: list[str]) -> list[str]:
    """The tokens after leading discourse markers."""
    i = 0
    while i < len(tokens) - 1 and tokens[i] in DISCOURSE_MARKERS:
        i += 1
    return tokens[i:]


def _starts(tokens: list[str], phrases) -> Optional[str]:
    head = " ".join(tokens)
    for p in sorted(phrases, key=len, reverse=True):
        if head == p or head.startswith(p + " "):
            return p
    return None


def _wh_question(head: list[str], bare: bool = False) -> bool:
    """A wh-word that asks; ``bare``: the wh-word alone counts ("Why?")."""
    if len(head) >= 2 and head[0] in WH_PREPOSITIONS:
        head = head[1:]
    if not head or _starts(head, SUGGESTIONS):
        return False
    if WH_AUX.match(head[0]):
        return True
    if head[0] not in WH:
        return False
    rest = head[1:]
    if not rest:
        return False  # a lone "Why" or "What" asks only with its "?"
    for k, w in enumerate(rest[: WH_COMPLEMENT_MAX + 1]):
        if w in AUX or w in ASKING_VERBS or WH_AUX.match(w):
            return True
        if w in SUBJECTS or w.endswith(("'s", "'re", "'ve", "'ll", "'m", "'d")):
            return k > 0 and rest[k - 1] in AUX  # "what do you": caught above; "how it was": no
    return bare and len(rest) <= 2  # "How much?" "What else?"


def _clause_heads(text: str) -> list[list[str]]:
    """The head of each of the sentence's comma-separated clauses."""
    return [h for h in (_head(_tokens(part)) for part in text.split(",")) if h]


def _inversion(head: list[str]) -> bool:
    return len(head) >= 3 and head[0] in AUX and head[1] in SUBJECTS


MID_AUX = ("do", "does", "did", "have", "has", "is", "are", "was", "were", "can", "could", "would", "will")
MID_SUBJECTS = ("you", "it", "they", "he", "she", "there")
NOT_BEFORE_MID = ("if", "when", "as", "than", "whether", "because", "what", "how", "where", "who", "which", "that")


def _mid_inversion(tokens: list[str]) -> bool:
    """An auxiliary before its subject later in the sentence ("and with those headaches have you
    had ..."), not after a subject or a word that opens a clause ("if you do you ...")."""
    for i in range(1, len(tokens) - 2):
        if tokens[i] in MID_AUX and tokens[i + 1] in MID_SUBJECTS:
            before = tokens[i - 1]
            if before not in SUBJECTS and before not in NOT_BEFORE_MID and before not in AUX:
                return True
    return False


def _tag(text: str) -> bool:
    t = text.strip().rstrip(".?!\"')] ").lower().replace("\u2019", "'")
    if "," not in t:
        return False
    before, _, tail = t.rpartition(",")
    tail = " ".join(re.sub(r"[^\w\s']", " ", tail).split())
    return len(before.split()) >= 3 and tail in TAGS


def cues(text: str, rising: Optional[bool] = None) -> list[str]:
    """The question cues of one sentence (empty: not a question)."""
    tokens = _tokens(text)
    if not tokens:
        return []
    head = _head(tokens)
    joined = " ".join(tokens)
    if _starts(tokens, NEGATIVE_OPENERS) or _starts(head, NEGATIVE_OPENERS):
        return []
    found = []
    if re.search(r"\?[\"')\]]*$", text.strip()):
        found.append("punctuation")
    heads = _clause_heads(text)
    if _wh_question(heads[0], bare=len(tokens) <= 3) or any(_wh_question(h) for h in heads[1:] if h[0] != "which"):
        found.append("wh")
    if any(_inversion(h) for h in heads) or ("wh" not in found and any(_mid_inversion(h) for h in heads)):
        found.append("inversion")
    if any(_starts(h, ANY_OPENERS) for h in heads):
        found.append("any")
    if _tag(text):
        found.append("tag")
    if rising and len(tokens) >= 3:
        found.append("rising_pitch")
    if _starts(head, OPEN_REQUESTS) and len(head) >= 3:
        found.append("request")
    if found and set(found) <= {"tag", "rising_pitch"} and joined in TAGS:
        return []  # "yeah." said with a rise is a backchannel, not a question
    return sorted(found, key=_CUE_ORDER.index)


def is_question(text: str, rising: Optional[bool] = None) -> bool:
    """True when :func:`cues` finds at least one cue."""
    return bool(cues(text, rising))


def kind(text: str) -> str:
    """``open`` or ``closed`` (see the module docstring); meaningful for questions. The clause
    that asks decides ("Left side, okay, and can you describe the pain?" is open)."""
    heads = _clause_heads(text)
    asking = [
        h
        for h in heads
        if _starts(h, OPEN_REQUESTS) or _wh_question(h, bare=True) or _inversion(h) or _starts(h, ANY_OPENERS)
    ]
    head = (asking or heads or [[]])[0]
    if len(head) >= 2 and head[0] in WH_PREPOSITIONS and head[1] in WH:
        head = head[1:]
    return _kind_of_head(head)


def _kind_of_head(head: list[str]) -> str:
    if not head:
        return "closed"
    if _starts(head, OPEN_REQUESTS):
        return "open"
    if _starts(head, FACT_PHRASES):
        return "closed"
    first = re.sub(r"'.*$", "", head[0])
    if first not in OPEN_WH:
        return "closed"
    nxt = head[1] if len(head) > 1 else ""
    if first == "how" and nxt in FACT_AFTER_HOW:
        return "closed"
    if first == "what" and nxt in FACT_AFTER_WHAT:
        return "closed"
    return "open"


def opens_question(text: str) -> bool:
    """True when ``text`` starts like a question (inversion, a wh-word that asks, "any ...")."""
    head = _head(_tokens(text))
    return _inversion(head) or _wh_question(head) or bool(_starts(head, ANY_OPENERS))


def question_events(
    sents: Sequence["Sentence"],
    clinician: Optional[str],
    patient: Optional[str],
    rising: Optional[dict[tuple[str, float], bool]] = None,
) -> list[dict]:
    """Every question of any speaker, as events: speaker, role, start, end, text, kind, cues.
    ``rising``: (speaker, sentence end) -> the pitch rose there (the rising-pitch cue)."""
    out = []
    for s in sents:
        found = cues(s.text, (rising or {}).get((s.speaker, round(s.end, 2))))
        if found:
            role = "clinician" if s.speaker == clinician else "patient" if s.speaker == patient else "other"
            out.append(
                {
                    "speaker": s.speaker,
                    "role": role,
                    "start": round(s.start, 2),
                    "end": round(s.end, 2),
                    "text": s.text,
                    "kind": kind(s.text),
                    "cues": found,
                }
            )
    return out
