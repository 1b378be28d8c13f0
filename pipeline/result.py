"""Typed results and the ``result.json`` contract (schema ``attunement.result/1``).

The result is the interchange format between the pipeline stages and with users. Its
fields are documented in ``docs/result-schema.md``; change them only on purpose and bump
:data:`SCHEMA` when a change is not backwards compatible.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Optional

from .errors import InputError

SCHEMA = "attunement.result/1"
ROLES = ("clinician", "patient", "other")


@dataclass
class Word:
    """One recognised word with its time span and (after alignment) its speaker."""

    text: str
    start: float
    end: float
    probability: float = 1.0
    speaker: Optional[str] = None


@dataclass
class Segment:
    """A region where one speaker is talking (regions of different speakers may overlap)."""

    speaker: str
    start: float
    end: float

    @property
    def duration(self) -> float:
        return self.end - self.start


@dataclass
class Turn:
    """Consecutive words (or regions) of one speaker, with their text."""

    speaker: str
    role: str
    start: float
    end: float
    text: str


@dataclass
class Speaker:
    """A speaker found in the recording, its role and its talk time (overlap-aware)."""

    id: str
    role: str
    talk_s: float
    words: int = 0
    questions: int = 0
    name: Optional[str] = None  # from the voice book, when the speaker matched an enrolled voice


@dataclass
class Recording:
    """What was analysed: the file and its original layout."""

    path: str
    duration_s: float
    sample_rate: int
    channels: int
    sha256: str
    codec: str = ""
    container: str = ""


@dataclass
class ModelInfo:
    """A model used by a stage: its name, the software version that ran it and its source."""

    stage: str
    name: str
    version: str
    source: str


@dataclass
class Result:
    """Everything ``attune analyze`` knows about one recording."""

    recording: Recording
    models: list[ModelInfo] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    speakers: list[Speaker] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    exclusive_segments: list[Segment] = field(default_factory=list)
    words: list[Word] = field(default_factory=list)
    turns: list[Turn] = field(default_factory=list)
    metrics: dict[str, Any] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    roles: dict[str, Any] = field(default_factory=dict)
    mode: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    created: str = ""
    attunement_version: str = ""
    schema: str = SCHEMA
    redaction: Optional[dict[str, Any]] = None  # set by --redact: engine and what was replaced
    dropped_words: list[Word] = field(default_factory=list)  # recognised where nobody was found speaking
    quality: Optional[dict[str, Any]] = None  # how far to trust who spoke when (pipeline.quality)
    prosody: Optional[dict[str, Any]] = None  # terminal pitch of sentences (pipeline.prosody)
    labels: dict[str, str] = field(default_factory=dict)  # the user's: student, station, date...

    def role_of(self, speaker: Optional[str]) -> str:
        for s in self.speakers:
            if s.id == speaker:
                return s.role
        return "other"

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        ordered = {"schema": d.pop("schema")}
        ordered.update(d)
        return ordered

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "Result":
        if not isinstance(d, dict) or d.get("schema") != SCHEMA:
            found = d.get("schema") if isinstance(d, dict) else type(d).__name__
            raise InputError(f"not an attunement result (schema {found!r}, expected {SCHEMA!r})")
        try:
            result = cls(
                schema=d["schema"],
                recording=Recording(**d["recording"]),
                models=[ModelInfo(**m) for m in d.get("models", [])],
                parameters=dict(d.get("parameters", {})),
                speakers=[Speaker(**s) for s in d.get("speakers", [])],
                segments=[Segment(**s) for s in d.get("segments", [])],
                exclusive_segments=[Segment(**s) for s in d.get("exclusive_segments", [])],
                words=[Word(**w) for w in d.get("words", [])],
                turns=[Turn(**t) for t in d.get("turns", [])],
                metrics=dict(d.get("metrics", {})),
                timings=dict(d.get("timings", {})),
                roles=dict(d.get("roles", {})),
                mode=dict(d.get("mode", {})),
                notes=list(d.get("notes", [])),
                created=d.get("created", ""),
                attunement_version=d.get("attunement_version", ""),
                redaction=dict(d["redaction"]) if isinstance(d.get("redaction"), dict) else None,
                dropped_words=[Word(**w) for w in d.get("dropped_words", [])],
                quality=dict(d["quality"]) if isinstance(d.get("quality"), dict) else None,
                prosody=dict(d["prosody"]) if isinstance(d.get("prosody"), dict) else None,
                labels=dict(d.get("labels") or {}),
            )
        except KeyError as exc:
            raise InputError(f"malformed result.json: missing field {exc.args[0]!r}") from None
        except (TypeError, AttributeError, ValueError) as exc:
            raise InputError(f"malformed result.json: unexpected or missing fields ({exc})") from None
        _check_result(result)
        return result

    @classmethod
    def load(cls, path: str | Path) -> "Result":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise InputError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InputError(f"{path}: cannot read result.json ({exc})") from None
        except (ValueError, RecursionError) as exc:  # a 5000-digit number, 100,000 levels of nesting
            raise InputError(f"{path}: cannot read result.json ({str(exc)[:80] or type(exc).__name__})") from None
        try:
            return cls.from_dict(data)
        except InputError as exc:
            raise InputError(f"{path}: {exc}") from None


_SCALAR = {"str": (str,), "float": (int, float), "int": (int,)}


def _check_fields(obj, where: str) -> None:
    """Each field of a typed record has its declared type (numbers finite, no booleans)."""
    for f in fields(obj):
        v = getattr(obj, f.name)
        kind = str(f.type).replace("Optional[", "").rstrip("]")
        if kind not in _SCALAR or (v is None and str(f.type).startswith("Optional")):
            continue
        ok = isinstance(v, _SCALAR[kind]) and not isinstance(v, bool)
        if ok and kind == "float":
            ok = math.isfinite(v)
        if not ok:
            raise InputError(f"malformed result.json: {where}.{f.name} is {str(v)[:40]!r}, not a {kind}")


def _check_result(r: "Result") -> None:
    """The parts of a result.json the commands compute with have the types they expect."""
    _check_fields(r.recording, "recording")
    for name, items in (
        ("speakers", r.speakers),
        ("segments", r.segments),
        ("exclusive_segments", r.exclusive_segments),
        ("words", r.words),
        ("turns", r.turns),
        ("dropped_words", r.dropped_words),
        ("models", r.models),
    ):
        for i, item in enumerate(items):
            _check_fields(item, f"{name}[{i}]")
    for name in ("metrics", "parameters", "timings", "roles", "mode"):
        if not isinstance(getattr(r, name), dict):
            raise InputError(f"malformed result.json: {name} is not an object")
    if not isinstance(r.created, str) or not isinstance(r.attunement_version, str):
        raise InputError("malformed result.json: created and attunement_version must be text")
    if not all(isinstance(n, str) for n in r.notes):
        raise InputError("malformed result.json: notes must be text")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in r.labels.items()):
        raise InputError("malformed result.json: labels must map text to text")
    from .metrics import METRIC_NAMES

    for k in METRIC_NAMES:
        v = r.metrics.get(k)
        if v is not None and not (isinstance(v, (int, float)) and (isinstance(v, bool) or math.isfinite(v))):
            raise InputError(f"malformed result.json: metrics.{k} is {str(v)[:40]!r}, not a number")
    events = r.metrics.get("events")
    if events is not None:
        if not isinstance(events, dict):
            raise InputError("malformed result.json: metrics.events is not an object")
        for kind, evs in events.items():
            if evs is None or kind == "opening_statement":
                continue
            if not isinstance(evs, list) or not all(
                isinstance(e, dict) and all(isinstance(e.get(t, 0), (int, float)) for t in ("start", "end"))
                for e in evs
            ):
                raise InputError(f"malformed result.json: metrics.events.{kind} is not a list of timed events")
