"""Shared fixtures: the bundled sample, short clips made from it, and the one real-model run."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner

import os
import tempfile

# the tests never touch the user's own voice book (a folder removed when the session ends)
_DATA_DIR = tempfile.mkdtemp(prefix="attune-test-data-")
os.environ["ATTUNE_DATA_DIR"] = _DATA_DIR


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_DATA_DIR, ignore_errors=True)

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "samples" / "consultation.flac"
SAMPLE_REF = ROOT / "samples" / "consultation.ref.json"
SHARED_DATA = ROOT.parent / "shared" / "data"


def ffmpeg(*args: str) -> None:
    if shutil.which("ffmpeg") is None:
        pytest.skip("the ffmpeg program is not installed (make setup installs it)")
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", *args], check=True)


@pytest.fixture(scope="session")
def sample_ref() -> dict:
    return json.loads(SAMPLE_REF.read_text())


@pytest.fixture(scope="session")
def clip_dir(tmp_path_factory) -> Path:
    """4 s of the sample (clinician speaking) as WAV, plus a stereo version."""
    d = tmp_path_factory.mktemp("clips")
    audio, sr = sf.read(SAMPLE, dtype="float32")
    clip = audio[: 4 * sr]
    sf.write(d / "clip.wav", clip, sr)
    sf.write(d / "stereo.wav", np.stack([clip, 0.5 * clip], axis=1), sr)
    return d


class NetworkBlocked(Exception):
    pass


@pytest.fixture
def no_network(monkeypatch):
    """Every outbound connection attempt raises (and is recorded)."""
    attempts = []

    def guard(self, address, *args, **kwargs):
        attempts.append(address)
        raise NetworkBlocked(f"network access attempted: {address!r}")

    monkeypatch.setattr(socket.socket, "connect", guard)
    monkeypatch.setattr(socket.socket, "connect_ex", guard)
    monkeypatch.setattr(socket, "create_connection", lambda address, *a, **k: guard(None, address))
    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: guard(None, host))
    return attempts


@pytest.fixture(scope="session")
def sample_run(tmp_path_factory):
    """``attune analyze`` on the sample with outbound sockets blocked (models load here too)."""
    from pipeline.cli import main
    from pipeline.result import Result

    out = tmp_path_factory.mktemp("sample") / "consultation.attune"
    attempts = []

    def guard(self, address, *a, **k):
        attempts.append(address)
        raise NetworkBlocked(f"network access attempted: {address!r}")

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(socket.socket, "connect", guard)
        mp.setattr(socket.socket, "connect_ex", guard)
        mp.setattr(socket, "create_connection", lambda address, *a, **k: guard(None, address))
        mp.setattr(socket, "getaddrinfo", lambda host, *a, **k: guard(None, host))
        r = CliRunner().invoke(main, ["analyze", str(SAMPLE), "-o", str(out), "--json", "--quiet"])
    assert r.exit_code == 0, (r.output, r.stderr)
    return {"stdout": r.stdout, "out": out, "attempts": attempts, "result": Result.load(out / "result.json")}
