"""Decode any audio (or the audio track of a video) to 16 kHz mono float32.

Decoding uses PyAV (FFmpeg's libraries, installed with faster-whisper), so every format
FFmpeg reads works: wav, flac, mp3, m4a/aac, ogg/opus, webm, mp4/mov. The file is decoded
once; the original channel layout, sample rate and codec are kept for the result.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from .errors import InputError, first_line

SAMPLE_RATE = 16000
MIN_DURATION_S = 1.0
MIN_SAMPLE_RATE = 4000  # below: not a speech recording (or a forged header)
MAX_SAMPLE_RATE = 384000


@dataclass
class Audio:
    """Decoded audio: ``samples`` is 16 kHz mono float32 in [-1, 1]."""

    path: Path
    samples: np.ndarray
    sample_rate: int  # of the samples (always 16000)
    original_sample_rate: int
    channels: int
    codec: str
    container: str
    sha256: str
    channel_samples: Optional[np.ndarray] = None  # (channels, samples) at 16 kHz, when kept
    notes: list[str] = field(default_factory=list)  # what the result should say about the file

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate


def frame_power(samples: np.ndarray, hop: int) -> np.ndarray:
    """Mean square of each run of ``hop`` samples (a last, shorter run is left out)."""
    n = len(samples) // hop
    return np.mean(samples[: n * hop].astype(np.float64).reshape(n, hop) ** 2, axis=1)


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    """SHA-256 of the file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            block = fh.read(chunk)
            if not block:
                break
            h.update(block)
    return h.hexdigest()


