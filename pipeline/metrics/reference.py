"""What the literature says, as data: the qualities the metrics are proxies for, the
citations, and :class:`RefValue` (a published value to compare with).

Each metric's own explanation and reference values sit beside the function that computes it
(see :mod:`pipeline.metrics.registry`). Reference values are context from published studies
of other consultations, never targets or verdicts.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    "utterance ratios of about 1.45-1.93, a share of 0.59-0.66 of the utterances (utterances, "
    "not seconds; primary source still to be confirmed).",
    "roter2008": "Roter DL, Larson SM, Beach MC, Cooper LA. Interactive and evaluative correlates of "
    "dialogue sequence: a simulation study applying the RIAS to turn taking structures. "
    "Patient Educ Couns. 2008;71(1):26-33.",
    "moyers2016": "Moyers TB, Rowell LN, Manuel JK, Ernst D, Houck JM. The Motivational Interviewing "
    "Treatment Integrity code (MITI 4): rationale, preliminary reliability and validity. J Subst Abuse "
    "Treat. 2016;65:36-42 (coding manual 4.2.1, Moyers, Manuel & Ernst 2014/2015: reflection-to-question "
    "ratio 1:1 fair, 2:1 good).",
    "suchman1997": "Suchman AL, Markakis K, Beckman HB, Frankel R. A model of empathic communication in the "
    "medical interview. JAMA. 1997;277(8):678-682.",
    "levinson2000": "Levinson W, Gorawara-Bhat R, Lamb J. A study of patient clues and physician responses in "
    "primary care and surgical settings. JAMA. 2000;284(8):1021-1027.",
    "heritage2007": "Heritage J, Robinson JD, Elliott MN, Beckett M, Wilkes M. Reducing patients' unmet "
    "concerns in primary care: the difference one word can make. J Gen Intern Med. 2007;22(10):1429-1433.",
    "silverman2013": "Silverman J, Kurtz S, Draper J. Skills for Communicating with Patients. 3rd ed. CRC "
    "Press; 2013 (the Calgary-Cambridge guide).",
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
