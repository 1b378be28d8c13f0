"""Issue 15 item 4: labels travel (result.json, the report header, every cohort table), a
fixed manifest relabels without re-analysing, and manifest mismatches are named by line."""

from __future__ import annotations

import hashlib
import json

import pandas as pd
import pytest
from click.testing import CliRunner

from pipeline.cli import main
from pipeline.manifest import load_manifest, mismatches
from pipeline.metrics import compute
from pipeline.outputs import write_outputs
from pipeline.relabel import label_outputs
from pipeline.report import build_cohort, build_report, render_html
from pipeline.result import Recording, Result, Segment, Speaker
from pipeline.store import Store


def make_result(path="/data/a.wav", sha="a" * 64, created="2026-11-27T09:00:00+00:00"):
    segs = [Segment("S0", 0.0, 2.0), Segment("S1", 2.5, 6.0), Segment("S0", 6.2, 8.0)]
    r = Result(
        recording=Recording(path, 10.0, 16000, 1, sha),
        speakers=[Speaker("S0", "clinician", 3.8), Speaker("S1", "patient", 3.5)],
        segments=segs,
        exclusive_segments=segs,
        parameters={"asr_beam_size": 5},
        created=created,
        attunement_version="0.1.0",
        mode={"name": "diarization"},
    )
    r.metrics = compute(segs, "S0", duration=10.0, patient="S1")
    return r


def written(tmp_path, name="a", labels=None):
    """A recording file, its analysis folder (no audio in the report) and the result."""
    audio = tmp_path / f"{name}.wav"
    audio.write_bytes(f"not really audio {name}".encode())
    r = make_result(str(audio), hashlib.sha256(audio.read_bytes()).hexdigest())
    r.labels = dict(labels or {})
    out = tmp_path / f"{name}.attune"
    write_outputs(r, out, extra=build_report(r, out / "report.html", include_audio=False))
    return audio, out, r


def test_mismatches_name_the_manifest_lines(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"a")
    (tmp_path / "b.wav").write_bytes(b"b")
    (tmp_path / "c.wav").write_bytes(b"c")
    m = tmp_path / "m.csv"
    m.write_text("path,student_id\na.wav,S1\nmissing.wav,S2\nb.wav,S3\n")
    sheet = load_manifest(m)
    assert sheet.lines[(tmp_path / "missing.wav").resolve()] == 3
    problems = mismatches(sheet, [tmp_path / "a.wav", tmp_path / "c.wav"])
    assert problems == [
        f"{m}:3: missing.wav does not exist (this row was not analysed)",
        f"{m}:4: b.wav is not among the recordings given (this row was not analysed)",
        f"{tmp_path / 'c.wav'}: not in the manifest {m} (analysed without its labels)",
    ]
    assert mismatches(sheet, [tmp_path / "a.wav", tmp_path / "b.wav"]) == problems[:1]


def test_batch_strict_stops_before_any_work(tmp_path):
    (tmp_path / "a.wav").write_bytes(b"a")
    m = tmp_path / "m.csv"
    m.write_text("path,student_id\na.wav,S1\ntypo.wav,S2\n")
    r = CliRunner().invoke(
        main, ["batch", str(tmp_path / "a.wav"), "-o", str(tmp_path / "o"), "--manifest", str(m), "--strict"]
    )
    assert r.exit_code == 2
    assert r.stderr.strip() == (
        f"attune: error: the manifest does not match the recordings (--strict): {m}:3: typo.wav does not exist "
        "(this row was not analysed)"
    )
    assert not (tmp_path / "o").exists()
    r = CliRunner().invoke(main, ["batch", str(tmp_path / "a.wav"), "-o", str(tmp_path / "o"), "--strict"])
    assert r.exit_code == 1 and "--strict needs --manifest" in r.stderr


def test_the_report_header_shows_the_labels():
    r = make_result()
    r.labels = {"station": "3", "examiner": "Dr <b>Lee</b>", "student_id": "S-0042", "date": "2026-11-30"}
    html = render_html(r)
    assert "<dt>Student id</dt><dd>S-0042</dd>" in html
    assert "<dt>Examiner</dt><dd>Dr &lt;b&gt;Lee&lt;/b&gt;</dd>" in html  # escaped
    order = [html.index(f"<dt>{k}</dt>") for k in ("Student id", "Station", "Date", "Examiner", "Recording")]
    assert order == sorted(order)
    assert 'class="label"' not in render_html(make_result())


def test_result_json_round_trips_labels_and_rejects_bad_ones(tmp_path):
    r = make_result()
    r.labels = {"student_id": "S-1"}
    assert Result.from_dict(json.loads(r.to_json())).labels == {"student_id": "S-1"}
    d = json.loads(r.to_json())
    d["labels"] = {"student_id": 7}
    from pipeline.errors import InputError

    with pytest.raises(InputError, match="labels must map text to text"):
        Result.from_dict(d)
    d.pop("labels")
    assert Result.from_dict(d).labels == {}  # results written before labels travelled


