"""A private temporary folder for one run of the program, removed when it ends.

Libraries write scratch files to the temporary folder on their own (onnxruntime a session
file, torch a compile cache, Dask its workers' scratch space, Chromium a profile for the
PDF). :func:`enter` makes a folder readable by the owner only (0700) under the system's
temporary folder and points ``TMPDIR`` and :mod:`tempfile` at it, so all of that lands in
it, worker processes included (they inherit ``TMPDIR``). :func:`cleanup` removes it; the
CLI calls it on success, on error and on Ctrl-C or SIGTERM.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Optional

_STATE: dict[str, Optional[str]] = {"dir": None, "old_env": None, "old_tempdir": None}


def enter() -> str:
    """Create the private folder (once per process) and make it the temporary folder."""
    if _STATE["dir"] is not None:
        return _STATE["dir"]
    path = tempfile.mkdtemp(prefix="attune-run-")  # mkdtemp makes it 0700
    _STATE.update(dir=path, old_env=os.environ.get("TMPDIR"), old_tempdir=tempfile.tempdir)
    os.environ["TMPDIR"] = path
    tempfile.tempdir = path
    return path


def current() -> Optional[str]:
    return _STATE["dir"]


def cleanup() -> None:
    """Remove the private folder and everything in it; restore the previous setting."""
    path = _STATE["dir"]
    if path is None:
        return
    old_env = _STATE["old_env"]
    if old_env is None:
        os.environ.pop("TMPDIR", None)
    else:
        os.environ["TMPDIR"] = old_env
    tempfile.tempdir = _STATE["old_tempdir"]
    _STATE.update(dir=None, old_env=None, old_tempdir=None)
    shutil.rmtree(path, ignore_errors=True)
