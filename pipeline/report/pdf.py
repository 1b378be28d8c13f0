"""Print the report to PDF with headless Chromium (Debian's ``chromium``), when installed."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional

from ..errors import AttuneError, OutputError
from ..outputs import PRIVATE_FILE_MODE, atomic_write

BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
PRIVATE_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-extensions",
    "--disable-default-apps",
    "--no-default-browser-check",
    "--mute-audio",
]


# where paper is US Letter (everywhere else: A4), by the locale's territory
LETTER_TERRITORIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "CR", "GT", "PR", "SV", "DO", "NI", "PA"})


def paper_size(environ: Optional[dict] = None) -> str:
    """ "Letter" when the locale (LC_ALL, LC_PAPER, LANG) is of a Letter country, else "A4"."""
    env = os.environ if environ is None else environ
    for var in ("LC_ALL", "LC_PAPER", "LANG"):
        value = env.get(var, "")
        if value:
            territory = value.split(".")[0].split("@")[0].partition("_")[2].upper()
            return "Letter" if territory in LETTER_TERRITORIES else "A4"
    return "A4"


def find_browser() -> Optional[str]:
    env = os.environ.get("ATTUNE_CHROMIUM")
    if env:
        return env if shutil.which(env) or Path(env).is_file() else None
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def print_pdf(html: Path, pdf: Path, timeout_s: float = 120) -> Path:
    """Render ``html`` to ``pdf``; raises a one-line error when Chromium is missing or fails."""
    browser = find_browser()
    if browser is None:
        raise AttuneError(
            "{pdf} needs Chromium, which is not installed "
            "(on Debian/Ubuntu: apt-get install chromium; or set ATTUNE_CHROMIUM)",
            "pdf",
        )
    # Chromium keeps Unix sockets in its profile, whose paths may not exceed 107 bytes: under a
    # long temporary folder it fails ("zygote ... Broken pipe"), so a short private one is used
    base = tempfile.gettempdir()
    if len(base) > 40 and os.path.isdir("/tmp") and os.access("/tmp", os.W_OK):
        base = "/tmp"
    with tempfile.TemporaryDirectory(prefix="attune-chromium-", dir=base) as profile:
        # Chromium writes the PDF with the umask's mode: it is printed inside this private
        # (0700) folder and copied out at 0600, so no reader ever sees it open to others
        tmp_pdf = Path(profile) / "report.pdf"
        cmd = [
            browser,
            *PRIVATE_FLAGS,
            f"--user-data-dir={profile}",
            "--no-pdf-header-footer",
            "--virtual-time-budget=5000",
            f"--print-to-pdf={tmp_pdf}",
            html.resolve().as_uri(),
        ]
        try:
            env = dict(os.environ, TMPDIR=profile)  # its own sockets and scratch files: short paths, removed after
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout_s, env=env)
        except subprocess.TimeoutExpired:
            raise OutputError(f"{pdf}: Chromium did not finish printing within {timeout_s:.0f} s") from None
        if proc.returncode != 0 or not tmp_pdf.exists() or tmp_pdf.stat().st_size == 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise OutputError(f"{pdf}: Chromium could not print the report ({last[:200]})")
        try:
            atomic_write(pdf, tmp_pdf.read_bytes(), PRIVATE_FILE_MODE)
        except OSError as exc:
            raise OutputError(f"{pdf}: cannot be written ({exc.strerror or exc})") from None
    return pdf


def print_html(html: str, timeout_s: float = 120) -> bytes:
    """A page given as text, printed to PDF (:func:`print_pdf`): its bytes."""
    with tempfile.TemporaryDirectory(prefix="attune-print-") as d:
        src, out = Path(d) / "page.html", Path(d) / "page.pdf"
        src.write_text(html, encoding="utf-8")
        print_pdf(src, out, timeout_s)
        return out.read_bytes()
