"""One call from a recording to a folder of outputs: analyse -> redact -> report -> write.

``attune analyze``, each ``attune batch`` worker and the coming app all go through
:func:`analyze_to_folder`, so the outputs of a recording are the same whichever way it was
analysed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from .analysis import Analysis, Analyzer
from .outputs import check_output_dir, write_outputs
from .result import Result


@dataclass(frozen=True)
class FolderOptions:
    """What goes into the output folder (besides what the analysis computes)."""

    include_audio: bool = True  # the recording inside report.html (never with redact)
    redact: bool = False  # identifiers replaced in the transcripts, result.json and report
    private: bool = True  # files 0600 and new folders 0700


@dataclass
class FolderResult:
    result: Result
    out_dir: Path
    files: list[Path]


def prepare(folder: FolderOptions) -> None:
    """Fail now, before the analysis, on what the folder step will need (the redaction model)."""
    if folder.redact:
        from .redact import load as load_redactor

        load_redactor()


def analyze_to_folder(
    path: str | Path,
    out_dir: str | Path,
    analyzer: Optional[Analyzer] = None,
    folder: FolderOptions = FolderOptions(),
    labels: Optional[dict[str, str]] = None,
) -> FolderResult:
    """Analyse ``path`` and write result.json, report.html, the transcripts and the RTTM into
    ``out_dir``, atomically (a failure leaves no partial set of outputs). ``labels`` (student,
    station...) go into result.json and the report header.

    Raises:
        AttuneError: bad input, missing model, unwritable folder.
    """
    out = check_output_dir(out_dir)
    analysis = (analyzer or Analyzer()).run(path)
    return write_analysis(analysis, out, folder, audio_path=path, labels=labels)


def write_analysis(
    analysis: Analysis,
    out_dir: Path,
    folder: FolderOptions,
    audio_path: Optional[str | Path] = None,
    labels: Optional[dict[str, str]] = None,
) -> FolderResult:
    """Label, redact (when asked), render the report and write every output of ``analysis``."""
    from .report import build_report, remove_stale_audio

    result = analysis.result
    result.labels = dict(labels or {})
    if folder.redact:
        from .redact import redact_result

        result = redact_result(result)
    report = build_report(
        result,
        out_dir / "report.html",
        audio_path=audio_path,
        include_audio=folder.include_audio and not folder.redact,
        samples=analysis.audio.samples,
    )
    files = write_outputs(result, out_dir, extra=report, private=folder.private)
    remove_stale_audio(out_dir / "report.html", report)
    return FolderResult(result, out_dir, files)
