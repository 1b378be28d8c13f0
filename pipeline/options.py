"""What an analysis is asked to do: :class:`AnalysisOptions`, validated once, in domain words.

The options are the single source of the defaults (the command line reads them from here)
and of ``result.json``'s ``parameters``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, fields
from typing import Any, Optional

from . import boundaries
from .align import NEAREST_MAX_S
from .asr import BACKENDS, DEFAULT_BACKEND
from .diarize import DEFAULT_PARAMS, SEGMENTATION_STEP
from .errors import AttuneError
from .resegment import ResegmentOptions


def cpu_cores() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class AnalysisOptions:
    """Everything that changes what an analysis computes (recorded in ``parameters``)."""

    asr_backend: str = DEFAULT_BACKEND
    asr_model: Optional[str] = None
    beam_size: int = 5
    num_speakers: Optional[int] = None
    min_speakers: Optional[int] = 2
    max_speakers: Optional[int] = 4
    diarization_pipeline: Optional[str] = None
    hf_token: Optional[str] = field(default=None, repr=False)
    clinician: Optional[str] = None
    channels: Optional[str] = None  # "clinician,patient", "patient,clinician", "auto" or None
    voices: Optional[list[str]] = None  # names from the voice book; None = all enrolled clinicians
    use_voice_book: bool = True
    voice_book: Optional[str] = None  # path (default: the user's voice book)
    threads: int = field(default_factory=cpu_cores)
    resegment: bool = True  # re-decide each frame's speaker with per-speaker GMMs (pipeline.resegment)

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "AnalysisOptions":
        """Options from a plain dict (for example one sent to a batch worker); unknown keys are refused."""
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise AttuneError(f"unknown analysis option {unknown[0]!r}")
        return cls(**values)

    def validate(self) -> None:
        """Raise :class:`AttuneError` (naming the parameter) on an impossible combination."""
        for name in ("num_speakers", "min_speakers", "max_speakers", "beam_size", "threads"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise AttuneError(f"{{{name}}} must be at least 1 (got {v})", name)
        if (
            self.num_speakers is None
            and self.min_speakers is not None
            and self.max_speakers is not None
            and self.min_speakers > self.max_speakers
        ):
            raise AttuneError(
                f"{{min_speakers}} ({self.min_speakers}) is larger than {{max_speakers}} ({self.max_speakers})",
                "min_speakers",
                "max_speakers",
            )
        if self.asr_backend not in BACKENDS:
            raise AttuneError(
                f"{{asr_backend}} {self.asr_backend}: unknown speech-to-text engine (choose from: "
                f"{', '.join(BACKENDS)})",
                "asr_backend",
            )
        if self.channels and self.channels != "auto" and self.clinician:
            raise AttuneError(
                "{clinician} cannot be combined with {channels} LABELS (the labels say who is who)",
                "clinician",
                "channels",
            )

    def _channel_labels(self) -> bool:
        return self.channels is not None and self.channels != "auto"

    def thread_split(self) -> tuple[int, int]:
        """(ASR threads, diarization threads).

        Speech-to-text and diarization run at the same time, each with its share of the
        threads, so the cores are used without oversubscription: on 2 cores, 1 + 1 is 1.7x
        faster than the two stages one after the other with 2 threads each (benchmarks).
        With one thread the stages still overlap, sharing that core.
        """
        asr = max(1, self.threads // 2)
        return asr, max(1, self.threads - asr)

    def parameters(self) -> dict:
        """The options as recorded in ``result.json`` (without the token)."""
        return {
            "asr_backend": self.asr_backend,
            "asr_model": self.asr_model or "whisper-tiny.en",
            "asr_beam_size": self.beam_size,
            "asr_language": "en",
            "diarization_pipeline": self.diarization_pipeline or "attunement-default",
            "diarization": (
                {
                    "segmentation_step": SEGMENTATION_STEP,
                    "clustering": "AgglomerativeClustering",
                    **DEFAULT_PARAMS,
                }
                if not self.diarization_pipeline
                else {}
            ),
            "resegmentation": ResegmentOptions().parameters()
            if self.resegment and not self._channel_labels()
            else None,
            "speaker_changes": (
                {
                    "rule": "a change between touching regions moves into the longest pause near it",
                    "search_s": boundaries.SEARCH_S,
                    "min_pause_s": boundaries.MIN_PAUSE_S,
                    "silent_region_max_s": boundaries.SILENT_MAX_S,
                    "quiet_below_speech_db": boundaries.BELOW_SPEECH_DB,
                    "quiet_above_floor_db": boundaries.ABOVE_FLOOR_DB,
                }
                if self.channels is None or self.channels == "auto"
                else None
            ),
            "num_speakers": self.num_speakers,
            "min_speakers": self.min_speakers,
            "max_speakers": self.max_speakers,
            "clinician": self.clinician,
            "channels": self.channels,
            "voices": self.voices,
            "use_voice_book": self.use_voice_book,
            "word_alignment": {
                "rule": "max overlap with exclusive diarization, else nearest region",
                "nearest_max_s": NEAREST_MAX_S,
            },
            "threads": self.threads,
            "threads_asr_diarization": list(self.thread_split()),
        }
