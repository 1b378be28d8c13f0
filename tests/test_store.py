"""The results database: record, replace, migrate, export and query."""

from __future__ import annotations

import io
import json
import os
import sqlite3
import stat

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.errors import AttuneError, InputError, OutputError
from pipeline.metrics import compute
from pipeline.result import Recording, Result, Segment, Speaker
from pipeline.store import SCHEMA_VERSION, Store, options_hash, parse_labels


def make_result(sha="a" * 64, beam=5, share_shift=0.0):
    segs = [Segment("S0", 0.0, 2.0 + share_shift), Segment("S1", 2.5, 6.0), Segment("S0", 6.2, 8.0)]
    r = Result(
        recording=Recording(f"/data/{sha[:4]}.wav", 10.0, 16000, 1, sha),
        speakers=[Speaker("S0", "clinician", 3.8), Speaker("S1", "patient", 3.5)],
        segments=segs,
        parameters={"asr_beam_size": beam, "threads": 2},
        created="2026-11-27T09:00:00+00:00",
        attunement_version="0.1.0",
        mode={"name": "diarization"},
    )
    r.metrics = compute(segs, "S0", duration=10.0, patient="S1")
    return r


def test_record_and_frame(tmp_path):
    db = tmp_path / "a.db"
    with Store(db) as store:
        store.record(make_result(), {"clinician": "Dr A", "station": "3", "cohort": "2026"})
        store.record(make_result(sha="b" * 64), {"clinician": "Dr B"})
        df = store.frame()
    assert stat.S_IMODE(os.stat(db).st_mode) == 0o600
    assert list(df["clinician"]) == ["Dr A", "Dr B"]
    assert df.loc[0, "cohort"] == "2026" and pd.isna(df.loc[1, "cohort"])
    assert df.loc[0, "clinician_talk_share"] == pytest.approx(0.5205)
    assert df.loc[0, "opening_interrupted"] == 0  # booleans stored as 0/1
    assert "opening_first_clinician_vocalization_s" not in df.columns  # undefined everywhere: absent


def test_same_audio_and_options_replaces_other_options_add(tmp_path):
    with Store(tmp_path / "a.db") as store:
        store.record(make_result(), {"clinician": "Dr A"})
        store.record(make_result(share_shift=0.5), {"clinician": "Dr A"})
        assert len(store.frame()) == 1
        assert store.frame().loc[0, "clinician_talk_s"] == pytest.approx(4.3)
        store.record(make_result(beam=1), {})
        assert len(store.frame()) == 2
        assert store.has("a" * 64, {"asr_beam_size": 1, "threads": 8})  # threads do not change results


def test_options_hash_ignores_threads():
    assert options_hash({"a": 1, "threads": 2}) == options_hash({"a": 1, "threads": 16})
    assert options_hash({"a": 1}) != options_hash({"a": 2})


def test_filters(tmp_path):
    with Store(tmp_path / "a.db") as store:
        store.record(make_result(), {"clinician": "Dr A"})
        store.record(make_result(sha="b" * 64), {"clinician": "Dr B"})
        assert list(store.frame({"clinician": "Dr B"})["path"]) == ["/data/bbbb.wav"]
        with pytest.raises(InputError, match="where ward=1: no such column"):
            store.frame({"ward": "1"})


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "a.db"
    with Store(db):
        pass
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    con.close()
    with pytest.raises(InputError, match="made by a newer attunement"):
        Store(db)


def test_not_a_database(tmp_path):
    p = tmp_path / "notes.db"
    p.write_text("hello " * 1000)
    with pytest.raises(InputError, match="not a usable attunement database"):
        Store(p)


def test_parse_labels():
    assert parse_labels(["clinician=Dr A", " station = 3 ", "note=a=b"]) == {
        "clinician": "Dr A",
        "station": "3",
        "note": "a=b",
    }
    with pytest.raises(AttuneError, match="expected key=value") as err:
        parse_labels(["oops"])
    assert err.value.exit_code == 1  # an invalid option value, as the README's table says


def test_db_export_and_query_commands(tmp_path):
    db = tmp_path / "a.db"
    with Store(db) as store:
        store.record(make_result(), {"clinician": "Dr A", "date": "2026-11-01"})
        store.record(make_result(sha="b" * 64), {"clinician": "Dr B"})
    r = CliRunner().invoke(main, ["db", "export", str(db)])
    assert r.exit_code == 0, r.stderr
    df = pd.read_csv(io.StringIO(r.stdout))
    assert len(df) == 2 and "clinician_interruptions" in df.columns
    r = CliRunner().invoke(
        main, ["db", "query", str(db), "--where", "clinician=Dr B", "--metric", "clinician_talk_share", "--json"]
    )
    rows = json.loads(r.stdout)
    assert [x["clinician"] for x in rows] == ["Dr B"]
    assert "clinician_talk_share" in rows[0] and "patient_talk_s" not in rows[0]
    r = CliRunner().invoke(main, ["db", "query", str(db), "--metric", "nonsense"])
    assert r.exit_code == 1 and "--metric nonsense: unknown metric" in r.stderr
    r = CliRunner().invoke(main, ["db", "export", str(tmp_path / "none.db")])
    assert r.exit_code == 1 and "no such database" in r.stderr


