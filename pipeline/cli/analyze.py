"""``attune analyze``: one recording into a folder of outputs."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..errors import ExitCode
from ..options import AnalysisOptions
from .common import debug_option, fail, redact_option, shared_output_option
from .options import analysis_options


@click.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=True, path_type=Path))
@click.option(
    "-o",
    "--output",
    "output_dir",
    type=click.Path(path_type=Path),
    default=None,
    help="Output folder (default: <recording stem>.attune/ beside the input).",
)
@analysis_options
@click.option("--no-audio", is_flag=True, help="Leave the audio player out of report.html (for privacy).")
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Also record the analysis in this results database (SQLite).",
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="A label (student, station, date, clinician, any name): in the report, result.json and --db.",
)
@click.option("--json", "as_json", is_flag=True, help="Also print result.json to stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or summary.")
@redact_option
@shared_output_option
@debug_option
def analyze(
    input_path: Path,
    output_dir: Optional[Path],
    options: AnalysisOptions,
    no_audio: bool,
    db_path: Optional[Path],
    labels: tuple[str, ...],
    as_json: bool,
    quiet: bool,
    redact: bool,
    shared_output: bool,
):
    """Analyse one recorded consultation.

    Writes result.json, report.html, transcript.txt/.vtt/.srt and diarization.rttm into
    the output folder. INPUT is any audio (or video) file FFmpeg can read.
    """
    import sys

    from ..analysis import Analyzer
    from ..audio import check_input_file
    from ..folder import FolderOptions, analyze_to_folder, prepare
    from ..hooks import Hooks, ProgressBars
    from ..outputs import check_output_dir, default_output_dir
    from ..store import Store, parse_labels

    check_input_file(input_path)
    out = output_dir or default_output_dir(input_path)
    check_output_dir(out)
    label_map = parse_labels(labels)
    if db_path is not None:
        check_output_dir(db_path.parent)
        with Store(db_path):  # opened (and upgraded) now: a bad database fails before the work
            pass
    folder = FolderOptions(include_audio=not no_audio, redact=redact, private=not shared_output)
    prepare(folder)  # a missing redaction model fails now, not after the analysis
    hooks = Hooks([ProgressBars(enabled=not quiet and sys.stderr.isatty())])
    done = analyze_to_folder(input_path, out, Analyzer(options, hooks), folder, labels=label_map)
    result = done.result
    if db_path is not None:
        with Store(db_path) as store:
            store.record(result, label_map, result_path=str(out / "result.json"))
    if as_json:
        click.echo(result.to_json(), nl=False)
    elif not quiet:
        summary(result, out)
    if not result.segments and not result.words:
        fail(
            f"{input_path}: no speech found (outputs written to {out}, with no speakers or metrics)", ExitCode.NO_SPEECH
        )


def summary(result, out: Path) -> None:
    """The few lines printed after an analysis (never any transcript text)."""
    d = result.recording.duration_s
    roles = (
        ", ".join(
            f"{s.id}{' (' + s.name + ')' if s.name else ''} = {s.role} ({s.talk_s:.1f} s)" for s in result.speakers
        )
        or "none"
    )
    click.echo(
        f"{result.recording.path}: {d:.1f} s analysed in {result.timings.get('total', 0):.1f} s "
        f"(RTF {result.timings.get('rtf', 0):.3f})"
    )
    click.echo(f"  speakers: {roles}")
    click.echo(f"  mode: {result.mode.get('name', 'diarization')} ({result.mode.get('reason', '')})")
    click.echo(f"  roles: {result.roles.get('explanation', '')}")
    click.echo(f"  {len(result.words)} words, {len(result.turns)} turns")
    for note in result.notes:
        click.echo(f"  note: {note}")
    for warning in (result.quality or {}).get("warnings", []):
        click.echo(f"  check: {warning}")
    if result.redaction:
        done = ", ".join(f"{n} x {ph}" for ph, n in sorted(result.redaction["replaced_words"].items()))
        click.echo(f"  redacted: {done or 'no identifiers found'} (the report has no audio)")
    click.echo(f"  outputs: {out}/")


COMMANDS = [analyze]
