"""Changing a finished analysis without analysing it again: its labels (student, station...)
and who is who (swap the roles, name the clinician, merge a voice split in two). The stored
result.json is the input; result.json, the transcripts and report.html are written again as
one set (:func:`pipeline.outputs.write_set`)."""

from __future__ import annotations

import stat
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Optional

from .errors import InputError, OutputError
from .result import Result, Segment


def _private(path: Path) -> bool:
    """Whether the outputs were written owner-only (so that the new ones are, too)."""
    try:
        return not (stat.S_IMODE(path.stat().st_mode) & 0o077)
    except OSError:
        return True


def _had_player(report: Path) -> bool:
    try:
        return 'id="player"' in report.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def rewrite_outputs(result: Result, result_path: Path) -> list[str]:
    """Write ``result`` back to ``result_path`` and render again what is beside it: the
    transcripts, the RTTM and the report (with its player again if it had one and the
    recording is still there). Returns notes for the user
    (a report left as it was, and why)."""
    from .outputs import RENDERERS, write_set
    from .report import build_report

    folder = result_path.parent
    files: dict[str, str | bytes] = {result_path.name: result.to_json()}
    for name, render in RENDERERS.items():  # the transcripts and the RTTM that are there
        if name != "result.json" and (folder / name).is_file():
            files[name] = render(result)
    notes: list[str] = []
    report = folder / "report.html"
    if report.is_file():
        player = _had_player(report)
        if player and not Path(result.recording.path).is_file():
            notes.append(
                f"{report}: left as it was, because the recording {result.recording.path} is not where it was "
                "analysed; render it again with attune report RESULT.json --audio RECORDING"
            )
        else:
            files.update(build_report(result, report, include_audio=player))
    try:
        write_set(folder, files, _private(result_path))
    except OSError as exc:
        raise OutputError(f"{folder}: cannot write the changed outputs ({exc.strerror or exc})") from None
    return notes


def label_outputs(result_path: str | Path, labels: dict[str, str]) -> list[str]:
    """Put ``labels`` into an analysis's result.json and report header. A redacted analysis
    keeps no labels in its outputs (they may name people), so nothing is written for it.
    Returns notes for the user."""
    result_path = Path(result_path)
    result = Result.load(result_path)
    if result.redaction is not None:
        return [f"{result_path}: redacted outputs keep no labels; only the results database was changed"]
    if result.labels == labels:
        return []
    result.labels = dict(labels)
    return rewrite_outputs(result, result_path)


def relabel_in_store(store, analysis_id: int, labels: dict[str, str]) -> list[str]:
    """New labels for one stored analysis: the database row, then its result.json and report
    (when they are still where they were written). Returns notes for the user."""
    row = store.get(analysis_id)
    if row is None:
        raise InputError(f"{store.path}: no analysis with id {analysis_id}")
    store.relabel(analysis_id, labels)
    path: Optional[str] = row["result_path"]
    if not path or not Path(path).is_file():
        return [
            f"analysis {analysis_id}: its result.json ({path or 'not recorded'}) is gone; only the database was changed"
        ]
    return label_outputs(path, labels)


@dataclass(frozen=True)
class RoleChange:
    """Who is who, corrected by hand: merge speakers (``(from, into)`` pairs, a voice split in
    two by the diarization), then make ``clinician`` the clinician, or swap the two roles."""

    swap: bool = False
    clinician: Optional[str] = None
    merges: tuple[tuple[str, str], ...] = ()

    def describe(self) -> list[str]:
        out = [f"merge {a} into {b}" for a, b in self.merges]
        if self.clinician:
            out.append(f"clinician is {self.clinician}")
        if self.swap:
            out.append("clinician and patient swapped")
        return out


def _merged_segments(segments: list[Segment], merges: dict[str, str]) -> list[Segment]:
    """``segments`` with merged speakers renamed, and each speaker's touching or overlapping
    regions joined (two labels of one voice become one run of talk)."""
    by_speaker: dict[str, list[Segment]] = {}
    for s in segments:
        by_speaker.setdefault(merges.get(s.speaker, s.speaker), []).append(s)
    out: list[Segment] = []
    for spk, segs in by_speaker.items():
        segs.sort(key=lambda s: s.start)
        cur = Segment(spk, segs[0].start, segs[0].end)
        for s in segs[1:]:
            if s.start <= cur.end + 1e-6:
                cur = Segment(spk, cur.start, max(cur.end, s.end))
            else:
                out.append(cur)
                cur = Segment(spk, s.start, s.end)
        out.append(cur)
    return sorted(out, key=lambda s: (s.start, s.end, s.speaker))


def change_roles(result: Result, change: RoleChange) -> Result:
    """A copy of ``result`` with speakers merged and roles set as ``change`` says; turns and
    every metric are computed again from the stored regions and words (no audio, no model),
    and ``roles.manual`` records what was changed by hand."""
    from .align import build_turns
    from .metrics import compute_for_result
    from .roles import assign_roles, of_result

    ids = {s.id for s in result.speakers} | {s.speaker for s in result.segments}
    merges = dict(change.merges)
    for a, b in change.merges:
        for spk in (a, b):
            if spk not in ids:
                raise InputError(f"{{merge}} {a}={b}: no speaker {spk} (speakers: {', '.join(sorted(ids))})", "merge")
        if a == b or a in merges.values():
            raise InputError(f"{{merge}} {a}={b}: a speaker cannot be merged into itself or merged twice", "merge")
    clinician, patient = of_result(result)
    new_patient = None  # None: the most talkative of the others, as the automatic rule does
    if change.clinician is not None:
        clinician = merges.get(change.clinician, change.clinician)
    elif change.swap:
        if clinician is None or patient is None:
            raise InputError("{swap} needs a clinician and a patient to swap (this analysis has not both)", "swap")
        clinician, new_patient = merges.get(patient, patient), merges.get(clinician, clinician)
    elif clinician is not None:
        clinician = merges.get(clinician, clinician)

    def rename(words):
        return [replace(w, speaker=merges.get(w.speaker, w.speaker)) if w.speaker in merges else w for w in words]

    segments = _merged_segments(result.segments, merges)
    exclusive = _merged_segments(result.exclusive_segments, merges)
    words = rename(result.words)
    speakers, info = assign_roles(segments, words, clinician=clinician, patient=new_patient)
    names = {s.id: s.name for s in result.speakers if s.name and s.id not in merges}
    speakers = [replace(s, name=names.get(s.id)) for s in speakers]
    done = change.describe()
    before = result.roles.get("explanation", "")
    info["explanation"] = f"set by hand ({'; '.join(done)}); the automatic rule had said: {before}"
    info["manual"] = list(result.roles.get("manual", [])) + done
    if "voices" in result.roles:
        info["voices"] = result.roles["voices"]
    out = replace(
        result,
        segments=segments,
        exclusive_segments=exclusive,
        words=words,
        dropped_words=rename(result.dropped_words),
        speakers=speakers,
        turns=build_turns(words, exclusive, {s.id: s.role for s in speakers}),
        roles=info,
        notes=[n for n in result.notes if not n.startswith("who is who was set by hand")]
        + [f"who is who was set by hand after the analysis: {'; '.join(info['manual'])}"],
    )
    out.metrics = compute_for_result(out)
    return out
