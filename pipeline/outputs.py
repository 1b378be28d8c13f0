"""Output files: result.json, transcripts (txt, WebVTT, SRT) and RTTM.

Every file is rendered in memory first, then written atomically (temporary file in the same
folder + rename), so a failed run never leaves a half-written file behind.

Outputs are private by default: a folder attunement creates is readable by its owner only
(0700) and every file it writes is 0600, since transcripts of consultations are medical
data. ``private=False`` (``--shared-output``) writes 0644 files into folders made with the
usual permissions.
"""

from __future__ import annotations

import glob
import os
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Mapping, Optional

from .errors import OutputError
from .result import Result, Segment, Turn

ROLE_NAMES = {"clinician": "Clinician", "patient": "Patient", "unknown": "Unassigned"}


def speaker_label(turn: Turn, result: Optional[Result] = None) -> str:
    """Display name of a turn's speaker: 'Clinician', 'Patient', 'Other (SPEAKER_02)'."""
    if turn.role in ROLE_NAMES:
        return ROLE_NAMES[turn.role]
    return f"Other ({turn.speaker})" if turn.speaker else "Other"


def _clock(t: float, sep: str = ".", hours: bool = True) -> str:
    ms = int(round(max(0.0, t) * 1000))
    h, rem = divmod(ms, 3_600_000)
    m, rem = divmod(rem, 60_000)
    s, ms = divmod(rem, 1000)
    if hours:
        return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"
    return f"{m:02d}:{s:02d}"


def mmss(t: float) -> str:
    """[mm:ss] stamp (minutes keep counting past 59)."""
    total = int(max(0.0, t))
    return f"{total // 60:02d}:{total % 60:02d}"


def _spoken_turns(result: Result) -> list[Turn]:
    return [t for t in result.turns if t.text]


def render_txt(result: Result) -> str:
    lines = [f"[{mmss(t.start)}] {speaker_label(t)}: {t.text}" for t in _spoken_turns(result)]
    if not lines:
        lines = ["(no speech found)"]
    return "\n".join(lines) + "\n"


def render_vtt(result: Result) -> str:
    out = ["WEBVTT", ""]
    for i, t in enumerate(_spoken_turns(result), 1):
        out += [
            str(i),
            f"{_clock(t.start)} --> {_clock(max(t.end, t.start + 0.001))}",
            f"<v {speaker_label(t)}>{_vtt_escape(t.text)}",
            "",
        ]
    return "\n".join(out)


def _vtt_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("-->", "--&gt;")


def render_srt(result: Result) -> str:
    out = []
    for i, t in enumerate(_spoken_turns(result), 1):
        out += [
            str(i),
            f"{_clock(t.start, ',')} --> {_clock(max(t.end, t.start + 0.001), ',')}",
            f"{speaker_label(t)}: {t.text.replace('-->', '->')}",
            "",
        ]
    return "\n".join(out)


def rttm_uri(name: str) -> str:
    """An RTTM file id: no whitespace allowed."""
    uri = "".join("_" if c.isspace() else c for c in name) or "recording"
    return uri


def render_rttm(segments: Iterable[Segment], uri: str) -> str:
    uri = rttm_uri(uri)
    return "".join(
        f"SPEAKER {uri} 1 {s.start:.3f} {s.end - s.start:.3f} <NA> <NA> {s.speaker} <NA> <NA>\n" for s in segments
    )


RENDERERS: dict[str, Callable[[Result], str]] = {
    "result.json": lambda r: r.to_json(),
    "transcript.txt": render_txt,
    "transcript.vtt": render_vtt,
    "transcript.srt": render_srt,
    "diarization.rttm": lambda r: render_rttm(r.segments, Path(r.recording.path).stem),
}


def default_output_dir(audio_path: str | Path) -> Path:
    """``<recording stem>.attune/`` beside the input."""
    p = Path(audio_path)
    return p.with_name(p.stem + ".attune")


def check_output_dir(out_dir: str | Path) -> Path:
    """Fail early (before hours of work) when ``out_dir`` cannot be created or written."""
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a folder")
    probe = out
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{out}: cannot create the output folder ({probe} is not a folder)")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{out}: the output folder cannot be written (permission denied on {probe})")
    return out


PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
SHARED_FILE_MODE = 0o644


def file_mode(private: bool) -> int:
    return PRIVATE_FILE_MODE if private else SHARED_FILE_MODE


def make_dir(path: Path, private: bool = True) -> bool:
    """Create ``path`` (and its parents); the folder itself is 0700 when private. Returns
    whether it was created."""
    if path.is_dir():
        return False
    path.mkdir(parents=True, exist_ok=True)
    if private:
        os.chmod(path, PRIVATE_DIR_MODE)
    return True


def _stage(path: Path, content: str | bytes, mode: int) -> str:
    """``content`` written to a temporary file beside ``path`` (returned); nothing else touched."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        if isinstance(content, bytes):
            with os.fdopen(fd, "wb") as fh:
                fh.write(content)
        else:
            with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(content)
        os.chmod(tmp, mode)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str | Path) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


STALE_TMP_S = 600  # a temporary file of ours this old is a leftover of a killed run


def remove_stale_temps(folder: Path, names: Iterable[str], older_than_s: float = STALE_TMP_S) -> list[Path]:
    """Remove the temporary files (``.NAME.*.tmp``) that an earlier run killed while writing
    left behind; they may hold transcript text. A recent one may belong to a run writing now,
    and is left alone. Returns what was removed."""
    import time

    removed = []
    now = time.time()
    for name in names:
        for p in folder.glob(f".{glob.escape(name)}.*.tmp"):
            try:
                if p.is_file() and not p.is_symlink() and now - p.stat().st_mtime > older_than_s:
                    p.unlink()
                    removed.append(p)
            except OSError:
                pass
    return removed


def atomic_write(path: Path, content: str | bytes, mode: int = PRIVATE_FILE_MODE) -> None:
    """Write ``content`` to ``path`` through a temporary file and a rename."""
    tmp = _stage(path, content, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def write_outputs(
    result: Result, out_dir: str | Path, extra: Optional[dict[str, str | bytes]] = None, private: bool = True
) -> list[Path]:
    """Render every output, then write them all into ``out_dir``; returns the paths written.

    Rendering happens before anything touches the disk. Every file is then written to a
    temporary file beside its target, and only when all of them are complete are they renamed
    into place: a failure while writing (a full disk, Ctrl-C) leaves the earlier set of
    outputs exactly as it was, and removes only the temporary files (and the folder, if this
    call created it). A file this call did not create is never deleted.
    """
    rendered: dict[str, str | bytes] = {name: render(result) for name, render in RENDERERS.items()}
    rendered.update(extra or {})
    out = check_output_dir(out_dir)
    try:
        return write_set(out, rendered, private)
    except OSError as exc:
        raise OutputError(f"{out}: cannot write outputs ({exc.strerror or exc})") from None


def write_set(folder: Path, files: Mapping[str, str | bytes], private: bool = True) -> list[Path]:
    """Write ``files`` (name -> content) into ``folder`` as one set: every file is staged in a
    temporary file beside its target first, and they are renamed into place only when all of
    them are complete. A failure (OSError, Ctrl-C) removes the temporary files, and the folder
    if this call created it, and leaves every earlier file as it was."""
    created = False
    staged: list[tuple[str, Path]] = []
    try:
        created = make_dir(folder, private)
        remove_stale_temps(folder, files)
        for name, content in files.items():
            staged.append((_stage(folder / name, content, file_mode(private)), folder / name))
        written: list[Path] = []
        for tmp, path in staged:
            os.replace(tmp, path)
            written.append(path)
    except BaseException:
        for tmp, _ in staged:
            _unlink(tmp)  # already renamed ones are gone from here: only leftovers are removed
        if created:
            try:
                folder.rmdir()
            except OSError:
                pass
        raise
    return written


def write_files(target: Path, files: Mapping[str, str | bytes], private: bool = True) -> None:
    """Write ``files`` (name -> content) into ``target``'s folder as one set (:func:`write_set`),
    creating it (private unless ``private=False``); a failure is one :class:`OutputError`
    naming ``target``."""
    try:
        write_set(target.parent, files, private)
    except OSError as exc:
        raise OutputError(f"{target}: cannot be written ({exc.strerror or exc})") from None
