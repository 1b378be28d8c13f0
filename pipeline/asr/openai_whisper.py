"""openai-whisper engine (``--asr-backend openai-whisper``), the optional second engine.

Install with ``pip install 'attunement[openai]'``. Models:

* none given: the bundled tiny.en, converted once from its CTranslate2 form into
  ``<cache>/openai-whisper/whisper-tiny.en.pt`` (see :mod:`.convert`), so this engine works
  offline with the bundled weights. A bundled model's name (``tiny.en``, ``base``) uses
  openai-whisper's own file when ``~/.cache/whisper`` has it, else the converted bundle;
* a ``.pt`` path: a local openai-whisper checkpoint (``dims`` + ``model_state_dict``),
  loaded with ``weights_only`` (no code in the file can run). Alignment heads stored by
  ``attune models export-openai`` are applied;
* an openai-whisper model name (``tiny``, ``small``, ``large-v3``, ``turbo``...): resolved
  the way openai-whisper does it, from ``~/.cache/whisper`` or downloaded when online.

Audio goes in as the 16 kHz float32 array (no ffmpeg program), decoding is float32 on the
CPU with word timestamps. Threads: torch's thread count is set for the call and put back
afterwards, and numba (word alignment) is limited to the same count, since it otherwise
changes torch's.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Optional

import numpy as np

from .. import catalogue
from ..errors import ModelError, first_line
from ..result import ModelInfo, Word
from . import ASREngine, Decoding, ProgressFn

INSTALL_HINT = "pip install 'attunement[openai]' (or: pip install openai-whisper)"


def _import_whisper(threads: int):
    if "numba" not in sys.modules:
        os.environ.setdefault("NUMBA_NUM_THREADS", str(max(1, threads)))
    try:
        import whisper
    except ImportError:
        raise ModelError(
            f"{{asr_backend}} openai-whisper needs the openai-whisper package: {INSTALL_HINT}", "asr_backend"
        ) from None
    import numba

    numba.set_num_threads(max(1, min(threads, numba.config.NUMBA_NUM_THREADS)))  # type: ignore[attr-defined]
    return whisper


def converted_checkpoint(model_id: str) -> Path:
    """The openai-whisper checkpoint of a bundled CTranslate2 model, converted once and cached."""
    from .convert import export_openai

    src = catalogue.whisper_dir(model_id)
    out = catalogue.cache_dir() / "openai-whisper" / f"{model_id}.pt"
    stamp = out.with_suffix(".source")
    key = f"{src}:{(src / 'model.bin').stat().st_size}:{(src / 'model.bin').stat().st_mtime_ns}"
    if not out.is_file() or not stamp.is_file() or stamp.read_text() != key:
        export_openai(src, out)
        stamp.write_text(key)
    return out


def load_checkpoint(path: str | Path, whisper):
    """A local checkpoint -> a Whisper model on the CPU (one-line errors for anything else)."""
    import pickle
    import zipfile

    import torch

    path = Path(path)
    if not path.is_file():
        raise ModelError(
            f"{{asr_model}} {path}: no such checkpoint file (an openai-whisper .pt is expected)", "asr_model"
        )
    expected = "expected an openai-whisper checkpoint: a torch file with 'dims' and 'model_state_dict'"
    try:
        ckpt = torch.load(str(path), map_location="cpu", weights_only=True)
    except (RuntimeError, pickle.UnpicklingError, zipfile.BadZipFile, EOFError, ValueError, OSError) as exc:
        first = first_line(exc, 120)
        raise ModelError(f"{path}: not readable as a torch checkpoint ({first}); {expected}") from None
    if not isinstance(ckpt, dict) or not isinstance(ckpt.get("dims"), dict) or "model_state_dict" not in ckpt:
        raise ModelError(f"{path}: {expected}")
    from whisper.model import ModelDimensions, Whisper

    try:
        model = Whisper(ModelDimensions(**ckpt["dims"]))
        model.load_state_dict(ckpt["model_state_dict"])
    except (TypeError, RuntimeError) as exc:
        raise ModelError(f"{path}: its weights do not fit openai-whisper's model ({first_line(exc, 120)})") from None
    if ckpt.get("alignment_heads"):
        model.set_alignment_heads(ckpt["alignment_heads"])
    return model.float().eval()


def resolve_and_load(model: Optional[str], whisper) -> tuple[object, str, str]:
    """(model, display name, source) for an ``--asr-model`` value."""
    if model is None:
        model = "whisper-tiny.en"
    root = os.path.join(os.getenv("XDG_CACHE_HOME", os.path.join(os.path.expanduser("~"), ".cache")), "whisper")
    entry = catalogue.get_entry(model)
    cached = model in whisper.available_models() and (Path(root) / _cache_name(whisper, model)).is_file()
    if entry is not None and entry.stage == "asr" and not cached:
        # a bundled model not in openai-whisper's cache: convert it rather than download it
        path = converted_checkpoint(entry.id)
        return load_checkpoint(path, whisper), entry.id, f"{path} (converted from the bundled {entry.id})"
    p = Path(model).expanduser()
    if model.endswith(".pt") or p.exists() or os.sep in model:
        return load_checkpoint(p, whisper), p.name, str(p.resolve())
    if model not in whisper.available_models():
        raise ModelError(
            f"{{asr_model}} {model}: not an openai-whisper model name "
            f"({', '.join(whisper.available_models())}) nor a .pt checkpoint path",
            "asr_model",
        )
    try:
        loaded = whisper.load_model(model, device="cpu", download_root=root)
    except (OSError, RuntimeError) as exc:  # URLError is an OSError: offline, or the download failed
        first = first_line(exc, 100)
        raise ModelError(
            f"{{asr_model}} {model}: not in {root} and could not be downloaded ({first}); "
            "give a local .pt path, or convert a bundled model with attune models export-openai",
            "asr_model",
        ) from None
    return loaded.float().eval(), model, f"openai-whisper: {model} ({root})"


def _cache_name(whisper, name: str) -> str:
    """The file openai-whisper keeps a named model in (the last part of its download URL)."""
    url = getattr(whisper, "_MODELS", {}).get(name, "")
    return os.path.basename(url) or f"{name}.pt"


def speech_clips(samples: np.ndarray, sr: int = 16000, gap_s: float = 2.0) -> list[float]:
    """Start/end times (flat list) of the parts that are not exact silence, gaps under
    ``gap_s`` bridged: the masked channel audio of channel mode is zero between speech."""
    hop = sr // 10
    n = len(samples) // hop
    if n == 0:
        return []
    loud = np.abs(samples[: n * hop].reshape(n, hop)).max(axis=1) > 1e-6
    clips: list[float] = []
    i = 0
    while i < n:
        if not loud[i]:
            i += 1
            continue
        j = i
        while j < n and loud[j]:
            j += 1
        start, end = i / 10.0, j / 10.0
        if clips and start - clips[-1] < gap_s:
            clips[-1] = end
        else:
            clips += [start, end]
        i = j
    return [round(t, 1) for t in clips]


class OpenAIWhisperEngine(ASREngine):
    backend = "openai-whisper"

    def __init__(
        self, model: Optional[str] = None, threads: int = 2, workers: int = 1, beam_size: int = 5, language: str = "en"
    ):
        self.threads = max(1, threads)
        whisper = _import_whisper(self.threads)
        self._whisper = whisper
        self._model, self.model_name, self.source = resolve_and_load(model, whisper)
        self.beam_size = beam_size
        english_only = not self._model.is_multilingual  # type: ignore[attr-defined]
        self.language = "en" if english_only else language

    def info(self) -> ModelInfo:
        return ModelInfo(
            stage="asr",
            name=f"{self.model_name} (float32, {'greedy' if self.beam_size <= 1 else f'beam {self.beam_size}'})",
            version=f"openai-whisper {self._whisper.__version__}",
            source=self.source,
        )

    def transcribe(
        self, samples: np.ndarray, progress: Optional[ProgressFn] = None, speech_only: bool = False
    ) -> list[Word]:
        import torch

        total = len(samples) / 16000.0
        audio = np.ascontiguousarray(samples, dtype=np.float32)
        d = Decoding(beam_size=self.beam_size)
        options = dict(
            language=self.language,
            task="transcribe",
            temperature=d.temperatures,
            compression_ratio_threshold=d.compression_ratio_threshold,
            logprob_threshold=d.log_prob_threshold,
            no_speech_threshold=d.no_speech_threshold,
            condition_on_previous_text=d.condition_on_previous_text,
            word_timestamps=True,
            fp16=False,
            verbose=None,
            best_of=d.best_of,
        )
        if d.beam_size > 1:
            options.update(beam_size=d.beam_size, patience=d.patience, length_penalty=d.length_penalty)
        if speech_only:
            clips = speech_clips(audio)
            if not clips:
                return []
            options["clip_timestamps"] = clips
        before = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.inference_mode():
                out = self._whisper.transcribe(self._model, audio, **options)
        finally:
            torch.set_num_threads(before)
        words: list[Word] = []
        for seg in out.get("segments", []):
            for w in seg.get("words", []) or []:
                text = w["word"].strip()
                if not text:
                    continue
                start, end = float(w["start"]), float(w["end"])
                words.append(
                    Word(
                        text=text,
                        start=round(start, 3),
                        end=round(max(end, start), 3),
                        probability=round(float(w.get("probability", 0.0)), 4),
                    )
                )
            if progress is not None:
                progress(min(float(seg["end"]), total), total)
        if progress is not None:
            progress(total, total)
        return words
