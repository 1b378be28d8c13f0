"""User-facing errors.

Every problem a user can cause (bad file, bad option, unwritable folder) is raised as an
:class:`AttuneError` whose message is one plain line. The CLI prints it to stderr and exits
non-zero, never with a traceback.
"""

from __future__ import annotations


class AttuneError(Exception):
    """A problem with the user's input or environment, explained in one line."""

    exit_code = 1

    def __init__(self, message: str):
        super().__init__(" ".join(str(message).split()))


class InputError(AttuneError):
    """The input file or data cannot be used (missing, corrupt, no audio, too short...)."""

    exit_code = 2


class ModelError(AttuneError):
    """A model is missing or cannot be loaded."""

    exit_code = 3


class OutputError(AttuneError):
    """The outputs cannot be written."""

    exit_code = 4