def test_db_export_parquet_round_trip(tmp_path):
    db = tmp_path / "a.db"
    with Store(db) as store:
        store.record(make_result(), {"clinician": "Dr A", "room": "4"})
        store.record(make_result(sha="b" * 64, share_shift=0.5), {"clinician": "Dr B"})
        expected = store.frame()
    out = tmp_path / "exports" / "all.parquet"
    r = CliRunner().invoke(main, ["db", "export", str(db), "--format", "parquet", "-o", str(out)])
    assert r.exit_code == 0, r.stderr
    got = pd.read_parquet(out)
    pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    assert got["room"].iloc[0] == "4" and pd.isna(got["room"].iloc[1])
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600
    r = CliRunner().invoke(main, ["db", "export", str(db), "--format", "parquet"])
    assert r.exit_code == 1 and "needs -o FILE" in r.stderr


@pytest.mark.models
def test_analyze_records_into_db(clip_dir, tmp_path, sample_run):
    db = tmp_path / "cohort.db"
    r = CliRunner().invoke(
        main,
        [
            "analyze",
            str(clip_dir / "clip.wav"),
            "-o",
            str(tmp_path / "o"),
            "--quiet",
            "--no-voices",
            "--num-speakers",
            "1",
            "--db",
            str(db),
            "--label",
            "clinician=Dr Morgan",
            "--label",
            "station=4",
        ],
    )
    assert r.exit_code == 0, r.stderr
    with Store(db) as store:
        df = store.frame()
    assert list(df["clinician"]) == ["Dr Morgan"] and list(df["station"]) == ["4"]
    assert df.loc[0, "result_path"] == str(tmp_path / "o" / "result.json")
    assert df.loc[0, "clinician_talk_s"] > 2
    # issue 15 item 4: the labels travel with the outputs, not only in the database
    saved = json.loads((tmp_path / "o" / "result.json").read_text())
    assert saved["labels"] == {"clinician": "Dr Morgan", "station": "4"}
    html = (tmp_path / "o" / "report.html").read_text()
    assert "<dt>Clinician</dt><dd>Dr Morgan</dd>" in html and "<dt>Station</dt><dd>4</dd>" in html
    # and --label no longer needs --db
    r = CliRunner().invoke(
        main,
        [
            "analyze",
            str(clip_dir / "clip.wav"),
            "-o",
            str(tmp_path / "p"),
            "-q",
            "--no-voices",
            "--label",
            "student=S-17",
        ],
    )
    assert r.exit_code == 0, r.stderr
    assert json.loads((tmp_path / "p" / "result.json").read_text())["labels"] == {"student": "S-17"}


def _make_v1_database(path, result_path):
    """A database as attunement 0.1 (schema 1) wrote it, with one analysis in it."""
    from pipeline.store import MIGRATIONS

    con = sqlite3.connect(path)
    with con:
        con.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)")
        for statement in MIGRATIONS[1]:
            con.execute(statement)
        con.execute("INSERT INTO meta VALUES ('schema_version', '1')")
        con.execute(
            "INSERT INTO analyses (path, sha256, duration_s, analysed, options_hash, options, mode, "
            "clinician, labels, result_path) VALUES ('/d/a.wav', ?, 10.0, '2026-01-02', 'h1', '{}', "
            "'diarization', 'Dr A', '{\"clinician\": \"Dr A\"}', ?)",
            ("b" * 64, result_path),
        )
        con.execute("INSERT INTO metrics VALUES (1, 'clinician_talk_share', 0.61)")
    con.close()


