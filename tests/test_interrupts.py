"""Ctrl-C (SIGINT) and SIGTERM stop analyze and batch within seconds, leave no partial
outputs or temporary files, and a later batch run picks up where the first stopped."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import soundfile as sf
from helpers import ROOT, SAMPLE, sample_parts, wait_for_rows

from pipeline.store import Store

pytestmark = pytest.mark.models


def default_sigint() -> None:
    """In the child: SIGINT back to its default, even when the test run itself was started in
    the background (where it is inherited as ignored, and Python would never raise
    KeyboardInterrupt)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start(args, env=None):
    return subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", *args],
        cwd=ROOT,
        env=env,
        preexec_fn=default_sigint,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def stop_and_time(proc, sig) -> tuple[float, str]:
    t0 = time.monotonic()
    proc.send_signal(sig)
    try:
        _out, err = proc.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        pytest.fail("the process did not stop within 60 s")
    return time.monotonic() - t0, err


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_interrupted_analyze_stops_fast_and_writes_nothing(tmp_path, sig):
    x, sr = sf.read(SAMPLE, dtype="float32")
    long = tmp_path / "long.wav"
    sf.write(long, np.concatenate([x, x, x]), sr)  # about 4 minutes: still busy after 20 s
    out = tmp_path / "out"
    proc = start(["analyze", str(long), "-o", str(out), "--no-voices", "-q"])
    time.sleep(20)
    assert proc.poll() is None, "the analysis ended before it could be interrupted"
    seconds, err = stop_and_time(proc, sig)
    assert proc.returncode == 130
    assert seconds < 10, seconds
    assert err.strip().splitlines()[-1] == "attune: interrupted: nothing was written for the recording in progress"
    assert "Traceback" not in err
    assert not out.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["long.wav"]


def test_interrupted_batch_stops_cleanly_and_resumes(tmp_path):
    src = sample_parts(tmp_path / "in")
    out = tmp_path / "out"
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = dict(os.environ, TMPDIR=str(scratch))
    proc = start(["batch", str(src), "-o", str(out), "--workers", "1", "--no-voices", "-q", "--no-audio"], env=env)
    db = out / "attune.db"
    rows = wait_for_rows(db, proc)
    assert proc.poll() is None and rows >= 1, "the batch ended before it could be interrupted"
    seconds, err = stop_and_time(proc, signal.SIGINT)
    assert proc.returncode == 130, err
    assert seconds < 20, seconds
    assert "Traceback" not in err
    # every output folder is complete or absent; no temporary files anywhere
    for d in out.iterdir():
        if d.is_dir():
            names = {p.name for p in d.iterdir()}
            assert "result.json" in names and not any(n.endswith(".tmp") for n in names), names
    assert list(scratch.iterdir()) == []
    with Store(db) as store:
        done_before = len(store.frame())
    assert 1 <= done_before < 4

    r = subprocess.run(
        [
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
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{4 - done_before} done, {done_before} skipped" in r.stdout
    with Store(db) as store:
        df = store.frame()
    assert len(df) == 4 and not df["sha256"].duplicated().any()


def test_children_get_a_working_sigint_even_from_a_background_run():
    """A test run started in the background inherits SIGINT as ignored; the children must not
    (the interrupt tests returned 0 instead of 130 that way)."""
    probe = [
        sys.executable,
        "-c",
        "import signal; print(signal.getsignal(signal.SIGINT) is signal.default_int_handler)",
    ]
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        ignored = subprocess.run(probe, capture_output=True, text=True).stdout.strip()
        reset = subprocess.run(probe, capture_output=True, text=True, preexec_fn=default_sigint).stdout.strip()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert ignored == "False" and reset == "True"


def render_terminal(data: str, width: int = 120) -> list[str]:
    """The screen a terminal would show for ``data``: enough of one to read tqdm's output
    (carriage return, new line, clear to end of line, cursor up; other escapes ignored)."""
    import re

    lines: list[list[str]] = [[]]
    row = col = 0
    for token in re.findall(r"\x1b\[(\d*)([A-Za-z])|(\r)|(\n)|([^\x1b\r\n])", data):
        num, cmd, cr, nl, ch = token
        if cr:
            col = 0
        elif nl:
            row += 1
            col = 0
            while len(lines) <= row:
                lines.append([])
        elif cmd == "K":
            del lines[row][col:]
        elif cmd == "A":
            row = max(0, row - int(num or 1))
        elif ch:
            line = lines[row]
            line.extend(" " * (col - len(line)))
            if col < len(line):
                line[col] = ch
            else:
                line.append(ch)
            col += 1
    return ["".join(line).rstrip() for line in lines]


def test_render_terminal():
    assert render_terminal("abc\rX\n") == ["Xbc", ""]
    assert render_terminal("bar 10%\r\x1b[Kdone") == ["done"]
    assert render_terminal("one\ntwo\x1b[A\rONE") == ["ONE", "two"]


def test_ctrl_c_on_a_terminal_clears_the_bars_and_says_loading_models_at_once(tmp_path):
    """Issue 16 item 20: the "interrupted" message was printed over the progress-bar line, and
    about 10 s passed with nothing on the screen before the bars appeared."""
    import fcntl
    import pty
    import struct
    import termios
    import threading

    x, sr = sf.read(SAMPLE, dtype="float32")
    long = tmp_path / "long.wav"
    sf.write(long, np.concatenate([x, x]), sr)
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 120, 0, 0))
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [sys.executable, "-m", "pipeline.cli", "analyze", str(long), "-o", str(tmp_path / "out"), "--no-voices"],
        cwd=ROOT,
        preexec_fn=default_sigint,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=slave,
    )
    os.close(slave)
    chunks: list[tuple[float, bytes]] = []

    def read() -> None:
        while True:
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            if not data:
                return
            chunks.append((time.monotonic() - t0, data))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()

    def seen() -> str:
        return b"".join(c for _, c in chunks).decode("utf-8", "replace")

    deadline = time.monotonic() + 120
    while "transcribe" not in seen() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.2)
    assert "transcribe" in seen(), seen()
    time.sleep(3)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 130
    reader.join(timeout=5)
    os.close(master)
    first_time, first = chunks[0]
    assert first_time < 5 and "reading the recording…" in first.decode(), chunks[:3]
    assert "loading models…" in seen()
    screen = [line for line in render_terminal(seen()) if line.strip()]
    assert screen[-1] == "attune: interrupted: nothing was written for the recording in progress", screen
    assert not any("%|" in line for line in screen), screen  # no bar left drawn, none filled to 100 %
