"""Who is the clinician and who the patient: every role decision, in one place.

Rules (documented in the README and ``docs/result-schema.md``):

* **Automatic** (:func:`assign_roles`): the clinician is the speaker who asks the most
  questions (recognised sentences ending in "?"), ties broken by who speaks first; the most
  talkative remaining speaker is the patient; everyone else is ``other``.
* **Override**: ``clinician=`` names the clinician; the patient follows the rule.
* **Channels** (``fixed``): with ``--channels`` labels each channel's speaker has its role.
* **Voices** (``voice_roles``): speakers matched to the voice book take their enrolled role;
  the others follow the automatic rule.
* **Timing files** (:func:`for_timing`): roles from the file, else the first speaker is the
  clinician; the patient is the most talkative other speaker (:func:`most_talkative`).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Mapping, Optional, Sequence

from .align import talk_seconds
from .errors import InputError
from .result import Segment, Speaker, Word
from .sentences import count_questions

EXPLANATIONS = {
    "override": "clinician given by the user ({clin})",
    "most_questions": "clinician = the speaker who asked the most questions ({clin}: {n}), patient = the most "
    "talkative other speaker",
    "first_speaker": "no speaker asked a recognised question: clinician = the first speaker, patient = the most "
    "talkative other speaker",
    "no_speakers": "no speech found: no roles",
}


def most_talkative(talk: Mapping[str, float], order: Sequence[str], clinician: Optional[str]) -> Optional[str]:
    """The patient: the speaker other than ``clinician`` with the most talk (ties: first in ``order``)."""
    others = [s for s in order if s != clinician]
    if not others:
        return None
    return max(others, key=lambda s: (talk.get(s, 0.0), -order.index(s)))


def _first_appearance(segments: Sequence[Segment], words: Sequence[Word]) -> dict[str, float]:
    first: dict[str, float] = {}
    for s in sorted(segments, key=lambda s: s.start):
        first.setdefault(s.speaker, s.start)
    for w in words:
        if w.speaker is not None and w.speaker not in first:
            first[w.speaker] = w.start
    return first


def assign_roles(
    segments: Sequence[Segment],
    words: Sequence[Word],
    clinician: Optional[str] = None,
    patient: Optional[str] = None,
) -> tuple[list[Speaker], dict]:
    """Give every speaker a role by the automatic rule (or with ``clinician`` given, and
    ``patient`` too: roles swapped by hand).

    Args:
        segments: overlap-aware speaker regions (talk time comes from these).
        words: words with speakers assigned (questions come from these).
        clinician: a speaker id that overrides the automatic rule.

    Returns:
        The speakers (in order of first appearance) and a description of the decision.

    Raises:
        InputError: ``clinician`` names no speaker of the recording.
    """
    talk = talk_seconds(segments)
    first = _first_appearance(segments, words)
    ids = sorted(first, key=lambda s: (first[s], s))
    questions = count_questions(words)
    word_counts: dict[str, int] = defaultdict(int)
    for w in words:
        if w.speaker is not None:
            word_counts[w.speaker] += 1

    if clinician is not None:
        if clinician not in ids:
            known = ", ".join(ids) if ids else "none"
            raise InputError(f"{{clinician}} {clinician}: no such speaker (speakers found: {known})", "clinician")
        clin: Optional[str] = clinician
        rule = "override"
    elif ids:
        clin = max(ids, key=lambda s: (questions.get(s, 0), -first[s]))
        rule = "most_questions" if questions.get(clin, 0) > 0 else "first_speaker"
    else:
        clin, rule = None, "no_speakers"
    if patient is None or patient == clin or patient not in ids:
        patient = most_talkative(talk, ids, clin)
    speakers = [
        Speaker(
            id=s,
            role="clinician" if s == clin else "patient" if s == patient else "other",
            talk_s=round(talk.get(s, 0.0), 3),
            words=word_counts.get(s, 0),
            questions=questions.get(s, 0),
        )
        for s in ids
    ]
    info = {
        "rule": rule,
        "clinician": clin,
        "patient": patient,
        "questions": {s: questions.get(s, 0) for s in ids},
        "explanation": EXPLANATIONS[rule].format(clin=clin, n=questions.get(clin, 0) if clin else 0),
    }
    return speakers, info


def decide(
    segments: Sequence[Segment],
    words: Sequence[Word],
    clinician: Optional[str] = None,
    fixed: Optional[Mapping[str, str]] = None,
    voice_roles: Optional[Mapping[str, str]] = None,
) -> tuple[list[Speaker], dict]:
    """The roles of an analysed recording, by whichever rule applies (see the module docstring)."""
    if fixed is not None:
        return _fixed_roles(segments, words, fixed)
    if voice_roles and clinician is None:
        clinician = _clinician_with_voices(segments, words, voice_roles)
    speakers, info = assign_roles(segments, words, clinician=clinician)
    if voice_roles:
        _apply_voice_roles(speakers, info, voice_roles)
        conflict = _voice_conflict(speakers, info)
        if conflict:
            info["conflict"] = conflict
    return speakers, info


def _voice_conflict(speakers: list[Speaker], info: dict) -> Optional[str]:
    """A plain sentence when the enrolled voice and the question rule strongly disagree about
    the clinician: another speaker asked at least twice as many questions, plus 2."""
    clin = next((s for s in speakers if s.role == "clinician"), None)
    if clin is None:
        return None
    asker = max(speakers, key=lambda s: s.questions)
    if asker.id == clin.id or asker.questions < 2 * max(1, clin.questions) + 2:
        return None
    return (
        f"the voice match says the clinician is {clin.id}, who asked {clin.questions} question(s), but "
        f"{asker.id} asked {asker.questions}: check who is who before relying on the per-role numbers"
    )


def _fixed_roles(segments, words, fixed: Mapping[str, str]) -> tuple[list[Speaker], dict]:
    clin = next(spk for spk, role in fixed.items() if role == "clinician")
    speakers, info = assign_roles(segments, words, clinician=clin)
    for sp in speakers:
        sp.role = fixed.get(sp.id, "other")
    info.update(
        {
            "rule": "channels",
            "patient": next((spk for spk, role in fixed.items() if role == "patient"), None),
            "explanation": "roles given by --channels: each channel is one speaker",
        }
    )
    return speakers, info


def _clinician_with_voices(segments, words, voice_roles: Mapping[str, str]) -> Optional[str]:
    """A matched clinician; else the automatic rule among speakers not matched as patients."""
    matched = [spk for spk, role in voice_roles.items() if role == "clinician"]
    if matched:
        return matched[0]
    candidates = [s for s in segments if voice_roles.get(s.speaker) != "patient"]
    if not candidates:
        return None
    _speakers, info = assign_roles(candidates, [w for w in words if voice_roles.get(w.speaker) != "patient"])
    return info["clinician"]


def _apply_voice_roles(speakers: list[Speaker], info: dict, voice_roles: Mapping[str, str]) -> None:
    """Matched speakers take their enrolled role; a matched patient displaces the rule's."""
    if "patient" in voice_roles.values():
        for sp in speakers:
            if sp.role == "patient" and voice_roles.get(sp.id) != "patient":
                sp.role = "other"
    for sp in speakers:
        if sp.id in voice_roles:
            sp.role = voice_roles[sp.id]
    info["clinician"] = next((s.id for s in speakers if s.role == "clinician"), None)
    info["patient"] = next((s.id for s in speakers if s.role == "patient"), None)
    info["rule"] = "voices"
    info["explanation"] = (
        "roles of speakers matched to the voice book come from their enrolment ("
        + ", ".join(f"{spk}: {role}" for spk, role in voice_roles.items())
        + "); other speakers follow the automatic rule"
    )


def of_result(result) -> tuple[Optional[str], Optional[str]]:
    """(clinician, patient) speaker ids of an analysed :class:`~pipeline.result.Result`."""
    roles = {s.id: s.role for s in result.speakers}
    clinician = next((s for s, r in roles.items() if r == "clinician"), None)
    patient = next((s for s, r in roles.items() if r == "patient"), None)
    return clinician, patient


def for_timing(timing, clinician: Optional[str] = None) -> tuple[Optional[str], Optional[str]]:
    """(clinician, patient) of a timing file: ``clinician`` when given (it must be one of its
    speakers), else the roles the file marks, else its first speaker (patient: decided later
    by :func:`most_talkative` on the timeline)."""
    speakers = timing.speakers
    if clinician is not None:
        if clinician not in speakers:
            known = ", ".join(speakers) or "none"
            raise InputError(
                f"{{clinician}} {clinician}: no such speaker in {timing.source} (speakers: {known})", "clinician"
            )
        return clinician, None
    if timing.roles:
        return (
            next((s for s, r in timing.roles.items() if r == "clinician"), None),
            next((s for s, r in timing.roles.items() if r == "patient"), None),
        )
    return (speakers[0] if speakers else None), None
