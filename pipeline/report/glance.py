"""The top of the report: "At a glance" (the few numbers that matter most, each with its
reference band in words) and "Moments to review" (a short, ranked list of moments to listen
to, each with its excerpt and time). Plain data; the wording is non-judgemental: it says
what happened and invites listening, it does not grade.
"""

from __future__ import annotations

from typing import Any, Optional

from ..outputs import mmss
from ..result import Result

MONOLOGUE_S = 45.0  # a clinician turn this long is a moment to review
MAX_MOMENTS = 6
MAX_PER_KIND = 2  # so that one kind of moment does not crowd out the others
EXCERPT_CHARS = 160


def _n(metrics: dict, name: str) -> Any:
    return metrics.get(name)


def _share(v: Optional[float]) -> str:
    return "n/a" if v is None else f"{v * 100:.0f} %"


def at_a_glance(metrics: dict) -> list[dict]:
    """Up to six headline numbers: title, value, in words, and the reference in words (what, where from, unit)."""
    return (_timing_items(metrics) + _word_items(metrics) + _pause_items(metrics))[:6]


def _timing_items(m: dict) -> list[dict]:
    items = []
    share = _n(m, "clinician_talk_share")
    items.append(
        {
            "key": "talk_share",
            "title": "Clinician share of the talking",
            "value": _share(share),
            "plain": "not enough speech to measure" if share is None else "of the seconds of talk were the clinician's",
            "reference": "No published band in seconds. Studies counting utterances (RIAS) find doctors say "
            "about 59-66 % of the utterances in primary care visits: a different unit, a rough guide only.",
        }
    )
    opening = _n(m, "opening_statement_s")
    interrupted = _n(m, "opening_interrupted")
    items.append(
        {
            "key": "opening",
            "title": "The patient's opening account",
            "value": "n/a" if opening is None else mmss(opening) + " (m:s)",
            "plain": "no opening account by the patient was found"
            if opening is None
            else "ended when the clinician came in"
            if interrupted
            else "the patient finished without being cut short",
            "reference": "Seconds. Patients allowed to finish spoke for 92 s on average (Langewitz et al. 2002, "
            "outpatient clinic); doctors redirected after 18-23 s (Beckman & Frankel 1984; Marvel et al. 1999).",
        }
    )
    return items


def _word_items(m: dict) -> list[dict]:
    items = []
    q, open_share = _n(m, "clinician_questions"), _n(m, "clinician_open_question_share")
    if q is not None:
        items.append(
            {
                "key": "questions",
                "title": "Open questions",
                "value": _share(open_share),
                "plain": f"of the clinician's {q} questions invited the patient's own words"
                if q
                else "the clinician asked no recognised questions",
                "reference": "No reference band: closed questions are right for focused history-taking; open ones "
                "let the patient tell their story (Calgary-Cambridge guide).",
            }
        )
    opps, resp = _n(m, "empathic_opportunities"), _n(m, "empathic_responses")
    if opps is not None:
        items.append(
            {
                "key": "empathy",
                "title": "Worries and feelings taken up",
                "value": f"{resp} of {opps}" if opps else "none heard",
                "plain": "times the patient voiced a worry or a feeling and the clinician's next words took it up"
                if opps
                else "the patient voiced no worry or feeling in the words this tool looks for",
                "reference": "Counts in this consultation. In primary care visits, patients gave such clues in about "
                "half of the visits and most got no positive response (Levinson et al. 2000).",
            }
        )
    tasks = _n(m, "tasks_found")
    if tasks is not None:
        ice = _n(m, "ice_explored")
        safety = _n(m, "safety_netting")
        items.append(
            {
                "key": "tasks",
                "title": "Consultation tasks heard",
                "value": f"{tasks} of 11",
                "plain": f"ideas, concerns, expectations asked: {ice} of 3; safety-netting: "
                + ("heard" if safety else "not heard"),
                "reference": "Counts of the Calgary-Cambridge tasks found by their wording (Silverman, Kurtz & "
                "Draper 2013); a task done in other words is not counted.",
            }
        )
    return items


def _pause_items(m: dict) -> list[dict]:
    items = []
    pauses = _n(m, "listening_pauses_per_10min")
    if pauses is not None:
        items.append(
            {
                "key": "pauses",
                "title": "Listening pauses",
                "value": f"{pauses:.1f}",
                "plain": "per 10 minutes: silences of a second or more the clinician left for the patient",
                "reference": "No reference band. In everyday conversation most replies come within 0-0.2 s "
                "(Stivers et al. 2009); a longer pause gives room to think.",
            }
        )
    return items


