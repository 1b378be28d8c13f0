"""``attune batch``: many recordings, resumable, on Dask, into a results database."""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError, ExitCode, InputError
from ..options import AnalysisOptions
from .common import debug_option, flag_for, one_line, redact_option, shared_output_option
from .options import analysis_options


def _reason(res: dict) -> str:
    """A failed job's reason, in this command line's words."""
    if res.get("error"):
        template, params = res["error"]
        return AttuneError(template, *params).describe(flag_for)
    return res["reason"]


@click.command("batch")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUTS...")
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(path_type=Path),
    required=True,
    help="Output folder: one sub-folder per recording, and attune.db.",
)
@click.option("--recursive", is_flag=True, help="Also look in sub-folders (and let ** in patterns match them).")
@click.option("--force", is_flag=True, help="Analyse again recordings that are already done.")
@click.option("--workers", type=int, default=None, help="Local worker processes (default: one per two cores).")
@click.option(
    "--scheduler",
    default=None,
    metavar="tcp://HOST:PORT",
    help="Send the work to an existing Dask cluster instead of local workers.",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path),
    default=None,
    help="Results database (default: OUTDIR/attune.db).",
)
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    default=None,
    help="CSV with a path column and label columns (clinician, patient, station, date, ...).",
)
@click.option(
    "--strict",
    is_flag=True,
    help="Stop when the manifest and the recordings do not match (a row whose file is missing, "
    "a recording with no row); without it they are warnings.",
)
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="A label for every recording.")
@analysis_options
@click.option("--no-audio", is_flag=True, help="Leave the audio player out of the reports.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@redact_option
@shared_output_option
@debug_option
@click.pass_context
def batch(
    ctx: click.Context,
    inputs: tuple[str, ...],
    out_dir: Path,
    recursive: bool,
    force: bool,
    workers: Optional[int],
    scheduler: Optional[str],
    db_path: Optional[Path],
    manifest: Optional[Path],
    strict: bool,
    labels: tuple[str, ...],
    options: AnalysisOptions,
    no_audio: bool,
    quiet: bool,
    redact: bool,
    shared_output: bool,
):
    """Analyse many recordings: resumable, in parallel, recorded in a results database.

    INPUTS are files, folders and glob patterns. A recording already analysed with the same
    options is skipped (--force redoes it); a failing recording is reported and the others
    go on. Exit status 0 only when none failed.
    """
    import dataclasses

    from .. import batch as b
    from ..folder import FolderOptions, prepare
    from ..manifest import merge_labels
    from ..outputs import check_output_dir, make_dir
    from ..store import Store, parse_labels

    if workers is not None and workers < 1:
        raise AttuneError(f"--workers must be at least 1 (got {workers})")
    paths = b.expand_inputs(inputs, recursive)
    if not paths:
        raise InputError("no recordings found in the inputs")
    rows = _manifest_rows(manifest, paths, strict)
    label_map = merge_labels(paths, parse_labels(labels), rows)
    n_workers = workers or b.default_workers()
    if ctx.params.get("threads") is None:  # the cores shared out between the workers
        options = dataclasses.replace(options, threads=max(1, b.default_workers() * 2 // n_workers))
    folder = FolderOptions(include_audio=not no_audio, redact=redact, private=not shared_output)
    prepare(folder)  # a missing redaction model fails now, not in every worker
    check_output_dir(out_dir)
    make_dir(out_dir, folder.private)
    db = db_path or out_dir / "attune.db"
    summary = b.BatchSummary()
    t0 = time.perf_counter()
    with Store(db) as store:
        jobs, summary.skipped, changed = b.plan(paths, out_dir, options.parameters(), store, force, label_map)
        summary.relabelled = _relabel(store, changed)
        bar = None
        if not quiet and sys.stderr.isatty() and jobs:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs), unit="rec", desc="batch", file=sys.stderr)

        def on_result(res: dict) -> None:
            summary.record(store, res, describe=_reason)
            if bar is not None:
                bar.update(1)

        try:
            b.run_batch(
                jobs,
                dataclasses.asdict(options),
                workers=n_workers,
                scheduler=scheduler,
                include_audio=folder.include_audio and not redact,
                private=folder.private,
                on_result=on_result,
                redact=redact,
                on_note=lambda note: click.echo(f"attune: note: {note}", err=True),
            )
        finally:
            if bar is not None:
                bar.close()
    summary.seconds = time.perf_counter() - t0
    _report(summary, db)


def _relabel(store, changed: list[tuple[int, dict]]) -> list[int]:
    """Recordings already done whose labels changed (a fixed manifest): new labels, no new
    analysis. Returns the analyses relabelled."""
    from ..relabel import relabel_in_store

    for analysis_id, new_labels in changed:
        for note in relabel_in_store(store, analysis_id, new_labels):
            click.echo(f"attune: note: {one_line(note)}", err=True)
    return [analysis_id for analysis_id, _ in changed]


def _manifest_rows(manifest: Optional[Path], paths, strict: bool) -> dict:
    """The manifest's labels per recording; what does not match the recordings given is a
    warning each (with its line number), or with --strict an error before any work."""
    from ..manifest import load_manifest, mismatches

    if manifest is None:
        if strict:
            raise AttuneError("--strict needs --manifest")
        return {}
    sheet = load_manifest(manifest)
    problems = mismatches(sheet, paths)
    if problems and strict:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise InputError(f"the manifest does not match the recordings (--strict): {problems[0]}{more}")
    for line in problems:
        click.echo(f"attune: warning: {one_line(line)}", err=True)
    return sheet.rows


def _report(summary, db: Path) -> None:
    """The batch's closing lines, and its exit status (failures: :attr:`ExitCode.BATCH_FAILED`)."""
    click.echo(
        f"batch: {len(summary.done)} done, {len(summary.skipped)} skipped (already done"
        f"{f'; {len(summary.relabelled)} relabelled' if summary.relabelled else ''}), "
        f"{len(summary.failed)} failed, in {summary.seconds:.1f} s; database {db}"
    )
    for path, reason in summary.failed:
        click.echo("  failed: " + one_line(reason if reason.startswith(path) else f"{path}: {reason}"))
    if summary.failed:
        sys.exit(int(ExitCode.BATCH_FAILED))


COMMANDS = [batch]
