"""Speech-to-text engines behind one small interface.

An engine turns 16 kHz mono float32 samples into a list of :class:`~pipeline.result.Word`
with word-level timestamps. Adding an engine means adding a subclass of :class:`ASREngine`
and one line in :data:`BACKENDS`; nothing else in the pipeline changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Callable, Optional

import numpy as np

from ..errors import AttuneError
from ..result import ModelInfo, Word

ProgressFn = Callable[[float, float], None]  # (seconds done, seconds total)


class ASREngine(ABC):
    """A loaded speech-to-text model."""

    backend: str = ""

    @abstractmethod
    def transcribe(
        self, samples: np.ndarray, progress: Optional[ProgressFn] = None, speech_only: bool = False
    ) -> list[Word]:
        """Transcribe ``samples`` (16 kHz mono float32) into timed words.

        ``speech_only`` lets the engine skip long silences (used for channels in which
        everything but the channel's own speech has been silenced).
        """

    @abstractmethod
    def info(self) -> ModelInfo:
        """Name, version and source of the model, for the result."""


@dataclass(frozen=True)
class Decoding:
    """The decoding options both engines are given, so that they agree (measured: within 1 WER
    point of each other on the same float32 weights, docs/benchmarks.md). These are Whisper's
    own defaults, written out so that an upgrade of either package cannot change one engine
    alone; previous text is not fed back (it carried errors into the next 30 s)."""

    beam_size: int = 5
    best_of: int = 5  # candidates sampled at each fallback temperature
    patience: float = 1.0
    length_penalty: Optional[float] = None  # Whisper's: the sum of log-probabilities over the length
    temperatures: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    compression_ratio_threshold: float = 2.4
    log_prob_threshold: float = -1.0
    no_speech_threshold: float = 0.6
    condition_on_previous_text: bool = False


CHUNK_S = 600.0  # longest piece handed to an engine at once (bounds its feature memory)
CUT_SEARCH_S = 15.0  # a cut is placed at the quietest half second within this of the target


def cut_points(
    samples: np.ndarray, sr: int = 16000, chunk_s: float = CHUNK_S, search_s: float = CUT_SEARCH_S
) -> list[int]:
    """Sample indexes where a long recording is cut into pieces of about ``chunk_s``.

    Each cut sits in the quietest 0.5 s (lowest RMS, on a 0.1 s grid) within ``search_s``
    of the target, so that it falls between words. A recording shorter than
    ``chunk_s + search_s`` is not cut.
    """
    n = len(samples)
    if n <= (chunk_s + search_s) * sr:
        return []
    hop, win = sr // 10, sr // 2
    cuts, target = [], int(chunk_s * sr)
    while target < n - int(search_s * sr):
        lo, hi = max(0, target - int(search_s * sr)), min(n - win, target + int(search_s * sr))
        starts = np.arange(lo, hi, hop)
        energy = [float(np.mean(np.square(samples[s : s + win], dtype=np.float64))) for s in starts]
        best = int(starts[int(np.argmin(energy))]) + win // 2
        cuts.append(best)
        target = best + int(chunk_s * sr)
    return cuts


def transcribe_long(
    engine: "ASREngine",
    samples: np.ndarray,
    progress: Optional[ProgressFn] = None,
    speech_only: bool = False,
    chunk_s: float = CHUNK_S,
) -> list[Word]:
    """Transcribe in pieces of about ``chunk_s`` (cut in pauses), times shifted back.

    Whisper engines compute the features of everything they are given at once: for a
    2-hour recording that alone took several GB. Pieces of 10 minutes keep it near 100 MB,
    whatever the length.
    """
    sr = 16000
    cuts = cut_points(samples, sr, chunk_s)
    if not cuts:
        return engine.transcribe(samples, progress=progress, speech_only=speech_only)
    total = len(samples) / sr
    bounds = [0, *cuts, len(samples)]
    words: list[Word] = []
    for a, b in zip(bounds[:-1], bounds[1:]):
        offset = a / sr

        def piece_progress(done: float, _total: float, offset=offset) -> None:
            if progress is not None:
                progress(min(total, offset + done), total)

        for w in engine.transcribe(samples[a:b], progress=piece_progress, speech_only=speech_only):
            words.append(
                Word(
                    text=w.text,
                    start=round(w.start + offset, 3),
                    end=round(w.end + offset, 3),
                    probability=w.probability,
                )
            )
    return words


def _faster_whisper(**kwargs) -> ASREngine:
    from .faster import FasterWhisperEngine

    return FasterWhisperEngine(**kwargs)


def _openai_whisper(**kwargs) -> ASREngine:
    from .openai_whisper import OpenAIWhisperEngine

    return OpenAIWhisperEngine(**kwargs)


BACKENDS: dict[str, Callable[..., ASREngine]] = {
    "faster-whisper": _faster_whisper,
    "openai-whisper": _openai_whisper,
}
DEFAULT_BACKEND = "faster-whisper"


def load_engine(backend: str = DEFAULT_BACKEND, **kwargs) -> ASREngine:
    """Load the engine named ``backend`` with its options (model, threads, beam_size...)."""
    try:
        factory = BACKENDS[backend]
    except KeyError:
        raise AttuneError(f"unknown speech-to-text backend {backend!r} (choose from: {', '.join(BACKENDS)})") from None
    return factory(**kwargs)
