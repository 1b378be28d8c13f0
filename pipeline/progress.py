"""Progress bars per stage on stderr (off when quiet or when stderr is not a terminal)."""

from __future__ import annotations

import sys
from contextlib import contextmanager
from typing import Iterator, Optional


class Progress:
    """Draws one bar per pipeline stage with tqdm, or nothing at all."""

    def __init__(self, enabled: Optional[bool] = None):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.enabled = enabled

    @contextmanager
    def stage(self, name: str, total: float = 1.0, unit: str = "s", position: int = 0) -> Iterator["_Bar"]:
        if not self.enabled:
            yield _Bar(None)
            return
        from tqdm import tqdm

        bar = tqdm(
            total=round(total, 1),
            desc=f"{name:<12}",
            unit=unit,
            file=sys.stderr,
            leave=True,
            position=position,
            bar_format="{desc} {percentage:3.0f}%|{bar:30}| {n:.0f}/{total:.0f} {unit} [{elapsed}<{remaining}]",
        )
        try:
            yield _Bar(bar)
        finally:
            if bar.n < bar.total:
                bar.n = bar.total
                bar.refresh()
            bar.close()


class _Bar:
    def __init__(self, bar):
        self._bar = bar

    def update_to(self, done: float, total: Optional[float] = None) -> None:
        if self._bar is None:
            return
        if total is not None and abs(self._bar.total - total) > 1e-9:
            self._bar.total = round(total, 1)
        self._bar.n = round(min(done, self._bar.total), 1)
        self._bar.refresh()
