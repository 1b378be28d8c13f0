"""Shared fixtures: the bundled sample, short clips made from it, and the one real-model run."""

from __future__ import annotations

import json
import os
import shutil
import socket
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from helpers import SAMPLE, SAMPLE_REF, NetworkBlocked

# the tests never touch the user's own voice book (a folder removed when the session ends)
_DATA_DIR = tempfile.mkdtemp(prefix="attune-test-data-")
os.environ["ATTUNE_DATA_DIR"] = _DATA_DIR


def pytest_sessionfinish(session, exitstatus):
    shutil.rmtree(_DATA_DIR, ignore_errors=True)


FAST_GUARDS = {
    # what a fast test (-m "not models and not browser and not strace") may not do -> its marker
    "faster_whisper.WhisperModel.__init__": "models",
    "pipeline.diarize.Diarizer._build_default": "models",
    "pipeline.embedding.CamPlusPlus.__init__": "models",
    "pipeline.redact._analyzer": "models",
    "helpers.chromium_page": "browser",
}


def pytest_configure(config):
    """On the fast path, loading a model or starting Chromium fails the test at once,
    naming the marker it lacks (so that `make test-fast` stays fast and honest)."""
    expr = config.option.markexpr or ""
    if "not models" not in expr:
        return
    import importlib

    for target, marker in FAST_GUARDS.items():
        module_name, _, attr = target.rpartition(".")
        owner_name, cls = module_name, None
        try:
            owner = importlib.import_module(module_name)
        except ImportError:  # Class.method
            owner_name, _, cls = module_name.rpartition(".")
            owner = getattr(importlib.import_module(owner_name), cls)

        def refuse(*_a, _target=target, _marker=marker, **_k):
            raise RuntimeError(f"a fast test called {_target}: mark the test @pytest.mark.{_marker}")

        setattr(owner, attr, refuse)


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
