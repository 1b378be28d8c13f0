"""Known voices: a local voice book of speaker embeddings, and matching diarized speakers.

The voice book is a SQLite file in the user's data folder (``$ATTUNE_DATA_DIR``, else
``$XDG_DATA_HOME/attunement``, else ``~/.local/share/attunement``), created readable by
the owner only: speaker embeddings are biometric data. Each entry holds a name, a role
(clinician or patient), one CAM++ embedding (the same model as diarization, L2-normalised)
and how much speech it was made from. Every change is one transaction.

Matching: each diarized speaker's embedding (from up to :data:`MAX_SPEECH_S` of its own
speech) is compared with the chosen voices by cosine similarity; pairs are taken best
first, one voice per speaker, and only at or above :data:`MATCH_THRESHOLD` (0.75). Measured
on this project's synthetic voices (flite, festival, espeak-ng): the same voice in another
part of a recording scored 0.95-0.996; different voices 0.36-0.64 (0.80 for two
synthesisers built on the same recorded speaker, SLT). Real voices vary more: check the
similarities recorded in result.json before relying on a match.
"""

from __future__ import annotations

import datetime as _dt
import os
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Optional, Sequence

import numpy as np

from .errors import InputError, OutputError
from .result import Segment

SCHEMA_VERSION = 1
MATCH_THRESHOLD = 0.75
MIN_ENROLL_SPEECH_S = 3.0
MAX_SPEECH_S = 60.0
ROLES = ("clinician", "patient")


def book_path() -> Path:
    env = os.environ.get("ATTUNE_DATA_DIR")
    if env:
        return Path(env) / "voices.sqlite"
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "attunement" / "voices.sqlite"


@dataclass
class Voice:
    name: str
    role: str
    embedding: np.ndarray
    speech_s: float
    sources: str
    created: str
    model: str


class VoiceBook:
    """The voice book; use as a context manager or call :meth:`close`."""

    def __init__(self, path: Optional[Path] = None, create: bool = True):
        self.path = Path(path) if path else book_path()
        if not self.path.exists() and not create:
            self.conn = None
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fresh = not self.path.exists()
            self.conn = sqlite3.connect(str(self.path))
            if fresh:
                os.chmod(self.path, 0o600)
            with self.conn:
                self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
                self.conn.execute(
                    "CREATE TABLE IF NOT EXISTS voices (name TEXT PRIMARY KEY, role TEXT NOT NULL, "
                    "embedding BLOB NOT NULL, dim INTEGER NOT NULL, speech_s REAL NOT NULL, "
                    "sources TEXT NOT NULL, created TEXT NOT NULL, model TEXT NOT NULL)"
                )
                self.conn.execute("INSERT OR IGNORE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))
            version = int(self.conn.execute("SELECT value FROM meta WHERE key='schema_version'").fetchone()[0])
            if version > SCHEMA_VERSION:
                raise OutputError(f"{self.path}: voice book from a newer attunement (schema {version})")
        except sqlite3.Error as exc:
            raise OutputError(f"{self.path}: cannot open the voice book ({exc})") from None

    def __enter__(self) -> "VoiceBook":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def voices(self) -> list[Voice]:
        if self.conn is None:
            return []
        rows = self.conn.execute(
            "SELECT name, role, embedding, dim, speech_s, sources, created, model FROM voices ORDER BY name"
        )
        return [
            Voice(n, r, np.frombuffer(e, dtype=np.float32).reshape(d), s, src, c, m)
            for n, r, e, d, s, src, c, m in rows
        ]

    def get(self, name: str) -> Optional[Voice]:
        return next((v for v in self.voices() if v.name == name), None)

    def add(self, voice: Voice, replace: bool = False) -> None:
        if self.conn is None:
            raise OutputError(f"{self.path}: the voice book does not exist")
        if not replace and self.get(voice.name) is not None:
            raise InputError(f"voice {voice.name!r} is already enrolled (use {{replace}} to enrol it again)", "replace")
        emb = np.ascontiguousarray(voice.embedding, dtype=np.float32)
        try:
            with self.conn:
                self.conn.execute(
                    "INSERT OR REPLACE INTO voices VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        voice.name,
                        voice.role,
                        emb.tobytes(),
                        emb.shape[0],
                        voice.speech_s,
                        voice.sources,
                        voice.created,
                        voice.model,
                    ),
                )
        except sqlite3.Error as exc:
            raise OutputError(f"{self.path}: cannot write the voice book ({exc})") from None

    def remove(self, name: str) -> None:
        if self.conn is None or self.get(name) is None:
            raise InputError(f"no enrolled voice named {name!r}")
        with self.conn:
            self.conn.execute("DELETE FROM voices WHERE name = ?", (name,))