def test_migration_from_schema_1_keeps_rows_and_fills_report_path(tmp_path):
    db = tmp_path / "old.db"
    _make_v1_database(db, "/out/a/result.json")
    with Store(db) as store:
        df = store.frame()
        version = store.conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
        indexes = {r[0] for r in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert version == str(SCHEMA_VERSION) == "2"
    assert len(df) == 1
    row = df.iloc[0]
    assert row["clinician"] == "Dr A" and row["clinician_talk_share"] == pytest.approx(0.61)
    assert row["report_path"] == "/out/a/report.html"
    assert {"analyses_clinician", "analyses_station", "metrics_name"} <= indexes
    # and new rows go in beside the migrated one
    with Store(db) as store:
        store.record(make_result(), {"clinician": "Dr B"}, result_path="/out/b/result.json")
        df = store.frame()
    assert list(df["clinician"]) == ["Dr A", "Dr B"]
    assert df.iloc[1]["report_path"] == "/out/b/report.html"


def test_failed_migration_leaves_the_old_database_untouched(tmp_path, monkeypatch):
    from pipeline import store as store_mod

    db = tmp_path / "old.db"
    _make_v1_database(db, "/out/a/result.json")
    before = db.read_bytes()
    monkeypatch.setitem(store_mod.MIGRATIONS, 2, store_mod.MIGRATIONS[2] + ["CREATE TABLE broken (x"])
    with pytest.raises(OutputError, match="database error"):
        Store(db)
    con = sqlite3.connect(db)
    cols = [r[1] for r in con.execute("PRAGMA table_info(analyses)")]
    version = con.execute("SELECT value FROM meta").fetchone()[0]
    con.close()
    assert "report_path" not in cols and version == "1"
    assert db.read_bytes() == before


def test_database_of_another_program_is_not_touched(tmp_path):
    db = tmp_path / "clinic.db"
    con = sqlite3.connect(db)
    with con:
        con.execute("CREATE TABLE patients (id INTEGER, name TEXT)")
    con.close()
    before = db.read_bytes()
    with pytest.raises(InputError, match="another program .*patients"):
        Store(db)
    assert db.read_bytes() == before


def test_locked_database_gives_a_clear_error(tmp_path, monkeypatch):
    from pipeline import store as store_mod

    monkeypatch.setattr(store_mod, "LOCK_TIMEOUT_S", 0.2)
    db = tmp_path / "a.db"
    with Store(db) as store:
        store.record(make_result())
    holder = sqlite3.connect(db)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(OutputError, match="locked by another program"):
            with Store(db) as store:
                store.record(make_result(sha="c" * 64))
        result = CliRunner().invoke(main, ["db", "export", str(db)])
        assert result.exit_code != 0
        assert "locked by another program" in result.output and "Traceback" not in result.output
    finally:
        holder.rollback()
        holder.close()
    with Store(db) as store:
        assert len(store.frame()) == 1


def test_relative_result_paths_are_stored_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with Store(tmp_path / "a.db") as store:
        store.record(make_result(), {}, result_path="out/x/result.json")
        row = store.frame().iloc[0]
    assert row["result_path"] == str(tmp_path / "out" / "x" / "result.json")
    assert row["report_path"] == str(tmp_path / "out" / "x" / "report.html")


def test_exit_codes_of_label_and_database_mistakes(tmp_path):
    """--label without '=' is an invalid option (1); a file that is not a results database is an
    input problem (2), not an unwritable output (4)."""
    from click.testing import CliRunner
    from helpers import SAMPLE

    from pipeline.cli import main

    r = CliRunner().invoke(
        main, ["analyze", str(SAMPLE), "-o", str(tmp_path / "o"), "--db", str(tmp_path / "a.db"), "--label", "station"]
    )
    assert r.exit_code == 1 and "--label 'station': expected key=value" in r.stderr
    notdb = tmp_path / "notes.db"
    notdb.write_text("not a database, just notes\n" * 100)
    r = CliRunner().invoke(main, ["db", "query", str(notdb)])
    assert r.exit_code == 2 and "not a usable attunement database" in r.stderr


def test_csv_cells_cannot_run_as_formulas(tmp_path):
    """Labels and file names that start like a formula are escaped in every CSV (OWASP)."""
    import csv
    import io

    from click.testing import CliRunner

    from pipeline.cli import main

    db = tmp_path / "a.db"
    r = make_result()
    r.recording.path = "/data/+SUM(A1).wav"
    with Store(db) as store:
        store.record(r, {"clinician": '=HYPERLINK("http://x","click")', "station": "@cmd", "note": "-2+3"})
    out = CliRunner().invoke(main, ["db", "export", str(db)])
    assert out.exit_code == 0, out.stderr
    row = next(csv.DictReader(io.StringIO(out.stdout)))
    assert row["clinician"] == '\'=HYPERLINK("http://x","click")' and row["station"] == "'@cmd"
    assert row["note"] == "'-2+3" and row["path"] == "/data/+SUM(A1).wav"  # starts with "/": harmless
    assert float(row["clinician_response_latency_median_s"]) == r.metrics["clinician_response_latency_median_s"]
    query = next(csv.DictReader(io.StringIO(CliRunner().invoke(main, ["db", "query", str(db)]).stdout)))
    assert query["clinician"].startswith("'=")
    out = CliRunner().invoke(main, ["cohort", "--db", str(db), "-o", str(tmp_path / "c.html")])
    assert out.exit_code == 0, out.stderr
    groups = (tmp_path / "c.groups.csv").read_text()
    assert "'=HYPERLINK" in groups and "\n=HYPERLINK" not in groups and ",=HYPERLINK" not in groups


def test_db_query_json_is_plain(tmp_path):
    """Counts as integers, paths with their slashes, missing values as null."""
    import json

    from click.testing import CliRunner

    from pipeline.cli import main

    db = tmp_path / "a.db"
    with Store(db) as store:
        store.record(make_result(), {"clinician": "Dr A"})
    out = CliRunner().invoke(main, ["db", "query", str(db), "--json"])
    assert out.exit_code == 0, out.stderr
    assert "\\/" not in out.stdout
    row = json.loads(out.stdout)[0]
    assert row["path"] == "/data/aaaa.wav" and isinstance(row["clinician_turns"], int)
    assert row["clinician_turns"] == make_result().metrics["clinician_turns"]
    assert isinstance(row["clinician_talk_share"], float)


@pytest.mark.parametrize(
    "name", ["id", "report_path", "path", "sha256", "duration_s", "analysed", "clinician_talk_share"]
)
def test_a_label_named_like_a_column_is_refused(name, tmp_path):
    # issue 16 #3: such a label crashed db export/query/cohort or rewrote the cohort's links
    with pytest.raises(AttuneError, match="reserved name") as err:
        parse_labels([f"{name}=P-001"])
    assert err.value.exit_code == 1
    with Store(tmp_path / "a.db") as store, pytest.raises(AttuneError, match="reserved name"):
        store.record(make_result(), {name: "x"})
    assert parse_labels(["student_id=P-001", "clinician=Dr A"]) == {"student_id": "P-001", "clinician": "Dr A"}


def test_an_old_database_with_a_clashing_label_still_exports(tmp_path):
    db = tmp_path / "a.db"
    with Store(db) as store:
        store.record(make_result(), {"station": "3"})
        store.conn.execute("UPDATE analyses SET labels = ? WHERE id = 1", (json.dumps({"id": "P-001", "path": "/x"}),))
        store.conn.commit()
        df = store.frame()
    assert df.loc[0, "id"] == 1 and df.loc[0, "path"] != "/x"  # the real columns win
    assert df.loc[0, "label.id"] == "P-001" and df.loc[0, "label.path"] == "/x"
    r = CliRunner().invoke(main, ["db", "export", str(db)])
    assert r.exit_code == 0, r.stderr


def test_a_manifest_column_named_like_a_result_column_is_refused(tmp_path):
    from pipeline.manifest import read_manifest

    m = tmp_path / "manifest.csv"
    m.write_text("path,id,station\na.wav,P-001,3\n")
    with pytest.raises(InputError, match="the column 'id' is a reserved name"):
        read_manifest(m)


def test_database_files_are_private_new_and_old(tmp_path):
    # issue 16 #9: an existing database kept mode 0644
    db = tmp_path / "a.db"
    with Store(db):
        pass
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    os.chmod(db, 0o644)
    with Store(db):
        pass
    assert stat.S_IMODE(db.stat().st_mode) == 0o600


def test_query_csv_puts_people_first_and_rounds(tmp_path):
    # issue 16 #22: the default query CSV was dominated by hashes and absolute paths, numbers unrounded
    db = tmp_path / "a.db"
    with Store(db) as store:
        store.record(make_result(), {"clinician": "Dr A", "student_id": "S-7"})
    r = CliRunner().invoke(main, ["db", "query", str(db)])
    assert r.exit_code == 0, r.stderr
    import csv

    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    header = list(rows[0])
    assert header[:2] == ["id", "recording"] and header.index("clinician") < header.index("clinician_talk_share")
    assert header.index("student_id") < header.index("duration_s") < header.index("clinician_talk_share")
    assert header[-len(("sha256", "path", "result_path", "report_path")) :] == [
        "sha256",
        "path",
        "result_path",
        "report_path",
    ]
    assert rows[0]["recording"] == "aaaa.wav"
    decimals = [v.split(".")[1] for k, v in rows[0].items() if k.endswith("_share") and "." in v]
    assert decimals and all(len(d) <= 4 for d in decimals)


def test_a_database_that_cannot_be_created_is_not_left_behind(tmp_path, monkeypatch):
    # issue 16 #15: on a full disk it said "cannot rollback - no transaction is active" and left a 0-byte file
    def full(self):
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(Store, "_migrate", full)
    db = tmp_path / "new.db"
    with pytest.raises(OutputError, match="cannot create the database \\(database or disk is full\\)"):
        Store(db)
    assert not db.exists()
    assert "the database was not changed" in Store.__dict__["_describe"](
        type("S", (), {"path": db})(), sqlite3.OperationalError("disk I/O error")
    )
