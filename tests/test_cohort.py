"""The cohort report (attune cohort): statistics by hand, outliers, CSV tables, the CLI, and
the page itself in headless Chromium with a few dozen synthetic database rows."""

from __future__ import annotations

import io
import os
import random
import stat
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from helpers import chromium_page

from pipeline.cli import main
from pipeline.report import build_cohort
from pipeline.report import cohort as C
from pipeline.result import Recording, Result
from pipeline.store import Store

CLINICIANS = ["Dr Ahmed", "Dr Brown", "Dr <b>Chen</b>", 'Student "D"']


def synthetic_result(i: int, rng: random.Random, clinician_shift: float) -> Result:
    dur = rng.uniform(300, 900)
    share = min(0.95, max(0.2, rng.gauss(0.55 + clinician_shift, 0.05)))
    metrics = {
        "clinician_talk_share": share,
        "opening_statement_s": rng.uniform(5, 60),
        "clinician_interruptions": rng.randint(0, 12),
        "listening_pauses_per_10min": rng.uniform(0, 8),
        "clinician_response_latency_median_s": rng.uniform(-0.3, 1.2),
        "patient_longest_turn_s": rng.uniform(10, 90),
        "clinician_open_question_share": rng.uniform(0, 0.6),
        "clinician_empathy_statements": rng.randint(0, 5),
        "opening_interrupted": bool(i % 3 == 0),
    }
    r = Result(
        recording=Recording(f"/recordings/visit{i:03d}.flac", dur, 16000, 1, f"{i:064x}"),
        parameters={"asr_beam_size": 5},
        created=f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}T10:00:00+00:00",
        attunement_version="0.1.0",
        mode={"name": "diarization"},
    )
    r.metrics = metrics
    return r


def make_db(path: Path, n: int = 36, seed: int = 7, reports_dir: Path | None = None) -> Path:
    rng = random.Random(seed)
    with Store(path) as store:
        for i in range(n):
            clin = CLINICIANS[i % len(CLINICIANS)]
            res = synthetic_result(i, rng, 0.1 * (i % len(CLINICIANS)))
            result_path = None
            if reports_dir is not None:
                d = reports_dir / f"visit{i:03d}"
                d.mkdir(parents=True, exist_ok=True)
                (d / "report.html").write_text(f"<p>report {i}</p>")
                result_path = str(d / "result.json")
            labels = {"clinician": clin, "station": f"S{i % 3 + 1}", "date": f"2026-{1 + i % 12:02d}-15"}
            if i == 5:
                labels.pop("date")  # falls back to the analysis time
            store.record(res, labels, result_path=result_path)
    return path


def frame(n=36, tmp_path=None, **kw):
    db = make_db(tmp_path / "c.db", n=n, **kw)
    with Store(db) as store:
        return store.frame()


def test_quantiles_and_group_stats_by_hand():
    df = pd.DataFrame({"g": ["a", "a", "a", "a", "b", "b"], "m": [1.0, 2.0, 3.0, 10.0, 5.0, None]})
    rows = {(r["group"], r["metric"]): r for r in C.group_stats(df, "g", ["m"])}
    a = rows[("a", "m")]
    # numpy's linear percentiles of 1, 2, 3, 10: q1 = 1.75, median = 2.5, q3 = 4.75
    assert (a["n"], a["q1"], a["median"], a["q3"], a["min"], a["max"], a["mean"]) == (4, 1.75, 2.5, 4.75, 1, 10, 4.0)
    assert rows[("b", "m")]["n"] == 1 and rows[("b", "m")]["median"] == 5.0


def test_outliers_use_tukey_fences_of_the_whole_cohort():
    vals = [10, 11, 12, 12, 13, 13, 14, 15, 40, -20]
    df = pd.DataFrame({"id": range(10), "recording": [f"r{i}" for i in range(10)], "group": ["x"] * 10, "m": vals})
    out = C.find_outliers(df, "group", ["m"])
    # sorted: -20 10 11 12 12 13 13 14 15 40; q1 = 11 + 0.25 = 11.25, q3 = 13 + 0.75 = 13.75,
    # iqr 2.5: fences 7.5 and 17.5
    assert [(o["recording"], o["direction"]) for o in out] == [("r8", "high"), ("r9", "low")]
    assert out[0]["fence_low"] == pytest.approx(7.5) and out[0]["fence_high"] == pytest.approx(17.5)
    assert out[0]["cohort_median"] == pytest.approx(12.5)
    # fewer than 8 values: no verdicts at all
    assert C.find_outliers(df.head(7), "group", ["m"]) == []
    # no spread: nothing flagged
    flat = df.assign(m=[5.0] * 9 + [6.0])
    assert C.find_outliers(flat, "group", ["m"]) == []


def test_per_10min_rates():
    df = pd.DataFrame(
        {
            "duration_s": [600.0, 300.0, 0.0],
            "clinician_interruptions": [3, 3, 1],
            "clinician_empathy_statements": [1, None, 2],
        }
    )
    d = C.add_derived(df)
    assert list(d["clinician_interruptions_per_10min"][:2]) == [3.0, 6.0]
    assert pd.isna(d["clinician_interruptions_per_10min"][2])  # no duration: no rate
    assert d["clinician_empathy_per_10min"][0] == 1.0 and pd.isna(d["clinician_empathy_per_10min"][1])


