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
from pipeline.errors import InputError, OutputError
from pipeline.metrics import compute
from pipeline.result import Recording, Result, Segment, Speaker
from pipeline.store import SCHEMA_VERSION, Store, options_hash, parse_labels


def make_result(sha="a" * 64, beam=5, share_shift=0.0):
    segs = [Segment("S0", 0.0, 2.0 + share_shift), Segment("S1", 2.5, 6.0), Segment("S0", 6.2, 8.0)]
    r = Result(recording=Recording(f"/data/{sha[:4]}.wav", 10.0, 16000, 1, sha),
               speakers=[Speaker("S0", "clinician", 3.8), Speaker("S1", "patient", 3.5)],
               segments=segs, parameters={"asr_beam_size": beam, "threads": 2},
               created="2026-11-27T09:00:00+00:00", attunement_version="0.1.0",
               mode={"name": "diarization"})
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
        with pytest.raises(InputError, match="--where ward=1: no such column"):
            store.frame({"ward": "1"})


def test_newer_schema_is_refused(tmp_path):
    db = tmp_path / "a.db"
    with Store(db):
        pass
    con = sqlite3.connect(db)
    with con:
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    con.close()
    with pytest.raises(OutputError, match="made by a newer attunement"):
        Store(db)


def test_not_a_database(tmp_path):
    p = tmp_path / "notes.db"
    p.write_text("hello " * 1000)
    with pytest.raises(OutputError, match="not a usable attunement database"):
        Store(p)


def test_parse_labels():
    assert parse_labels(["clinician=Dr A", " station = 3 ", "note=a=b"]) == {
        "clinician": "Dr A", "station": "3", "note": "a=b"}
    with pytest.raises(InputError, match="expected key=value"):
        parse_labels(["oops"])


def test_db_export_and_query_commands(tmp_path):
    db = tmp_path / "a.db"
    with Store(db) as store:
        store.record(make_result(), {"clinician": "Dr A", "date": "2026-11-01"})
        store.record(make_result(sha="b" * 64), {"clinician": "Dr B"})
    r = CliRunner().invoke(main, ["db", "export", str(db)])
    assert r.exit_code == 0, r.stderr
    df = pd.read_csv(io.StringIO(r.stdout))
    assert len(df) == 2 and "clinician_interruptions" in df.columns
    r = CliRunner().invoke(main, ["db", "query", str(db), "--where", "clinician=Dr B", "--metric",
                                  "clinician_talk_share", "--json"])
    rows = json.loads(r.stdout)
    assert [x["clinician"] for x in rows] == ["Dr B"]
    assert "clinician_talk_share" in rows[0] and "patient_talk_s" not in rows[0]
    r = CliRunner().invoke(main, ["db", "query", str(db), "--metric", "nonsense"])
    assert r.exit_code == 1 and "--metric nonsense: unknown metric" in r.stderr
    r = CliRunner().invoke(main, ["db", "export", str(tmp_path / "none.db")])
    assert r.exit_code == 1 and "no such database" in r.stderr


def test_label_without_db(clip_dir, tmp_path):
    r = CliRunner().invoke(main, ["analyze", str(clip_dir / "clip.wav"), "-o", str(tmp_path / "o"),
                                  "--label", "clinician=Dr A"])
    assert r.exit_code == 1 and "--label needs --db" in r.stderr


@pytest.mark.models
def test_analyze_records_into_db(clip_dir, tmp_path, sample_run):
    db = tmp_path / "cohort.db"
    r = CliRunner().invoke(main, ["analyze", str(clip_dir / "clip.wav"), "-o", str(tmp_path / "o"), "--quiet",
                                  "--no-voices", "--num-speakers", "1", "--db", str(db),
                                  "--label", "clinician=Dr Morgan", "--label", "station=4"])
    assert r.exit_code == 0, r.stderr
    with Store(db) as store:
        df = store.frame()
    assert list(df["clinician"]) == ["Dr Morgan"] and list(df["station"]) == ["4"]
    assert df.loc[0, "result_path"] == str(tmp_path / "o" / "result.json")
    assert df.loc[0, "clinician_talk_s"] > 2
