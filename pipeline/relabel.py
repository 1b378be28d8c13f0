"""Changing a finished analysis without analysing it again: its labels (student, station...)
now, and who is who later. The stored result.json is the input; result.json and report.html
are written again as one set (:func:`pipeline.outputs.write_set`)."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Optional

from .errors import InputError, OutputError
from .result import Result


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
    """Write ``result`` back to ``result_path`` and re-render the report beside it (with its
    player again if it had one and the recording is still there). Returns notes for the user
    (a report left as it was, and why)."""
    from .outputs import render_srt, render_txt, render_vtt, write_set
    from .report import build_report

    folder = result_path.parent
    files: dict[str, str | bytes] = {result_path.name: result.to_json()}
    for name, render in (
        ("transcript.txt", render_txt),
        ("transcript.vtt", render_vtt),
        ("transcript.srt", render_srt),
    ):
        if (folder / name).is_file():
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
