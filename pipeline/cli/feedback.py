"""``attune feedback``: one printable feedback sheet per consultation, or one per student of a
cohort in one go (a folder of sheets and one CSV for the marking spreadsheet)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError, InputError
from .common import debug_option, html_target, one_line, print_beside, shared_output_option


@click.command("feedback")
@click.argument("result_path", metavar="[RESULT.json]", required=False, type=click.Path(path_type=Path))
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=True),
    default=None,
    help="Results database: its median is shown beside each number; without RESULT.json, "
    "one sheet per analysis in it (see --where).",
)
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE", help="Only these analyses (repeatable).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="The sheet (default: feedback.html beside RESULT.json), or with --db alone a folder.",
)
@click.option("--pdf/--no-pdf", "pdf", default=None, help="Also print to PDF (default: on for a cohort).")
@click.option(
    "--paper", type=click.Choice(["A4", "Letter"]), default=None, help="Paper size (default: from the locale)."
)
@shared_output_option
@debug_option
def feedback_cmd(
    result_path: Optional[Path],
    db_path: Optional[Path],
    where: tuple[str, ...],
    output: Optional[Path],
    pdf: Optional[bool],
    paper: Optional[str],
    shared_output: bool,
):
    """A one-page feedback sheet to take away: the key numbers against the literature's bands
    (and the cohort's median with --db), three moments to listen to with their times, and
    questions to reflect on. Printable (A4 or Letter), and as PDF with --pdf.

    An assessor makes one per student in one go: attune feedback --db results/attune.db
    --where station=3 -o sheets/ (a PDF per analysis, and feedback.csv for the marking sheet).
    """
    from ..store import parse_filters
    from .db import open_db

    filters = parse_filters(where)
    if result_path is None and db_path is None:
        raise AttuneError("give RESULT.json, or --db DB for one sheet per analysis in it")
    frame = None
    if db_path is not None:
        with open_db(db_path) as store:
            frame = store.frame(filters)
        if frame.empty:
            raise InputError(
                "no analyses match " + (", ".join(f"{k}={v}" for k, v in filters.items()) or "(empty database)")
            )
    elif filters:
        raise AttuneError("--where goes with --db")
    if result_path is not None:
        _one(result_path, frame, output, bool(pdf), paper, not shared_output)
    elif db_path is not None:
        _cohort(frame, output or db_path.with_name("feedback"), pdf is not False, paper, not shared_output)


def _one(result_path: Path, frame, output: Optional[Path], pdf: bool, paper, private: bool) -> None:
    from ..outputs import check_output_dir, write_files
    from ..report import build_feedback
    from ..report.feedback import cohort_context
    from ..result import Result

    result = Result.load(result_path)
    out = output or result_path.with_name("feedback.html")
    html_target(out, "the sheet")
    check_output_dir(out.parent)
    medians, n = cohort_context(frame)  # with --db: the cohort's medians beside each number
    files = build_feedback(result, out, medians, n, paper)
    write_files(out, files, private)
    click.echo(f"feedback: {out}")
    if pdf:
        print_beside(out, private)


def _cohort(frame, folder: Path, pdf: bool, paper, private: bool) -> None:
    """One sheet per analysis in ``frame`` (the cohort's medians beside each number), printed to
    PDF, and feedback.csv: one row per sheet, labels and numbers, for the marking spreadsheet."""
    from ..outputs import check_output_dir, write_set
    from ..report.feedback import cohort_sheets, feedback_row, marking_csv
    from ..report.pdf import find_browser

    if pdf and find_browser() is None:
        raise AttuneError("{pdf} needs Chromium, which is not installed (or use --no-pdf for HTML sheets)", "pdf")
    check_output_dir(folder)
    sheets, skipped = cohort_sheets(frame, paper=paper)
    if not sheets:
        raise InputError("none of the selected analyses has its result.json any more: " + "; ".join(skipped[:3]))
    files: dict[str, str | bytes] = {f"{s.stem}.html": s.html for s in sheets}
    rows = [{"id": s.analysis_id, **feedback_row(s.result, s.stem + (".pdf" if pdf else ".html"))} for s in sheets]
    files["feedback.csv"] = marking_csv(rows)
    try:
        write_set(folder, files, private)
    except OSError as exc:
        raise AttuneError(f"{folder}: cannot write the sheets ({exc.strerror or exc})") from None
    for w in skipped:
        click.echo(f"attune: warning: {one_line(w)}", err=True)
    if pdf:
        for s in sheets:
            print_beside(folder / f"{s.stem}.html", private)
    click.echo(f"feedback: {len(rows)} sheet{'s' if len(rows) != 1 else ''} and feedback.csv in {folder}")


COMMANDS = [feedback_cmd]
