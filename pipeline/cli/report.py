"""``attune report`` (one consultation's page again) and ``attune cohort`` (many consultations)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError, InputError
from .common import debug_option, html_target, print_beside, redact_option, shared_output_option
from .db import open_db


@click.command("report")
@click.argument("result_path", metavar="RESULT.json", type=click.Path(path_type=Path, dir_okay=True))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Report file (default: report.html beside RESULT.json).",
)
@click.option(
    "--audio",
    "audio_path",
    type=click.Path(path_type=Path),
    default=None,
    help="The recording, if it has moved since the analysis (must be the same file).",
)
@click.option("--no-audio", is_flag=True, help="Leave the audio player out (for privacy).")
@click.option("--pdf", is_flag=True, help="Also print the report to PDF with headless Chromium.")
@redact_option
@shared_output_option
@debug_option
def report_cmd(
    result_path: Path,
    output: Optional[Path],
    audio_path: Optional[Path],
    no_audio: bool,
    pdf: bool,
    redact: bool,
    shared_output: bool,
):
    """Render the HTML review report of an analysis again.

    One self-contained file that opens offline in any current browser: timeline, metric
    cards with reference values, charts, transcript with search, and (unless --no-audio)
    the recording, playable from any turn.

    With --redact, an analysis that was not redacted is written again as a whole redacted
    set (report, result.json, transcripts) into a folder of its own, FOLDER.redacted/ by
    default; the originals are left as they were.
    """
    from ..outputs import check_output_dir, write_files
    from ..report import build_report, remove_stale_audio
    from ..result import Result

    if audio_path is not None and no_audio:
        raise AttuneError("--audio and --no-audio cannot be used together")
    result = Result.load(result_path)
    out = output or result_path.with_name("report.html")
    html_target(out, "the report")
    if redact and audio_path is not None:
        raise AttuneError("--audio and --redact cannot be used together (the recording holds every name)")
    if redact and result.redaction is None:
        _redacted_copy(result, result_path, output, shared_output, pdf)
        return
    check_output_dir(out.parent)
    files = build_report(result, out, audio_path=audio_path, include_audio=not (no_audio or redact))
    write_files(out, files, not shared_output)
    remove_stale_audio(out, files)
    click.echo(f"report: {out}")
    if pdf:
        print_beside(out, not shared_output)


def _redacted_copy(result, result_path: Path, output: Optional[Path], shared_output: bool, pdf: bool) -> None:
    """``report --redact`` on an unredacted result: the whole output set, redacted, in its own
    folder (``OUT.redacted/`` beside the analysis folder unless -o names another one). A redacted
    report beside the unredacted result.json and transcripts would look safe to share and not be."""
    from ..outputs import check_output_dir, write_outputs
    from ..redact import redact_result
    from ..report import build_report, remove_stale_audio

    source = result_path.resolve().parent
    if output is None:
        output = source.with_name(source.name + ".redacted") / "report.html"
    folder = output.parent
    if folder.resolve() == source:
        raise AttuneError(
            f"{output}: a redacted report cannot go beside the unredacted result.json and transcripts; "
            "choose another folder with -o (default: a new folder ending in .redacted)"
        )
    check_output_dir(folder)
    red = redact_result(result)
    files = build_report(red, output, include_audio=False)
    write_outputs(red, folder, extra=files, private=not shared_output)
    remove_stale_audio(output, files)
    click.echo(f"redacted copy: {folder} (report, result.json, transcripts); {source} is unchanged")
    click.echo(f"report: {output}")
    if pdf:
        print_beside(output, not shared_output)


@click.command("cohort")
@click.option(
    "--db",
    "db_path",
    required=True,
    type=click.Path(path_type=Path, dir_okay=True),
    help="The results database (attune batch's OUTDIR/attune.db, or analyze --db).",
)
@click.option(
    "--group-by",
    default="clinician",
    show_default=True,
    metavar="LABEL",
    help="Label to compare by: clinician, station, patient, or any manifest column.",
)
@click.option(
    "--metric",
    "metric_names",
    multiple=True,
    metavar="NAME",
    help="Metrics to show (repeatable; default: eight main ones; *_per_10min rates allowed).",
)
@click.option(
    "--where",
    "where",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Only analyses whose column equals the value (repeatable).",
)
@click.option("--title", default=None, help="Page title.")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="The page (default: cohort.html beside DB); CSV tables are written beside it.",
)
@shared_output_option
@debug_option
def cohort_cmd(
    db_path: Path,
    group_by: str,
    metric_names: tuple[str, ...],
    where: tuple[str, ...],
    title: Optional[str],
    output: Optional[Path],
    shared_output: bool,
):
    """Compare many consultations: one self-contained HTML page and its tables as CSV.

    Per-group distributions of the main metrics, each group's consultations over time,
    outliers of the cohort, and a sortable table linking every consultation's own report.
    Writes OUT.html plus OUT.groups.csv, OUT.recordings.csv and OUT.outliers.csv.
    """
    from ..outputs import check_output_dir, write_files
    from ..report import build_cohort
    from ..store import parse_filters

    filters = parse_filters(where)
    out = output or db_path.with_name("cohort.html")
    html_target(out, "the cohort page")
    with open_db(db_path) as store:
        frame = store.frame(filters)
    if frame.empty and filters:
        raise InputError("no analyses match " + ", ".join(f"{k}={v}" for k, v in filters.items()))
    check_output_dir(out.parent)
    files = build_cohort(
        frame, out, group_by=group_by, metrics=list(metric_names) or None, title=title, source=str(db_path)
    )
    write_files(out, files, not shared_output)
    n = len(frame)
    click.echo(
        f"cohort: {out} ({n} consultation{'' if n == 1 else 's'}) and "
        f"{', '.join(name for name in files if name.endswith('.csv'))}"
    )


COMMANDS = [report_cmd, cohort_cmd]
