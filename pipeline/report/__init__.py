"""The self-contained HTML review report (and its PDF).

:mod:`.data` prepares plain data from a result; ``templates/`` holds the Jinja2 template,
its CSS and its script, which are inlined into one file that opens offline. A
Content-Security-Policy with hashes of exactly that style and script forbids every network
request and any other script.

Audio: the recording is re-encoded to 16 kHz mono MP3 (32 kbit/s, about 240 kB a minute)
and embedded in the page as data when that is at most :data:`EMBED_LIMIT_BYTES` (about an
hour); a longer recording is written next to the report as ``<report>.audio.mp3``.
``include_audio=False`` (``--no-audio``) leaves the player out, for privacy.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
from pathlib import Path
from typing import Optional

from ..errors import InputError
from ..result import Result
from .data import prepare

log = logging.getLogger(__name__)

TEMPLATES = Path(__file__).resolve().parent / "templates"
EMBED_LIMIT_BYTES = 16 * 1024 * 1024
MP3_BITRATE = 32000


def encode_mp3(samples) -> bytes:
    """16 kHz mono float32 samples -> MP3 bytes (PyAV's bundled libmp3lame)."""
    import av
    import numpy as np

    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=16000, layout="mono")
        stream.bit_rate = MP3_BITRATE
        chunk = 16000
        x = np.ascontiguousarray(samples, dtype=np.float32)
        for i in range(0, len(x), chunk):
            frame = av.AudioFrame.from_ndarray(x[None, i : i + chunk], format="flt", layout="mono")
            frame.sample_rate = 16000
            for packet in stream.encode(frame):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


def prepare_audio(
    result: Result, audio_path: Optional[str | Path], report_path: Path, notes: list[str], samples=None
) -> tuple[Optional[dict], dict[str, bytes]]:
    """The player's source, and any file to write beside the report.

    An explicitly given audio file must be the analysed recording (same sha256). When the
    recording is simply looked up at its analysed path and is gone or changed, the report is
    made without a player and says why. ``samples`` (the 16 kHz audio the analysis already
    decoded from that file) saves decoding it again.
    """
    from ..audio import file_sha256, load_audio

    explicit = audio_path is not None
    path = Path(audio_path) if audio_path is not None else Path(result.recording.path)
    if not explicit and not path.is_absolute() and not path.exists():
        path = report_path.parent / path.name
    if not path.is_file():
        if explicit:
            raise InputError(f"{path}: no such audio file")
        notes.append(f"the recording ({result.recording.path}) was not found: the report has no player")
        return None, {}
    # ``samples`` come from the analysis of this very file, whose hash is the result's
    if samples is None and explicit and not result.recording.sha256:
        raise InputError(
            f"{path}: cannot be checked against the analysis (result.json has no sha256 of its recording); "
            "leave the audio out ({no_audio})",
            "no_audio",
        )
    if samples is None and result.recording.sha256 and file_sha256(path) != result.recording.sha256:
        msg = f"{path}: is not the analysed recording (its sha256 differs from result.json's)"
        if explicit:
            raise InputError(
                msg + "; pass the right file as {audio_path}, or leave the audio out ({no_audio})",
                "audio_path",
                "no_audio",
            )
        notes.append(msg + ": the report has no player")
        return None, {}
    mp3 = encode_mp3(samples if samples is not None else load_audio(path).samples)
    if len(mp3) <= EMBED_LIMIT_BYTES:
        src = "data:audio/mpeg;base64," + base64.b64encode(mp3).decode("ascii")
        return {"src": src, "mime": "audio/mpeg", "embedded": True}, {}
    name = report_path.stem + ".audio.mp3"
    return {"src": name, "mime": "audio/mpeg", "embedded": False}, {name: mp3}


def _csp(css: str, js: Optional[str]) -> str:
    """The page's Content-Security-Policy: only its own style (and script) by hash, nothing
    fetched from anywhere; ``js=None``: no script at all."""

    def h(text: str) -> str:
        return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode() + "'"

    script = h(js) if js is not None else "'none'"
    return (
        "default-src 'none'; "
        f"style-src {h(css)}; script-src {script}; "
        "img-src data:; media-src data: 'self'; connect-src 'none'; font-src 'none'; "
        "frame-src 'none'; object-src 'none'; form-action 'none'; base-uri 'none'"
    )


