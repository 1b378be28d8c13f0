"""The analyses in the app's results database: listed (searchable, filtered by label and
date), opened, corrected (roles swapped), turned into feedback sheets, and deleted with
everything that belongs to them (the copied recording and every output)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Optional

from ..errors import InputError
from ..store import Store, label_columns
from .config import AppConfig

FILTERS = ("q", "label", "value", "since", "until")  # the arguments of search()


def frame(config: AppConfig):
    """Every analysis in the app's database (an empty table before the first one)."""
    import pandas as pd

    if not config.db.is_file():
        return pd.DataFrame()
    with Store(config.db) as store:
        return store.frame()


def search(config: AppConfig, q: str = "", label: str = "", value: str = "", since: str = "", until: str = ""):
    """The analyses matching a free-text search (recording name or any label), one label's
    value, and a date range (the ``date`` label, else the day analysed), newest first."""
    return matching(frame(config), q, label, value, since, until)


def matching(df, q: str = "", label: str = "", value: str = "", since: str = "", until: str = ""):
    """:func:`search` on a table already read (:func:`frame`)."""
    if df.empty:
        return df
    labels = label_columns(df)
    day = df["date"].where(df["date"].notna() & (df["date"].astype(str) != ""), df["analysed"].astype(str).str[:10])
    df = df.assign(_day=day.astype(str).str[:10], _recording=df["path"].map(lambda p: Path(str(p)).name))
    if q.strip():
        needle = q.strip().lower()
        hay = df["_recording"].str.lower()
        for c in labels:
            hay = hay + " " + df[c].fillna("").astype(str).str.lower()
        df = df[hay.str.contains(needle, regex=False)]
    if label and label in labels and value:
        df = df[df[label].fillna("").astype(str) == value]
    if since:
        df = df[df["_day"] >= since]
    if until:
        df = df[df["_day"] <= until]
    return df.sort_values(["_day", "id"], ascending=False)


def rows(df) -> list[dict]:
    """The table of the History page."""
    from ..report.data import label_facts

    if df.empty:
        return []
    labels = label_columns(df)
    out = []
    for r in df.to_dict(orient="records"):
        facts = label_facts({k: str(r[k]) for k in labels if isinstance(r.get(k), str) and r[k].strip()})
        out.append(
            {
                "id": int(r["id"]),
                "recording": r["_recording"],
                "day": r["_day"],
                "labels": facts,
                "duration": _mmss(r.get("duration_s")),
                "talk_share": _pct(r.get("clinician_talk_share")),
                "tasks": "" if _nan(r.get("tasks_found")) else f"{int(r['tasks_found'])} of 11",
            }
        )
    return out


def _nan(v) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v))


def _pct(v) -> str:
    return "" if _nan(v) else f"{float(v) * 100:.0f} %"


def _mmss(v) -> str:
    from ..outputs import mmss

    return "" if _nan(v) else mmss(float(v))


def label_values(df) -> dict[str, list[str]]:
    """Each label and the values it takes (the History page's filter)."""
    if df.empty:
        return {}
    return {
        c: sorted({str(v) for v in df[c].dropna() if str(v).strip()}) for c in label_columns(df) if df[c].notna().any()
    }


def result_path(config: AppConfig, analysis_id: int) -> Path:
    """The result.json of one analysis, inside the app's results folder (or InputError)."""
    with Store(config.db) as store:
        row = store.get(analysis_id)
    if row is None or not row["result_path"]:
        raise InputError(f"no analysis {analysis_id}")
    path = Path(row["result_path"]).resolve()
    if config.results.resolve() not in path.parents or not path.is_file():
        raise InputError(f"analysis {analysis_id}: its files are not in the app's folder")
    return path


def delete(config: AppConfig, analysis_id: int, jobs) -> Optional[str]:
    """Remove one analysis: its row, its outputs and the copied recording. Returns its name."""
    with Store(config.db) as store:
        row = store.delete(analysis_id)
    if row is None:
        raise InputError(f"no analysis {analysis_id}")
    if row["result_path"]:
        folder = Path(row["result_path"]).resolve().parent
        if config.results.resolve() in folder.parents:  # never outside the app's own folder
            shutil.rmtree(folder, ignore_errors=True)
    job = jobs.by_analysis(analysis_id)
    if job is not None:
        jobs.forget(job.id)
    return Path(str(row["path"])).name


