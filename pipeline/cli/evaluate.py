"""``attune evaluate``: analyses scored against human references."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError
from .common import debug_option, emit, shared_output_option


@click.command("evaluate")
@click.argument(
    "results", nargs=-1, required=True, metavar="RESULT.json...", type=click.Path(path_type=Path, dir_okay=True)
)
@click.option(
    "--reference",
    "references",
    multiple=True,
    required=True,
    metavar="REF",
    type=click.Path(path_type=Path, dir_okay=True),
    help="Reference for each RESULT, in order: RTTM, TextGrid, ELAN .eaf or reference JSON "
    "({role or speaker, start, end, text} utterances). One RESULT may take two one-tier "
    "TextGrids.",
)
@click.option("--drop-fillers", is_flag=True, help="Drop filler words (um, uh, er, hmm) before scoring WER.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (one row per pair, then the summary).")
@click.option(
    "-o", "--output", type=click.Path(path_type=Path), default=None, help="Write to this file instead of stdout."
)
@shared_output_option
@debug_option
def evaluate_cmd(
    results: tuple[Path, ...],
    references: tuple[Path, ...],
    drop_fillers: bool,
    as_json: bool,
    as_csv: bool,
    output: Optional[Path],
    shared_output: bool,
):
    """Score analyses against human references: DER, JER, WER, roles, metric agreement.

    Pairs RESULT.json files with --reference files in order; several pairs add a summary
    row (means, and pooled DER and WER).
    """
    from .. import evaluate as ev

    if as_json and as_csv:
        raise AttuneError("choose one of --json and --csv")
    rows = ev.evaluate_files(ev.pair_files(results, references), drop_fillers=drop_fillers)
    summary = ev.summarise(rows) if len(rows) > 1 else None
    if as_json:
        text = json.dumps({"pairs": [ev.public(r) for r in rows], "summary": summary}, indent=2) + "\n"
    elif as_csv:
        text = ev.to_csv(rows, summary)
    else:
        text = ev.to_text(rows, summary)
    emit(text, output, private=not shared_output)


COMMANDS = [evaluate_cmd]
