"""The app's configuration: one frozen dataclass, made once at launch."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1")
MAX_UPLOAD_MB = 2048  # one recording; about 4 hours of 48 kHz 16-bit mono WAV


def data_dir() -> Path:
    """The user's data folder: ``$ATTUNE_DATA_DIR``, else ``$XDG_DATA_HOME/attunement``, else
    ``~/.local/share/attunement`` (the voice book lives there too)."""
    env = os.environ.get("ATTUNE_DATA_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "attunement"


@dataclass(frozen=True)
class AppConfig:
    """Everything the app needs to know, fixed for one launch."""

    root: Path = field(default_factory=lambda: data_dir() / "app")  # uploads, results, attune.db, jobs.json
    host: str = "127.0.0.1"
    port: int = 0
    allow_remote: bool = False
    token: str = field(default_factory=lambda: secrets.token_urlsafe(24))  # in the printed URL, then a cookie
    csrf: str = field(default_factory=lambda: secrets.token_urlsafe(24))  # in every page, sent back on changes
    max_upload_bytes: int = MAX_UPLOAD_MB * 1024 * 1024
    workers: int = 1
    options: dict = field(default_factory=dict)  # AnalysisOptions fields common to every job
    start_jobs: bool = True  # False in tests that only check the web layer

    @property
    def uploads(self) -> Path:
        return self.root / "uploads"

    @property
    def results(self) -> Path:
        return self.root / "results"

    @property
    def db(self) -> Path:
        return self.root / "attune.db"

    @property
    def jobs_file(self) -> Path:
        return self.root / "jobs.json"

    def allowed_hosts(self) -> set[str]:
        """Host header names accepted (DNS rebinding: anything else is refused)."""
        hosts = set(LOOPBACK_HOSTS)
        if self.allow_remote and self.host not in ("0.0.0.0", "::"):
            hosts.add(self.host)
        return hosts

    def origin_ok(self, origin: Optional[str], port: int) -> bool:
        """Whether an Origin (or Referer) is this app itself."""
        if not origin:
            return False
        from urllib.parse import urlsplit

        u = urlsplit(origin)
        return u.scheme == "http" and (u.hostname or "") in self.allowed_hosts() and (u.port or 80) == port
