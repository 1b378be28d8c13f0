"""What every command shares: error handling and exit codes, and the option decorators.

Library errors speak in parameter names (``min_speakers``); :func:`flag_for` maps them to
this command line's flags (``--min-speakers``). Every failure ends in one stderr line and
an :class:`~pipeline.errors.ExitCode`; tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Callable, NoReturn, Optional

import click

from ..errors import AttuneError, ExitCode, bug_summary

# parameter names whose flag is not simply --name-with-dashes
FLAGS = {
    "voices": "--voice",
    "labels": "--label",
    "metrics": "--metric",
    "references": "--reference",
    "audio_path": "--audio",
    "swap": "--swap-roles",
}
QUIET_LOGGERS = (
    "pyannote",
    "lightning",
    "pytorch_lightning",
    "lightning_fabric",
    "speechbrain",
    "faster_whisper",
    "torch",
    "distributed",
)


def flag_for(param: str) -> str:
    return FLAGS.get(param, "--" + param.replace("_", "-"))


def one_line(text: str) -> str:
    """``text`` with control characters (a newline in a file name...) shown as escapes."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


def message_of(exc: AttuneError) -> str:
    """A library error in this command line's words (its flags)."""
    return exc.describe(flag_for)


def fail(message: str, code: ExitCode) -> NoReturn:
    click.echo(f"attune: error: {one_line(message)}", err=True)
    sys.exit(int(code))


def exit_now(code: ExitCode) -> NoReturn:
    """Exit at once, without waiting for worker threads still busy in native code."""
    from .. import tempdir

    tempdir.cleanup()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(int(code))


def configure_logging(debug: bool) -> None:
    level = logging.DEBUG if debug else logging.WARNING
    logging.basicConfig(level=level, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    if debug:
        warnings.resetwarnings()
        return
    warnings.filterwarnings("ignore")
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.ERROR)


def debugging() -> bool:
    ctx = click.get_current_context(silent=True)
    return bool(ctx is not None and (ctx.find_root().obj or {}).get("debug"))


def _set_debug(ctx: click.Context, _param, value: bool) -> None:
    if value:
        root = ctx.find_root()
        root.obj = {**(root.obj or {}), "debug": True}
        configure_logging(True)


def debug_option(func):
    """``--debug`` on a command (the same as ``attune --debug COMMAND``)."""
    return click.option(
        "--debug",
        is_flag=True,
        expose_value=False,
        callback=_set_debug,
        is_eager=True,
        help="Show full tracebacks and detailed logs.",
    )(func)


def _terminate_as_interrupt():
    """SIGTERM (a scheduler or `kill` stopping the job) is handled like Ctrl-C; returns the
    previous handler (to put back), or None."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, raise_interrupt)
    except (ValueError, OSError):  # pragma: no cover
        return None


def run_guarded(invoke: Callable[[], object]) -> object:
    """Run a command: library errors become one stderr line and their exit code, a bug one
    line and :attr:`ExitCode.INTERNAL`; scratch files go to a private folder removed after."""
    from .. import tempdir

    previous_sigterm = _terminate_as_interrupt()
    tempdir.enter()
    try:
        return invoke()
    except AttuneError as exc:
        if debugging():
            raise
        fail(message_of(exc), exc.exit_code)
    except KeyboardInterrupt:
        # Outputs are only ever renamed into place, so nothing half-written is left; the
        # speech and diarization threads cannot be interrupted, so leave without them.
        from ..hooks import ProgressBars

        ProgressBars.stop_all()  # the message gets a line of its own, and nothing draws over it
        click.echo("attune: interrupted: nothing was written for the recording in progress", err=True)
        exit_now(ExitCode.INTERRUPTED)
    except BrokenPipeError:  # stdout closed early (e.g. piped into `head`): outputs are written
        try:
            sys.stdout = open(os.devnull, "w")
        except OSError:
            pass
        sys.exit(0)
    except (click.exceptions.Exit, click.ClickException, click.exceptions.Abort, SystemExit):
        raise
    except Exception as exc:  # a bug: still one line unless --debug
        if debugging():
            raise
        fail(f"internal error: {bug_summary(exc)} (run again with --debug for details)", ExitCode.INTERNAL)
    finally:
        tempdir.cleanup()
        if previous_sigterm is not None:
            import signal

            signal.signal(signal.SIGTERM, previous_sigterm)


def shared_output_option(func):
    return click.option(
        "--shared-output",
        is_flag=True,
        help="Write files readable by others (0644); the default is owner-only (0600, "
        "folders 0700), as outputs hold medical data.",
    )(func)


def redact_option(func):
    return click.option(
        "--redact",
        is_flag=True,
        help="Replace names, dates, phone numbers, addresses, e-mail and ID numbers in the "
        "transcripts and the report with [NAME], [DATE]... (Presidio, offline); "
        "metrics are unchanged and the report has no audio.",
    )(func)


def emit(text: str, output: Optional[Path], private: bool = True) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output is None:
        click.echo(text, nl=False)
        return
    from ..outputs import check_output_dir, write_files

    check_output_dir(output.parent)
    write_files(output, {output.name: text}, private)


def html_target(out: Path, what: str = "the report") -> Path:
    """``out`` itself, or one error when it does not name an HTML file."""
    if out.suffix.lower() not in (".html", ".htm"):
        raise AttuneError(f"{out}: {what}'s file name must end in .html")
    return out


def print_beside(html: Path, private: bool) -> Path:
    """Print ``html`` to the PDF beside it (Chromium), owner-only unless ``private`` is False."""
    import os

    from ..outputs import file_mode
    from ..report.pdf import print_pdf

    pdf_path = html.with_suffix(".pdf")
    print_pdf(html, pdf_path)
    os.chmod(pdf_path, file_mode(private))
    click.echo(f"pdf: {pdf_path}")
    return pdf_path
