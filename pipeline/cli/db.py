"""``attune db``: the results database as a table (export, query)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError
from .common import debug_option, emit, shared_output_option


@click.group("db")
def db_group():
    """The results database: give the recorded analyses back as a table (for pandas)."""


def db_argument(func):
    return click.argument("db_path", metavar="DB", type=click.Path(path_type=Path, dir_okay=True))(func)


def open_db(db_path: Path):
    """An existing results database (a missing file is an error, not a new database)."""
    from ..store import Store

    if not db_path.is_file():
        raise AttuneError(f"{db_path}: no such database")
    return Store(db_path)


@db_group.command("export")
@db_argument
@click.option(
    "--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True, help="Table format."
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    help="Write to this file (required for parquet; CSV goes to stdout otherwise).",
)
@shared_output_option
@debug_option
def db_export(db_path: Path, fmt: str, output: Optional[Path], shared_output: bool):
    """Export every analysis in DB: one row each, labels and metrics as columns."""
    from ..store import spreadsheet_safe

    with open_db(db_path) as store:
        df = store.frame()
    if fmt == "csv":
        emit(spreadsheet_safe(df).to_csv(index=False), output, private=not shared_output)
        return
    if output is None:
        raise AttuneError("--format parquet needs -o FILE")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise AttuneError("--format parquet needs pyarrow (pip install pyarrow)") from None
    import io

    from ..outputs import check_output_dir, write_files

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    check_output_dir(output.parent)
    write_files(output, {output.name: buf.getvalue()}, not shared_output)


@db_group.command("query")
@db_argument
@click.option(
    "--where",
    "where",
    multiple=True,
    metavar="COLUMN=VALUE",
    help="Keep rows whose column equals the value (repeatable; e.g. clinician=Dr A).",
)
@click.option(
    "--metric",
    "metric_names",
    multiple=True,
    metavar="NAME",
    help="Show only these metrics (repeatable; default: all).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of CSV.")
@debug_option
def db_query(db_path: Path, where: tuple[str, ...], metric_names: tuple[str, ...], as_json: bool):
    """Show the analyses in DB that match simple filters."""
    from ..metrics import METRIC_NAMES
    from ..store import for_people, parse_filters, spreadsheet_safe

    filters = parse_filters(where)
    unknown = [m for m in metric_names if m not in METRIC_NAMES]
    if unknown:
        raise AttuneError(f"--metric {unknown[0]}: unknown metric (see docs/metrics.md)")
    with open_db(db_path) as store:
        df = store.frame(filters)
    if metric_names:
        df = df.drop(columns=[c for c in df.columns if c in METRIC_NAMES and c not in metric_names])
    if as_json:
        click.echo(json.dumps(json_records(df), indent=2, ensure_ascii=False, default=str))
    else:
        click.echo(spreadsheet_safe(for_people(df)).to_csv(index=False), nl=False)


def json_records(df) -> list[dict]:
    """Rows as plain JSON values: missing values null, counts as integers, paths unescaped."""
    import math

    from ..metrics import registry

    counts = {m.name for m in registry.all_metrics() if m.unit == "count"}
    records = []
    for row in df.to_dict(orient="records"):
        out = {}
        for k, v in row.items():
            if isinstance(v, float) and math.isnan(v):
                v = None
            elif isinstance(v, float) and k in counts and v.is_integer():
                v = int(v)
            elif hasattr(v, "item"):  # numpy scalars
                v = v.item()
            out[k] = v
        records.append(out)
    return records


COMMANDS = [db_group]
