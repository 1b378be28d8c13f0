"""Medical data stays on the machine: no network connection from analyze, batch (its Dask
worker processes included), report or metrics; no transcript text in what the program
prints or logs unless --debug; the batch's scratch folder is private and removed."""

from __future__ import annotations

import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import ROOT, sample_clip

GUARD = Path(__file__).resolve().parent / "netguard"
pytestmark = [pytest.mark.models, pytest.mark.strace]


STRACE = shutil.which("strace")
INET = re.compile(r'sa_family=AF_INET6?, .*?(?:inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)")')


def outside_connections(trace: Path) -> list[str]:
    """connect/sendto system calls (any process, native code included) to a non-loopback address."""
    bad = []
    for line in trace.read_text(errors="replace").splitlines():
        m = INET.search(line)
        if m and not ipaddress.ip_address(m.group(1) or m.group(2)).is_loopback:
            bad.append(line.strip()[:200])
    return bad


def guarded(args: list[str], log: Path, timeout: int = 420, extra_env=None) -> subprocess.CompletedProcess:
    """Run ``attune ARGS`` in a fresh process with every non-loopback connection blocked and
    logged at the Python level, and, where strace exists, every connect/sendto system call
    of the process tree traced (native libraries cannot go round it); asserts none left the
    machine and the private temporary folder is gone."""
    tmp = log.parent / f"tmp-{log.stem}"
    tmp.mkdir(exist_ok=True)
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(GUARD), str(ROOT)]), ATTUNE_NETGUARD_LOG=str(log), TMPDIR=str(tmp)
    )
    env.update(extra_env or {})
    cmd = [sys.executable, "-m", "pipeline.cli", *args]
    trace = log.with_suffix(".strace")
    if STRACE:
        cmd = [STRACE, "-f", "-qq", "-e", "trace=connect,sendto,sendmsg", "-o", str(trace), *cmd]
    r = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if STRACE:
        assert outside_connections(trace) == []
    assert list(tmp.iterdir()) == []  # every scratch file went to the private folder, now removed
    return r


def test_the_guard_itself_catches_a_connection(tmp_path):
    log = tmp_path / "net.log"
    env = dict(os.environ, PYTHONPATH=str(GUARD), ATTUNE_NETGUARD_LOG=str(log))
    code = (
        "import urllib.request\ntry:\n    urllib.request.urlopen('http://203.0.113.7/', timeout=2)\n"
        "except OSError as e:\n    print('blocked', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    assert "blocked" in out.stdout
    assert "203.0.113.7" in log.read_text()


@pytest.fixture(scope="module")
def clips(tmp_path_factory):
    d = tmp_path_factory.mktemp("private-in")
    sample_clip(d / "opening.wav", 0, 20)
    sample_clip(d / "later.wav", 40, 52)
    return d


def test_no_network_and_no_transcript_in_output(clips, tmp_path):
    log = tmp_path / "net.log"
    out = tmp_path / "one"
    r = guarded(["analyze", str(clips / "opening.wav"), "-o", str(out), "--no-voices"], log)
    assert r.returncode == 0, r.stderr
    result = json.loads((out / "result.json").read_text())
    spoken = {w["text"].strip(".,?!").lower() for w in result["words"]}
    assert {"morning", "morgan", "brings"} <= spoken  # the transcript has them...
    printed = (r.stdout + r.stderr).lower()
    for word in ("morgan", "brings", "headaches"):
        assert word not in printed  # ...what the program prints does not
    assert "words" in r.stdout  # the summary is there, with counts only

    r = guarded(["report", str(out / "result.json"), "-o", str(tmp_path / "again.html")], log)
    assert r.returncode == 0, r.stderr
    r = guarded(["metrics", str(out / "result.json")], log)
    assert r.returncode == 0, r.stderr
    assert "clinician_talk_share" in r.stdout
    assert not log.exists(), log.read_text()


def test_batch_workers_make_no_network_connection(clips, tmp_path):
    log = tmp_path / "net.log"
    out = tmp_path / "batch"
    r = guarded(["batch", str(clips), "-o", str(out), "--workers", "1", "--no-voices", "-q", "--no-audio"], log)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 done" in r.stdout
    assert not log.exists(), log.read_text()  # the Dask workers ran with the same guard


def test_strace_parsing():
    import tempfile

    with tempfile.NamedTemporaryFile("w", suffix=".strace", delete=False) as fh:
        fh.write(
            '12 connect(3, {sa_family=AF_INET, sin_port=htons(8786), sin_addr=inet_addr("127.0.0.1")}, 16) = 0\n'
            '12 connect(4, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("93.184.216.34")}, 16) = -1\n'
            '13 sendto(5, "x", 1, 0, {sa_family=AF_INET6, sin6_port=htons(53), sin6_flowinfo=htonl(0), '
            'inet_pton(AF_INET6, "2001:db8::1", &sin6_addr), sin6_scope_id=0}, 28) = 1\n'
            '14 connect(6, {sa_family=AF_UNIX, sun_path="/run/x"}, 110) = 0\n'
        )
    bad = outside_connections(Path(fh.name))
    os.unlink(fh.name)
    assert len(bad) == 2 and "93.184.216.34" in bad[0] and "2001:db8::1" in bad[1]
