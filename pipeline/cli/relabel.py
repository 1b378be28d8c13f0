"""``attune relabel``: correct who is who in a finished analysis, without analysing again."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import click

from ..errors import AttuneError
from .common import debug_option, one_line


def _merge_pairs(items: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    pairs = []
    for item in items:
        a, sep, b = item.partition("=")
        if not sep or not a.strip() or not b.strip():
            raise AttuneError(f"--merge {item!r}: expected FROM=INTO, for example SPEAKER_02=SPEAKER_00")
        pairs.append((a.strip(), b.strip()))
    return tuple(pairs)


@click.command("relabel")
@click.argument("result_path", metavar="RESULT.json", type=click.Path(path_type=Path, dir_okay=True))
@click.option("--swap-roles", "swap", is_flag=True, help="The clinician is the patient and the other way round.")
@click.option("--clinician", default=None, metavar="SPEAKER", help="This speaker is the clinician (e.g. SPEAKER_01).")
@click.option(
    "--merge",
    "merges",
    multiple=True,
    metavar="FROM=INTO",
    help="One voice was split in two: count FROM's talk as INTO's (repeatable; e.g. SPEAKER_02=SPEAKER_00).",
)
@click.option(
    "--db",
    "db_path",
    type=click.Path(path_type=Path, dir_okay=True),
    default=None,
    help="Also update this analysis's row in the results database.",
)
@debug_option
def relabel_cmd(result_path: Path, swap: bool, clinician: Optional[str], merges: tuple[str, ...], db_path):
    """Correct who is who, without analysing the recording again (seconds).

    Roles, turns, every metric, the transcripts and the report are computed again from the
    stored result.json; what was changed by hand is recorded in it (roles.manual) and shown in
    the report. Use it when the report says the roles may be wrong.
    """
    from ..relabel import RoleChange, change_roles, rewrite_outputs
    from ..result import Result
    from .db import open_db

    if swap and clinician:
        raise AttuneError("--swap-roles and --clinician cannot be used together (give one)")
    change = RoleChange(swap=swap, clinician=clinician, merges=_merge_pairs(merges))
    if not change.describe():
        raise AttuneError("nothing to change: give --swap-roles, --clinician SPEAKER or --merge FROM=INTO")
    result = Result.load(result_path)
    store = open_db(db_path) if db_path is not None else None  # a missing database fails before any write
    new = change_roles(result, change)
    notes = rewrite_outputs(new, result_path)
    if store is not None:
        with store:
            labels = result.labels
            row = store.find(result.recording.sha256, result.parameters)
            if row is not None:
                labels = row["labels"]  # a redacted result.json has none: the database's stay
            store.record(new, labels, result_path=str(result_path))
    clin = next((s.id for s in new.speakers if s.role == "clinician"), "none")
    pat = next((s.id for s in new.speakers if s.role == "patient"), "none")
    click.echo(f"{result_path}: {'; '.join(change.describe())}: clinician {clin}, patient {pat}")
    for note in notes:
        click.echo(f"attune: note: {one_line(note)}", err=True)


COMMANDS = [relabel_cmd]
