"""Progress and timing hooks, kept out of the algorithms (in the spirit of pyannote's ``Hooks``).

A stage reports through :class:`Hooks`: ``with hooks.step("asr", total=seconds) as update:``
times the step and lets it report how far it is (``update(done, total)``). What happens
with that is up to the hooks attached:

* :class:`TimingHook` keeps each step's seconds (``result.timings``);
* :class:`ProgressBars` draws one terminal bar per step that reports progress;
* an application can add its own (a live queue in a web page), with the same three methods.

Steps may run in several threads at once (speech-to-text beside diarization).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import weakref
from contextlib import contextmanager
from typing import Callable, Iterator, Optional, Sequence

Update = Callable[..., None]  # update(done, total=None)


class Hook:
    """Receives the steps of an analysis. Every method may be left as it is."""

    def started(self, step: str, total: Optional[float], unit: str) -> None:
        """``step`` began; ``total`` is set when it will report progress (in ``unit``)."""

    def progressed(self, step: str, done: float, total: Optional[float]) -> None:
        """``step`` has done ``done`` of ``total``."""

    def failed(self, step: str, error: BaseException) -> None:
        """``step`` is ending with ``error`` (Ctrl-C included); :meth:`finished` follows."""

    def finished(self, step: str, seconds: float) -> None:
        """``step`` ended (or failed) after ``seconds`` of wall time."""


class Hooks:
    """The hooks of one analysis; :meth:`step` is what a stage calls."""

    def __init__(self, hooks: Sequence[Hook] = ()):
        self.hooks = list(hooks)

    def add(self, hook: Hook) -> "Hooks":
        self.hooks.append(hook)
        return self

    @contextmanager
    def step(self, name: str, total: Optional[float] = None, unit: str = "s") -> Iterator[Update]:
        for h in self.hooks:
            h.started(name, total, unit)

        def update(done: float, new_total: Optional[float] = None) -> None:
            for h in self.hooks:
                h.progressed(name, done, new_total)

        t0 = time.perf_counter()
        try:
            yield update
        except BaseException as exc:
            for h in self.hooks:
                h.failed(name, exc)
            raise
        finally:
            seconds = time.perf_counter() - t0
            for h in self.hooks:
                h.finished(name, seconds)

    def timing(self) -> "TimingHook":
        """The attached :class:`TimingHook` (one is added if there is none)."""
        for h in self.hooks:
            if isinstance(h, TimingHook):
                return h
        hook = TimingHook()
        self.add(hook)
        return hook


class TimingHook(Hook):
    """Seconds per step (a step run twice adds up)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._lock = threading.Lock()

    def finished(self, step: str, seconds: float) -> None:
        with self._lock:
            self.seconds[step] = self.seconds.get(step, 0.0) + seconds


