"""The ``attune`` command: a thin click layer over the library.

The group (here) sets ``--debug`` and logging once and runs every command through
:func:`~pipeline.cli.common.run_guarded`, so that each failure ends in one stderr line
(``attune: error: ...``) and an exit status from :class:`~pipeline.errors.ExitCode`. Each
command lives in its own module and only parses, calls the library and prints.
"""

from __future__ import annotations

import click

from .._version import __version__
from .common import configure_logging, run_guarded


class AttuneGroup(click.Group):
    """The root group: every command runs guarded (one-line errors, exit codes, private scratch)."""

    def invoke(self, ctx: click.Context):
        return run_guarded(lambda: super(AttuneGroup, self).invoke(ctx))


@click.group(cls=AttuneGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attune")
@click.option("--debug", is_flag=True, help="Show full tracebacks and detailed logs (for any command).")
@click.pass_context
def main(ctx: click.Context, debug: bool):
    """attunement: offline analysis of recorded clinical consultations.

    Transcribes a consultation (Whisper), finds who spoke when (pyannote.audio) and measures
    how the conversation went. Nothing leaves this machine.
    """
    ctx.obj = {"debug": debug}
    configure_logging(debug)


def _register() -> None:
    from . import analyze, batch, db, evaluate, feedback, metrics, models, relabel, report, serve, voices

    for module in (serve, analyze, metrics, report, feedback, relabel, voices, evaluate, batch, db, models):
        for command in module.COMMANDS:
            main.add_command(command)


_register()

__all__ = ["main"]
