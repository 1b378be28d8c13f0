"""All metrics of one consultation: speaker timing (and words) in, numbers and events out.

:func:`compute` builds the :class:`~pipeline.metrics.context.Timeline` once and runs every
registered metric group on it (:mod:`pipeline.metrics.registry`). The definitions are the
contract in ``docs/metrics.md``. Metrics come from speaker timing (diarization or
annotation), never from Whisper word times; words, when given, add the word metrics and the
word-aware backchannel variant.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Optional, Sequence

from ..prosody import rising_ends
from ..result import Segment, Word
from . import registry
from .context import Params, Timeline

EVENT_KINDS = ("turns", "backchannels", "interruptions", "transfers", "listening_pauses", "opening_statement")


def compute(
    segments: Sequence[Segment],
    clinician: Optional[str],
    duration: Optional[float] = None,
    words: Optional[Sequence[Word]] = None,
    params: Params = Params(),
    patient: Optional[str] = None,
    prosody: Optional[dict] = None,
) -> dict:
    """All metrics of one consultation.

    Args:
        segments: speaker regions (overlap-aware; any number of speakers).
        clinician: the clinician's speaker label (None: no clinician, metrics undefined).
        duration: recording length in seconds (default: end of the last region).
        words: recognised words with speakers, for the word-based metrics (optional).
        params: thresholds.
        patient: the patient's label; default the most talkative other speaker.
        prosody: ``result.prosody`` (terminal pitch of sentences), for the rising-pitch question cue
            (used only when ``params.rising_pitch_st`` is set).

    Returns:
        A flat dict of every registered metric name (``None`` where undefined; word metrics
        only when ``words`` is given) plus ``clinician``, ``patient``, ``speakers``
        (per-speaker talk table), ``backchannel_variant``, ``parameters``, ``notes`` and,
        with two parties, ``events``.
    """
    tl = Timeline(segments, clinician, duration, words, params, patient, rising_ends(prosody, params.rising_pitch_st))
    out: dict = {name: None for name in registry.names("timing")}
    if words is not None:
        out.update({name: None for name in registry.names("words")})
    out.update(_header(tl))
    if not tl.labels:
        tl.notes.append("no speech: every metric is undefined (null)")
        return out
    if clinician is None or clinician not in tl.acts:
        tl.notes.append("no clinician: the metrics are undefined (null)")
        return out
    if tl.patient is None:
        tl.notes.append("only one speaker: two-party metrics are undefined (null)")
    else:
        out["backchannel_variant"] = "words" if words else "timing"
        out["events"] = {kind: None if kind == "opening_statement" else [] for kind in EVENT_KINDS}
    for group in registry.GROUPS:
        if (group.kind == "words" and words is None) or (group.needs == "two_parties" and tl.patient is None):
            continue
        measured = group.compute(tl)
        out.update(measured.values)
        if "events" in out:
            out["events"].update(measured.events)
    return out


def _header(tl: Timeline) -> dict:
    """Who is who and the per-speaker talk table (the part defined even without speech)."""
    any_talk = sum(tl.talk.values())
    speakers = [
        {
            "id": spk,
            "role": "clinician" if spk == tl.clinician else "patient" if spk == tl.patient else "other",
            "talk_s": tl.s(tl.talk[spk]),
            "share_of_all_talk": round(tl.talk[spk] / any_talk, 4) if any_talk else None,
        }
        for spk in tl.labels
    ]
    return {
        "speakers": speakers,
        "clinician": tl.clinician,
        "patient": tl.patient,
        "backchannel_variant": "timing",
        "parameters": asdict(tl.params),
        "notes": tl.notes,
    }


def as_row(metrics: dict) -> dict:
    """The scalar metrics, in contract order (for CSV)."""
    row = {"clinician": metrics.get("clinician"), "patient": metrics.get("patient")}
    row.update({n: metrics[n] for n in registry.names() if n in metrics})
    row["backchannel_variant"] = metrics.get("backchannel_variant")
    return row