def test_nice_ticks():
    assert C._nice_ticks(0, 1) == [0, 0.25, 0.5, 0.75, 1.0]
    assert C._nice_ticks(0, 93) == [0, 25, 50, 75]
    assert C._nice_ticks(-0.3, 1.2) == [0.0, 0.5, 1.0] or C._nice_ticks(-0.3, 1.2)[0] <= 0


def test_prepare_groups_dates_and_links(tmp_path):
    reports = tmp_path / "out"
    df0 = frame(tmp_path=tmp_path, reports_dir=reports)
    df = C.prepare_frame(df0, "clinician", C.DEFAULT_METRICS)
    data = C.prepare(df, "clinician", C.DEFAULT_METRICS, tmp_path / "cohort.html")
    assert data["n"] == 36 and data["n_groups"] == 4
    assert data["dates_from_labels"] == 35
    assert [s["name"] for s in data["sections"]] == list(C.DEFAULT_METRICS)
    share = data["sections"][0]
    assert [r["n"] for r in share["rows"]] == [9, 9, 9, 9]
    assert sum(len(p["points"]) for p in share["panels"]) == 36
    for r in share["rows"]:
        assert 0 <= r["x_wlo"] <= r["x_q1"] <= r["x_med"] <= r["x_q3"] <= r["x_whi"] <= C.BOX_W
    # links are relative to the page and point at files that exist
    hrefs = [r["href"] for r in data["recordings"]]
    assert all(h and not h.startswith("/") for h in hrefs)
    assert all((tmp_path / h).is_file() for h in hrefs)
    # a recording whose report is gone gets no link
    (reports / "visit003" / "report.html").unlink()
    data = C.prepare(df, "clinician", C.DEFAULT_METRICS, tmp_path / "cohort.html")
    assert sum(r["href"] is None for r in data["recordings"]) == 1


def test_unlabelled_group_and_bad_choices(tmp_path):
    db = make_db(tmp_path / "c.db", n=10)
    with Store(db) as store:
        df0 = store.frame()
    df0.loc[df0.index[:2], "clinician"] = None
    df = C.prepare_frame(df0, "clinician", C.DEFAULT_METRICS)
    assert "(no clinician)" in set(df["group"])
    with pytest.raises(Exception, match="group_by nurse: no such label"):
        C.prepare_frame(df0, "nurse", C.DEFAULT_METRICS)
    with pytest.raises(Exception, match="metrics nonsense: unknown metric"):
        C.prepare_frame(df0, "clinician", ["nonsense"])
    with pytest.raises(Exception, match="no analyses yet"):
        C.prepare_frame(df0.iloc[0:0], "clinician", C.DEFAULT_METRICS)


