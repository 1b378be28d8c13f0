"""The cohort report: many analyses from the results database on one page, plus CSV tables.

Data preparation only (no HTML here; ``templates/cohort.html.j2`` draws it). From the
database's table (:meth:`pipeline.store.Store.frame`) it computes, for a handful of main
metrics:

* per-group distributions (``group_by`` is any label column: clinician, station, ...):
  n, median, quartiles, range and mean, drawn as box plots with every recording as a dot;
* each group's consultations over time (the ``date`` label, else the analysis time);
* outliers: recordings outside Tukey's fences (1.5 x the interquartile range beyond the
  quartiles) of the whole cohort, for metrics with at least :data:`OUTLIER_MIN_N` values.
  "Outlier" means unusual *in this cohort*, never "wrong";
* a table of every recording with a link to its own report.

Counts that grow with the length of a consultation (interruptions, empathy statements) are
compared per 10 minutes (``count x 600 / duration_s``), so long and short consultations
can sit on one axis.
"""

from __future__ import annotations

import math
import os
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional, Sequence

from ..errors import InputError
from ..metrics import METRIC_NAMES, registry
from ..outputs import mmss
from ..store import label_columns, rounded, spreadsheet_safe
from .data import card_title, fmt_value

DEFAULT_METRICS = registry.cohort_defaults()
# derived metric -> the count it is computed from (count x 600 / duration_s)
PER_10MIN = registry.per_10min()
OUTLIER_MIN_N = 8
UNLABELLED = "(no {col})"
# drawing sizes (SVG user units = CSS pixels)
BOX_W, ROW_H = 560, 26
PANEL_W, PANEL_H = 220, 90


def metric_info(name: str) -> dict:
    """Title, unit and explanation of a metric, derived ones included."""
    info = registry.by_name()
    if name in PER_10MIN:
        base = info[PER_10MIN[name]]
        return {
            "name": name,
            "title": card_title(name),
            "unit": "per10",
            "what": f"{base.what} Per 10 minutes of recording ({PER_10MIN[name]} x 600 / duration).",
            "cannot_tell": base.cannot_tell,
        }
    m = info[name]
    return {"name": name, "title": card_title(name), "unit": m.unit, "what": m.what, "cannot_tell": m.cannot_tell}


def known_metrics() -> list[str]:
    return list(METRIC_NAMES) + list(PER_10MIN)


def add_derived(df):
    """Add the per-10-minute columns (NaN when the count or the duration is missing)."""
    df = df.copy()
    for name, base in PER_10MIN.items():
        if base in df.columns:
            dur = df["duration_s"].astype(float)
            df[name] = (df[base].astype(float) * 600.0 / dur).where(dur > 0)
        else:
            df[name] = float("nan")
    return df


def _when(df):
    """The consultation's date: the ``date`` label when it parses, else the analysis time."""
    import pandas as pd

    label = pd.to_datetime(df["date"], errors="coerce", utc=True) if "date" in df.columns else None
    analysed = pd.to_datetime(df["analysed"], errors="coerce", utc=True)
    if label is None:
        return analysed, pd.Series(["analysed"] * len(df), index=df.index)
    when = label.fillna(analysed)
    source = label.isna().map({True: "analysed", False: "date label"})
    return when, source


def _quantiles(values: Sequence[float]) -> dict:
    import numpy as np

    v = np.asarray(sorted(values), dtype=float)
    q1, med, q3 = (float(x) for x in np.percentile(v, [25, 50, 75]))
    return {
        "n": len(v),
        "median": med,
        "q1": q1,
        "q3": q3,
        "min": float(v[0]),
        "max": float(v[-1]),
        "mean": float(v.mean()),
    }


def group_stats(df, group_col: str, metrics: Sequence[str]) -> list[dict]:
    """One row per (group, metric): n, median, q1, q3, min, max, mean over recordings with a value."""
    rows = []
    for metric in metrics:
        for group, sub in df.groupby(group_col, sort=True):
            vals = sub[metric].dropna().astype(float).tolist()
            if vals:
                rows.append({"group": group, "metric": metric, **_quantiles(vals)})
            else:
                rows.append(
                    {
                        "group": group,
                        "metric": metric,
                        "n": 0,
                        "median": None,
                        "q1": None,
                        "q3": None,
                        "min": None,
                        "max": None,
                        "mean": None,
                    }
                )
    return rows


