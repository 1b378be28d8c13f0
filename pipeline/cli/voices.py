"""``attune voices``: enrol, list and remove known voices."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ..errors import AttuneError
from .common import debug_option, one_line


@click.group("voices")
def voices_group():
    """Known voices: enrol a clinician (or simulated patient) once, recognise them after.

    The voice book is a SQLite file in your data folder, readable by you only (speaker
    embeddings are biometric data); `attune voices list` shows where.
    """


@voices_group.command("enroll")
@click.argument("name")
@click.argument("audio", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=True))
@click.option(
    "--role",
    type=click.Choice(["clinician", "patient"]),
    default="clinician",
    show_default=True,
    help="The role this person has in consultations.",
)
@click.option("--replace", is_flag=True, help="Replace an enrolled voice of the same name.")
@debug_option
def voices_enroll(name: str, audio: tuple[Path, ...], role: str, replace: bool):
    """Enrol NAME from recordings of that person alone (at least 3 s of speech each)."""
    from ..voices import VoiceBook, enroll

    with VoiceBook() as book:  # fail on an unwritable book before the work
        if not replace and book.get(name.strip()) is not None:
            raise AttuneError(f"voice {name.strip()!r} is already enrolled (use --replace to enrol it again)")
        voice = enroll(name, audio, role)
        book.add(voice, replace=replace)
        click.echo(f"enrolled {voice.name} ({voice.role}) from {voice.speech_s:.1f} s of speech in {book.path}")


@voices_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@debug_option
def voices_list(as_json: bool):
    """List the enrolled voices and where the voice book is."""
    from ..voices import VoiceBook, book_path

    with VoiceBook(create=False) as book:
        rows = [
            {
                "name": v.name,
                "role": v.role,
                "speech_s": v.speech_s,
                "sources": v.sources,
                "created": v.created,
                "model": v.model,
            }
            for v in book.voices()
        ]
    if as_json:
        click.echo(json.dumps({"voice_book": str(book_path()), "voices": rows}, indent=2))
        return
    click.echo(f"voice book: {book_path()}")
    if not rows:
        click.echo("  (no voices enrolled)")
    for r in rows:  # names and sources shown with control characters escaped: one voice, one line
        click.echo(
            f"  {one_line(str(r['name']))} [{r['role']}] {r['speech_s']:.1f} s of speech from "
            f"{one_line(str(r['sources']))} ({r['created']})"
        )


@voices_group.command("remove")
@click.argument("name")
@debug_option
def voices_remove(name: str):
    """Remove NAME from the voice book."""
    from ..voices import VoiceBook

    with VoiceBook(create=False) as book:
        book.remove(name)
    click.echo(f"removed {name}")


COMMANDS = [voices_group]