def test_cohort_command_writes_page_and_tables(tmp_path):
    db = make_db(tmp_path / "c.db", reports_dir=tmp_path / "out")
    out = tmp_path / "pages" / "cohort.html"
    r = CliRunner().invoke(main, ["cohort", "--db", str(db), "--group-by", "station", "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    names = sorted(p.name for p in out.parent.iterdir())
    assert names == ["cohort.groups.csv", "cohort.html", "cohort.outliers.csv", "cohort.recordings.csv"]
    for p in out.parent.iterdir():
        assert stat.S_IMODE(os.stat(p).st_mode) == 0o600
    groups = pd.read_csv(out.with_name("cohort.groups.csv"))
    assert set(groups["station"]) == {"S1", "S2", "S3"}
    assert set(groups["metric"]) == set(C.DEFAULT_METRICS)
    assert groups.groupby("metric")["n"].sum()["clinician_talk_share"] == 36
    recs = pd.read_csv(out.with_name("cohort.recordings.csv"))
    assert len(recs) == 36 and "clinician_interruptions_per_10min" in recs.columns
    # issue 16 #22: numbers rounded to 4 places in every CSV
    for name in ("cohort.groups.csv", "cohort.recordings.csv"):
        for line in out.with_name(name).read_text().splitlines()[1:]:
            for cell in line.split(","):
                if cell.replace(".", "", 1).replace("-", "", 1).isdigit() and "." in cell:
                    assert len(cell.split(".")[1]) <= 4, (name, cell)
    html = out.read_text()
    assert "Dr &lt;b&gt;Chen&lt;/b&gt;" in html and "<b>Chen</b>" not in html
    # filters and bad input
    r = CliRunner().invoke(
        main,
        [
            "cohort",
            "--db",
            str(db),
            "--where",
            "clinician=Dr Ahmed",
            "-o",
            str(tmp_path / "one.html"),
            "--metric",
            "clinician_talk_share",
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert len(pd.read_csv(tmp_path / "one.recordings.csv")) == 9
    for args, msg in [
        (["--db", str(tmp_path / "none.db")], "no such database"),
        (["--db", str(db), "--group-by", "nurse"], "--group-by nurse: no such label"),
        (["--db", str(db), "--metric", "x"], "--metric x: unknown metric"),
        (["--db", str(db), "--where", "clinician=Nobody"], "no analyses match clinician=Nobody"),
        (["--db", str(db), "-o", str(tmp_path / "c.txt")], "must end in .html"),
    ]:
        r = CliRunner().invoke(main, ["cohort", *args])
        assert r.exit_code != 0 and msg in r.stderr, (args, r.stderr)
        assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


@pytest.mark.browser
def test_a_thousand_recordings_stay_compact(tmp_path):
    df0 = frame(n=1000, tmp_path=tmp_path)
    files = build_cohort(df0, tmp_path / "cohort.html")
    html = files["cohort.html"]
    assert len(html) < 4_000_000
    assert html.count("<tr>") >= 1000
    recs = pd.read_csv(io.StringIO(files["cohort.recordings.csv"]))
    assert len(recs) == 1000


# ---------------------------------------------------------------- in the browser


@pytest.fixture(scope="module")
def cohort_page(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cohort")
    db = make_db(tmp / "c.db", n=36, reports_dir=tmp / "out")
    out = tmp / "cohort.html"
    r = CliRunner().invoke(main, ["cohort", "--db", str(db), "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    with chromium_page(out.as_uri()) as pg:
        pg.out = out
        yield pg


@pytest.mark.browser
def test_cohort_page_draws_every_group_and_consultation(cohort_page):
    pg = cohort_page
    assert pg.errors == [] and pg.violations == []
    assert [u for u in pg.requests if not u.startswith("file://")] == []
    n_metrics = len(C.DEFAULT_METRICS)
    assert pg.locator("section.metric").count() == n_metrics
    share = pg.locator('section.metric[data-metric="clinician_talk_share"]')
    assert share.locator("svg.dist rect.box").count() == 4
    assert share.locator("svg.dist circle.dot").count() == 36
    assert share.locator(".panel").count() == 4 and share.locator(".panel circle.pt").count() == 36
    labels = share.locator("svg.dist text.glabel").all_text_contents()
    assert any("Dr <b>Chen</b>" in t for t in labels)  # shown as text, not markup
    assert pg.locator("#rec-table tbody tr").count() == 36


@pytest.mark.browser
def test_cohort_page_metric_choice_filter_sort_and_links(cohort_page):
    pg = cohort_page
    pg.select_option("#metric-select", "opening_statement_s")
    visible = [s for s in pg.locator("section.metric").all() if s.is_visible()]
    assert [s.get_attribute("data-metric") for s in visible] == ["opening_statement_s"]
    pg.select_option("#metric-select", "all")
    pg.fill("#filter", "Dr Brown")
    assert pg.locator("#rec-table tbody tr:not([hidden])").count() == 9
    assert "9 of 36 shown" in pg.inner_text("#shown")
    pg.fill("#filter", "")
    pg.click("#rec-table th button:has-text('Clinician talk share')")
    headers = pg.locator("#rec-table thead th").all_text_contents()
    assert headers[:5] == ["Date", "clinician", "station", "Consultation", "Length"]
    col = [h.strip(" ▲▼") for h in headers].index("Clinician talk share")
    vals = [
        float(c)
        for c in pg.eval_on_selector_all(
            f"#rec-table tbody tr td:nth-child({col + 1})", "cs => cs.map(c => c.getAttribute('data-sort'))"
        )
    ]
    assert vals == sorted(vals)
    pg.click("#rec-table th button:has-text('Clinician talk share')")
    vals = [
        float(c)
        for c in pg.eval_on_selector_all(
            f"#rec-table tbody tr td:nth-child({col + 1})", "cs => cs.map(c => c.getAttribute('data-sort'))"
        )
    ]
    assert vals == sorted(vals, reverse=True)
    href = pg.locator("#rec-table tbody a").first.get_attribute("href")
    assert (pg.out.parent / href).is_file()
    shot = pg.screenshot(full_page=False)
    from PIL import Image

    img = Image.open(io.BytesIO(shot)).convert("L")
    assert len(set(img.getdata())) > 20  # not a blank page


def test_a_default_metric_no_analysis_has_is_an_empty_panel(tmp_path):
    """Two 10 s analyses have no response latency at all: the page is still written (it exited 70)."""
    db = tmp_path / "short.db"
    with Store(db) as store:
        for i in range(2):
            r = Result(
                recording=Recording(f"/r/clip{i}.wav", 10.0, 16000, 1, f"{i:064x}"),
                mode={"name": "diarization"},
                created="2026-03-01T10:00:00+00:00",
            )
            r.metrics = {"clinician_talk_share": 0.5 + 0.1 * i, "clinician_interruptions": 0}
            store.record(r, {"clinician": "Dr A"})
    out = tmp_path / "cohort.html"
    r = CliRunner().invoke(main, ["cohort", "--db", str(db), "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    assert out.is_file() and (tmp_path / "cohort.recordings.csv").is_file()