def find_outliers(df, group_col: str, metrics: Sequence[str]) -> list[dict]:
    """Recordings outside the cohort's Tukey fences, per metric (needs OUTLIER_MIN_N values and IQR > 0)."""
    out = []
    for metric in metrics:
        vals = df[metric].dropna().astype(float)
        if len(vals) < OUTLIER_MIN_N:
            continue
        q = _quantiles(vals.tolist())
        iqr = q["q3"] - q["q1"]
        if iqr <= 0:
            continue
        lo, hi = q["q1"] - 1.5 * iqr, q["q3"] + 1.5 * iqr
        for idx, v in vals.items():
            if v < lo or v > hi:
                row = df.loc[idx]
                out.append(
                    {
                        "id": int(row["id"]),
                        "recording": row["recording"],
                        "group": row[group_col],
                        "metric": metric,
                        "value": float(v),
                        "direction": "high" if v > hi else "low",
                        "cohort_median": q["median"],
                        "fence_low": lo,
                        "fence_high": hi,
                    }
                )
    out.sort(key=lambda r: (r["metric"], r["direction"], -abs(r["value"] - r["cohort_median"])))
    return out


def _nice_ticks(lo: float, hi: float, n: int = 5) -> list[float]:
    if hi <= lo:
        hi = lo + 1.0
    raw = (hi - lo) / max(n - 1, 1)
    mag = 10 ** math.floor(math.log10(raw))
    step = min((m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw), default=10 * mag)
    start = math.ceil(lo / step - 1e-9) * step
    ticks, t = [], start
    while t <= hi + 1e-9:
        ticks.append(round(t, 10))
        t += step
    return ticks


def _axis(values: Sequence[float], unit: str) -> tuple[float, float]:
    if unit == "share":
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    if unit in ("count", "per10", "s") and lo >= 0:
        lo = 0.0
    if hi - lo < 1e-9:
        hi = lo + 1.0
    pad = (hi - lo) * 0.04
    return (lo if lo == 0.0 else lo - pad), hi + pad


def _jitter(i: int) -> float:
    """A deterministic spread in [-1, 1] for a recording id (dots do not hide each other)."""
    return ((i * 2654435761) % 1000) / 500.0 - 1.0


def report_link(report_path: Any, html_dir: Path) -> Optional[str]:
    """A relative URL from the cohort page to a recording's report, when that file exists."""
    if not isinstance(report_path, str) or not report_path or not Path(report_path).is_file():
        return None
    rel = os.path.relpath(Path(report_path).resolve(), html_dir.resolve())
    return urllib.parse.quote(Path(rel).as_posix())


