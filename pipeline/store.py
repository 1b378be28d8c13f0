"""The results database: every analysis in one SQLite file, for pandas and for cohorts.

Schema (version :data:`SCHEMA_VERSION`, upgraded in place by :data:`MIGRATIONS`):

* ``meta(key, value)``: ``schema_version``.
* ``analyses``: one row per analysed recording and set of options: ``id``, ``path``,
  ``sha256`` (of the audio file), ``duration_s``, ``analysed`` (ISO time), ``options_hash``
  and ``options`` (JSON of the result's ``parameters``), ``mode`` (diarization/channels),
  ``clinician``, ``patient``, ``station``, ``date`` (labels), ``labels`` (JSON of every
  label), ``result_path``, ``report_path`` (since version 2), ``attunement_version``.
  ``(sha256, options_hash)`` is unique: the same audio analysed with the same options
  replaces its row.
* ``metrics(analysis_id, name, value)``: every scalar metric of the analysis (booleans as
  0/1, undefined metrics absent).

Versions: 1 (first release); 2 adds ``analyses.report_path`` (filled in for older rows
from ``result_path``: ``report.html`` beside it) and indexes on the label columns and
metric names, so cohorts of thousands of recordings query quickly.

The file is created readable by the owner only (it holds labels and results of medical
consultations). Every write is one transaction; a database another program keeps locked
for more than :data:`LOCK_TIMEOUT_S` gives a clear error instead of a partial write.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
from pathlib import Path
from typing import Iterable, Optional

from .errors import AttuneError, InputError, OutputError
from .metrics import METRIC_NAMES
from .result import Result

SCHEMA_VERSION = 2
LOCK_TIMEOUT_S = 10
LABEL_COLUMNS = ("clinician", "patient", "station", "date")
MIGRATIONS = {
    1: [
        "CREATE TABLE analyses (id INTEGER PRIMARY KEY, path TEXT NOT NULL, sha256 TEXT NOT NULL, "
        "duration_s REAL, analysed TEXT, options_hash TEXT NOT NULL, options TEXT NOT NULL, mode TEXT, "
        "clinician TEXT, patient TEXT, station TEXT, date TEXT, labels TEXT NOT NULL DEFAULT '{}', "
        "result_path TEXT, attunement_version TEXT, UNIQUE (sha256, options_hash))",
        "CREATE TABLE metrics (analysis_id INTEGER NOT NULL REFERENCES analyses(id) ON DELETE CASCADE, "
        "name TEXT NOT NULL, value REAL NOT NULL, PRIMARY KEY (analysis_id, name))",
    ],
    2: [
        "ALTER TABLE analyses ADD COLUMN report_path TEXT",
        "UPDATE analyses SET report_path = substr(result_path, 1, length(result_path) - 11) || 'report.html' "
        "WHERE result_path LIKE '%result.json'",
        "CREATE INDEX IF NOT EXISTS analyses_clinician ON analyses (clinician)",
        "CREATE INDEX IF NOT EXISTS analyses_station ON analyses (station)",
        "CREATE INDEX IF NOT EXISTS analyses_date ON analyses (date)",
        "CREATE INDEX IF NOT EXISTS metrics_name ON metrics (name)",
    ],
}


def options_hash(parameters: dict) -> str:
    """A stable hash of the options that change what an analysis computes."""
    keep = {k: v for k, v in parameters.items() if k not in ("threads", "threads_asr_diarization")}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:16]


# the results' own columns: a label of the same name would overwrite them in exports and
# in the cohort (issue 16 #3), so these names are refused
RESERVED_LABELS = frozenset(
    {"id", "path", "sha256", "duration_s", "analysed", "mode", "labels", "options_hash", "result_path"}
    | {"report_path", "attunement_version", "group", "recording", "when", "when_source"}  # + the cohort's
)


def reserved_label(name: str) -> bool:
    """True when ``name`` is a column of the results (or a metric, or a cohort column)."""
    from .metrics import METRIC_NAMES, registry

    per_10 = {m.per_10min for m in registry.all_metrics() if m.per_10min}
    return name in RESERVED_LABELS or name in METRIC_NAMES or name in per_10


def label_columns(df) -> list[str]:
    """The columns of a :meth:`Store.frame` (or a cohort table made from one) that are labels:
    clinician, patient, station, date and every manifest column, in table order (a column
    whose name starts with ``_`` is a caller's own, not a label)."""
    return [
        c
        for c in df.columns
        if isinstance(c, str) and not c.startswith("_") and (c in LABEL_COLUMNS or not reserved_label(c))
    ]


def check_labels(labels: dict[str, str], where: str = "labels") -> dict[str, str]:
    """``labels`` itself, or one :class:`AttuneError` for a name that clashes with a column."""
    for k in labels:
        if reserved_label(k):
            raise AttuneError(
                f"{{{where}}} {k!r}: a reserved name (a column of the results); use another, for "
                f"example '{k}_label' or 'student_{k}'",
                where,
            )
    return labels


def parse_labels(items: Iterable[str]) -> dict[str, str]:
    """``["clinician=Dr A", "station=3"]`` -> dict; raises on an item without '=' or a reserved name."""
    labels = {}
    for item in items:
        if "=" not in item or not item.split("=", 1)[0].strip():
            raise AttuneError(f"{{labels}} {item!r}: expected key=value", "labels")
        k, v = item.split("=", 1)
        labels[k.strip()] = v.strip()
    return check_labels(labels)


def _make_private(path: Path) -> None:
    """An existing database of ours readable by others (an older version, a copy) becomes 0600;
    somebody else's file is left as it is."""
    try:
        st = path.stat()
        if st.st_uid == os.getuid() and st.st_mode & 0o077:
            os.chmod(path, 0o600)
    except OSError:
        pass


class Store:
    """An open results database (a context manager)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        if self.path.is_dir():
            raise InputError(f"{self.path}: is a folder, not a database file")
        fresh = not self.path.exists()
        try:
            if fresh:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                # created private from the first byte: sqlite opens an existing file as it is
                os.close(os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
            self.conn = sqlite3.connect(str(self.path), timeout=LOCK_TIMEOUT_S)
            _make_private(self.path)
            self.conn.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except (sqlite3.OperationalError, OSError) as exc:
            if fresh:  # a database this call started to create is not left behind half-made
                self._discard()
                why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
                raise OutputError(f"{self.path}: cannot create the database ({why})") from None
            if isinstance(exc, OSError):
                raise OutputError(f"{self.path}: cannot open the database ({exc.strerror or exc})") from None
            raise OutputError(self._describe(exc)) from None
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{self.path}: not a usable attunement database ({exc})") from None

    def _discard(self) -> None:
        conn = getattr(self, "conn", None)
        if conn is not None:
            conn.close()
        for p in (self.path, self.path.with_name(self.path.name + "-journal")):
            try:
                p.unlink()
            except OSError:
                pass

    def _describe(self, exc: sqlite3.Error) -> str:
        if "locked" in str(exc) or "busy" in str(exc):
            return (
                f"{self.path}: the database is locked by another program (waited {LOCK_TIMEOUT_S} s); "
                "the database was not changed"
            )
        return f"{self.path}: database error ({exc}); the database was not changed"

    def __enter__(self) -> "Store":
        return self

    def __exit__(self, *exc) -> None:
        self.conn.close()

    def _version(self) -> int:
        has_meta = self.conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'").fetchone()
        row = has_meta and self.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        return int(row[0]) if row else 0

    def _migrate(self) -> None:
        if self._version() == SCHEMA_VERSION:  # the usual case: read-only files stay readable
            return
        self.conn.isolation_level = None  # explicit transaction: schema and data change together
        self.conn.execute("BEGIN IMMEDIATE")  # takes the write lock now: a locked file fails here
        try:
            self._upgrade()
            self.conn.execute("COMMIT")
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        finally:
            self.conn.isolation_level = ""  # type: ignore[assignment]  # sqlite3: "" is the default mode

    def _upgrade(self) -> None:
        self.conn.execute("CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        version = self._version()
        if version == 0:
            foreign = [
                r[0]
                for r in self.conn.execute(
                    "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('meta', 'sqlite_sequence')"
                )
            ]
            if foreign:
                raise InputError(
                    f"{self.path}: an SQLite database of another program (tables: "
                    f"{', '.join(sorted(foreign)[:5])}); not touched"
                )
        if version > SCHEMA_VERSION:
            raise InputError(
                f"{self.path}: made by a newer attunement (schema {version}, this one knows {SCHEMA_VERSION})"
            )
        for v in range(version + 1, SCHEMA_VERSION + 1):
            for statement in MIGRATIONS[v]:
                self.conn.execute(statement)
        self.conn.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", (str(SCHEMA_VERSION),))

    def record(self, result: Result, labels: Optional[dict[str, str]] = None, result_path: Optional[str] = None) -> int:
        """Store (or replace) one analysis; returns its id."""
        try:
            return self._record(result, labels, result_path)
        except sqlite3.OperationalError as exc:
            raise OutputError(self._describe(exc)) from None

    def _record(self, result: Result, labels: Optional[dict[str, str]], result_path: Optional[str]) -> int:
        labels = check_labels(dict(labels or {}))
        opts = options_hash(result.parameters)
        cols = {k: labels.get(k) for k in LABEL_COLUMNS}
        if result_path:  # absolute: the database is read from other folders (attune cohort)
            result_path = str(Path(result_path).resolve())
        report_path = str(Path(result_path).with_name("report.html")) if result_path else None
        with self.conn:
            self.conn.execute(
                "DELETE FROM analyses WHERE sha256 = ? AND options_hash = ?", (result.recording.sha256, opts)
            )
            cur = self.conn.execute(
                "INSERT INTO analyses (path, sha256, duration_s, analysed, options_hash, options, mode, clinician, "
                "patient, station, date, labels, result_path, report_path, attunement_version) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    result.recording.path,
                    result.recording.sha256,
                    result.recording.duration_s,
                    result.created,
                    opts,
                    json.dumps(result.parameters, sort_keys=True),
                    result.mode.get("name", "diarization"),
                    cols["clinician"],
                    cols["patient"],
                    cols["station"],
                    cols["date"],
                    json.dumps(labels, sort_keys=True),
                    result_path,
                    report_path,
                    result.attunement_version,
                ),
            )
            aid = cur.lastrowid
            assert aid is not None
            rows = []
            for name in METRIC_NAMES:
                v = result.metrics.get(name)
                if isinstance(v, bool):
                    v = int(v)
                if isinstance(v, (int, float)):
                    rows.append((aid, name, float(v)))
            self.conn.executemany("INSERT INTO metrics VALUES (?, ?, ?)", rows)
        return aid

    def _summary(self, where: str, args: tuple) -> Optional[dict]:
        row = self.conn.execute(f"SELECT id, labels, result_path, path FROM analyses WHERE {where}", args).fetchone()
        if row is None:
            return None
        return {"id": row[0], "labels": json.loads(row[1] or "{}"), "result_path": row[2], "path": row[3]}

    def find(self, sha256: str, parameters: dict) -> Optional[dict]:
        """The stored analysis of this recording with these options: ``{id, labels, result_path,
        path}``, or None."""
        return self._summary("sha256 = ? AND options_hash = ?", (sha256, options_hash(parameters)))

    def of_recording(self, sha256: str) -> list[int]:
        """The ids of every stored analysis of this recording (any options)."""
        rows = self.conn.execute("SELECT id FROM analyses WHERE sha256 = ? ORDER BY id", (sha256,)).fetchall()
        return [r[0] for r in rows]

    def get(self, analysis_id: int) -> Optional[dict]:
        """``{id, labels, result_path, path}`` of one analysis, or None."""
        return self._summary("id = ?", (analysis_id,))

    def relabel(self, analysis_id: int, labels: dict[str, str]) -> None:
        """Replace one analysis's labels (its metrics stay as they are)."""
        labels = check_labels(dict(labels))
        cols = {k: labels.get(k) for k in LABEL_COLUMNS}
        try:
            with self.conn:
                cur = self.conn.execute(
                    "UPDATE analyses SET labels = ?, clinician = ?, patient = ?, station = ?, date = ? WHERE id = ?",
                    (json.dumps(labels, sort_keys=True), *(cols[k] for k in LABEL_COLUMNS), analysis_id),
                )
        except sqlite3.OperationalError as exc:
            raise OutputError(self._describe(exc)) from None
        if cur.rowcount == 0:
            raise InputError(f"{self.path}: no analysis with id {analysis_id}")

    def delete(self, analysis_id: int) -> Optional[dict]:
        """Remove one analysis (and its metrics); returns what it was, or None."""
        row = self.get(analysis_id)
        if row is None:
            return None
        try:
            with self.conn:
                self.conn.execute("DELETE FROM metrics WHERE analysis_id = ?", (analysis_id,))
                self.conn.execute("DELETE FROM analyses WHERE id = ?", (analysis_id,))
        except sqlite3.OperationalError as exc:
            raise OutputError(self._describe(exc)) from None
        return row

    def has(self, sha256: str, parameters: dict) -> bool:
        row = self.conn.execute(
            "SELECT 1 FROM analyses WHERE sha256 = ? AND options_hash = ?", (sha256, options_hash(parameters))
        ).fetchone()
        return row is not None

    def frame(self, filters: Optional[dict[str, str]] = None):
        """All analyses as one pandas DataFrame (one column per metric), optionally filtered
        by label columns (``{"clinician": "Dr A"}``)."""
        import pandas as pd

        base = pd.read_sql_query(
            "SELECT id, path, sha256, duration_s, analysed, mode, clinician, patient, station, date, labels, "
            "options_hash, result_path, report_path, attunement_version FROM analyses ORDER BY id",
            self.conn,
        )
        extra = base.pop("labels").map(json.loads)
        for key in sorted({k for d in extra for k in d} - set(LABEL_COLUMNS)):
            # a database written before reserved names were refused keeps such a label apart
            column = f"label.{key}" if reserved_label(key) or key in base.columns else key
            base[column] = extra.map(lambda d, k=key: d.get(k))
        metrics = pd.read_sql_query("SELECT analysis_id, name, value FROM metrics", self.conn)
        if not metrics.empty:
            wide = metrics.pivot(index="analysis_id", columns="name", values="value")
            wide = wide[[n for n in METRIC_NAMES if n in wide.columns]]
            base = base.merge(wide, left_on="id", right_index=True, how="left")
        for key, value in (filters or {}).items():
            if key not in base.columns:
                raise InputError(
                    f"{{where}} {key}={value}: no such column (columns: {', '.join(base.columns[:14])}, ...)", "where"
                )
            base = base[base[key].astype(str) == value]
        return base.reset_index(drop=True)


def parse_filters(items: Iterable[str]) -> dict[str, str]:
    """``["station=3"]`` -> ``{"station": "3"}`` (filters of :meth:`Store.frame`)."""
    filters: dict[str, str] = {}
    for item in items:
        try:
            filters.update(parse_labels([item]))
        except AttuneError:
            raise AttuneError(f"{{where}} {item!r}: expected COLUMN=VALUE", "where") from None
    return filters


TECHNICAL_COLUMNS = ("mode", "options_hash", "attunement_version", "sha256", "path", "result_path", "report_path")


def for_people(df, decimals: int = 4):
    """The columns in an order a person reads: id, the recording's file name, the labels, when,
    how long, the main metrics (the cohort's defaults) and the other metrics, and the hashes and
    absolute paths last; numbers rounded to ``decimals`` places."""
    from pathlib import PurePath

    from .metrics import METRIC_NAMES, registry

    out = df.copy()
    if "path" in out.columns:
        out.insert(1, "recording", out["path"].map(lambda p: PurePath(str(p)).name))
    ranked = [m.name for m in sorted(registry.all_metrics(), key=lambda m: m.cohort_rank or 99) if m.cohort_rank]
    metrics = [c for c in ranked if c in out.columns] + [
        c for c in METRIC_NAMES if c in out.columns and c not in ranked
    ]
    technical = [c for c in TECHNICAL_COLUMNS if c in out.columns]
    first = [c for c in ("id", "recording") if c in out.columns]
    labels = label_columns(out)
    order = first + labels + [c for c in ("analysed", "duration_s") if c in out.columns] + metrics + technical
    return rounded(out[order], decimals)


def rounded(df, decimals: int = 4):
    """A copy of ``df`` with its float columns rounded (13.333185186831257 -> 13.3332)."""
    out = df.copy()
    for c in out.columns:
        if out[c].dtype.kind == "f":
            out[c] = out[c].round(decimals)
    return out


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(df):
    """A copy of ``df`` whose text cells cannot run as spreadsheet formulas: a cell starting
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'`` (OWASP's
    advice for CSV injection). Numbers are left as numbers (a negative latency stays -0.2)."""
    import pandas as pd

    out = df.copy()
    for col in out.columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            out[col] = out[col].map(lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_START) else v)
    out.columns = [("'" + c if isinstance(c, str) and c.startswith(FORMULA_START) else c) for c in out.columns]
    return out