def check_input_file(path: str | Path) -> Path:
    """Return ``path`` as a Path, or raise :class:`InputError` if it is not a readable file."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p}: no such file")
    if p.is_dir():
        raise InputError(f"{p}: is a folder, not an audio file")
    if not p.is_file():
        raise InputError(f"{p}: not a regular file")
    try:
        with open(p, "rb") as fh:
            head = fh.read(1)
    except OSError as exc:
        raise InputError(f"{p}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise InputError(f"{p}: empty file (0 bytes)")
    return p


def probe_audio(path: str | Path) -> float:
    """Check that ``path`` holds an audio stream FFmpeg can read, at a plausible sample rate,
    without decoding it; returns its duration in seconds as the container states it (0 when
    it does not say). Raises :class:`InputError` otherwise (the app's upload check)."""
    import av

    p = check_input_file(path)
    try:
        container = av.open(str(p), metadata_errors="ignore")
    except Exception as exc:
        raise InputError(f"{p.name}: not a readable audio or video file ({_av_reason(exc)})") from None
    try:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise InputError(f"{p.name}: the file has no audio stream")
        ctx: Any = streams[0].codec_context
        rate = int(ctx.sample_rate or 0)
        if not MIN_SAMPLE_RATE <= rate <= MAX_SAMPLE_RATE:
            raise InputError(f"{p.name}: implausible sample rate {rate} Hz (not a recording)")
        return float(container.duration or 0) / 1_000_000
    finally:
        container.close()


def load_audio(path: str | Path, min_duration_s: float = MIN_DURATION_S, keep_channels: bool = False) -> Audio:
    """Decode ``path`` to 16 kHz mono float32 (and, with ``keep_channels``, every channel too).

    Raises:
        InputError: missing, unreadable or corrupt file, no audio stream, or audio shorter
            than ``min_duration_s``.
    """
    import av  # PyAV; imported here so that pure-logic users of the package need not load it

    p = check_input_file(path)
    try:
        container = av.open(str(p), metadata_errors="ignore")
    except Exception as exc:  # PyAV raises many FFmpeg error classes
        raise InputError(f"{p}: not a readable audio or video file ({_av_reason(exc)})") from None
    try:
        streams = [s for s in container.streams if s.type == "audio"]
        if not streams:
            raise InputError(f"{p}: the file has no audio stream")
        stream = streams[0]
        ctx: Any = stream.codec_context
        notes = _track_notes(streams)
        channels = int(getattr(ctx, "channels", 0) or len(ctx.layout.channels) or 1)
        original_rate = int(ctx.sample_rate or 0)
        if original_rate <= 0:
            raise InputError(f"{p}: the audio stream has no valid sample rate")
        if not MIN_SAMPLE_RATE <= original_rate <= MAX_SAMPLE_RATE:
            # a 100 KB file claiming 1 Hz would decode to hours of 16 kHz audio
            raise InputError(
                f"{p}: implausible sample rate {original_rate} Hz (recordings are {MIN_SAMPLE_RATE // 1000} to "
                f"{MAX_SAMPLE_RATE // 1000} kHz)"
            )
        codec = ctx.name or ""
        container_name = container.format.name if container.format else ""
        # packed float ("flt"): one plane per frame whatever the channel count (PyAV's planar
        # conversion crashed on an 8-channel WAV with no channel mask)
        resampler = av.AudioResampler(format="flt", layout=None, rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        planes: list[np.ndarray] = []

        def take(frames) -> None:
            for out in frames:
                n_ch = len(out.layout.channels) or channels
                arr = out.to_ndarray().reshape(-1, n_ch).T  # (channels, samples)
                chunks.append(_to_mono(arr))
                if keep_channels:
                    planes.append(np.ascontiguousarray(arr, dtype=np.float32))

        try:
            for frame in container.decode(stream):
                take(resampler.resample(frame))  # type: ignore[arg-type]  # an audio stream's frames
            take(resampler.resample(None))
        except InputError:
            raise
        except Exception as exc:
            if not chunks:
                raise InputError(f"{p}: the audio cannot be decoded ({_av_reason(exc)})") from None
            # a truncated file: keep what decoded (the result notes the duration)
    finally:
        container.close()

    samples = _clean(np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.float32))
    per_channel = None
    if keep_channels and planes and all(p.shape[0] == planes[0].shape[0] for p in planes):
        per_channel = _clean(np.concatenate(planes, axis=1))
    duration = len(samples) / SAMPLE_RATE
    if duration < min_duration_s:
        raise InputError(f"{p}: audio is too short ({duration:.2f} s; at least {min_duration_s:g} s is needed)")
    return Audio(
        path=p,
        samples=samples,
        sample_rate=SAMPLE_RATE,
        original_sample_rate=original_rate,
        channels=channels,
        codec=codec,
        container=container_name,
        sha256=file_sha256(p),
        channel_samples=per_channel,
        notes=notes,
    )


def _track_notes(streams) -> list[str]:
    """A note when the file has several audio tracks: only the first is analysed (a second one
    may be a translation, a commentary or the other side of a call)."""
    if len(streams) < 2:
        return []

    def describe(s) -> str:
        ctx: Any = s.codec_context
        lang = (getattr(s, "language", None) or (s.metadata or {}).get("language") or "").strip()
        ch = int(getattr(ctx, "channels", 0) or 0)
        bits = [ctx.name or "audio"] + ([f"{ch} channel{'s' if ch != 1 else ''}"] if ch else [])
        bits += [f"language {lang}"] if lang and lang != "und" else []
        return ", ".join(bits)

    others = "; ".join(f"track {i + 1}: {describe(s)}" for i, s in enumerate(streams[1:], start=1))
    return [
        f"the file has {len(streams)} audio tracks; only the first ({describe(streams[0])}) was analysed "
        f"and the others were ignored ({others}); to analyse another, extract it first, for example "
        "ffmpeg -i FILE -map 0:a:1 track2.wav"
    ]


def _clean(x: np.ndarray) -> np.ndarray:
    """float32, NaN/inf replaced by 0, clipped to [-1, 1]."""
    x = np.nan_to_num(x.astype(np.float32, copy=False), nan=0.0, posinf=0.0, neginf=0.0)
    np.clip(x, -1.0, 1.0, out=x)
    return x


def _to_mono(planar: np.ndarray) -> np.ndarray:
    """Average the channels of a planar (channels, samples) frame."""
    if planar.ndim == 1:
        return planar.astype(np.float32, copy=False)
    if planar.shape[0] == 1:
        return planar[0].astype(np.float32, copy=False)
    return planar.mean(axis=0, dtype=np.float32)


def _av_reason(exc: Exception) -> str:
    msg = first_line(exc)
    # PyAV messages look like "[Errno 1094995529] Invalid data found ...: 'path'"
    if "] " in msg:
        msg = msg.split("] ", 1)[1]
    if ": '" in msg:
        msg = msg.split(": '", 1)[0]
    return msg
