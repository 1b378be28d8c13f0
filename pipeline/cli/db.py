"""``attune db``: the results database as a table (export, query)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError
from .common import debug_option, emit, one_line, shared_output_option


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


@db_group.command("relabel")
@db_argument
@click.option(
    "--manifest",
    type=click.Path(path_type=Path),
    default=None,
    help="CSV with a path column and label columns: each listed recording gets its row's labels.",
)
@click.option(
    "--id", "analysis_ids", type=int, multiple=True, help="The analysis to relabel (repeatable; see db query)."
)
@click.option(
    "--label",
    "labels",
    multiple=True,
    metavar="KEY=VALUE",
    help="With --id: set a label (KEY= with nothing after it removes it).",
)
@debug_option
def db_relabel(db_path: Path, manifest: Optional[Path], analysis_ids: tuple[int, ...], labels: tuple[str, ...]):
    """Change the labels of recorded analyses without analysing them again.

    The database row, the analysis's result.json and its report header are all updated (a
    redacted analysis keeps its labels in the database only). With --manifest, recordings are
    matched by their content (sha256), wherever they are now.
    """
    from ..audio import file_sha256
    from ..manifest import load_manifest
    from ..relabel import relabel_in_store
    from ..store import parse_labels

    if (manifest is None) == (not analysis_ids):
        raise AttuneError("give either --manifest FILE or --id N (with --label KEY=VALUE)")
    changes: list[tuple[int, dict]] = []
    warnings: list[str] = []
    with open_db(db_path) as store:
        if manifest is not None:
            if labels:
                raise AttuneError("--label goes with --id (with --manifest, the labels are its columns)")
            sheet = load_manifest(manifest)
            for key, row_labels in sheet.rows.items():
                line = f"{manifest}:{sheet.lines[key]}: {sheet.named[key]}"
                try:
                    sha = file_sha256(key)
                except OSError:
                    warnings.append(f"{line} does not exist (row skipped)")
                    continue
                ids = store.of_recording(sha)
                if not ids:
                    warnings.append(f"{line} has not been analysed into this database (row skipped)")
                changes += [(i, row_labels) for i in ids]
        else:
            edit = parse_labels(labels)
            for i in analysis_ids:
                row = store.get(i)
                if row is None:
                    raise AttuneError(f"--id {i}: no such analysis in {db_path}")
                new = {**row["labels"], **edit}
                changes.append((i, {k: v for k, v in new.items() if v}))
        changed = 0
        for i, new_labels in changes:
            row = store.get(i)
            if row is not None and row["labels"] == new_labels:
                continue
            for note in relabel_in_store(store, i, new_labels):
                warnings.append(note)
            changed += 1
    for w in warnings:
        click.echo(f"attune: warning: {one_line(w)}", err=True)
    click.echo(f"relabelled {changed} of {len(changes)} analyses ({len(changes) - changed} already had these labels)")


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
