"""Domain errors and the exit-code table.

Every problem a user can cause (bad file, bad option, unwritable folder) is raised as an
:class:`AttuneError` whose message is one plain line in domain words. An error about a
parameter names it with a ``{name}`` placeholder and lists it in ``params``: a Python caller
reads ``min_speakers (3) is larger than max_speakers (2)``, and the command line, which maps
parameter names to its flags, prints ``--min-speakers (3) is larger than --max-speakers (2)``.

:class:`ExitCode` is the one table of exit statuses (the README prints the same table).
"""

from __future__ import annotations

import re
from enum import IntEnum
from typing import Callable


class ExitCode(IntEnum):
    """Exit statuses of the ``attune`` command."""

    OK = 0
    USAGE = 1  # an invalid option value
    INPUT = 2  # the input cannot be used
    MODEL = 3  # a model is missing or cannot be loaded
    OUTPUT = 4  # the outputs cannot be written
    NO_SPEECH = 5  # no speech found (the outputs are written)
    BATCH_FAILED = 6  # attune batch: at least one recording failed
    INTERNAL = 70  # a bug
    INTERRUPTED = 130  # Ctrl-C or SIGTERM


_PLACEHOLDER = re.compile(r"\{([a-z_][a-z0-9_]*)\}")


class AttuneError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = ExitCode.USAGE

    def __init__(self, message: str, *params: str):
        self.template = " ".join(str(message).split())
        self.params = tuple(params)
        super().__init__(self.describe())

    def describe(self, name_of: Callable[[str], str] = lambda name: name) -> str:
        """The message, each ``{param}`` named by ``name_of`` (the CLI passes its flags)."""
        known = set(self.params)
        return _PLACEHOLDER.sub(lambda m: name_of(m[1]) if m[1] in known else m[0], self.template)


class InputError(AttuneError):
    """The input file or data cannot be used (missing, corrupt, no audio, too short...)."""

    exit_code = ExitCode.INPUT


class ModelError(AttuneError):
    """A model is missing or cannot be loaded."""

    exit_code = ExitCode.MODEL


class Cancelled(AttuneError):
    """The user cancelled the analysis (the app's Cancel button); nothing was written."""

    exit_code = ExitCode.INTERRUPTED


class OutputError(AttuneError):
    """The outputs cannot be written."""

    exit_code = ExitCode.OUTPUT


def first_line(exc: BaseException, limit: int = 200) -> str:
    """The first line of an exception's message (at most ``limit`` characters), or its type's
    name when it has no message."""
    text = str(exc).strip()
    return text.splitlines()[0][:limit] if text else type(exc).__name__


def bug_summary(exc: BaseException) -> str:
    """``TypeName: first line`` of an unexpected exception, for a one-line internal error."""
    text = first_line(exc)
    return text if text == type(exc).__name__ else f"{type(exc).__name__}: {text}"
