"""Speech-to-text engines behind one small interface.

An engine turns 16 kHz mono float32 samples into a list of :class:`~pipeline.result.Word`
with word-level timestamps. Adding an engine means adding a subclass of :class:`ASREngine`
and one line in :data:`BACKENDS`; nothing else in the pipeline changes.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Callable, Optional

import numpy as np

from ..errors import AttuneError
from ..result import ModelInfo, Word

ProgressFn = Callable[[float, float], None]  # (seconds done, seconds total)


class ASREngine(ABC):
    """A loaded speech-to-text model."""

    backend: str = ""

    @abstractmethod
    def transcribe(self, samples: np.ndarray, progress: Optional[ProgressFn] = None,
                   speech_only: bool = False) -> list[Word]:
        """Transcribe ``samples`` (16 kHz mono float32) into timed words.

        ``speech_only`` lets the engine skip long silences (used for channels in which
        everything but the channel's own speech has been silenced).
        """

    @abstractmethod
    def info(self) -> ModelInfo:
        """Name, version and source of the model, for the result."""


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
        raise AttuneError(
            f"unknown speech-to-text backend {backend!r} (choose from: {', '.join(BACKENDS)})"
        ) from None
    return factory(**kwargs)