def swap_roles(config: AppConfig, analysis_id: int) -> None:
    """The clinician and the patient the other way round, everything computed again."""
    from ..relabel import RoleChange, change_roles, rewrite_outputs
    from ..result import Result

    path = result_path(config, analysis_id)
    result = Result.load(path)
    new = change_roles(result, RoleChange(swap=True))
    rewrite_outputs(new, path)
    with Store(config.db) as store:
        labels = (store.get(analysis_id) or {}).get("labels", {})
        store.record(new, labels, result_path=str(path))


def _in_app(config: AppConfig, path) -> bool:
    return isinstance(path, str) and config.results.resolve() in Path(path).resolve().parents


def feedback_html(config: AppConfig, analysis_id: int) -> str:
    """The feedback sheet of one analysis, with the medians of every analysis in the app."""
    from ..report.feedback import cohort_context, cohort_sheets

    result_path(config, analysis_id)  # it exists, inside the app's folder (or InputError)
    df = frame(config)
    sheets, _ = cohort_sheets(df[df["id"] == analysis_id], cohort_context(df))
    return sheets[0].html


def feedback_zip(config: AppConfig, df) -> bytes:
    """Every sheet of ``df``'s analyses (:func:`search`; PDF when Chromium can print it, else
    the HTML page) and feedback.csv, as one zip."""
    import io
    import zipfile

    from ..errors import AttuneError
    from ..report.feedback import cohort_context, cohort_sheets, feedback_row, marking_csv
    from ..report.pdf import find_browser, print_html

    context = cohort_context(frame(config))  # the whole app's, as on each sheet shown alone
    mine = df[df["result_path"].map(lambda p: _in_app(config, p))] if not df.empty else df
    sheets, _ = cohort_sheets(mine, context, skip_unreadable=True) if not mine.empty else ([], [])
    pdf = find_browser() is not None
    buf, rows = io.BytesIO(), []
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for sheet in sheets:
            content: str | bytes = sheet.html
            name = f"{sheet.stem}.html"
            if pdf:
                try:
                    content, name = print_html(sheet.html), f"{sheet.stem}.pdf"
                except AttuneError:  # Chromium failed on this one: the printable page instead
                    pass
            z.writestr(name, content)
            rows.append({"id": sheet.analysis_id, **feedback_row(sheet.result, name)})
        z.writestr("feedback.csv", marking_csv(rows))
    return buf.getvalue()


def trend(df) -> list[dict]:
    """My trend: each headline number (the report's "At a glance") over time, oldest first,
    with what the literature says to compare it with. ``df``: :func:`search`'s table."""
    from ..report.feedback import COHORT_METRIC
    from ..report.glance import at_a_glance

    if df.empty:
        return []
    df = df.sort_values(["_day", "id"])
    latest = {k: (None if _nan(v) else v) for k, v in df.iloc[-1].to_dict().items()}
    latest.setdefault("clinician_questions", 1)
    out = []
    for item in at_a_glance(latest):
        if item["key"] not in COHORT_METRIC:
            continue
        metric, fmt = COHORT_METRIC[item["key"]]
        if metric not in df.columns:
            continue
        points = [
            {"day": d, "value": float(v), "text": fmt(float(v)), "id": int(i), "recording": r}
            for d, v, i, r in zip(df["_day"], df[metric], df["id"], df["_recording"])
            if not _nan(v)
        ]
        if not points:
            continue
        lo, hi = min(p["value"] for p in points), max(p["value"] for p in points)
        span = (hi - lo) or max(abs(hi), 1.0)
        n = len(points)
        for k, p in enumerate(points):  # positions in a 600 x 120 drawing
            p["x"] = round(90 + (470 * k / (n - 1) if n > 1 else 235), 1)
            p["y"] = round(100 - 80 * ((p["value"] - lo) / span if hi > lo else 0.5), 1)
        out.append(
            {
                "title": item["title"],
                "reference": item["reference"],
                "points": points,
                "line": " ".join(f"{p['x']},{p['y']}" for p in points),
                "low": fmt(lo).replace(" (m:s)", ""),
                "high": fmt(hi).replace(" (m:s)", ""),
            }
        )
    return out