def speech_only(samples: np.ndarray) -> np.ndarray:
    """The samples where Silero VAD hears speech (32 ms frames, threshold 0.5)."""
    from . import channels

    probs = channels.speech_probability(samples)
    frames = samples[: len(probs) * channels.FRAME].reshape(len(probs), channels.FRAME)
    return frames[probs >= 0.5].reshape(-1)


def enroll(name: str, paths: Sequence[str | Path], role: str, embedder=None) -> Voice:
    """Make a voice from recordings of one person (each must hold at least 3 s of speech)."""
    from .audio import load_audio
    from .embedding import CamPlusPlus

    if not name.strip():
        raise InputError("the voice needs a name")
    if role not in ROLES:
        raise InputError(f"{{role}} must be clinician or patient (got {role!r})", "role")
    speech = []
    for p in paths:
        audio = load_audio(p)
        s = speech_only(audio.samples)
        secs = len(s) / 16000
        if secs < MIN_ENROLL_SPEECH_S:
            what = "no speech" if secs == 0 else f"only {secs:.1f} s of speech"
            raise InputError(f"{p}: {what} (at least {MIN_ENROLL_SPEECH_S:g} s of the person's speech is needed)")
        speech.append(s)
    x = np.concatenate(speech)
    embedder = embedder or CamPlusPlus(threads=2)
    return Voice(
        name=name.strip(),
        role=role,
        embedding=embedder.embed(x),
        speech_s=round(len(x) / 16000, 2),
        sources=", ".join(Path(p).name for p in paths),
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        model="CAM++ campplus_cn_en_common (3D-Speaker), 192-d",
    )


def speaker_samples(
    samples: np.ndarray, regions: Sequence[Segment], speaker: str, max_s: float = MAX_SPEECH_S
) -> np.ndarray:
    """Up to ``max_s`` seconds of one speaker's own (exclusive) speech, longest regions first."""
    spans = sorted((s for s in regions if s.speaker == speaker), key=lambda s: s.end - s.start, reverse=True)
    out, total = [], 0
    for s in spans:
        a, b = int(s.start * 16000), int(s.end * 16000)
        if b - a < 8000:  # under 0.5 s
            continue
        take = min(b - a, int(max_s * 16000) - total)
        out.append(samples[a : a + take])
        total += take
        if total >= max_s * 16000:
            break
    return np.concatenate(out) if out else np.zeros(0, dtype=np.float32)


def match(
    speaker_embeddings: dict[str, np.ndarray], voices: Sequence[Voice], threshold: float = MATCH_THRESHOLD
) -> tuple[list[dict], dict[str, dict[str, float]]]:
    """Best-first, one-to-one matching of speakers to voices by cosine similarity.

    Returns the matches ``[{speaker, name, role, similarity}]`` and every similarity.
    """
    sims: dict[str, dict[str, float]] = {}
    pairs = []
    for spk, e in speaker_embeddings.items():
        sims[spk] = {}
        for v in voices:
            sim = float(np.dot(e, v.embedding) / ((np.linalg.norm(e) * np.linalg.norm(v.embedding)) or 1.0))
            sims[spk][v.name] = round(sim, 4)
            pairs.append((sim, spk, v))
    matches, used_s, used_v = [], set(), set()
    for sim, spk, v in sorted(pairs, key=lambda p: -p[0]):
        if sim < threshold or spk in used_s or v.name in used_v:
            continue
        matches.append({"speaker": spk, "name": v.name, "role": v.role, "similarity": round(sim, 4)})
        used_s.add(spk)
        used_v.add(v.name)
    return matches, sims
