"""Reflections, and empathic opportunities with the clinician's response: words in, counts and events out.

**Reflection** (in the MITI 4.2.1 sense, by form): a clinician sentence that is not a
question and restates or builds on what the patient just said. Either it opens with a
reflective stem (:data:`REFLECTIVE_STEMS`: "so you're saying", "it sounds like", "you feel",
"you've been" ...), or it shares at least :data:`MIN_SHARED` content words (below) with the
patient's words since the clinician last spoke (within :data:`LOOKBACK_S`), and has at least
four words. Content words: words of three letters or more outside :data:`STOPWORDS`,
compared by a crude stem (a final -s, -es, -ed, -ing, -ly dropped).

**Empathic opportunity** (Suchman et al. 1997; the cues and concerns of VR-CoDES): a patient
sentence that states an emotion or a worry explicitly (:data:`EXPLICIT_CUES`: "I'm worried",
"I'm scared", "it's been hard", "I can't cope" ...), or hints at one (:data:`HINT_CUES`:
sleep, stress, work or family strain, "affecting my day-to-day").

**The clinician's response**: their sentences after the patient's turn that holds the cue
(backchannels and cut-off fragments skipped), up to the patient's next sentence that is more
than backchannel tokens (and within :data:`RESPONSE_WINDOW_S`). It *responds* when one of
them is an empathy statement (the NURSE phrase list), a reflection of the patient's turn (a
reflective stem, or :data:`MIN_SHARED` content words shared with it), or an exploring
question (one that takes up a content word of the turn, or asks about feelings, mood, worry
or coping: :data:`EXPLORING_WORDS`). Otherwise the clinician *moves on*: with a closed
question, another question, another topic, no reply, or by interrupting the patient while
they voice the cue (an interruption that starts during the cue sentence).
"""

from __future__ import annotations

import re
from typing import Optional, Sequence

from ..sentences import Sentence, clean
from . import questions as q
from .context import Timeline
from .language import is_empathy_statement, only_backchannel_tokens
from .reference import RefValue as _
from .registry import Measured, Metric, metric_group

MIN_SHARED = 2
LOOKBACK_S = 30.0
RESPONSE_WINDOW_S = 30.0
STOPWORDS = frozenset(
    """
    the and but for with that this these those there their they them then than you your yours
    yourself are was were been being have has had having does did doing not nor can could would
    should will shall may might must just very really quite also too some any all each every
    from into onto over under about after before again once here when where why how what which
    who whom whose its it's i'm i've i'd i'll you're you've you'd you'll he's she's we're we've
    they're they've that's there's what's let's okay yeah yes yep right well so like um uh erm
    mm hmm thing things bit lot sort kind get got getting going gone go know think mean say said
    see just now today because any anything something nothing everything one two three four five
    more most much many little our ours out off down only own same such both few other
    """.split()
)
REFLECTIVE_STEMS = (
    "so you're saying", "you're saying", "what i'm hearing", "it sounds like", "sounds like",
    "it sounds as if", "you feel", "you're feeling", "you've been feeling",
    "you've been", "you were feeling", "so you feel", "you mentioned", "you said", "if i understand",
    "if i've understood", "so what you're",
    "you're worried", "you're concerned", "you're finding", "you've found", "you've noticed",
)  # fmt: skip
_MOD = r"((so|really|very|quite|just|a bit|a little|bit|little|pretty|getting|more|extremely|a|bit)\s+){0,3}"
EXPLICIT_CUES = (
    r"\b(i'm|i am|i've been|i was|i feel|i'm feeling|i've felt|feeling|makes me|made me) " + _MOD + r"(worried|scared|"
    r"frightened|anxious|stressed|upset|concerned|nervous|terrified|depressed|low|down|struggling|exhausted|"
    r"frustrated|overwhelmed|embarrassed|ashamed|angry|lonely|hopeless|afraid|panicky|tearful|fed up|miserable|uneasy)",
    r"\b(uneasy|anxious|frightened|terrified|depressed|miserable|hopeless|panicky|tearful|overwhelmed)\b",
    r"\b(worried|worries|worry|scared|afraid|frightened) (about|that|it|it's|of)\b",
    r"\b(concerning|worrying|scaring|frightening|upsetting|getting to) me\b",
    r"\b(it's|it has|it's been|has been|that's been|this has been) " + _MOD + r"(hard|difficult|tough|awful|horrible|"
    r"stressful|terrible|upsetting|a struggle|a nightmare)",
    r"\bi (just |really |simply )?(can't|cannot) (cope|deal|handle|take it|manage)\b",
    r"\b(not|i'm not|i am not) coping\b",
    r"\bwhat if (it's|it is|i|this is|it turns out)\b",
    r"\bis it (something )?(serious|cancer|bad)\b",
    r"\bwhat('s| is) (going to|gonna) happen\b",
    r"\b(cried|crying|in tears)\b",
)
HINT_CUES = (
    r"\b(can't|cannot|couldn't|not been able to|haven't been able to|struggling to) sleep",
    r"\b(not sleeping|no sleep|sleepless|up all night|awake at night|keeps me up|keeping me up)\b",
    r"\bstress(ed|ful)?\b",
    r"\b(affecting|affected|affects|impacting|interfering with) (my|me|our)\b",
    r"\b(pressure on me|under pressure|sick days|off sick|time off work)\b",
    r"\b(at work|my job|my boss|off work|my work)\b.*\b(hard|difficult|struggl|miss|worr|behind)",
    r"\b(my (wife|husband|partner|kids|children|son|daughter|mum|mom|dad|family)) "
    r"(is|are|has|have|was|were)? ?(worried|upset|struggling|ill|unwell|fed up|annoyed|poorly)",
    r"\b(on my own|by myself|alone|no one to help|nobody to help)\b",
    r"\b(cancer|tumou?r|a stroke|heart attack)\b",
    r"\b(want|need) you to do something\b",
)
_EXPLICIT = [re.compile(p) for p in EXPLICIT_CUES]
_HINT = [re.compile(p) for p in HINT_CUES]