class ProgressBars(Hook):
    """One tqdm bar on stderr per step that reports progress, and a status line ("loading
    models…") for the silent steps before them (all off when stderr is no terminal)."""

    LABELS = {"asr": "transcribe", "diarization": "diarize"}
    POSITIONS = {"asr": 0, "diarization": 1}
    STATUS = {"decode": "reading the recording…", "load_models": "loading models…"}
    _live: "weakref.WeakSet[ProgressBars]"

    def __init__(self, enabled: Optional[bool] = None):
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._bars: dict[str, object] = {}
        self._status: Optional[str] = None
        self._lock = threading.Lock()
        ProgressBars._live.add(self)

    @classmethod
    def stop_all(cls) -> None:
        """Clear every bar and status line from the terminal and draw nothing more: what a
        Ctrl-C handler calls before its message, which would otherwise land on a bar's line
        (and be drawn over by the threads still running)."""
        for bars in list(cls._live):
            bars.stop()

    def stop(self) -> None:
        with self._lock:
            self.enabled = False
            bars, self._bars = list(self._bars.values()), {}
            status, self._status = self._status, None
        for bar in bars:
            bar.leave = False  # type: ignore[attr-defined]  # close() then clears its line
            bar.close()  # type: ignore[attr-defined]
        if status is not None:
            self._write("\r\x1b[K")

    @staticmethod
    def _write(text: str) -> None:
        try:
            sys.stderr.write(text)
            sys.stderr.flush()
        except (OSError, ValueError):  # a closed terminal: nothing to draw on
            pass

    def started(self, step: str, total: Optional[float], unit: str) -> None:
        if not self.enabled:
            return
        if total is None:
            if step in self.STATUS:
                with self._lock:
                    self._status = step
                self._write("\r\x1b[K" + self.STATUS[step])
            return
        from tqdm import tqdm

        with self._lock:
            if self._status is not None:
                self._status = None
                self._write("\r\x1b[K")
            self._bars[step] = tqdm(
                total=round(total, 1),
                desc=f"{self.LABELS.get(step, step):<12}",
                unit=unit,
                file=sys.stderr,
                leave=True,
                position=self.POSITIONS.get(step, len(self._bars)),
                bar_format="{desc} {percentage:3.0f}%|{bar:30}| {n:.0f}/{total:.0f} {unit} [{elapsed}<{remaining}]",
            )

    def progressed(self, step: str, done: float, total: Optional[float]) -> None:
        bar = self._bars.get(step)
        if bar is None or not self.enabled:
            return
        if total is not None and abs(bar.total - total) > 1e-9:  # type: ignore[attr-defined]
            bar.total = round(total, 1)  # type: ignore[attr-defined]
        bar.n = round(min(done, bar.total), 1)  # type: ignore[attr-defined]
        bar.refresh()  # type: ignore[attr-defined]

    def _release(self, step: str):
        """Take ``step``'s bar off the screen's list and clear its status line, if it has one;
        returns the bar (or None)."""
        with self._lock:
            bar = self._bars.pop(step, None)
            status = self._status == step
            if status:
                self._status = None
        if status:
            self._write("\r\x1b[K")
        return bar

    def failed(self, step: str, error: BaseException) -> None:
        """A failed step's bar is removed, not filled to 100 %."""
        bar = self._release(step)
        if bar is not None:
            bar.leave = False  # type: ignore[attr-defined]
            bar.close()  # type: ignore[attr-defined]

    def finished(self, step: str, seconds: float) -> None:
        bar = self._release(step)
        if bar is None:
            return
        if bar.n < bar.total:  # type: ignore[attr-defined]
            bar.n = bar.total  # type: ignore[attr-defined]
            bar.refresh()  # type: ignore[attr-defined]
        bar.close()  # type: ignore[attr-defined]


ProgressBars._live = weakref.WeakSet()


class ProgressFile(Hook):
    """Each step's progress as a small JSON file (``{"steps": {name: {done, total, unit,
    state}}, "updated": time}``), rewritten atomically at most every ``every_s``, for a process
    that watches an analysis running in another (the app's queue). When the file
    ``cancel_path`` appears, the next step start or progress report raises
    :class:`~pipeline.errors.Cancelled`, which ends the analysis before anything is written."""

    FILE, CANCEL = "progress.json", "cancel"  # their names in a job's folder (for_folder)

    @classmethod
    def for_folder(cls, folder: str) -> "ProgressFile":
        """The progress file and cancel flag of a job whose folder is ``folder``."""
        return cls(os.path.join(folder, cls.FILE), os.path.join(folder, cls.CANCEL))

    def __init__(self, path: str, cancel_path: Optional[str] = None, every_s: float = 0.5):
        self.path, self.cancel_path, self.every_s = path, cancel_path, every_s
        self.steps: dict[str, dict] = {}
        self.created = time.time()
        self._last = 0.0
        self._lock = threading.Lock()

    def _check_cancel(self) -> None:
        if self.cancel_path and os.path.exists(self.cancel_path):
            from .errors import Cancelled

            raise Cancelled("cancelled before it finished; nothing was written")

    def _write(self, force: bool = False) -> None:
        now = time.time()
        with self._lock:
            if not force and now - self._last < self.every_s:
                return
            self._last = now
            data = json.dumps({"steps": self.steps, "started": self.created, "updated": now})
        tmp = f"{self.path}.{threading.get_ident()}.tmp"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(data)
            os.replace(tmp, self.path)
        except OSError:  # the watcher's folder is gone (the job was deleted): nothing to report to
            pass

    def started(self, step: str, total: Optional[float], unit: str) -> None:
        self._check_cancel()
        with self._lock:
            self.steps[step] = {"done": 0.0, "total": total, "unit": unit, "state": "running"}
        self._write(force=True)

    def progressed(self, step: str, done: float, total: Optional[float]) -> None:
        with self._lock:
            s = self.steps.setdefault(step, {"done": 0.0, "total": total, "unit": "s", "state": "running"})
            s["done"] = done
            if total is not None:
                s["total"] = total
        self._write()
        self._check_cancel()

    def finished(self, step: str, seconds: float) -> None:
        with self._lock:
            s = self.steps.setdefault(step, {"done": 0.0, "total": None, "unit": "s"})
            s["state"], s["seconds"] = "done", round(seconds, 2)
            if s.get("total") is not None:
                s["done"] = s["total"]
        self._write(force=True)
