"""Words to speakers, roles and turns: the pure step that turns a :class:`~pipeline.stages.Speech`
into a :class:`~pipeline.result.Result` (no audio, no models)."""

from __future__ import annotations

import datetime as _dt
from typing import Mapping, Optional

from . import roles
from ._version import __version__
from .align import (
    LONG_SILENCE_S,
    NEAREST_MAX_S,
    assign_words,
    build_turns,
    keep_sentences_whole,
    split_unspoken,
)
from .audio import Audio
from .result import Recording, Result, Word


def assemble(
    audio: Audio,
    words: list[Word],
    segments,
    exclusive,
    clinician: Optional[str] = None,
    fixed_roles: Optional[Mapping[str, str]] = None,
    voice_roles: Optional[Mapping[str, str]] = None,
) -> Result:
    """Align words to speakers, give roles (:func:`pipeline.roles.decide`), build turns.

    ``fixed_roles`` (channel mode with labels) gives every speaker's role; the words then
    already carry their speaker (their channel) and are not re-aligned.
    """
    if fixed_roles is not None or _has_speakers(words):
        aligned = list(words)  # each channel's own words: their speaker is known
    else:
        aligned = keep_sentences_whole(assign_words(words, exclusive))
    unassigned = sum(1 for w in aligned if w.speaker is None)
    aligned, dropped = split_unspoken(aligned, exclusive)
    speakers, roles_info = roles.decide(
        segments, aligned, clinician=clinician, fixed=fixed_roles, voice_roles=voice_roles
    )
    turns = build_turns(aligned, exclusive, {s.id: s.role for s in speakers})
    roles_info["unassigned_words"] = unassigned
    return Result(
        recording=Recording(
            path=str(audio.path),
            duration_s=round(audio.duration_s, 3),
            sample_rate=audio.original_sample_rate,
            channels=audio.channels,
            sha256=audio.sha256,
            codec=audio.codec,
            container=audio.container,
        ),
        speakers=speakers,
        segments=list(segments),
        exclusive_segments=list(exclusive),
        words=aligned,
        turns=turns,
        roles=roles_info,
        notes=list(audio.notes) + _notes(dropped, segments, aligned, speakers),
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        attunement_version=__version__,
        dropped_words=dropped,
    )


def _notes(dropped, segments, words, speakers) -> list[str]:
    notes = []
    if dropped:
        notes.append(
            f"{len(dropped)} recognised word(s) where nobody was found speaking (more than {NEAREST_MAX_S:g} s from "
            f"any speaker, or unlikely words in a silence of {LONG_SILENCE_S:g} s or more) were left out of the "
            "transcript and the metrics (listed in dropped_words)"
        )
    if not segments and not words:
        notes.append("no speech found in the recording: there are no speakers, words or metrics")
    elif not segments:
        notes.append("the diarization found no speech although some words were recognised")
    elif len(speakers) == 1:
        notes.append("only one speaker was found: there is no patient, and two-party metrics are undefined")
    return notes


def _has_speakers(words) -> bool:
    return bool(words) and all(w.speaker is not None for w in words)