def fmt(value: Any, unit: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "per10":
        return f"{value:.1f}"
    return fmt_value(value, unit)


def prepare_frame(df, group_by: str, metrics: Sequence[str], where: Optional[dict] = None):
    """Validate the choices and return the frame with derived columns, group and dates."""
    if df.empty:
        raise InputError("the database has no analyses yet (record some first: attune batch, or analyze --db)")
    unknown = [m for m in metrics if m not in known_metrics()]
    if unknown:
        raise InputError(f"{{metrics}} {unknown[0]}: unknown metric (see docs/metrics.md)", "metrics")
    df = add_derived(df)
    for m in metrics:  # a metric no selected analysis has (two 10 s clips have no latency): an empty column
        if m not in df.columns:
            df[m] = float("nan")
    if group_by not in df.columns or group_by in METRIC_NAMES or group_by in PER_10MIN:
        labels = [*label_columns(df), "mode"]
        raise InputError(f"{{group_by}} {group_by}: no such label (labels: {', '.join(labels)})", "group_by")
    df["group"] = df[group_by].map(lambda v: v if isinstance(v, str) and v.strip() else None)
    df["group"] = df["group"].fillna(UNLABELLED.format(col=group_by)).astype(str)
    df["recording"] = df["path"].map(lambda p: Path(str(p)).name)
    df["when"], df["when_source"] = _when(df)
    return df.sort_values(["when", "id"]).reset_index(drop=True)


def prepare(
    df,
    group_by: str = "clinician",
    metrics: Sequence[str] = DEFAULT_METRICS,
    html_path: Path = Path("cohort.html"),
    title: Optional[str] = None,
    source: str = "",
) -> dict:
    """Everything the cohort template draws, from :func:`prepare_frame`'s table."""
    html_dir = Path(html_path).resolve().parent
    groups = sorted(df["group"].unique(), key=lambda g: (g.startswith("("), g.lower()))
    stats = group_stats(df, "group", metrics)
    stat_of = {(r["group"], r["metric"]): r for r in stats}
    outliers = find_outliers(df, "group", metrics)
    links = {int(r.id): report_link(r.report_path, html_dir) for r in df.itertuples()}
    t_lo, t_hi = df["when"].min(), df["when"].max()
    t_span = max((t_hi - t_lo).total_seconds(), 86400.0) if len(df) else 86400.0

    span = _TimeSpan(t_lo, t_span, len(df) > 1)
    sections = [_section(df, metric, groups, stat_of, links, span) for metric in metrics]

    infos = {m: metric_info(m) for m in metrics}
    label_cols = [  # every label that some consultation has (the date is the "when" column)
        c
        for c in label_columns(df)
        if c not in (group_by, "date") and df[c].map(lambda v: isinstance(v, str) and bool(v.strip())).any()
    ]
    recordings = _recording_rows(df, metrics, infos, label_cols, links)
    return {
        "title": title or f"Cohort report: {len(df)} consultations by {group_by}",
        "source": source,
        "n": len(df),
        "groups": groups,
        "n_groups": len(groups),
        "group_by": group_by,
        "label_cols": label_cols,
        "first": t_lo.strftime("%Y-%m-%d"),
        "last": t_hi.strftime("%Y-%m-%d"),
        "dates_from_labels": int((df["when_source"] == "date label").sum()),
        "metrics": [infos[m] for m in metrics],
        "sections": sections,
        "outliers": [
            {
                **o,
                "title": infos[o["metric"]]["title"],
                "value": fmt(o["value"], infos[o["metric"]]["unit"]),
                "cohort_median": fmt(o["cohort_median"], infos[o["metric"]]["unit"]),
                "href": links.get(o["id"]),
            }
            for o in outliers
        ],
        "outlier_rows": outliers,
        "stats": stats,
        "recordings": recordings,
        "box_w": BOX_W,
        "row_h": ROW_H,
        "panel_w": PANEL_W,
        "panel_h": PANEL_H,
    }


@dataclass(frozen=True)
class _TimeSpan:
    """The x axis of the over-time panels: from the first consultation, over ``seconds``."""

    start: Any
    seconds: float
    several: bool

    def x(self, when) -> float:
        return round(PANEL_W * ((when - self.start).total_seconds() / self.seconds), 1) if self.several else PANEL_W / 2


def _section(df, metric: str, groups: list, stat_of: dict, links: dict, span: _TimeSpan) -> dict:
    """One metric's box plots (a row per group), over-time panels and cohort summary."""
    info = metric_info(metric)
    vals = df[metric].dropna().astype(float)
    if vals.empty:
        return {**info, "empty": True, "rows": [], "panels": [], "ticks": [], "cohort": None}
    lo, hi = _axis(vals.tolist(), info["unit"])

    def x(v: float) -> float:
        return round(BOX_W * (v - lo) / (hi - lo), 1)

    def y(v: float) -> float:  # the same axis, upwards, in an over-time panel
        return round(PANEL_H - PANEL_H * (v - lo) / (hi - lo), 1)

    cohort = _quantiles(vals.tolist())
    return {
        **info,
        "empty": False,
        "rows": [_box_row(df[df["group"] == g], g, metric, stat_of, info["unit"], x) for g in groups],
        "panels": [_time_panel(df[df["group"] == g], g, metric, info["unit"], links, span, y) for g in groups],
        "ticks": [{"x": x(t), "label": fmt(t, info["unit"])} for t in _nice_ticks(lo, hi) if lo <= t <= hi],
        "cohort": {
            "median": fmt(cohort["median"], info["unit"]),
            "x_med": x(cohort["median"]),
            "iqr": f"{fmt(cohort['q1'], info['unit'])} to {fmt(cohort['q3'], info['unit'])}",
            "n": cohort["n"],
        },
        "y_med": y(cohort["median"]),
        "axis_lo": fmt(lo, info["unit"]),
        "axis_hi": fmt(hi, info["unit"]),
    }


def _box_row(sub, group: str, metric: str, stat_of: dict, unit: str, x) -> dict:
    """One group's box plot (quartiles, Tukey whiskers) and its consultations as dots."""
    gv = sub[metric].dropna().astype(float)
    row: dict[str, Any] = {"group": group, "n": int(len(gv)), "n_total": int(len(sub))}
    if not len(gv):
        return row
    q = stat_of[(group, metric)]
    iqr = q["q3"] - q["q1"]
    wlo = min(v for v in gv if v >= q["q1"] - 1.5 * iqr)
    whi = max(v for v in gv if v <= q["q3"] + 1.5 * iqr)
    row.update(
        {
            "median": fmt(q["median"], unit),
            "iqr": f"{fmt(q['q1'], unit)} to {fmt(q['q3'], unit)}",
            "x_q1": x(q["q1"]),
            "x_q3": x(q["q3"]),
            "x_med": x(q["median"]),
            "x_wlo": x(wlo),
            "x_whi": x(whi),
            "dots": [
                {"x": x(float(v)), "dy": round(_jitter(int(sub.loc[i, "id"])) * ROW_H * 0.3, 1)} for i, v in gv.items()
            ],
        }
    )
    return row


def _time_panel(sub, group: str, metric: str, unit: str, links: dict, span: _TimeSpan, y) -> dict:
    """One group's consultations over time (a small panel, each dot linking its report)."""
    pts = []
    for r in sub.dropna(subset=[metric]).itertuples():
        v = float(getattr(r, metric))
        pts.append(
            {
                "x": span.x(r.when),
                "y": y(v),
                "label": f"{r.recording}, {r.when.strftime('%Y-%m-%d')}: {fmt(v, unit)}",
                "href": links.get(int(r.id)),
            }
        )
    return {"group": group, "points": pts, "polyline": " ".join(f"{p['x']},{p['y']}" for p in pts)}


def _recording_rows(df, metrics: Sequence[str], infos: dict, label_cols: list[str], links: dict) -> list[dict]:
    """The table of every consultation (one row each, sortable values)."""
    return [
        {
            "id": int(r.id),
            "when": r.when.strftime("%Y-%m-%d"),
            "when_source": r.when_source,
            "group": r.group,
            "recording": r.recording,
            "duration": mmss(float(r.duration_s or 0.0)),
            "labels": [getattr(r, c) if isinstance(getattr(r, c), str) else "" for c in label_cols],
            "values": [
                {"text": fmt(_num(getattr(r, m)), infos[m]["unit"]), "sort": _num(getattr(r, m))} for m in metrics
            ],
            "href": links.get(int(r.id)),
        }
        for r in df.itertuples()
    ]


def _num(v: Any) -> Optional[float]:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def tables_csv(df, data: dict, metrics: Sequence[str], group_by: str) -> dict[str, str]:
    """The page's tables as CSV: groups (statistics), recordings (every value), outliers."""
    import pandas as pd

    stats = pd.DataFrame(data["stats"]).rename(columns={"group": group_by})
    labels = [c for c in data["label_cols"] if c in df.columns]
    rec_cols = [
        "id",
        "when",
        "when_source",
        "group",
        *labels,
        "recording",
        "duration_s",
        *metrics,
        "path",
        "report_path",
    ]
    recs = df[[c for c in rec_cols if c in df.columns]].copy()
    recs["when"] = recs["when"].dt.strftime("%Y-%m-%d")
    recs = recs.rename(columns={"group": group_by, "when": "date"})
    cols = ["id", "recording", "group", "metric", "value", "direction", "cohort_median", "fence_low", "fence_high"]
    outl = pd.DataFrame(data["outlier_rows"], columns=cols)
    if labels:  # who each outlier is, not only its file name
        outl = outl.merge(df[["id", *labels]], on="id", how="left")
        outl = outl[["id", "group", *labels, *[c for c in cols if c not in ("id", "group")]]]
    outl = outl.rename(columns={"group": group_by})
    return {
        name: spreadsheet_safe(rounded(t)).to_csv(index=False)
        for name, t in (("groups", stats), ("recordings", recs), ("outliers", outl))
    }
