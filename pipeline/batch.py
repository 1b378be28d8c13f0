"""Many recordings: ``attune batch`` on Dask (a local cluster or an existing one).

* Inputs: files, folders (audio and video files in them; ``recursive`` for sub-folders) and
  glob patterns. One output folder per recording under the batch's output folder.
* Resumable: a recording whose audio (sha256) was already analysed with the same options
  is skipped (its row is in the results database and its result.json exists), unless
  ``force``. Outputs and database rows are written per recording, atomically, so an
  interrupted batch loses at most the recordings in progress.
* One failing recording is reported and does not stop the others.
* Work runs on Dask workers: a ``LocalCluster`` of ``workers`` processes (no dashboard,
  bound to this machine) or, with ``scheduler``, an existing Dask cluster. Each worker
  process loads the models once (``pipeline.analysis`` keeps them per process) and reuses
  them for every recording it gets. Only the client writes the database.
"""

from __future__ import annotations

import glob
import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Optional, Sequence

from .errors import AttuneError, Cancelled, InputError, OutputError, bug_summary

AUDIO_EXTENSIONS = {
    ".wav",
    ".flac",
    ".mp3",
    ".m4a",
    ".aac",
    ".ogg",
    ".oga",
    ".opus",
    ".webm",
    ".mp4",
    ".mov",
    ".mkv",
    ".wma",
    ".aif",
    ".aiff",
    ".amr",
    ".3gp",
}
SCHEDULER_TIMEOUT_S = 10
NANNY_ENV_UNSET = ("MALLOC_TRIM_THRESHOLD_", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")


def expand_inputs(inputs: Sequence[str], recursive: bool = False) -> list[Path]:
    """Files as given; audio/video files inside folders; glob patterns expanded."""
    found: list[Path] = []
    for item in inputs:
        if any(ch in item for ch in "*?["):
            matches = sorted(glob.glob(item, recursive=recursive))
            if not matches:
                raise InputError(f"{item}: no file matches this pattern")
            found += [Path(m) for m in matches if Path(m).is_file()]
            continue
        p = Path(item)
        if p.is_dir():
            walker = p.rglob("*") if recursive else p.glob("*")
            found += sorted(f for f in walker if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS)
        elif p.exists():
            found.append(p)
        else:
            raise InputError(f"{p}: no such file or folder")
    unique, seen = [], set()
    for f in found:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique


def safe_stem(path: Path) -> str:
    """A folder name from a file name that stays inside its parent: no leading dots or spaces
    (``..wav`` and ``...wav`` would name the parent folder), no separators, never empty."""
    stem = path.stem.replace("/", "_").replace("\\", "_").lstrip(". ").rstrip(" ")
    return stem or "recording"


def output_dirs(paths: Sequence[Path], out_dir: Path) -> list[Path]:
    """``OUTDIR/<safe stem>``, with a short hash of the full path when two names collide."""
    stems = [safe_stem(p) for p in paths]
    out = []
    for p, stem in zip(paths, stems):
        if stems.count(stem) > 1:
            stem = f"{stem}-{hashlib.sha256(str(p.resolve()).encode()).hexdigest()[:8]}"
        out.append(out_dir / stem)
    return out


@dataclass
class Job:
    path: str
    out_dir: str
    labels: dict = field(default_factory=dict)


def run_job(
    job: Job,
    options: dict,
    include_audio: bool,
    private: bool,
    redact: bool = False,
    progress_dir: Optional[str] = None,
) -> dict:
    """Analyse one recording on a worker; returns its status (and result, for the database).
    ``progress_dir``: where the job reports its steps (``progress.json``) and finds a
    ``cancel`` file (:class:`~pipeline.hooks.ProgressFile`; the app's queue)."""
    from .analysis import Analyzer
    from .folder import FolderOptions, analyze_to_folder
    from .hooks import Hooks, ProgressFile
    from .options import AnalysisOptions

    hooks = None
    if progress_dir is not None:
        hooks = Hooks([ProgressFile.for_folder(progress_dir)])
    t0 = time.perf_counter()
    relax_malloc_trim()
    try:
        done = analyze_to_folder(
            job.path,
            Path(job.out_dir),
            Analyzer(AnalysisOptions.from_dict(options), hooks),
            FolderOptions(include_audio=include_audio, redact=redact, private=private),
            labels=job.labels,
        )
        return {
            "path": job.path,
            "status": "done",
            "seconds": time.perf_counter() - t0,
            "result": done.result.to_dict(),
            "out_dir": job.out_dir,
            "labels": job.labels,
        }
    except Cancelled as exc:
        return {"path": job.path, "status": "cancelled", "reason": str(exc), "seconds": time.perf_counter() - t0}
    except AttuneError as exc:
        return {
            "path": job.path,
            "status": "failed",
            "reason": str(exc),
            "error": (exc.template, exc.params),
            "seconds": time.perf_counter() - t0,
        }
    except Exception as exc:  # a bug on one recording must not stop the batch
        return {
            "path": job.path,
            "status": "failed",
            "seconds": time.perf_counter() - t0,
            "reason": f"internal error: {bug_summary(exc)}",
        }


_MALLOC_RELAXED = False


def relax_malloc_trim() -> None:
    """Undo a Dask nanny's ``MALLOC_TRIM_THRESHOLD_`` in a worker of an existing cluster.

    A fixed trim threshold turns off glibc's dynamic mmap threshold, so every buffer over
    128 KiB is mapped and unmapped again: the analysis spent 6x the system time. Raising
    both thresholds (mmap 32 MiB, trim 64 MiB, glibc's own upper values) restores the speed
    (measured: 115 -> 69 s for a 457 s consultation). Only on glibc, only once per process.
    """
    global _MALLOC_RELAXED
    if _MALLOC_RELAXED or "MALLOC_TRIM_THRESHOLD_" not in os.environ:
        return
    _MALLOC_RELAXED = True
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(-3, 32 * 1024 * 1024)  # M_MMAP_THRESHOLD
        libc.mallopt(-1, 64 * 1024 * 1024)  # M_TRIM_THRESHOLD
    except (OSError, AttributeError):  # not glibc
        pass


@dataclass
class BatchSummary:
    done: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    relabelled: list[int] = field(default_factory=list)  # skipped ones whose labels were updated
    failed: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    def record(self, store, res: dict, describe: Callable[[dict], str] = lambda res: res["reason"]) -> None:
        """Take one job's outcome: a finished analysis goes into the results database (only
        this process writes it); a failure is kept with its reason (``describe`` words it)."""
        if res["status"] != "done":
            self.failed.append((res["path"], describe(res)))
            return
        from .result import Result

        try:
            store.record(
                Result.from_dict(res["result"]), res["labels"], result_path=str(Path(res["out_dir"]) / "result.json")
            )
            self.done.append(res["path"])
        except OutputError as exc:  # outputs are written; the next run records it
            self.failed.append((res["path"], f"analysed, but not recorded: {exc}"))


def plan(
    paths: Sequence[Path], out_dir: Path, options_parameters: dict, store, force: bool, labels: dict[Path, dict]
) -> tuple[list[Job], list[str], list[tuple[int, dict]]]:
    """Jobs to run, the recordings skipped because they are already done, and those of the
    skipped whose labels have changed since (``(analysis id, new labels)``: a manifest typo
    fixed is relabelled, not analysed again; a run that gives a recording no labels at all keeps
    the ones it has)."""
    from .audio import file_sha256

    jobs, skipped, changed = [], [], []
    for p, od in zip(paths, output_dirs(paths, out_dir)):
        want = labels.get(p.resolve(), {})
        if not force and store is not None and (od / "result.json").is_file():
            try:
                sha = file_sha256(p)
            except OSError:
                sha = None
            row = store.find(sha, options_parameters) if sha is not None else None
            if row is not None:
                skipped.append(str(p))
                if want and row["labels"] != want:  # a run without labels leaves the old ones alone
                    changed.append((row["id"], want))
                continue
        jobs.append(Job(str(p), str(od), want))
    return jobs, skipped, changed


def run_batch(
    jobs: Sequence[Job],
    options: dict,
    *,
    workers: int = 1,
    scheduler: Optional[str] = None,
    include_audio: bool = True,
    private: bool = True,
    on_result: Optional[Callable[[dict], None]] = None,
    redact: bool = False,
    on_note: Optional[Callable[[str], None]] = None,
    task: Callable[..., dict] = run_job,
) -> list[dict]:
    """Run the jobs on Dask; ``on_result`` is called in this process as each one finishes, and
    ``on_note`` with anything the user should know about how they run (no loopback network).
    ``task`` is what each job runs (:func:`run_job`; tests give a worker that dies)."""
    if not jobs:
        return []
    # Dask's scratch space and lock files: a private folder (0700), removed at the end
    scratch = tempfile.mkdtemp(prefix="attune-batch-")
    configure_dask(scratch)
    from distributed import as_completed

    cluster = None
    try:
        client, cluster = connect(scheduler, workers, scratch, on_note)
        out = []
        try:
            futures = {
                client.submit(task, job, options, include_audio, private, redact, pure=False): job for job in jobs
            }
            for fut in as_completed(futures):
                try:
                    res = fut.result()
                except BaseException as exc:  # the worker died, or the scheduler was lost
                    if isinstance(exc, (KeyboardInterrupt, SystemExit)):
                        raise
                    res = {"path": futures[fut].path, "status": "failed", "reason": worker_failure(exc, scheduler)}
                out.append(res)
                if on_result is not None:
                    on_result(res)
        finally:
            client.close()
        return out
    finally:
        if cluster is not None:
            cluster.close()
        shutil.rmtree(scratch, ignore_errors=True)


def worker_failure(exc: BaseException, scheduler: Optional[str] = None) -> str:
    """Why a recording's analysis never came back, in the user's words: its worker process
    died (killed, or out of memory: Dask retries it once on a fresh worker first), or the
    connection to the scheduler was lost. The recording is named by the caller."""
    name = type(exc).__name__
    text = str(exc)
    if name == "KilledWorker":
        return "the worker process analysing it stopped twice (killed, or out of memory?); the other recordings went on"
    if "scheduler-connection-lost" in text or name in ("CommClosedError", "FutureCancelledError", "CancelledError"):
        where = f" at {scheduler}" if scheduler else ""
        return f"the connection to the Dask scheduler{where} was lost; run the batch again to do the rest"
    return f"its worker failed ({name}: {' '.join(text.split())})"


def configure_dask(scratch: str) -> None:
    """No dashboard or other HTTP endpoints (nothing to see from outside, nothing to leak), no
    statistical profiler in the workers (it samples every thread's stack every 10 ms), and
    scratch files in ``scratch``."""
    import logging

    import dask

    dask.config.set(
        {
            "temporary-directory": scratch,
            "distributed.admin.tick.limit": "1h",
            "distributed.diagnostics.nvml": False,
            "distributed.scheduler.http.routes": [],
            "distributed.worker.http.routes": [],
            "distributed.worker.profile.enabled": False,
            "distributed.worker.profile.interval": "10s",
            "distributed.worker.profile.cycle": "60s",
            # a worker's death or a lost scheduler is reported per recording (worker_failure):
            # distributed's own ERROR lines and tracebacks would only repeat it, despite -q
            "logging.distributed": "critical",
            # a recording that kills its worker (out of memory) is tried once more, not three times
            "distributed.scheduler.allowed-failures": 1,
            # the nanny's defaults for worker processes (MALLOC_TRIM_THRESHOLD_=65536 and
            # OMP/MKL/OPENBLAS_NUM_THREADS=1) made each analysis 1.8x slower here (system
            # time 9 -> 58 s): the analysis sets its own thread counts
            **{f"distributed.nanny.pre-spawn-environ.{k}": None for k in NANNY_ENV_UNSET},
        }
    )
    import distributed  # noqa: F401  # its import sets its loggers' levels: override them after

    for name in ["distributed", *logging.root.manager.loggerDict]:
        if name == "distributed" or name.startswith("distributed."):
            logging.getLogger(name).setLevel(logging.CRITICAL)
    # A worker process killed (or left at Ctrl-C) leaves semaphores that multiprocessing's
    # resource tracker removes at exit, with a "leaked semaphore" UserWarning: noise, as they
    # are cleaned up. The tracker is a child process, so it takes this from the environment.
    quiet = "ignore:resource_tracker:UserWarning"
    current = os.environ.get("PYTHONWARNINGS", "")
    if quiet not in current:
        os.environ["PYTHONWARNINGS"] = f"{current},{quiet}" if current else quiet


def _client_within(scheduler: str, seconds: float):
    """A Client of the Dask scheduler at ``scheduler``, or one :class:`AttuneError` within about
    ``seconds``: Dask's own timeout does not cover a server that accepts the connection and
    then never answers (an HTTP server, say), so the connection is made in a daemon thread
    that is abandoned when it takes too long."""
    import threading

    from distributed import Client

    outcome: dict = {}

    def attempt() -> None:
        try:
            outcome["client"] = Client(scheduler, timeout=f"{seconds}s")
        except BaseException as exc:  # any failure is reported below, in the caller's thread
            outcome["error"] = exc

    thread = threading.Thread(target=attempt, name="attune-dask-connect", daemon=True)
    thread.start()
    thread.join(seconds)
    if "client" in outcome:
        return outcome["client"]
    why = type(outcome["error"]).__name__ if "error" in outcome else "no answer"
    raise AttuneError(
        f"{{scheduler}} {scheduler}: no Dask scheduler answered within {seconds:g} s ({why})", "scheduler"
    )


def connect(scheduler: Optional[str], workers: int, scratch: str, on_note: Optional[Callable[[str], None]] = None):
    """(client, local cluster or None): the given scheduler, or local worker processes; in
    threads of this process when the loopback network is down (a sandbox without ``lo``),
    where worker processes could never reach their scheduler."""
    from distributed import Client, LocalCluster

    if scheduler:
        return _client_within(scheduler, SCHEDULER_TIMEOUT_S), None
    common = dict(n_workers=workers, threads_per_worker=1, dashboard_address=None, silence_logs=50)
    if loopback_works():
        cluster = LocalCluster(processes=True, host="127.0.0.1", local_directory=scratch, **common)
    else:
        if on_note is not None:
            on_note(
                "the loopback network (127.0.0.1) is down, so the analyses run in this process "
                f"({workers} at a time) instead of in worker processes"
            )
        cluster = LocalCluster(processes=False, **common)  # in-process transport: no sockets
    try:
        return Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


def loopback_works(timeout_s: float = 2.0) -> bool:
    """Whether a TCP connection to 127.0.0.1 can be made (not in a network namespace whose
    ``lo`` is down, where binding works but every connection fails)."""
    import socket

    try:
        with socket.socket() as server:
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            with socket.create_connection(server.getsockname(), timeout=timeout_s):
                return True
    except OSError:
        return False


def default_workers() -> int:
    """Worker processes for this machine: each analysis runs two stages side by side, so
    one worker per two cores keeps the threads from oversubscribing the CPU."""
    from .options import cpu_cores

    return max(1, cpu_cores() // 2)