def json_for_script(data) -> str:
    """JSON that cannot end the <script> element it sits in."""
    return (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("&", "\\u0026")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _templates():
    """The Jinja2 environment of the report templates (escaping on, unknown names an error)."""
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(result: Result, audio: Optional[dict] = None, notes: Optional[list[str]] = None) -> str:
    """The report as one HTML string."""
    data = prepare(result, audio)
    data["notes"] += list(notes or [])
    env = _templates()
    from .pdf import paper_size

    css = (TEMPLATES / "report.css").read_text(encoding="utf-8")
    css += f"\n@page {{ size: {paper_size()}; margin: 14mm 12mm; }}\n"
    js = (TEMPLATES / "report.js").read_text(encoding="utf-8")
    data["version"] = data["version"] or ""
    return env.get_template("report.html.j2").render(
        **data,
        css=_markup(css),
        js=_markup(js),
        csp=_markup(_csp(css, js)),
        data_json=_markup(json_for_script({"timeline": data["timeline"]})),
    )


def _markup(text: str):
    from markupsafe import Markup

    return Markup(text)


def build_report(
    result: Result,
    report_path: str | Path,
    audio_path: Optional[str | Path] = None,
    include_audio: bool = True,
    samples=None,
) -> dict[str, str | bytes]:
    """Render the report: ``{file name: content}`` for the report and any audio file beside it.

    ``samples``: the decoded 16 kHz mono audio of ``audio_path``, when the caller has it.
    """
    report_path = Path(report_path)
    notes: list[str] = []
    audio: Optional[dict] = None
    extra: dict[str, bytes] = {}
    if include_audio:
        audio, extra = prepare_audio(result, audio_path, report_path, notes, samples)
    files: dict[str, str | bytes] = {report_path.name: render_html(result, audio, notes)}
    files.update(extra)
    return files


def remove_stale_audio(report_path: str | Path, files: dict[str, str | bytes]) -> Optional[Path]:
    """Remove ``<report>.audio.mp3`` beside ``report_path`` when the report just written in
    ``files`` does not use it (``--no-audio``, ``--redact``, or audio now embedded): a recording
    left beside a report rendered without it would still be shared with it. Returns the path
    removed, if any."""
    report_path = Path(report_path)
    stale = report_path.with_name(report_path.stem + ".audio.mp3")
    if stale.name in files or not (stale.is_file() or stale.is_symlink()):
        return None
    stale.unlink()
    return stale


def build_feedback(
    result: Result,
    html_path: str | Path,
    medians: Optional[dict] = None,
    cohort_n: int = 0,
    paper: Optional[str] = None,
) -> dict[str, str]:
    """The feedback sheet (one printable page): ``{file name: html}``. ``medians``: the cohort's
    (:func:`pipeline.report.feedback.cohort_medians`); ``paper``: "A4" or "Letter" (default:
    from the locale, :func:`pipeline.report.pdf.paper_size`)."""
    from .feedback import prepare_feedback
    from .pdf import paper_size

    html_path = Path(html_path)
    data = prepare_feedback(result, medians, cohort_n)
    css = (TEMPLATES / "feedback.css").read_text(encoding="utf-8")
    css += f"\n@page {{ size: {paper or paper_size()}; margin: 12mm; }}\n"
    html = _templates().get_template("feedback.html.j2").render(**data, css=_markup(css), csp=_markup(_csp(css, None)))
    return {html_path.name: html}


def build_cohort(
    frame,
    html_path: str | Path,
    group_by: str = "clinician",
    metrics=None,
    title: Optional[str] = None,
    source: str = "",
) -> dict[str, str]:
    """The cohort page and its CSV tables: ``{file name: content}``, all to go beside each other.

    ``frame``: the results database's table (:meth:`pipeline.store.Store.frame`).
    """
    from .._version import __version__
    from . import cohort

    html_path = Path(html_path)
    metrics = list(metrics or cohort.DEFAULT_METRICS)
    df = cohort.prepare_frame(frame, group_by, metrics)
    data = cohort.prepare(df, group_by, metrics, html_path, title=title, source=source)
    env = _templates()
    css = (TEMPLATES / "cohort.css").read_text(encoding="utf-8")
    js = (TEMPLATES / "cohort.js").read_text(encoding="utf-8")
    html = env.get_template("cohort.html.j2").render(
        **data, version=__version__, css=_markup(css), js=_markup(js), csp=_markup(_csp(css, js))
    )
    stem = html_path.stem
    files: dict[str, str] = {html_path.name: html}
    for name, text in cohort.tables_csv(df, data, metrics, group_by).items():
        files[f"{stem}.{name}.csv"] = text
    return files
