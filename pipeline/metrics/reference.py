"""What each metric means, and what the literature says, as data.

One table, used by ``docs/metrics.md`` (which prints the same text), by the report (metric
cards) and by anyone who wants to explain a number. Reference values are context from
published studies of other consultations, never targets or verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional

QUALITIES = {
    "equality": "Equality: an equal working alliance (who holds the floor, who asks, who interrupts).",
    "presence": "Presence and listening: being fully present and truly listening.",
    "empathy": "Empathy: recognising and responding to the patient's feelings.",
}

CITATIONS = {
    "beckman1984": "Beckman HB, Frankel RM. The effect of physician behavior on the collection of data. "
                   "Ann Intern Med. 1984;101(5):692-696.",
    "marvel1999": "Marvel MK, Epstein RM, Flowers K, Beckman HB. Soliciting the patient's agenda: have we "
                  "improved? JAMA. 1999;281(3):283-287.",
    "singhospina2019": "Singh Ospina N, Phillips KA, Rodriguez-Gutierrez R, et al. Eliciting the patient's "
                       "agenda: secondary analysis of recorded clinical encounters. J Gen Intern Med. "
                       "2019;34(1):36-40.",
    "mulder2023": "Mulder-Vos I, Driever EM, Brand PLP. Observational study on the timing and method of "
                  "interruption by hospital consultants during the opening statement in outpatient "
                  "consultations. BMJ Open. 2023;13(9):e066678.",
    "langewitz2002": "Langewitz W, Denz M, Keller A, et al. Spontaneous talking time at start of consultation "
                     "in outpatient clinic: cohort study. BMJ. 2002;325:682-683.",
    "stivers2009": "Stivers T, Enfield NJ, Brown P, et al. Universals and cultural variation in turn-taking "
                   "in conversation. Proc Natl Acad Sci USA. 2009;106(26):10587-10592.",
    "rias": "Roter Interaction Analysis System (RIAS) studies of primary care: physician-to-patient "
            "utterance ratios of about 1.45-1.93 (range as given in the attunement metrics "
            "specification; counts utterances, not seconds).",
    "roter2008": "Roter DL, Larson SM, Beach MC, Cooper LA. Interactive and evaluative correlates of "
                 "dialogue sequence: a simulation study applying the RIAS to turn taking structures. "
                 "Patient Educ Couns. 2008;71(1):26-33.",
    "back2005": "Back AL, Arnold RM, Baile WF, Tulsky JA, Fryer-Edwards K. Approaching difficult "
                "communication tasks in oncology. CA Cancer J Clin. 2005;55(3):164-177 (the NURSE model).",
}


@dataclass(frozen=True)
class RefValue:
    """A published value for comparison: a single value or a range, with its source."""

    label: str
    citation: str
    value: Optional[float] = None
    low: Optional[float] = None
    high: Optional[float] = None


@dataclass(frozen=True)
class MetricInfo:
    name: str
    quality: Optional[str]  # key of QUALITIES, None for context numbers
    unit: str
    what: str  # plain explanation: what it measures
    cannot_tell: str
    references: tuple[RefValue, ...] = field(default_factory=tuple)


_ = RefValue
METRICS: tuple[MetricInfo, ...] = (
    MetricInfo("clinician_talk_share", "equality", "share",
               "The clinician's share of the time either party was talking (clinician seconds / "
               "(clinician + patient seconds)).",
               "Whether the talk was useful: explaining a diagnosis or a plan rightly takes time. "
               "Seconds are not utterances, so it is not directly comparable with RIAS counts.",
               (_("physician share of utterances 0.59-0.66 (ratio 1.45-1.93)", "rias", low=0.59, high=0.66),)),
    MetricInfo("clinician_talk_s", "equality", "s", "Seconds the clinician was talking (overlap included).",
               "Anything about content."),
    MetricInfo("patient_talk_s", "equality", "s", "Seconds the patient was talking (overlap included).",
               "Anything about content."),
    MetricInfo("clinician_turns", "equality", "count",
               "How many times the clinician took the floor (held it alone after the patient).",
               "Whether the turns were questions, explanations or small talk.",
               (_("3.9 speaker turns per minute, both parties together", "roter2008"),)),
    MetricInfo("patient_turns", "equality", "count",
               "How many times the patient took the floor.", "What the patient said."),
    MetricInfo("clinician_longest_turn_s", "equality", "s",
               "The clinician's longest turn: a long monologue leaves the patient little room.",
               "Whether the monologue was needed (for example, explaining a procedure).",
               (_("physician mean turn 13.7 s (simulated patients)", "roter2008", value=13.7),)),
    MetricInfo("clinician_mean_turn_s", "equality", "s", "The clinician's average turn length.",
               "Whether long turns were appropriate.",
               (_("physician mean turn 13.7 s (simulated patients)", "roter2008", value=13.7),)),
    MetricInfo("patient_mean_turn_s", "presence", "s", "The patient's average turn length.",
               "Why the patient spoke briefly (a closed question invites a short answer).",
               (_("simulated patient mean turn 3 s", "roter2008", value=3.0),)),
    MetricInfo("patient_longest_turn_s", "presence", "s",
               "The patient's longest uninterrupted turn: room given to tell their story.",
               "Whether the patient wanted to say more.",
               (_("mean spontaneous talking time when not interrupted: 92 s", "langewitz2002", value=92.0),)),
    MetricInfo("clinician_interruptions", "equality", "count",
               "Times the clinician started talking (for more than 1 s) while the patient was "
               "talking and the patient went on at least 0.3 s.",
               "Intent: some interruptions are collaborative (finishing a sentence, urgent "
               "clarification). Simultaneous starts are not counted.",
               (_("67 % of clinician 'interruptions' in opening statements were backchannels", "mulder2023"),)),
    MetricInfo("clinician_interruptions_successful", "equality", "count",
               "Clinician interruptions after which the clinician held the floor alone first.",
               "Whether the patient had finished their point."),
    MetricInfo("patient_interruptions", "equality", "count",
               "Times the patient started talking over the clinician (same rule).",
               "Patients interrupting can be a sign of engagement as well as of frustration."),
    MetricInfo("patient_interruptions_successful", "equality", "count",
               "Patient interruptions after which the patient held the floor.", "Intent."),
    MetricInfo("clinician_backchannels", "presence", "count",
               "Short listener sounds by the clinician ('mm-hmm', 'yeah') while the patient talks, "
               "that do not take the floor.",
               "Whether they were encouraging or impatient; automatic speech detection misses very "
               "quiet or very short ones.",
               (_("female consultants median 9, male median 7 backchannels in opening statements", "mulder2023"),)),
    MetricInfo("patient_backchannels", "presence", "count",
               "Short listener sounds by the patient while the clinician talks.",
               "Whether the patient understood or agreed."),
    MetricInfo("clinician_response_latency_median_s", "presence", "s",
               "Typical gap between the patient finishing and the clinician starting (negative = "
               "overlap).",
               "A fast reply can be attentive or hurried; a slow one thoughtful or distracted.",
               (_("conversational gaps cluster at about 0-200 ms across languages", "stivers2009", low=0.0, high=0.2),)),
    MetricInfo("patient_response_latency_median_s", "presence", "s",
               "Typical gap between the clinician finishing and the patient starting.",
               "Why the patient paused (thinking, emotion, a hard question).",
               (_("conversational gaps cluster at about 0-200 ms across languages", "stivers2009", low=0.0, high=0.2),)),
    MetricInfo("clinician_waits_ge_1s", "presence", "count",
               "Times the clinician waited at least 1 s after the patient stopped before speaking.",
               "Whether the wait was attentive silence or distraction (for example, typing)."),
    MetricInfo("patient_pauses_ge_1s", "presence", "count",
               "Silences of at least 1 s inside the patient's turns that the clinician left unfilled.",
               "Whether the patient wanted the clinician to come in."),
    MetricInfo("listening_pauses", "presence", "count",
               "Clinician waits plus patient pauses of at least 1 s.", "The quality of the silence."),
    MetricInfo("listening_pauses_per_10min", "presence", "per 10 min",
               "Listening pauses per 10 minutes of recording, to compare consultations of "
               "different lengths.", "The quality of the silence."),
    MetricInfo("opening_statement_s", "presence", "s",
               "Length of the patient's first turn of at least 3 s: their opening account.",
               "Whether the patient had finished when the turn ended, or what the turn was about.",
               (_("mean 92 s when doctors wait", "langewitz2002", value=92.0),
                _("median 31.4 s to a floor-changing interruption", "mulder2023", value=31.4))),
    MetricInfo("opening_first_clinician_vocalization_s", "presence", "s",
               "Seconds into the opening statement before the clinician first made any sound "
               "(a backchannel counts).",
               "Whether that sound was encouraging ('mm-hmm') or redirecting; see "
               "opening_interrupted.",
               (_("18 s before redirection", "beckman1984", value=18.0),
                _("23 s before redirection", "marvel1999", value=23.0),
                _("median 11 s before interruption", "singhospina2019", value=11.0),
                _("median 6.5 s to any interruption (mostly backchannels)", "mulder2023", value=6.5))),
    MetricInfo("opening_interrupted", "presence", "yes/no",
               "Whether the clinician took the floor with an interruption during the opening statement.",
               "Whether the patient had said what they came to say.",
               (_("55 % of opening statements not finished because of a floor-changing interruption", "mulder2023"),)),
    MetricInfo("overlap_s", None, "s", "Seconds both were talking at once.",
               "Whether overlap was competitive or supportive."),
    MetricInfo("silence_s", None, "s", "Seconds neither clinician nor patient was talking.",
               "What happened in the silence (examination, writing, thinking)."),
    MetricInfo("clinician_questions", "equality", "count",
               "Recognised clinician sentences ending in a question mark.",
               "Depends on the speech recogniser's punctuation; tag questions and rising intonation "
               "may be missed."),
    MetricInfo("patient_questions", "equality", "count",
               "Recognised patient sentences ending in a question mark: the patient's agenda.",
               "Same limits as clinician_questions."),
    MetricInfo("clinician_open_questions", "empathy", "count",
               "Clinician questions starting with an open opener (what, how, why, tell me, "
               "describe, explain, in what way, could you tell/describe).",
               "Whether the question was genuinely open ('How many?' starts with 'how')."),
    MetricInfo("clinician_open_question_share", "empathy", "share",
               "Open questions as a share of the clinician's questions.",
               "Closed questions are right for focused history-taking."),
    MetricInfo("clinician_empathy_statements", "empathy", "count",
               "Clinician sentences matching the empathy phrase list (NURSE: naming, understanding, "
               "respecting, supporting, exploring).",
               "Empathy shown by tone, timing or action; a phrase said mechanically still counts.",
               (_("NURSE model", "back2005"),)),
    MetricInfo("clinician_words", None, "count", "Words the clinician said (as recognised).",
               "Speech recognition misses some words."),
    MetricInfo("patient_words", None, "count", "Words the patient said (as recognised).",
               "Speech recognition misses some words."),
    MetricInfo("clinician_wpm", None, "words/min", "Clinician speaking rate over their own talk time.",
               "Whether the pace suited the patient."),
    MetricInfo("patient_wpm", None, "words/min", "Patient speaking rate over their own talk time.",
               "Why the patient spoke fast or slowly."),
)

BY_NAME = {m.name: m for m in METRICS}


def as_table() -> list[dict]:
    """The table as plain data (for templates and JSON)."""
    rows = []
    for m in METRICS:
        rows.append({
            "name": m.name, "quality": m.quality, "unit": m.unit, "what": m.what,
            "cannot_tell": m.cannot_tell,
            "references": [
                {"label": r.label, "value": r.value, "low": r.low, "high": r.high,
                 "citation": CITATIONS[r.citation]}
                for r in m.references
            ],
        })
    return rows
