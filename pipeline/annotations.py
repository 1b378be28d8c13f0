"""Read speaker timing from annotation files: RTTM, Praat TextGrid, ELAN .eaf, result.json.

Every reader returns a :class:`Timing` (speaker regions, optional words and roles, and the
duration when the file knows it). Problems are raised as :class:`InputError` naming the
file and, where it applies, the line.
"""

from __future__ import annotations

import math
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional, Sequence

from .errors import InputError
from .result import Result, Segment, Word

MAX_ANNOTATION_BYTES = 200 * 1024 * 1024


@dataclass
class Timing:
    """Speaker regions read from a file (plus what else the file knows)."""

    segments: list[Segment]
    source: str
    duration: Optional[float] = None
    words: Optional[list[Word]] = None
    roles: dict[str, str] = field(default_factory=dict)  # speaker -> role, when known
    utterances: list[dict] = field(default_factory=list)  # {speaker, start, end, text} when the file has text

    @property
    def speakers(self) -> list[str]:
        """Speakers in order of first appearance."""
        first: dict[str, float] = {}
        for s in sorted(self.segments, key=lambda s: (s.start, s.end)):
            first.setdefault(s.speaker, s.start)
        return list(first)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise InputError(f"{path}: no such file")
    if path.is_dir():
        raise InputError(f"{path}: is a folder, not an annotation file")
    try:
        size = path.stat().st_size
        if size > MAX_ANNOTATION_BYTES:
            raise InputError(f"{path}: too large for an annotation file ({size / 1e6:.0f} MB)")
        raw = path.read_bytes()
    except OSError as exc:
        raise InputError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    for bom, enc in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):
        if raw.startswith(bom):
            try:
                return raw.decode(enc)
            except UnicodeDecodeError:
                raise InputError(f"{path}: not readable text (it starts like {enc.upper()} but is not)") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _number(text: str, path: Path, line: int, what: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise InputError(f"{path}:{line}: {what} is not a number ({text[:40]!r})") from None
    if not math.isfinite(v):
        raise InputError(f"{path}:{line}: {what} is not a finite number ({text[:40]!r})")
    return v


def _check_span(start: float, end: float, path: Path, line: int) -> None:
    if start < 0:
        raise InputError(f"{path}:{line}: negative start time ({start:g})")
    if end < start:
        raise InputError(f"{path}:{line}: end ({end:g}) is before start ({start:g})")


# ---------------------------------------------------------------- RTTM
def read_rttm(path: str | Path) -> Timing:
    """RTTM: ``SPEAKER <file> <chan> <start> <duration> <NA> <NA> <speaker> <NA> <NA>``."""
    path = Path(path)
    segs = []
    for i, raw in enumerate(_read_text(path).splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        f = line.split()
        if f[0] != "SPEAKER":
            continue  # other RTTM record types (SPKR-INFO, LEXEME...) carry no regions
        if len(f) < 8:
            raise InputError(f"{path}:{i}: malformed RTTM line (expected at least 8 fields, got {len(f)})")
        start = _number(f[3], path, i, "start time")
        dur = _number(f[4], path, i, "duration")
        if dur < 0:
            raise InputError(f"{path}:{i}: negative duration ({dur:g})")
        _check_span(start, start + dur, path, i)
        if dur > 0:
            segs.append(Segment(f[7], round(start, 3), round(start + dur, 3)))
    return Timing(segments=segs, source=str(path))


# ---------------------------------------------------------------- TextGrid
_TOKEN = re.compile(r'"((?:[^"]|"")*)"|(![^\n]*)|([^\s"]+)')
_HEADER = re.compile(r'\A\s*File type\s*=\s*"ooTextFile"\s*Object class\s*=\s*"TextGrid"\s*')
_KEYWORDS = {
    "xmin",
    "xmax",
    "text",
    "name",
    "class",
    "size",
    "intervals",
    "points",
    "tiers?",
    "item",
    "number",
    "mark",
    "time",
}


def _textgrid_tokens(text: str, offset: int):
    """Tokens of a TextGrid body (long or short format) with line numbers: (token, line).

    ``name = value`` pairs of the long format reduce to their values, so both formats give
    the same token stream. Labels are unquoted (``""`` -> ``"``) and may span lines;
    comments after ``!`` are dropped.
    """
    line, last = 1 + text.count("\n", 0, offset), offset
    for m in _TOKEN.finditer(text, offset):
        line += text.count("\n", last, m.start())
        last = m.start()
        if m.group(1) is not None:
            yield m.group(1).replace('""', '"'), line
        elif m.group(2) is not None:
            continue
        else:
            tok = m.group(3)
            if tok == "=" or tok.endswith(("=", ":")) or tok.startswith("[") or tok in _KEYWORDS:
                continue
            yield tok, line


def read_textgrid(path: str | Path, default_name: Optional[str] = None) -> Timing:
    """A Praat TextGrid: every interval tier is a speaker, non-empty intervals are speech."""
    path = Path(path)
    text = _read_text(path)
    header = _HEADER.match(text)
    if header is None:
        raise InputError(
            f"{path}: not a Praat TextGrid (missing 'File type = \"ooTextFile\"' / 'Object class = \"TextGrid\"')"
        )
    toks = list(_textgrid_tokens(text, header.end()))
    pos = 0

    def take(what: str):
        nonlocal pos
        if pos >= len(toks):
            raise InputError(f"{path}: truncated TextGrid (expected {what})")
        tok = toks[pos]
        pos += 1
        return tok

    def take_num(what: str) -> float:
        tok, ln = take(what)
        return _number(tok, path, ln, what)

    take_num("xmin")
    file_xmax = take_num("xmax")
    tok, ln = take("tiers flag")
    if tok != "<exists>":
        return Timing(segments=[], source=str(path), duration=file_xmax)
    n_tiers = int(take_num("number of tiers"))
    segs: list[Segment] = []
    utts: list[dict] = []
    names: list[str] = []
    for _t in range(n_tiers):
        klass, ln = take("tier class")
        name, _ = take("tier name")
        take_num("tier xmin")
        take_num("tier xmax")
        count = int(take_num("number of intervals"))
        if count < 0:
            raise InputError(f"{path}:{ln}: negative interval count")
        if klass == "IntervalTier":
            speaker = name or default_name or f"tier{_t + 1}"
            if speaker in names:
                speaker = f"{speaker}_{_t + 1}"
            names.append(speaker)
            for _i in range(count):
                a_tok, ln = take("interval xmin")
                a = _number(a_tok, path, ln, "interval start")
                b = take_num("interval xmax")
                label, _ = take("interval text")
                _check_span(a, b, path, ln)
                if label.strip() and b > a:
                    segs.append(Segment(speaker, round(a, 3), round(b, 3)))
                    utts.append({"speaker": speaker, "start": round(a, 3), "end": round(b, 3), "text": label.strip()})
        elif klass == "TextTier":
            for _i in range(count):
                take_num("point time")
                take("point mark")
        else:
            raise InputError(f"{path}:{ln}: unknown TextGrid tier class {klass!r}")
    return Timing(segments=segs, source=str(path), duration=file_xmax, utterances=utts)


def read_textgrid_pair(paths: Sequence[str | Path]) -> Timing:
    """One-tier TextGrids, one per speaker (as PriMock57 ships them); speaker = tier name,
    or the file name when tiers share a name."""
    timings = [read_textgrid(p) for p in paths]
    names = [[s.speaker for s in t.segments] for t in timings]
    tier_names = [n[0] if n else Path(p).stem for n, p in zip(names, paths)]
    if len(set(tier_names)) < len(tier_names):
        tier_names = [Path(p).stem for p in paths]
    segs, utts = [], []
    for t, name, p in zip(timings, tier_names, paths):
        if len({s.speaker for s in t.segments}) > 1:
            raise InputError(f"{p}: has several interval tiers; pass one TextGrid with all tiers instead of a pair")
        segs += [Segment(name, s.start, s.end) for s in t.segments]
        utts += [{**u, "speaker": name} for u in t.utterances]
    durations = [t.duration for t in timings if t.duration is not None]
    return Timing(
        segments=segs,
        source=" + ".join(str(p) for p in paths),
        duration=max(durations) if durations else None,
        utterances=utts,
    )


# ---------------------------------------------------------------- ELAN
def read_eaf(path: str | Path) -> Timing:
    """An ELAN .eaf file: every tier with time-aligned annotations is a speaker."""
    path = Path(path)
    text = _read_text(path)
    if "<!ENTITY" in text:
        raise InputError(f"{path}: XML entity declarations are not accepted in .eaf files")
    try:
        root = ET.fromstring(text.encode("utf-8"))
    except ET.ParseError as exc:
        raise InputError(f"{path}:{exc.position[0]}: not well-formed XML ({exc})") from None
    if root.tag != "ANNOTATION_DOCUMENT":
        raise InputError(f"{path}: not an ELAN annotation document (root element {root.tag!r})")
    slots: dict[str, Optional[float]] = {}
    for ts in root.iter("TIME_SLOT"):
        v = ts.get("TIME_VALUE")
        slots[ts.get("TIME_SLOT_ID", "")] = None if v is None else _number(v, path, 0, "TIME_VALUE") / 1000.0
    segs, utts = [], []
    for tier in root.iter("TIER"):
        speaker = tier.get("TIER_ID") or tier.get("PARTICIPANT") or "tier"
        for ann in tier.iter("ALIGNABLE_ANNOTATION"):
            a, b = slots.get(ann.get("TIME_SLOT_REF1", "")), slots.get(ann.get("TIME_SLOT_REF2", ""))
            aid = ann.get("ANNOTATION_ID", "?")
            if a is None or b is None:
                continue  # unaligned slot: no timing to use
            if a < 0:
                raise InputError(f"{path}: annotation {aid}: negative start time ({a:g})")
            if b < a:
                raise InputError(f"{path}: annotation {aid}: end ({b:g}) is before start ({a:g})")
            value = ann.findtext("ANNOTATION_VALUE") or ""
            if b > a and value.strip():
                segs.append(Segment(speaker, round(a, 3), round(b, 3)))
                utts.append({"speaker": speaker, "start": round(a, 3), "end": round(b, 3), "text": value.strip()})
    return Timing(segments=segs, source=str(path), utterances=utts)


# ---------------------------------------------------------------- result.json
def read_result(path: str | Path) -> Timing:
    result = Result.load(path)
    return Timing(
        segments=list(result.segments),
        source=str(path),
        duration=result.recording.duration_s,
        words=list(result.words),
        roles={s.id: s.role for s in result.speakers},
    )


ROLE_NAMES = {
    "clinician": "clinician",
    "doctor": "clinician",
    "physician": "clinician",
    "gp": "clinician",
    "nurse": "clinician",
    "student": "clinician",
    "patient": "patient",
}


def role_for_label(label: str) -> Optional[str]:
    """'doctor' -> 'clinician', 'patient' -> 'patient'; None for labels such as SPEAKER_00."""
    return ROLE_NAMES.get(label.strip().lower())


def read_reference_json(path: str | Path) -> Timing:
    """A reference JSON: ``{"utterances": [{role or speaker, start, end, text}], "duration": s}``."""
    import json

    path = Path(path)
    try:
        data = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise InputError(f"{path}:{exc.lineno}: not valid JSON ({exc.msg})") from None
    if not isinstance(data, dict) or not isinstance(data.get("utterances"), list):
        raise InputError(f"{path}: a reference JSON needs an 'utterances' list")
    segs, utts = [], []
    roles: dict[str, str] = {}
    for i, u in enumerate(data["utterances"]):
        if not isinstance(u, dict):
            raise InputError(f"{path}: utterance {i + 1} is not an object")
        spk = u.get("speaker") or u.get("role")
        if not spk:
            raise InputError(f"{path}: utterance {i + 1} has neither 'speaker' nor 'role'")
        try:
            a, b = float(u["start"]), float(u["end"])
        except (KeyError, TypeError, ValueError):
            raise InputError(f"{path}: utterance {i + 1} needs numeric 'start' and 'end'") from None
        if not (math.isfinite(a) and math.isfinite(b)):
            raise InputError(f"{path}: utterance {i + 1} has a non-finite time")
        if a < 0:
            raise InputError(f"{path}: utterance {i + 1}: negative start time ({a:g})")
        if b < a:
            raise InputError(f"{path}: utterance {i + 1}: end ({b:g}) is before start ({a:g})")
        spk = str(spk)
        role = u.get("role")
        if role:
            roles.setdefault(spk, role_for_label(str(role)) or str(role))
        if b > a:
            segs.append(Segment(spk, round(a, 3), round(b, 3)))
        utts.append({"speaker": spk, "start": a, "end": b, "text": str(u.get("text", ""))})
    duration = data.get("duration", data.get("duration_s"))
    if duration is not None:
        if isinstance(duration, bool) or not isinstance(duration, (int, float, str)):
            raise InputError(f"{path}: 'duration' is not a number")
        duration = _number(str(duration), path, 1, "'duration'")
        if duration < 0:
            raise InputError(f"{path}: negative 'duration' ({duration:g})")
    return Timing(segments=segs, source=str(path), duration=duration or None, roles=roles, utterances=utts)


def read_timing(paths: Sequence[str | Path]) -> Timing:
    """Read one annotation file (or a pair of one-tier TextGrids), chosen by extension."""
    files = [Path(p) for p in paths]
    if not files:
        raise InputError("no input file given")
    if len(files) > 1:
        if all(p.suffix.lower() == ".textgrid" for p in files):
            return read_textgrid_pair(files)
        raise InputError("several inputs are only accepted as one-tier TextGrids (one per speaker)")
    p = files[0]
    ext = p.suffix.lower()
    if ext == ".rttm":
        return read_rttm(p)
    if ext == ".textgrid":
        return read_textgrid(p)
    if ext == ".eaf":
        return read_eaf(p)
    if ext == ".json":
        try:
            return read_result(p)
        except InputError as exc:
            if "(schema None" not in str(exc):  # a result.json of another schema: say so
                raise
            return read_reference_json(p)
    raise InputError(
        f"{p}: unknown annotation format {ext or '(no extension)'} (use .rttm, .TextGrid, .eaf or result.json)"
    )


def words_from_utterances(utterances: Sequence[dict]) -> list[Word]:
    """An annotation's words, each utterance's span shared out by characters (for the word metrics
    of a file that has text but no word times)."""
    out = []
    for u in utterances:
        tokens = str(u.get("text", "")).split()
        total = sum(len(t) + 1 for t in tokens) or 1
        t, span = float(u["start"]), float(u["end"]) - float(u["start"])
        for tok in tokens:
            d = span * (len(tok) + 1) / total
            out.append(Word(tok, round(t, 3), round(t + d * len(tok) / (len(tok) + 1), 3), 1.0, u["speaker"]))
            t += d
    return out
