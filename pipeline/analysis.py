"""One recording in, one :class:`Analysis` out: the runner that composes the stages.

Data flows one way: audio -> transcript (ASR) + speaker regions (diarization) -> aligned
words, turns and roles -> metrics. :class:`Analyzer` holds the options and hooks and can
analyse many recordings (the models are loaded once per process, :mod:`pipeline.loaders`);
:func:`analyze` is the one-call convenience.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

from . import loaders, stages
from .assemble import assemble
from .audio import Audio
from .hooks import Hook, Hooks, ProgressBars
from .metrics import compute_for_result
from .options import AnalysisOptions
from .quality import assess
from .result import Result


@dataclass
class Analysis:
    """What an analysis produced: the result, and the decoded audio it came from (for the report)."""

    result: Result
    audio: Audio


class Analyzer:
    """Analyses recordings with one set of options; :meth:`run` does one."""

    def __init__(self, options: Optional[AnalysisOptions] = None, hooks: Optional[Hooks] = None):
        self.options = options or AnalysisOptions()
        self.options.validate()
        self.hooks = hooks or Hooks()

    def run(self, path: str | Path) -> Analysis:
        """Analyse the recording at ``path``.

        Raises:
            AttuneError: bad input, missing model, unknown ``clinician`` or voice.
        """
        o, hooks = self.options, self.hooks
        timing = hooks.timing()
        timing.seconds.clear()
        t_start = time.perf_counter()
        with hooks.step("decode"):
            audio = stages.decode(path, o)
        voices = stages.select_voices(o)
        mode = stages.choose_mode(audio, o, hooks)
        with hooks.step("load_models"):
            asr = self._asr()
            diarizer = None if mode.channels else self._diarizer()
        if mode.channels:
            speech = stages.transcribe_channels(audio, mode, asr, o, hooks)
        else:
            speech = stages.transcribe_and_diarize(audio, asr, diarizer, o, hooks)
        voice_roles: dict[str, str] = {}
        voice_info: Optional[dict] = None
        if speech.fixed_roles is None and voices:
            with hooks.step("voices"):
                embedder = loaders.speaker_embedder(o.threads)
                voice_roles, voice_info = stages.match_voices(audio, speech, voices, embedder)
        with hooks.step("align"):
            result = assemble(
                audio,
                speech.words,
                speech.segments,
                speech.exclusive,
                clinician=o.clinician,
                fixed_roles=speech.fixed_roles,
                voice_roles=voice_roles,
            )
            if voice_info is not None:
                _name_matched_speakers(result, voice_info)
            result.mode = mode.info
        with hooks.step("prosody"):
            result.prosody = stages.measure_prosody(audio, speech, result)
        with hooks.step("metrics"):
            result.metrics = compute_for_result(result)
        with hooks.step("quality"):
            voice_model = loaders.speaker_embedder(o.threads) if not mode.channels else None  # the voices' one
            result.quality = assess(audio.samples, result, voice_model)
        result.models = loaders.models_used(asr, o.diarization_pipeline, mode.info["name"])
        result.parameters = o.parameters()
        result.timings = _timings(timing.seconds, time.perf_counter() - t_start, audio.duration_s)
        return Analysis(result, audio)

    def _asr(self):
        o = self.options
        asr_threads = o.thread_split()[0]
        return loaders.asr_engine(
            o.asr_backend, o.asr_model, asr_threads, max(1, o.threads // asr_threads), o.beam_size
        )

    def _diarizer(self):
        o = self.options
        return loaders.diarizer(o.diarization_pipeline, o.hf_token, o.thread_split()[1])


def _name_matched_speakers(result: Result, voice_info: dict) -> None:
    result.roles["voices"] = voice_info
    names = {m["speaker"]: m["name"] for m in voice_info["matches"]}
    for sp in result.speakers:
        sp.name = names.get(sp.id)


def _timings(steps: dict[str, float], total: float, duration_s: float) -> dict[str, float]:
    """``result.timings``: seconds per step, the total and the real-time factors."""
    out = {k: round(v, 3) for k, v in steps.items()}
    out["total"] = round(total, 3)
    out["rtf"] = round(total / duration_s, 4)
    out["rtf_without_model_loading"] = round((total - steps.get("load_models", 0.0)) / duration_s, 4)
    return out


def analyze(path: str | Path, progress: bool = False, hooks: Optional[list[Hook]] = None, **options) -> Result:
    """Analyse one recording with the default (or given) options and return the result.

    Example:
        >>> from pipeline import analyze
        >>> result = analyze("samples/consultation.flac")
        >>> result.metrics["clinician_talk_share"]
    """
    attached = Hooks(hooks or [])
    if progress:
        attached.add(ProgressBars(enabled=True))
    return Analyzer(AnalysisOptions(**options), attached).run(path).result