def test_label_outputs_rewrites_result_and_report(tmp_path):
    _audio, out, _r = written(tmp_path, labels={"student_id": "S-O1"})
    assert label_outputs(out / "result.json", {"student_id": "S-01", "station": "2"}) == []
    assert json.loads((out / "result.json").read_text())["labels"] == {"student_id": "S-01", "station": "2"}
    html = (out / "report.html").read_text()
    assert "<dd>S-01</dd>" in html and "S-O1" not in html


def test_label_outputs_keeps_labels_out_of_redacted_outputs(tmp_path):
    _audio, out, r = written(tmp_path)
    r.redaction = {"engine": "test", "replaced_words": {}, "placeholders": []}
    (out / "result.json").write_text(r.to_json())
    before = (out / "report.html").read_bytes()
    notes = label_outputs(out / "result.json", {"student_id": "S-01"})
    assert notes == [f"{out / 'result.json'}: redacted outputs keep no labels; only the results database was changed"]
    assert json.loads((out / "result.json").read_text())["labels"] == {}
    assert (out / "report.html").read_bytes() == before


def test_db_relabel_by_id_and_by_manifest(tmp_path):
    a, out_a, ra = written(tmp_path, "a", {"student_id": "S-O1", "station": "1"})
    b, out_b, rb = written(tmp_path, "b", {"student_id": "S-02", "station": "1"})
    db = tmp_path / "attune.db"
    with Store(db) as store:
        ida = store.record(ra, ra.labels, result_path=str(out_a / "result.json"))
        store.record(rb, rb.labels, result_path=str(out_b / "result.json"))
    r = CliRunner().invoke(
        main, ["db", "relabel", str(db), "--id", str(ida), "--label", "student_id=S-01", "--label", "station="]
    )
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == "relabelled 1 of 1 analyses (0 already had these labels)"
    with Store(db) as store:
        df = store.frame()
    assert list(df["student_id"]) == ["S-01", "S-02"] and pd.isna(df.loc[0, "station"])
    assert json.loads((out_a / "result.json").read_text())["labels"] == {"student_id": "S-01"}
    # a manifest matches recordings by content: b moved, and one row names a missing file
    moved = tmp_path / "moved"
    moved.mkdir()
    b.rename(moved / "b.wav")
    m = tmp_path / "fixed.csv"
    m.write_text("path,student_id,station\na.wav,S-01,4\nmoved/b.wav,S-02,4\nnone.wav,S-03,4\n")
    r = CliRunner().invoke(main, ["db", "relabel", str(db), "--manifest", str(m)])
    assert r.exit_code == 0, r.stderr
    assert r.stdout.strip() == "relabelled 2 of 2 analyses (0 already had these labels)"
    assert r.stderr.strip() == f"attune: warning: {m}:4: none.wav does not exist (row skipped)"
    with Store(db) as store:
        assert list(store.frame()["station"]) == ["4", "4"]
    assert "<dt>Station</dt><dd>4</dd>" in (out_b / "report.html").read_text()
    r = CliRunner().invoke(main, ["db", "relabel", str(db), "--manifest", str(m)])
    assert r.stdout.strip() == "relabelled 0 of 2 analyses (2 already had these labels)"
    for args in (["--id", "99"], [], ["--id", "1", "--manifest", str(m)]):
        r = CliRunner().invoke(main, ["db", "relabel", str(db), *args])
        assert r.exit_code == 1 and r.stderr.count("\n") == 1, (args, r.stderr)


def test_every_cohort_table_names_the_student(tmp_path):
    db = tmp_path / "attune.db"
    with Store(db) as store:
        for i in range(3):
            r = make_result(f"/data/rec{i}.wav", str(i) * 64, created=f"2026-11-2{i}T09:00:00+00:00")
            store.record(r, {"student_id": f"S-{i:02}", "station": "3", "examiner": "Dr Lee"})
        frame = store.frame()
    files = build_cohort(frame, tmp_path / "cohort.html", group_by="station")
    recs = pd.read_csv(pd.io.common.StringIO(files["cohort.recordings.csv"]))
    assert list(recs["student_id"]) == ["S-00", "S-01", "S-02"] and set(recs["examiner"]) == {"Dr Lee"}
    assert list(recs.columns[:6]) == ["id", "date", "when_source", "station", "examiner", "student_id"]
    assert "S-01" in files["cohort.html"] and ">student_id<" in files["cohort.html"]
    assert "student_id" in files["cohort.outliers.csv"].splitlines()[0]
