"""A corpus of broken and hostile inputs, generated here, through the real command line.

Every case must end either in a correct result or in one line on stderr and a non-zero
exit status; never a traceback, never a hang (each run has a time limit), and never a file
written outside the chosen output folder.
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import ROOT, SAMPLE

TIME_LIMIT_S = 240


def wav_header(rate: int, channels: int = 1, bits: int = 16, data_bytes: int = 0, fmt: int = 1) -> bytes:
    block = channels * bits // 8
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVE"
        + b"fmt "
        + struct.pack("<IHHIIHH", 16, fmt, channels, rate, rate * block, block, bits)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def speech(seconds: float = 6.0) -> np.ndarray:
    x, sr = sf.read(SAMPLE, dtype="float32")
    return x[: int(seconds * sr)]


def make_corpus(d: Path) -> dict[str, tuple[Path, str]]:
    """name -> (input path, expected: 'ok' or 'error')."""
    x = speech()
    pcm = (np.clip(x, -1, 1) * 32767).astype("<i2").tobytes()
    cases: dict[str, tuple[Path, str]] = {}

    def put(name: str, content: bytes, expect: str) -> None:
        p = d / name
        p.write_bytes(content)
        cases[name] = (p, expect)

    full_wav = d / "full.wav"
    sf.write(full_wav, x, 16000)
    put("truncated.wav", full_wav.read_bytes()[: len(full_wav.read_bytes()) * 2 // 3], "ok")
    sf.write(d / "full.flac", x, 16000)
    put("truncated.flac", (d / "full.flac").read_bytes()[: (d / "full.flac").stat().st_size // 2], "ok")
    subprocess.run(["ffmpeg", "-loglevel", "error", "-y", "-i", str(full_wav), str(d / "full.mp3")], check=True)
    put("truncated.mp3", (d / "full.mp3").read_bytes()[: (d / "full.mp3").stat().st_size // 2], "ok")
    put("header-only.wav", wav_header(16000, data_bytes=len(pcm)), "error")
    put("wrong-magic.wav", b"RIFX" + full_wav.read_bytes()[4:], "error")
    put("garbage-after-header.flac", b"fLaC" + os.urandom(4000), "error")
    put("zero-hz.wav", wav_header(0, data_bytes=len(pcm)) + pcm, "error")
    put("one-mhz.wav", wav_header(1_000_000, data_bytes=len(pcm) * 4) + pcm * 4, "error")
    # 100 KB whose header says 1 Hz: decoded at face value it is hours of 16 kHz audio
    put("one-hz.wav", wav_header(1, data_bytes=100_000) + os.urandom(100_000), "error")
    eight = np.stack([x * (0.2 + 0.1 * i) for i in range(8)], axis=1)
    sf.write(d / "eight-channels.wav", eight, 16000)
    cases["eight-channels.wav"] = (d / "eight-channels.wav", "ok")
    bad = x.copy()
    bad[1000:1100] = np.nan
    bad[5000:5100] = np.inf
    bad[9000:9100] = -np.inf
    sf.write(d / "nan-inf.wav", bad, 16000, subtype="FLOAT")
    cases["nan-inf.wav"] = (d / "nan-inf.wav", "ok")
    put("empty.wav", b"", "error")
    (d / "a-folder.wav").mkdir()
    cases["a-folder.wav"] = (d / "a-folder.wav", "error")
    put("notes.wav", b"Patient notes: this is text, not audio.\n" * 50, "error")
    put("random.m4a", os.urandom(20000), "error")
    for name in [
        "x" * 240 + ".wav",
        "clinic \"A\" 'b'.wav",
        "line\nbreak.wav",
        "consulta\u00e7\u00e3o-\u8bca\u5ba4.wav",
        "..wav",
        "-starts-with-dash.wav",
        "$(touch pwned).wav",
    ]:
        p = d / name
        sf.write(p, x, 16000, format="WAV")
        cases[name] = (p, "ok")
    return cases


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("hostile")
    inputs = d / "in"
    inputs.mkdir()
    return d, make_corpus(inputs)


def snapshot(root: Path) -> set[Path]:
    return {p for p in root.rglob("*")}


def run_cli(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipeline.cli", *args], cwd=ROOT, capture_output=True, text=True, timeout=TIME_LIMIT_S
    )


# the cases that decode fail before any model is loaded: quick, one process each
ERROR_CASES = [
    "header-only.wav",
    "wrong-magic.wav",
    "garbage-after-header.flac",
    "zero-hz.wav",
    "one-mhz.wav",
    "one-hz.wav",
    "empty.wav",
    "a-folder.wav",
    "notes.wav",
    "random.m4a",
]


@pytest.mark.parametrize("name", ERROR_CASES)
def test_broken_input_is_one_line_and_writes_nothing(corpus, name):
    d, cases = corpus
    path, expect = cases[name]
    assert expect == "error"
    out = d / f"out-{ERROR_CASES.index(name)}"
    before = snapshot(d)
    r = run_cli(["analyze", str(path), "-o", str(out), "--no-voices"])
    assert r.returncode not in (0, 1) or r.returncode == 1, r
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attune: error: "), r.stderr
    assert "Traceback" not in r.stderr and "internal error" not in r.stderr
    assert snapshot(d) == before  # nothing written anywhere, not even the output folder


OK_CASES = [
    "truncated.wav",
    "truncated.flac",
    "truncated.mp3",
    "eight-channels.wav",
    "nan-inf.wav",
    "x" * 240 + ".wav",
    "clinic \"A\" 'b'.wav",
    "line\nbreak.wav",
    "consulta\u00e7\u00e3o-\u8bca\u5ba4.wav",
    "..wav",
    "-starts-with-dash.wav",
    "$(touch pwned).wav",
]


@pytest.mark.models
def test_odd_but_readable_inputs_give_results_inside_the_output_folder(corpus):
    """All readable cases in one batch (one process, models loaded once): each gets its own
    complete output folder under OUT, and nothing appears anywhere else."""
    d, cases = corpus
    out = d / "batch-out"
    before = snapshot(d)
    r = run_cli(
        [
            "batch",
            *[str(cases[n][0]) for n in OK_CASES],
            "-o",
            str(out),
            "--workers",
            "1",
            "--no-voices",
            "-q",
            "--no-audio",
        ]
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"{len(OK_CASES)} done, 0 skipped" in r.stdout
    new = snapshot(d) - before
    assert all(p == out or out in p.parents for p in new), sorted(map(str, new - {out}))[:5]
    results = [json.loads(p.read_text()) for p in out.rglob("result.json")]
    assert len(results) == len(OK_CASES)
    by_name = {Path(r["recording"]["path"]).name: r for r in results}
    assert set(by_name) == set(OK_CASES)
    assert by_name["eight-channels.wav"]["recording"]["channels"] == 8
    for name in OK_CASES:
        res = by_name[name]
        assert res["recording"]["duration_s"] > 1.0
        assert res["words"], name  # speech was found in every readable case
    assert not (ROOT / "pwned").exists() and not Path("pwned").exists()


@pytest.mark.models
def test_odd_names_through_analyze_and_its_default_folder(corpus):
    """analyze with no -o writes <stem>.attune beside the input, for a hostile name too; a
    name too long for the file system gives one line, not a traceback."""
    d, cases = corpus
    path = cases["line\nbreak.wav"][0]
    r = run_cli(["analyze", str(path), "--no-voices", "-q", "--no-audio"])
    assert r.returncode == 0, r.stderr
    assert (path.parent / "line\nbreak.attune" / "result.json").is_file()
    long = cases["x" * 240 + ".wav"][0]  # its default folder name would be 247 characters: fine
    too_long = d / "in" / ("y" * 251 + ".wav")
    sf.write(too_long, speech(2.0), 16000)
    r = run_cli(["analyze", str(too_long), "--no-voices", "-q"])  # <stem>.attune: 258 > 255 characters
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("attune: error: ") and "Traceback" not in r.stderr
    assert long.exists()


def test_error_message_with_a_newline_in_the_name_stays_one_line(corpus, tmp_path):
    d, _ = corpus
    p = tmp_path / "two\nlines.wav"
    p.write_text("not audio")
    r = run_cli(["analyze", str(p), "-o", str(tmp_path / "o")])
    assert r.returncode != 0
    assert len(r.stderr.strip().splitlines()) == 1 and "lines.wav" in r.stderr


def test_an_implausible_sample_rate_is_refused_without_decoding(corpus):
    """A 100 KB WAV claiming 1 Hz: exit 2 at once, in bounded memory (it used to reach 6.3 GB)."""
    d, cases = corpus
    path, _ = cases["one-hz.wav"]
    cmd = [sys.executable, "-m", "pipeline.cli", "analyze", str(path), "-o", str(d / "one-hz-out"), "--no-voices"]
    if shutil.which("prlimit"):
        cmd = ["prlimit", "--as=3000000000", *cmd]  # 3 GB of address space is plenty for an error
    r = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=TIME_LIMIT_S)
    assert r.returncode == 2, r.stderr
    assert "implausible sample rate 1 Hz (recordings are 4 to 384 kHz)" in r.stderr
