"""attune batch: inputs, manifest, resumable runs on Dask, failures reported."""

from __future__ import annotations

import json
import time

import pytest
from click.testing import CliRunner
from helpers import sample_clip, sample_parts, wait_for_rows

from pipeline.batch import expand_inputs, output_dirs
from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.manifest import read_manifest
from pipeline.store import Store


def test_expand_inputs(tmp_path):
    (tmp_path / "sub").mkdir()
    for name in ("a.wav", "b.flac", "notes.txt", "sub/c.mp3"):
        (tmp_path / name).write_bytes(b"x")
    assert [p.name for p in expand_inputs([str(tmp_path)])] == ["a.wav", "b.flac"]
    assert [p.name for p in expand_inputs([str(tmp_path)], recursive=True)] == ["a.wav", "b.flac", "c.mp3"]
    assert [p.name for p in expand_inputs([str(tmp_path / "*.wav"), str(tmp_path / "a.wav")])] == ["a.wav"]
    assert [p.name for p in expand_inputs([str(tmp_path / "notes.txt")])] == ["notes.txt"]  # named files are kept
    with pytest.raises(InputError, match="no such file or folder"):
        expand_inputs([str(tmp_path / "gone")])
    with pytest.raises(InputError, match="no file matches this pattern"):
        expand_inputs([str(tmp_path / "*.ogg")])


@pytest.mark.parametrize("name", ["...wav", "..wav", ". .wav", " .. x.wav"])
def test_output_dirs_stay_inside_the_output_folder(tmp_path, name):
    out = tmp_path / "out"
    dirs = output_dirs([tmp_path / name, tmp_path / "plain.wav"], out)
    for d in dirs:
        assert d.parent == out and d.name not in ("", ".", "..") and not d.name.startswith(".")
    assert len(set(dirs)) == 2


def test_output_dirs_of_names_made_alike_are_told_apart(tmp_path):
    dirs = output_dirs([tmp_path / "..wav", tmp_path / "...wav"], tmp_path / "out")
    assert len(set(dirs)) == 2 and all(d.parent == tmp_path / "out" for d in dirs)


def test_output_dirs_disambiguate_same_names(tmp_path):
    a, b = tmp_path / "x" / "visit.wav", tmp_path / "y" / "visit.wav"
    dirs = output_dirs([a, b, tmp_path / "other.wav"], tmp_path / "out")
    assert dirs[0] != dirs[1] and dirs[0].name.startswith("visit-") and dirs[2].name == "other"


def test_manifest(tmp_path):
    m = tmp_path / "m.csv"
    m.write_text("path,clinician,station,extra\na.wav,Dr A,3,\n/abs/b.wav,Dr B,,x\n")
    rows = read_manifest(m)
    assert rows[(tmp_path / "a.wav").resolve()] == {"clinician": "Dr A", "station": "3"}
    assert rows[__import__("pathlib").Path("/abs/b.wav")] == {"clinician": "Dr B", "extra": "x"}


@pytest.mark.parametrize(
    "content,message",
    [
        ("file,clinician\na.wav,x\n", "m.csv:1: the manifest needs a 'path' column"),
        ("path,clinician\na.wav,x\n,y\n", "m.csv:3: row without a path"),
        ("path,clinician\na.wav,x\na.wav,y\n", "m.csv:3: "),
    ],
)
def test_manifest_bad_rows(tmp_path, content, message):
    m = tmp_path / "m.csv"
    m.write_text(content)
    with pytest.raises(InputError, match=message):
        read_manifest(m)


def test_manifest_missing_and_binary(tmp_path):
    with pytest.raises(InputError, match="no such manifest file"):
        read_manifest(tmp_path / "none.csv")
    b = tmp_path / "bin.csv"
    b.write_bytes(b"\xff\xfe\x00\x81" * 50)
    with pytest.raises(InputError, match="not a UTF-8 text file|needs a 'path' column"):
        read_manifest(b)


def test_unreachable_scheduler(tmp_path, clip_dir):
    t0 = time.perf_counter()
    r = CliRunner().invoke(
        main,
        [
            "batch",
            str(clip_dir / "clip.wav"),
            "-o",
            str(tmp_path / "o"),
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--no-voices",
            "-q",
        ],
    )
    assert r.exit_code == 1, r.output + r.stderr
    assert "--scheduler tcp://127.0.0.1:9: no Dask scheduler answered within 10 s" in r.stderr
    assert time.perf_counter() - t0 < 30


@pytest.mark.parametrize("address", ["silent", "http", "garbage:::", "tls://127.0.0.1:9", "foo://127.0.0.1:9"])
def test_a_scheduler_that_is_not_dask_gives_one_line_quickly(address, tmp_path, clip_dir):
    # issue 16 #7: a server that accepted the connection and never answered hung the batch 400 s
    import http.server
    import socket
    import threading

    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(5)
    held: list = []
    threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()

    class Quiet(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args):  # no request log in the test output
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    address = {
        "silent": f"tcp://127.0.0.1:{silent.getsockname()[1]}",
        "http": f"tcp://127.0.0.1:{server.server_address[1]}",
    }.get(address, address)
    t0 = time.perf_counter()
    try:
        r = CliRunner().invoke(
            main,
            [
                "batch",
                str(clip_dir / "clip.wav"),
                "-o",
                str(tmp_path / "o"),
                "--scheduler",
                address,
                "--no-voices",
                "-q",
            ],
        )
    finally:
        server.shutdown()
        silent.close()
    assert r.exit_code == 1, r.output + r.stderr
    assert r.stderr.count("\n") == 1 and f"--scheduler {address}: no Dask scheduler answered" in r.stderr
    assert time.perf_counter() - t0 < 20


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    d = tmp_path_factory.mktemp("batch-in")
    sample_clip(d / "first.wav", 0, 12)
    sample_clip(d / "second.flac", 40, 52)
    (d / "broken.mp3").write_text("not audio " * 100)
    m = d / "manifest.csv"
    m.write_text("path,clinician,station\nfirst.wav,Dr Morgan,1\nsecond.flac,Dr Morgan,2\n")
    return d