def stem(word: str) -> str:
    for suffix in ("ing", "ed", "es", "ly", "s"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            return word[: -len(suffix)]
    return word


def content_words(text: str) -> set[str]:
    return {stem(w) for w in clean(text).split() if len(w) >= 3 and w not in STOPWORDS}


def reflective_stem(text: str) -> Optional[str]:
    """The reflective stem the sentence opens with (after discourse markers), if any."""
    tokens = q._tokens(text)
    for head in (" ".join(tokens), " ".join(q._head(tokens))):
        for s in sorted(REFLECTIVE_STEMS, key=len, reverse=True):
            if head == s or head.startswith(s + " "):
                return s
    return None


def is_reflection(text: str, patient_said: str) -> Optional[dict]:
    """How ``text`` (a clinician sentence) reflects ``patient_said``: {"stem"} or {"shared"}; None if not."""
    if q.is_question(text):
        return None
    tokens = q._tokens(text)
    found_stem = reflective_stem(text)
    if found_stem and len(tokens) >= 3:
        return {"stem": found_stem}
    shared = sorted(content_words(text) & content_words(patient_said))
    if len(tokens) >= 4 and len(shared) >= MIN_SHARED:
        return {"shared": shared}
    return None


def opportunity(text: str) -> Optional[dict]:
    """The cue in a patient sentence: {"cue": "explicit"|"hint", "words": matched text}; None if none."""
    t = clean(text)
    for kind, patterns in (("explicit", _EXPLICIT), ("hint", _HINT)):
        for p in patterns:
            m = p.search(t)
            if m:
                return {"cue": kind, "words": m.group(0)}
    return None


def _span(s: Sentence, **extra) -> dict:
    return {"speaker": s.speaker, "start": round(s.start, 2), "end": round(s.end, 2), "text": s.text, **extra}


def reflections(sents: Sequence[Sentence], clinician: str, patient: str) -> list[dict]:
    """Each clinician reflection: start, end, text, how (stem or shared words), and what it reflects."""
    out = []
    heard: list[Sentence] = []
    for s in sents:
        if s.speaker == patient:
            heard.append(s)
        elif s.speaker == clinician:
            recent = [h for h in heard if s.start - h.end <= LOOKBACK_S]
            how = is_reflection(s.text, " ".join(h.text for h in recent))
            if how and (recent or "stem" in how):
                out.append(_span(s, role="clinician", **how))
            heard = []
    return out


def _answers(s: Sentence) -> bool:
    return not only_backchannel_tokens(list(s.words))


def _is_reply(s: Sentence) -> bool:
    """A clinician sentence that replies: more than backchannel tokens, and not a cut-off
    fragment ("have you been" without an end, three words or fewer)."""
    words = q._tokens(s.text)
    cut_off = len(words) <= 3 and not re.search(r"[.?!][\"')\]]*$", s.text.strip())
    return _answers(s) and not cut_off


def opportunities(sents: Sequence[Sentence], clinician: str, patient: str, empathic: Sequence[str] = ()) -> list[dict]:
    """Each empathic opportunity with the clinician's response (see the module docstring).

    ``empathic``: texts of the clinician sentences that are empathy statements (NURSE list).
    The response is read after the patient's turn that holds the cue (their sentences until
    the clinician replies), and it is matched against the words of that whole turn.
    """
    empathic_set = set(empathic)
    out = []
    for i, s in enumerate(sents):
        if s.speaker != patient:
            continue
        cue = opportunity(s.text)
        if cue is None:
            continue
        turn = [s]
        replies: list[Sentence] = []
        for nxt in sents[i + 1 :]:
            if nxt.start - s.end > RESPONSE_WINDOW_S:
                break
            if nxt.speaker == patient and _answers(nxt):
                if replies:
                    break
                turn.append(nxt)  # the patient goes on: the cue's turn is not over yet
            elif nxt.speaker == clinician and _is_reply(nxt):  # an "mm" is not yet a reply
                replies.append(nxt)
        for prev in reversed(sents[:i]):
            if prev.speaker != patient:
                if prev.speaker == clinician and _is_reply(prev):
                    break
                continue
            turn.insert(0, prev)
        response = _response(" ".join(t.text for t in turn), replies, empathic_set)
        out.append(
            {
                **_span(s, role="patient"),
                **cue,
                "outcome": "responded" if response["kind"] in RESPONDING else "moved_on",
                "response": response,
            }
        )
    return out


RESPONDING = ("empathy", "reflection", "exploring")


def interrupted(opps: list[dict], interruptions: Sequence[dict], clinician: str) -> list[dict]:
    """Opportunities the clinician cut into: an interruption by the clinician that starts while
    the patient is voicing the cue (or within 0.5 s of its end) is a way of moving on, unless the
    reply then took the cue up."""
    out = []
    for o in opps:
        cut = next(
            (i for i in interruptions if i["speaker"] == clinician and o["start"] <= i["start"] <= o["end"] + 0.5),
            None,
        )
        if cut is not None and o["outcome"] != "responded":
            o = {**o, "response": {**o["response"], "kind": "interruption", "at": cut["start"]}}
        out.append(o)
    return out


# a clinician question about feelings, mood or coping explores even without the cue's words
EXPLORING_WORDS = re.compile(
    r"\b(coping|cope|mood|feel|feeling|feelings|down|worried|worry|worries|worrying|concern|concerns|concerned|"
    r"stress|stressed|stressful|anxious|anxiety|upset|scared|frightened|affecting you|getting to you)\b"
)


def _response(said: str, replies: Sequence[Sentence], empathic: set[str]) -> dict:
    if not replies:
        return {"kind": "no_reply"}
    cue_words = content_words(said)
    for r in replies:
        if r.text in empathic:
            return _span(r, kind="empathy")
        if is_reflection(r.text, said):
            return _span(r, kind="reflection")
        if q.is_question(r.text) and (content_words(r.text) & cue_words or EXPLORING_WORDS.search(clean(r.text))):
            return _span(r, kind="exploring")
    first = replies[0]
    if q.is_question(first.text):
        return _span(first, kind="closed_question" if q.kind(first.text) == "closed" else "other_question")
    return _span(first, kind="other_topic")


# ---------------------------------------------------------------------------- the metric group
METRICS = (
    Metric(
        "clinician_reflections",
        "empathy",
        "count",
        "Clinician statements (not questions) that restate or build on what the patient just said: "
        "a reflective stem ('it sounds like', 'so you're saying', 'you feel') or two content words "
        "shared with the patient's last words.",
        "Whether the reflection was accurate or felt heard; a summary of facts counts too.",
        (_("MITI 4: reflection-to-question ratio 1:1 fair, 2:1 good", "moyers2016"),),
        per_10min="clinician_reflections_per_10min",
    ),
    Metric(
        "reflection_to_question_ratio",
        "empathy",
        "ratio",
        "clinician_reflections divided by clinician_questions (null without questions).",
        "MITI codes a counselling session; a medical history rightly needs more questions.",
        (_("MITI 4 fair 1:1, good 2:1 (counselling sessions)", "moyers2016", low=1.0, high=2.0),),
    ),
    Metric(
        "empathic_opportunities",
        "empathy",
        "count",
        "Patient sentences that state an emotion or worry ('I'm worried', 'it's been hard', 'I can't "
        "cope') or hint at one (sleep, stress, work or family strain).",
        "Cues said without these words, or shown by voice or tears, are missed.",
        (_("clues in 52 % of primary care visits", "levinson2000"), _("empathic opportunity model", "suchman1997")),
    ),
    Metric(
        "empathic_responses",
        "empathy",
        "count",
        "Opportunities the clinician's next sentences take up: an empathy phrase (NURSE), a "
        "reflection of the cue, or an exploring question.",
        "Whether the response was felt as genuine; non-verbal responses are not heard.",
        (_("most clues in primary care got no positive response", "levinson2000"),),
    ),
    Metric(
        "missed_empathic_opportunities",
        "empathy",
        "count",
        "Opportunities followed by a closed question, another topic or no reply.",
        "A deliberate return to the worry later in the consultation is not credited here.",
    ),
)


@metric_group("responses", METRICS, kind="words")
def response_metrics(tl: Timeline) -> Measured:
    """Reflections and empathic opportunities (see the module docstring)."""
    clinician, patient = tl.parties
    sents = tl.sentences
    refl = reflections(sents, clinician, patient)
    n_q = sum(1 for e in tl.questions if e["speaker"] == clinician)  # clinician_questions
    empathic = [s.text for s in sents if s.speaker == clinician and is_empathy_statement(s.text)]
    opps = interrupted(opportunities(sents, clinician, patient, empathic), tl.listener.interruptions, clinician)
    responded = sum(1 for o in opps if o["outcome"] == "responded")
    return Measured(
        {
            "clinician_reflections": len(refl),
            "reflection_to_question_ratio": round(len(refl) / n_q, 3) if n_q else None,
            "empathic_opportunities": len(opps),
            "empathic_responses": responded,
            "missed_empathic_opportunities": len(opps) - responded,
        },
        {"reflections": refl, "empathic_opportunities": opps},
    )
