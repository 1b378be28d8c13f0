"""An uploaded recording into the data folder: its type and size checked, its name never
used as a path (a safe name is made from it), nothing kept when a check fails."""

from __future__ import annotations

import os
import re
import secrets
import shutil
from pathlib import Path

from ..batch import AUDIO_EXTENSIONS
from ..errors import InputError

CHUNK = 1 << 20


def last_part(name: str) -> str:
    """What follows the last ``/`` or ``\\`` of an uploaded file's name."""
    return re.split(r"[\\\\/]", name or "")[-1]


def display_name(name: str) -> str:
    """An uploaded file's name as the user knows it: shown, never used as a path."""
    return " ".join(last_part(name).split())[:200]


def safe_filename(name: str) -> str:
    """A file name to store an upload under: the last part of ``name`` only, letters, digits,
    ``-``, ``_`` and ``.``, no leading dot, at most 80 characters, its audio extension kept
    (lower case). Raises :class:`InputError` when the extension is not a recording's."""
    base = last_part(name)
    stem, dot, ext = base.rpartition(".")
    ext = ("." + ext.lower()) if dot else ""
    if ext not in AUDIO_EXTENSIONS:
        shown = ext or "no extension"
        raise InputError(
            f"{base[:80]!r} is not a recording ({shown}); add an audio or video file "
            f"({', '.join(sorted(e.lstrip('.') for e in AUDIO_EXTENSIONS))})"
        )
    stem = re.sub(r"[^A-Za-z0-9_-]+", "_", stem).strip("_")[:80] or "recording"
    return stem + ext


def store(upload_file, name: str, folder: Path, max_bytes: int) -> Path:
    """Copy the uploaded file (a file object) into ``folder`` under a safe name, at 0600;
    check its size and that it holds audio. On any failure nothing is left: not the file, nor
    ``folder`` when this call created it."""
    from ..audio import probe_audio

    final = folder / safe_filename(name)
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = folder / f".incoming-{secrets.token_hex(8)}{final.suffix}"
    size = 0
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as out:
            while True:
                chunk = upload_file.read(CHUNK)
                if not chunk:
                    break
                size += len(chunk)
                if size > max_bytes:
                    raise InputError(
                        f"{final.name}: larger than the upload limit of {_size(max_bytes)} "
                        "(attune serve --max-upload-mb raises it)"
                    )
                out.write(chunk)
        if size == 0:
            raise InputError(f"{final.name}: the file is empty")
        try:
            probe_audio(tmp)
        except InputError as exc:
            raise InputError(str(exc).replace(tmp.name, final.name)) from None
        os.replace(tmp, final)
    except BaseException:
        try:
            tmp.unlink()
        except OSError:
            pass
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    return final


def _size(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MB" if n >= 1024 * 1024 else f"{n / 1024:.0f} KB"
