"""Batch manifests: a CSV of recordings and their labels (student, station, date...), read
with line numbers and checked against the recordings actually given.

A manifest row naming a file that is not there, and a recording that no row names, are the
two ways a student silently vanishes from a cohort or loses their labels: :func:`mismatches`
lists both, with the manifest's line numbers (warnings, or errors with ``--strict``).
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .errors import InputError


@dataclass
class Manifest:
    path: Path
    rows: dict[Path, dict[str, str]] = field(default_factory=dict)  # resolved path -> labels
    lines: dict[Path, int] = field(default_factory=dict)  # resolved path -> its line in the file
    named: dict[Path, str] = field(default_factory=dict)  # resolved path -> as the row wrote it


def load_manifest(path: str | Path) -> Manifest:
    """A CSV with a ``path`` column and any label columns (clinician, patient, station, date...).

    Relative paths are taken from the manifest's folder.
    """
    from .store import reserved_label

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such manifest file")
    out = Manifest(path)
    try:
        with open(path, newline="", encoding="utf-8-sig") as fh:
            reader = csv.DictReader(fh)
            if not reader.fieldnames or "path" not in [f.strip() for f in reader.fieldnames]:
                raise InputError(f"{path}:1: the manifest needs a 'path' column")
            for i, row in enumerate(reader, start=2):
                row = {(k or "").strip(): (v or "").strip() for k, v in row.items() if k is not None}
                if None in row or not row.get("path"):
                    raise InputError(f"{path}:{i}: row without a path")
                written = row.pop("path")
                target = Path(written)
                if not target.is_absolute():
                    target = path.parent / target
                try:
                    key = target.resolve()
                except (ValueError, OSError, RuntimeError):  # NUL characters, symlink loops
                    raise InputError(f"{path}:{i}: not a usable file path ({str(target)[:80]!r})") from None
                if key in out.rows:
                    raise InputError(f"{path}:{i}: {target} is listed twice (first on line {out.lines[key]})")
                labels = {k: v for k, v in row.items() if k and v}
                bad = next((k for k in labels if reserved_label(k)), None)
                if bad is not None:
                    raise InputError(
                        f"{path}:1: the column {bad!r} is a reserved name (a column of the results); rename it, "
                        f"for example to '{bad}_label'"
                    )
                out.rows[key], out.lines[key], out.named[key] = labels, i, written
    except UnicodeDecodeError:
        raise InputError(f"{path}: not a UTF-8 text file") from None
    except csv.Error as exc:
        raise InputError(f"{path}: not a readable CSV ({exc})") from None
    return out


def read_manifest(path: str | Path) -> dict[Path, dict[str, str]]:
    """The manifest's rows: resolved path -> labels (:func:`load_manifest` keeps line numbers too)."""
    return load_manifest(path).rows


def mismatches(manifest: Manifest, paths: Sequence[Path]) -> list[str]:
    """What does not match between the manifest and the recordings given, one line each: rows
    whose file is missing or was not among the inputs (by line number), then recordings that
    no row names (they are analysed without their labels)."""
    given = {p.resolve(): p for p in paths}
    out = []
    for key, line in sorted(manifest.lines.items(), key=lambda kv: kv[1]):
        if key in given:
            continue
        why = "is not among the recordings given" if key.exists() else "does not exist"
        out.append(f"{manifest.path}:{line}: {manifest.named[key]} {why} (this row was not analysed)")
    for key, p in given.items():
        if key not in manifest.rows:
            out.append(f"{p}: not in the manifest {manifest.path} (analysed without its labels)")
    return out


def merge_labels(
    paths: Sequence[Path], common: dict[str, str], per_file: dict[Path, dict[str, str]]
) -> dict[Path, dict[str, str]]:
    """Every recording's labels: the common ones, overridden by its manifest row."""
    return {p.resolve(): {**common, **per_file.get(p.resolve(), {})} for p in paths}