def _excerpt(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= EXCERPT_CHARS else text[: EXCERPT_CHARS - 1].rstrip() + "\u2026"


def _turn_text(result: Result, start: float, end: float, role: str) -> str:
    parts = [t.text for t in result.turns if t.role == role and t.end > start and t.start < end and t.text]
    return " ".join(parts)


def moments(result: Result) -> list[dict]:
    """The moments to review, most important first: kind, title, start, clock, excerpt, why."""
    m = result.metrics or {}
    ev = m.get("events") or {}
    out = _missed(ev) + _opening(result, m, ev) + _stacked(result, ev) + _monologues(result, ev) + _ice(m)
    out.sort(key=lambda x: (x["rank"], x["start"] if x["start"] is not None else 0.0))
    kept: list[dict] = []
    for x in out:
        if sum(1 for k in kept if k["kind"] == x["kind"]) < MAX_PER_KIND:
            kept.append(x)
    for x in kept:
        x["clock"] = mmss(x["start"]) if x["start"] is not None else None
    return kept[:MAX_MOMENTS]


def _missed(ev: dict) -> list[dict]:
    out = []
    for o in ev.get("empathic_opportunities") or []:
        if o.get("outcome") != "moved_on":
            continue
        reply = o.get("response") or {}
        after = {
            "closed_question": "the next words were a closed question",
            "other_question": "the next words asked about something else",
            "other_topic": "the conversation moved to another point",
            "no_reply": "there was no reply in words",
            "interruption": "the clinician came in while the patient was saying it",
        }.get(str(reply.get("kind")), "the conversation moved on")
        out.append(
            {
                "kind": "missed_opportunity",
                "rank": 1,
                "title": "The patient voiced a worry or a feeling",
                "start": o["start"],
                "excerpt": _excerpt(o.get("text", "")),
                "why": f"Cue heard: \u201c{o.get('words', '')}\u201d; {after}. Listen to how it was received.",
            }
        )
    return out


def _opening(result: Result, m: dict, ev: dict) -> list[dict]:
    out = []
    opening = ev.get("opening_statement")
    if opening and m.get("opening_interrupted"):
        out.append(
            {
                "kind": "opening_cut_short",
                "rank": 2,
                "title": "The patient's opening account ended early",
                "start": opening["start"],
                "excerpt": _excerpt(_turn_text(result, opening["start"], opening["end"], "patient")),
                "why": f"The clinician came in after {opening['end'] - opening['start']:.0f} s. Had the patient "
                "said everything they came to say?",
            }
        )
    return out


def _stacked(result: Result, ev: dict) -> list[dict]:
    out = []
    for s in ev.get("stacked_questions") or []:
        if s.get("closed", 0) >= 2:
            out.append(
                {
                    "kind": "stacked_questions",
                    "rank": 3,
                    "title": f"{s['questions']} questions in a row",
                    "start": s["start"],
                    "excerpt": _excerpt(_turn_text(result, s["start"], s["end"], "clinician")),
                    "why": f"{s['closed']} of them closed, before the patient answered. Which one did the "
                    "patient answer?",
                }
            )
    return out


def _monologues(result: Result, ev: dict) -> list[dict]:
    out = []
    for t in ev.get("turns") or []:
        if t.get("role") == "clinician" and t["end"] - t["start"] >= MONOLOGUE_S:
            out.append(
                {
                    "kind": "monologue",
                    "rank": 4,
                    "title": f"A long stretch of clinician talk ({t['end'] - t['start']:.0f} s)",
                    "start": t["start"],
                    "excerpt": _excerpt(_turn_text(result, t["start"], t["end"], "clinician")),
                    "why": "Explaining takes time. Was there a moment to check in with the patient?",
                }
            )
    return out


def _ice(m: dict) -> list[dict]:
    out = []
    if m.get("ice_explored") == 0 and m.get("tasks_found") is not None:
        out.append(
            {
                "kind": "ice_not_explored",
                "rank": 5,
                "title": "Ideas, concerns and expectations were not asked about",
                "start": None,
                "excerpt": "",
                "why": "No question about what the patient thought, feared or hoped for was found in the words.",
            }
        )
    return out
