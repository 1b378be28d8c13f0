"""The app's queue: each uploaded recording is a job, analysed by :func:`pipeline.batch.run_job`
on a Dask LocalCluster (the machinery of ``attune batch``: models loaded once per worker).

Jobs are kept in ``jobs.json`` (0600), rewritten atomically at each change, so that a job
never vanishes: one that was queued or running when the app stopped shows as *interrupted*
at the next start, with a Retry. A running job reports its steps through
:class:`pipeline.hooks.ProgressFile` (``uploads/<job>/progress.json``) and stops at its next
step when ``uploads/<job>/cancel`` appears; outputs are only ever written whole.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Optional

from ..hooks import ProgressFile
from .config import AppConfig

ACTIVE = ("queued", "running", "cancelling")
INTERRUPTED = "the app was stopped before this finished; nothing was written"
STAGES = [  # (step of the analysis, what the page calls it)
    ("decode", "Reading the recording"),
    ("load_models", "Loading the models"),
    ("asr", "Transcribing"),
    ("diarization", "Finding who spoke when"),
    ("align", "Putting words and speakers together"),
    ("metrics", "Measuring"),
    ("quality", "Checking how far to trust it"),
]


@dataclass
class Job:
    id: str
    name: str  # the uploaded file's name as the user knows it (shown, never used as a path)
    audio: str
    out_dir: str
    labels: dict = field(default_factory=dict)
    options: dict = field(default_factory=dict)
    redact: bool = False
    status: str = "queued"  # queued, running, cancelling, done, failed, cancelled, interrupted
    reason: str = ""
    created: float = field(default_factory=time.time)
    finished: Optional[float] = None
    analysis_id: Optional[int] = None
    duration_s: float = 0.0


def new_id() -> str:
    return time.strftime("%Y%m%d-%H%M%S-") + secrets.token_hex(3)


class JobQueue:
    """Jobs, their persistence and their execution (thread-safe)."""

    def __init__(self, config: AppConfig):
        self.config = config
        self._lock = threading.RLock()
        self._futures: dict[str, object] = {}
        self._client = None
        self._cluster = None
        self._scratch: Optional[str] = None
        self.jobs: dict[str, Job] = self._load()

    # ---- persistence
    def _load(self) -> dict[str, Job]:
        path = self.config.jobs_file
        if not path.is_file():
            return {}
        try:
            rows = json.loads(path.read_text(encoding="utf-8"))
            jobs = {r["id"]: Job(**r) for r in rows}
        except (OSError, ValueError, TypeError, KeyError):
            broken = path.with_name(f"jobs.broken-{int(time.time())}.json")
            os.replace(path, broken)  # kept for a person to look at, not silently lost
            return {}
        for j in jobs.values():
            if j.status in ACTIVE:
                j.status, j.reason = "interrupted", INTERRUPTED
        return jobs

    def _save(self) -> None:
        with self._lock:
            rows = [asdict(j) for j in self.jobs.values()]
        path = self.config.jobs_file
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".jobs.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(rows, fh, indent=1)
            os.replace(tmp, path)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise

    # ---- the cluster
    def start(self) -> None:
        """Start the workers now (call it from the main thread): they are started with Ctrl-C
        ignored, so that only this process handles it (a terminal sends it to every process of
        the group) and the workers are stopped by it, without tracebacks."""
        import signal

        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            self._ensure_client()
        finally:
            signal.signal(signal.SIGINT, previous)

    def _ensure_client(self):
        with self._lock:
            if self._client is None:
                from ..batch import configure_dask, connect

                self._scratch = tempfile.mkdtemp(prefix="attune-app-dask-")
                configure_dask(self._scratch)
                self._client, self._cluster = connect(None, self.config.workers, self._scratch)
            return self._client

    def close(self) -> None:
        """Stop the workers (a running analysis ends with them; it writes nothing): every job
        not finished is marked interrupted now, and what it may have started is removed."""
        with self._lock:
            client, cluster, self._client, self._cluster = self._client, self._cluster, None, None
            active = [j for j in self.jobs.values() if j.status in ACTIVE]
            for j in active:
                j.status, j.reason = "interrupted", INTERRUPTED
        for thing in (client, cluster):
            if thing is not None:
                try:
                    thing.close()  # type: ignore[attr-defined]
                except Exception:  # already gone at interpreter shutdown
                    pass
        if self._scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)
        for j in active:
            out = Path(j.out_dir)
            if not (out / "result.json").is_file():
                shutil.rmtree(out, ignore_errors=True)  # only temporary files could be in it
            self._clear_markers(j)
        if active:
            self._save()

    # ---- jobs
    def folder(self, job: Job) -> Path:
        return Path(job.audio).parent

    def _clear_markers(self, job: Job) -> None:
        for name in (ProgressFile.CANCEL, ProgressFile.FILE):  # what a job and the queue exchange
            try:
                (self.folder(job) / name).unlink()
            except OSError:  # not there
                pass

    def add(self, job: Job) -> Job:
        with self._lock:
            self.jobs[job.id] = job
        self._save()
        if self.config.start_jobs:
            self._submit(job)
        return job

    def _submit(self, job: Job) -> None:
        from ..batch import Job as BatchJob
        from ..batch import run_job

        options = {**self.config.options, **job.options}
        client = self._ensure_client()
        batch_job = BatchJob(job.audio, job.out_dir, dict(job.labels))
        progress_dir = str(self.folder(job))
        future = client.submit(  # type: ignore[attr-defined]
            run_job, batch_job, options, True, True, job.redact, progress_dir, pure=False
        )
        with self._lock:
            self._futures[job.id] = future
        future.add_done_callback(lambda f, job_id=job.id: self._finished(job_id, f))

    def _finished(self, job_id: str, future) -> None:
        try:
            res = future.result()
        except BaseException as exc:  # the worker died, or the job was cancelled before it ran
            from ..batch import worker_failure

            name = type(exc).__name__
            res = {"status": "cancelled" if "Cancelled" in name else "failed", "reason": worker_failure(exc)}
        with self._lock:
            job = self.jobs.get(job_id)
            self._futures.pop(job_id, None)
        if job is None:  # deleted meanwhile: remove what it may have written
            shutil.rmtree(self._result_dir(job_id), ignore_errors=True)
            return
        if job.status == "interrupted":  # the app is stopping (close): that is what happened
            return
        job.finished = time.time()
        if res["status"] == "done":
            job.analysis_id = self._record(job, res)
            job.status, job.reason = "done", ""
            job.duration_s = float(res["result"]["recording"]["duration_s"])
        elif res["status"] == "cancelled":
            job.status, job.reason = "cancelled", "cancelled; nothing was written"
        else:
            job.status, job.reason = "failed", str(res.get("reason", "failed"))
        self._save()

    def _result_dir(self, job_id: str) -> Path:
        return self.config.results / job_id

    def _record(self, job: Job, res: dict) -> Optional[int]:
        from ..result import Result
        from ..store import Store

        try:
            with Store(self.config.db) as store:
                return store.record(
                    Result.from_dict(res["result"]), job.labels, result_path=str(Path(job.out_dir) / "result.json")
                )
        except Exception as exc:  # outputs are written; the row is what is missing
            job.reason = f"analysed, but not recorded in the results database: {exc}"
            return None

    def cancel(self, job_id: str) -> Job:
        with self._lock:
            job = self.jobs[job_id]
            if job.status not in ACTIVE:
                return job
            (self.folder(job) / ProgressFile.CANCEL).touch()
            future = self._futures.get(job_id)
            if future is not None and job.status == "queued" and not self.progress(job)["steps"]:
                future.cancel()  # type: ignore[attr-defined]  # not started yet: never runs
            job.status = "cancelling"
        self._save()
        return job

    def retry(self, job_id: str) -> Job:
        with self._lock:
            job = self.jobs[job_id]
            if job.status not in ("interrupted", "failed", "cancelled") or not Path(job.audio).is_file():
                return job
            self._clear_markers(job)
            job.status, job.reason, job.finished = "queued", "", None
        self._save()
        if self.config.start_jobs:
            self._submit(job)
        return job

    def forget(self, job_id: str) -> Optional[Job]:
        """Remove a job and its uploaded recording (its analysis is deleted by the library)."""
        with self._lock:
            job = self.jobs.pop(job_id, None)
        if job is None:
            return None
        if job.status in ACTIVE:
            (self.folder(job) / ProgressFile.CANCEL).touch()
        shutil.rmtree(self.folder(job), ignore_errors=True)
        if job.status not in ACTIVE:
            shutil.rmtree(job.out_dir, ignore_errors=True)
        self._save()
        return job

    def by_analysis(self, analysis_id: int) -> Optional[Job]:
        with self._lock:
            return next((j for j in self.jobs.values() if j.analysis_id == analysis_id), None)

    # ---- progress
    def progress(self, job: Job) -> dict:
        """The job's steps for the page: each stage waiting/running/done (with a percentage
        for the long ones), the share done overall and the time left (None: not known yet)."""
        path = self.folder(job) / ProgressFile.FILE
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            data = {"steps": {}}
        steps = data.get("steps", {})
        if steps and job.status == "queued":
            job.status = "running"
        stages: list[dict] = []
        for key, label in STAGES:
            s = steps.get(key)
            state = "waiting" if s is None else s.get("state", "running")
            pct = None
            if s is not None and s.get("total"):
                pct = max(0.0, min(100.0, 100.0 * float(s.get("done", 0)) / float(s["total"])))
            stages.append({"key": key, "label": label, "state": state, "percent": pct})
        fractions = [
            st["percent"] / 100 for st in stages if st["key"] in ("asr", "diarization") and st["percent"] is not None
        ]
        done = sum(fractions) / len(fractions) if fractions else 0.0
        started = data.get("started")
        left = None
        if started and done >= 0.05 and job.status in ACTIVE:
            elapsed = time.time() - float(started)
            left = max(0.0, elapsed * (1 - done) / done * 1.1)
        return {"steps": steps, "stages": stages, "done": round(done, 3), "seconds_left": left}

    def view(self, job: Job) -> dict:
        """A job as the page shows it."""
        p = self.progress(job) if job.status in ACTIVE else {"stages": [], "done": 1.0, "seconds_left": None}
        return {
            "id": job.id,
            "name": job.name,
            "labels": job.labels,
            "status": job.status,
            "reason": job.reason,
            "created": job.created,
            "analysis_id": job.analysis_id,
            "stages": p["stages"],
            "done": p["done"],
            "seconds_left": p["seconds_left"],
            "can_cancel": job.status in ("queued", "running"),
            "can_retry": job.status in ("interrupted", "failed", "cancelled") and Path(job.audio).is_file(),
        }