pytestmark = pytest.mark.models


def run_batch(args):
    r = CliRunner().invoke(main, ["batch", *args, "--no-voices", "-q"])
    return r


def test_batch_reports_failures_and_resumes(folder, tmp_path, sample_run):
    out = tmp_path / "out"
    r = run_batch([str(folder), "-o", str(out), "--manifest", str(folder / "manifest.csv"), "--workers", "1"])
    assert r.exit_code == 6, r.output + r.stderr
    assert "2 done, 0 skipped (already done), 1 failed" in r.stdout
    assert "broken.mp3: not a readable audio or video file" in r.stdout
    assert (out / "first" / "result.json").is_file() and (out / "second" / "report.html").is_file()
    with Store(out / "attune.db") as store:
        df = store.frame()
    assert sorted(df["station"]) == ["1", "2"] and set(df["clinician"]) == {"Dr Morgan"}
    # issue 15 item 4: an unlisted recording is named, and the labels reach the outputs
    assert f"attune: warning: {folder / 'broken.mp3'}: not in the manifest" in r.stderr
    assert json.loads((out / "first" / "result.json").read_text())["labels"] == {
        "clinician": "Dr Morgan",
        "station": "1",
    }
    # a manifest typo fixed: relabelled, not analysed again
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(
        f"path,clinician,station\n{folder / 'first.wav'},Dr Morgan,1A\n{folder / 'second.flac'},Dr Morgan,2\n"
    )
    t0 = time.perf_counter()
    r = run_batch([str(folder / "first.wav"), str(folder / "second.flac"), "-o", str(out), "--manifest", str(fixed)])
    assert r.exit_code == 0, r.output + r.stderr
    assert "0 done, 2 skipped (already done; 1 relabelled)" in r.stdout
    assert time.perf_counter() - t0 < 10
    with Store(out / "attune.db") as store:
        assert sorted(store.frame()["station"]) == ["1A", "2"]
    assert json.loads((out / "first" / "result.json").read_text())["labels"]["station"] == "1A"
    assert "<dt>Station</dt><dd>1A</dd>" in (out / "first" / "report.html").read_text()

    # resuming: the finished recordings are skipped, quickly; no duplicate rows
    t0 = time.perf_counter()
    r = run_batch([str(folder / "first.wav"), str(folder / "second.flac"), "-o", str(out), "--workers", "1"])
    assert r.exit_code == 0 and "0 done, 2 skipped" in r.stdout
    assert time.perf_counter() - t0 < 5
    # --force redoes it, replacing (not duplicating) the rows
    r = run_batch([str(folder / "first.wav"), "-o", str(out), "--force", "--workers", "1"])
    assert r.exit_code == 0 and "1 done" in r.stdout
    with Store(out / "attune.db") as store:
        assert len(store.frame()) == 2


def test_two_workers_give_the_same_rows_as_one(folder, tmp_path, sample_run):
    cols = ["path", "sha256", "clinician_talk_s", "patient_talk_s", "clinician_turns", "overlap_s"]
    frames = []
    for n in (1, 2):
        out = tmp_path / f"w{n}"
        r = run_batch(
            [
                str(folder / "first.wav"),
                str(folder / "second.flac"),
                "-o",
                str(out),
                "--workers",
                str(n),
                "--threads",
                "2",
            ]
        )
        assert r.exit_code == 0, r.output + r.stderr
        with Store(out / "attune.db") as store:
            frames.append(store.frame().sort_values("path")[cols].reset_index(drop=True))
    assert frames[0].equals(frames[1]), (frames[0], frames[1])


def test_killed_batch_resumes_without_duplicates_or_losses(folder, tmp_path, sample_run):
    import os
    import signal
    import subprocess
    import sys

    from helpers import ROOT

    src = sample_parts(tmp_path / "in")
    out = tmp_path / "out"
    cmd = [
        sys.executable,
        "-m",
        "pipeline.cli",
        "batch",
        str(src),
        "-o",
        str(out),
        "--workers",
        "1",
        "--no-voices",
        "-q",
        "--no-audio",
    ]
    proc = subprocess.Popen(cmd, cwd=ROOT, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    db = out / "attune.db"
    rows = wait_for_rows(db, proc)
    os.killpg(proc.pid, signal.SIGKILL)  # the whole batch, workers included
    proc.wait(timeout=30)
    assert 1 <= rows < 4, rows
    r = run_batch([str(src), "-o", str(out), "--workers", "1", "--no-audio"])
    assert r.exit_code == 0, r.output + r.stderr
    with Store(db) as store:
        df = store.frame()
    assert sorted(df["path"].map(lambda p: p.rsplit("/", 1)[1])) == [f"part{i}.wav" for i in range(4)]
    assert not df["sha256"].duplicated().any()
    assert all((out / f"part{i}" / "result.json").is_file() for i in range(4))
