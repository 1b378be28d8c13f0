"""Issue 16 item 14: a dead worker or a lost scheduler names the recording and says what
happened, distributed's ERROR lines stay out of the output, and a machine whose loopback
network is down still runs a batch (in threads of its own process) instead of exiting 70."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

import pytest
from helpers import ROOT

from pipeline import batch as b


class KilledWorker(Exception):  # distributed's, by name (its module path is not needed)
    pass


class FutureCancelledError(Exception):
    pass


def test_worker_failure_says_what_happened():
    assert b.worker_failure(KilledWorker("Attempted to run task run_job-1 on 2 different workers")) == (
        "the worker process analysing it stopped twice (killed, or out of memory?); the other recordings went on"
    )
    lost = FutureCancelledError(
        "run_job-6 cancelled for reason: scheduler-connection-lost.\nClient lost the connection"
    )
    assert b.worker_failure(lost, "tcp://10.0.0.5:8786") == (
        "the connection to the Dask scheduler at tcp://10.0.0.5:8786 was lost; run the batch again to do the rest"
    )
    assert b.worker_failure(ValueError("two\nlines")) == "its worker failed (ValueError: two lines)"


def test_loopback_probe(monkeypatch):
    assert b.loopback_works() is True

    def refuse(*args, **kwargs):
        raise OSError(101, "Network is unreachable")

    monkeypatch.setattr(socket, "create_connection", refuse)
    assert b.loopback_works() is False


def _done(job, *args):
    return {"path": job.path, "status": "done-in-test"}


def _die(job, *args):
    os._exit(3)  # the worker process dies, as under the kernel's out-of-memory killer


def _sleep(job, *args):
    time.sleep(60)
    return {"path": job.path, "status": "done"}


def _jobs(tmp_path, n=2):
    return [b.Job(str(tmp_path / f"rec{i}.wav"), str(tmp_path / f"out{i}")) for i in range(n)]


@pytest.mark.models  # starts Dask worker processes (seconds each), so not in the fast path
def test_a_dead_worker_names_its_recording_and_prints_no_error_lines(tmp_path, capfd):
    jobs = _jobs(tmp_path, 1)
    out = b.run_batch(jobs, {}, workers=1, task=_die)
    assert out == [
        {
            "path": jobs[0].path,
            "status": "failed",
            "reason": "the worker process analysing it stopped twice (killed, or out of memory?); "
            "the other recordings went on",
        }
    ]
    err = capfd.readouterr().err
    assert "ERROR" not in err and "Traceback" not in err and "leaked semaphore" not in err, err


@pytest.mark.models
def test_without_loopback_the_batch_runs_in_this_process(tmp_path, monkeypatch):
    monkeypatch.setattr(b, "loopback_works", lambda: False)
    notes: list[str] = []
    out = b.run_batch(_jobs(tmp_path), {}, workers=2, task=_done, on_note=notes.append)
    assert sorted(r["path"] for r in out) == [str(tmp_path / "rec0.wav"), str(tmp_path / "rec1.wav")]
    assert {r["status"] for r in out} == {"done-in-test"}
    assert notes == [
        "the loopback network (127.0.0.1) is down, so the analyses run in this process (2 at a time) "
        "instead of in worker processes"
    ]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.models
def test_a_lost_scheduler_names_every_recording_it_took(tmp_path, capfd):
    dask = shutil.which("dask", path=os.path.dirname(sys.executable))
    if dask is None:
        pytest.skip("the dask command is not installed beside this Python")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    # the worker imports this module to run _sleep
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]))
    quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=ROOT, env=env)
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], **quiet
    )
    worker = None
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.3)
        worker = subprocess.Popen(
            [dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--local-directory", str(tmp_path)], **quiet
        )

        def kill_scheduler_soon():
            time.sleep(8)  # the worker has joined and taken the first job
            scheduler.send_signal(signal.SIGKILL)

        import threading

        threading.Thread(target=kill_scheduler_soon, daemon=True).start()
        jobs = _jobs(tmp_path)
        t0 = time.monotonic()
        out = b.run_batch(jobs, {}, scheduler=address, task=_sleep)
        assert time.monotonic() - t0 < 40
    finally:
        scheduler.kill()
        if worker is not None:
            worker.kill()
    assert sorted(r["path"] for r in out) == sorted(j.path for j in jobs)
    for r in out:
        assert r["status"] == "failed"
        assert r["reason"] == (
            f"the connection to the Dask scheduler at {address} was lost; run the batch again to do the rest"
        )
    err = capfd.readouterr().err
    assert "ERROR" not in err and "Traceback" not in err, err


@pytest.mark.models
def test_batch_in_a_network_namespace_without_loopback(tmp_path, clip_dir):
    """`unshare -n attune batch` exited 70 after 30 s (its workers could not reach 127.0.0.1)."""
    probe = subprocess.run(["unshare", "-rn", "true"], capture_output=True) if shutil.which("unshare") else None
    if probe is None or probe.returncode != 0:
        pytest.skip("unprivileged network namespaces are not available here")
    cmd = [sys.executable, "-m", "pipeline.cli", "batch", str(clip_dir / "clip.wav"), "-o", str(tmp_path / "o")]
    t0 = time.monotonic()
    r = subprocess.run(
        ["unshare", "-rn", *cmd, "--no-voices", "-q"], cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "batch: 1 done, 0 skipped" in r.stdout
    assert r.stderr.startswith("attune: note: the loopback network (127.0.0.1) is down")
    assert time.monotonic() - t0 < 120
