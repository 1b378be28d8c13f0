"""``attune metrics``: the conversation metrics of an annotation or a result."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError
from ..metrics import Params
from .common import debug_option, emit, shared_output_option
from .options import metric_options


@click.command("metrics")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...", type=click.Path(path_type=Path, dir_okay=True))
@click.option(
    "--clinician",
    default=None,
    metavar="LABEL",
    help="Speaker label of the clinician (default: the analysis's role, or the first speaker).",
)
@click.option(
    "--duration",
    type=float,
    default=None,
    metavar="SECONDS",
    help="Recording length (default: result.json's own, else the end of the last region).",
)
@metric_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (default: one CSV row with a header).")
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to this file instead of stdout (.json implies --json).",
)
@shared_output_option
@debug_option
def metrics_cmd(
    inputs: tuple[Path, ...],
    clinician: Optional[str],
    duration: Optional[float],
    params: Params,
    as_json: bool,
    output: Optional[Path],
    shared_output: bool,
):
    """Compute the conversation metrics from speaker timing.

    INPUT is an RTTM file, a Praat TextGrid (one interval tier per speaker, or two one-tier
    TextGrids, one per speaker), an ELAN .eaf file, or an attune result.json. Definitions:
    docs/metrics.md.
    """
    from ..annotations import read_timing
    from ..metrics import compute_timing, to_csv

    if duration is not None and not duration > 0:
        raise AttuneError(f"--duration must be more than 0 seconds (got {duration})")
    timing = read_timing(inputs)
    metrics = compute_timing(timing, clinician=clinician, duration=duration, params=params)
    if output is not None and output.suffix.lower() == ".json":
        as_json = True
    text = json.dumps(metrics, indent=2) + "\n" if as_json else to_csv(metrics)
    emit(text, output, private=not shared_output)
    for note in metrics.get("notes", []):
        click.echo(f"attune: note: {note}", err=True)


COMMANDS = [metrics_cmd]
