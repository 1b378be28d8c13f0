"""The stages of an analysis, as plain functions (the runner in :mod:`pipeline.analysis` composes them).

decode -> choose the mode -> (transcribe || diarize the mix) or (each channel on its own)
-> match enrolled voices. Each stage takes what it needs and returns typed data; progress
and timing go through :class:`~pipeline.hooks.Hooks`, and models come in as arguments, so
that a test can pass a fake engine or diarizer.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Optional

import numpy as np

from . import channels
from .align import speaker_for_span
from .asr import ASREngine, transcribe_long
from .audio import Audio, load_audio
from .boundaries import refine_changes
from .diarize import make_exclusive
from .errors import InputError
from .hooks import Hooks
from .options import AnalysisOptions
from .resegment import resegment
from .result import Result, Segment, Word

if TYPE_CHECKING:
    from .voices import Voice


@dataclass
class Mode:
    """How speakers are found: ``diarization`` of the mix, or ``channels`` (one speaker each)."""

    info: dict[str, Any]  # result.json's ``mode``: name, reason (and the channels' speech)
    active: Optional[np.ndarray] = None  # channel mode: per-channel speech frames
    labels: Optional[list[str]] = None  # channel mode with --channels LABELS: each channel's role

    @property
    def channels(self) -> bool:
        return self.info["name"] == "channels"


@dataclass
class Speech:
    """Words and speaker regions of one recording (before roles)."""

    words: list[Word]
    segments: list[Segment]
    exclusive: list[Segment]
    fixed_roles: Optional[dict[str, str]] = None  # channel mode with labels: speaker -> role
    per_channel: list[str] = field(default_factory=list)  # channel mode: each channel's speaker id


def decode(path: str | Path, options: AnalysisOptions) -> Audio:
    """The recording as 16 kHz samples (with its channels when channel mode may use them)."""
    return load_audio(path, keep_channels=options.channels is not None)


def select_voices(options: AnalysisOptions) -> list["Voice"]:
    """The voices to look for: the named ones, else every enrolled clinician (none with a
    given clinician or without the voice book). An unknown name fails before any work."""
    if options.clinician is not None or not options.use_voice_book:
        return []
    from .voices import VoiceBook

    book_path = Path(options.voice_book) if options.voice_book else None
    with VoiceBook(book_path, create=bool(options.voices)) as book:
        enrolled = book.voices()
        if options.voices:
            known = {v.name: v for v in enrolled}
            missing = [n for n in options.voices if n not in known]
            if missing:
                have = ", ".join(sorted(known)) or "none"
                raise InputError(f"{{voices}} {missing[0]}: no such voice in {book.path} (enrolled: {have})", "voices")
            return [known[n] for n in options.voices]
        return [v for v in enrolled if v.role == "clinician"]


def choose_mode(audio: Audio, options: AnalysisOptions, hooks: Hooks) -> Mode:
    """Channel mode or diarization of the mix, and why."""
    info: dict[str, Any] = {"name": "diarization", "reason": "speaker diarization of the mixed-down audio"}
    if not options.channels:
        return Mode(info)
    labels = channels.parse_channel_roles(options.channels, audio.channels)
    if audio.channels < 2 or audio.channel_samples is None:
        info["reason"] = "--channels auto: the recording is mono, so the speakers were diarized"
        return Mode(info)
    with hooks.step("channel_vad"):
        active, _probs, db = channels.activity(audio.channel_samples)
    speech = [round(float(x.sum() * channels.FRAME_S), 2) for x in active]
    info["channels"] = [{"index": i + 1, "speech_s": sec} for i, sec in enumerate(speech)]
    if labels is not None:
        for i, (lab, sec) in enumerate(zip(labels, speech)):
            if sec < channels.MIN_SPEECH_S:
                raise InputError(
                    f"{audio.path}: channel {i + 1} ({lab}) is silent ({sec:.1f} s of speech); check {{channels}}, "
                    "or leave it out to diarize the mix",
                    "channels",
                )
        reason = f"--channels {options.channels}: each channel is one speaker, as given"
    else:
        ok, why = channels.detect(audio.channel_samples, active, db)
        reason = "--channels auto: " + why
        if not ok:
            info["reason"] = reason
            return Mode(info)
    info.update(
        {
            "name": "channels",
            "reason": reason,
            "vad": f"Silero VAD v6, threshold {channels.VAD_THRESHOLD}, crosstalk rule: within "
            f"{channels.CROSSTALK_DB:g} dB of the loudest channel",
        }
    )
    return Mode(info, active=active, labels=labels)


def transcribe_and_diarize(audio: Audio, asr: ASREngine, diarizer, options: AnalysisOptions, hooks: Hooks) -> Speech:
    """Speech-to-text and diarization of the mix, side by side (each with its share of the
    threads; both release the GIL in their native code). An error in either is raised here."""

    def transcribe() -> list[Word]:
        with hooks.step("asr", total=audio.duration_s) as update:
            return transcribe_long(asr, audio.samples, progress=update)

    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="attune-asr")
    try:
        with hooks.step("asr_and_diarization_wall"):
            words_future = pool.submit(transcribe)
            diar = _diarize(audio, diarizer, options, hooks)
            words = words_future.result()
    finally:
        # on an error or Ctrl-C, leave a busy speech-to-text thread to finish on its own
        pool.shutdown(wait=False, cancel_futures=True)
    segments, exclusive = diar.segments, diar.exclusive
    if options.resegment:
        with hooks.step("resegmentation"):
            segments, exclusive = resegment(audio.samples, segments, exclusive)
    with hooks.step("speaker_changes"):
        segments = refine_changes(audio.samples, segments)
        exclusive = refine_changes(audio.samples, exclusive)
    return Speech(words, segments, exclusive)


DIARIZATION_PHASES = {"segmentation": (0, 30), "embeddings": (30, 100)}  # share of the progress bar (%)


def _diarize(audio: Audio, diarizer, options: AnalysisOptions, hooks: Hooks):
    with hooks.step("diarization", total=100, unit="%") as update:

        def on_step(step: str, done: int, total: int) -> None:
            lo, hi = DIARIZATION_PHASES.get(step, (0, 100))
            update(lo + (hi - lo) * done / max(1, total))

        return diarizer(
            audio.samples,
            num_speakers=options.num_speakers,
            min_speakers=options.min_speakers,
            max_speakers=options.max_speakers,
            progress=on_step,
        )


def transcribe_channels(audio: Audio, mode: Mode, asr: ASREngine, options: AnalysisOptions, hooks: Hooks) -> Speech:
    """Each channel one speaker: its own speech regions, its own transcript."""
    assert mode.active is not None and audio.channel_samples is not None
    active, labels, samples = mode.active, mode.labels, audio.channel_samples
    n = active.shape[0]
    if labels is not None:
        ids = [lab if labels.count(lab) == 1 else f"{lab}_{i + 1}" for i, lab in enumerate(labels)]
    else:
        ids = [f"channel_{i + 1}" for i in range(n)]
    segments = channels.segments_of(active, ids)

    def transcribe(i: int) -> list[Word]:
        with hooks.step(f"asr_channel_{i + 1}"):
            return transcribe_long(asr, channels.masked(samples[i], active[i]), speech_only=True)

    parallel = max(1, options.threads // max(1, options.thread_split()[0]))
    with hooks.step("asr", total=n, unit="channels") as update:
        pool = ThreadPoolExecutor(max_workers=parallel, thread_name_prefix="attune-asr")
        try:
            futures = [pool.submit(transcribe, i) for i in range(n)]
            channel_words = []
            for k, fut in enumerate(futures):
                channel_words.append(fut.result())
                update(k + 1)
        finally:
            pool.shutdown(wait=False, cancel_futures=True)
    words = []
    for spk, heard in zip(ids, channel_words):
        own = [s for s in segments if s.speaker == spk]
        for w in heard:
            # words far from the channel's own speech are the other party's leaked voice
            if speaker_for_span(w.start, w.end, own) is not None:
                words.append(Word(w.text, w.start, w.end, w.probability, spk))
    words.sort(key=lambda w: (w.start, w.end))
    fixed = dict(zip(ids, labels)) if labels is not None else None
    return Speech(words, segments, make_exclusive(segments), fixed_roles=fixed, per_channel=ids)


def match_voices(audio: Audio, speech: Speech, voices: list["Voice"], embedder) -> tuple[dict[str, str], dict]:
    """Match the speakers found to the chosen enrolled voices (see :mod:`pipeline.voices`).

    Returns speaker -> enrolled role, and what was compared (``result.roles["voices"]``).
    """
    from .voices import MATCH_THRESHOLD, match, speaker_samples

    embeddings = {}
    for spk in sorted({s.speaker for s in speech.exclusive}):
        if speech.per_channel:  # channel mode (auto): the speaker's own channel
            assert audio.channel_samples is not None
            source = audio.channel_samples[speech.per_channel.index(spk)]
        else:
            source = audio.samples
        x = speaker_samples(source, speech.exclusive, spk)
        if len(x) >= 16000:
            embeddings[spk] = embedder.embed(x)
    matches, sims = match(embeddings, voices)
    info = {
        "threshold": MATCH_THRESHOLD,
        "looked_for": [v.name for v in voices],
        "matches": matches,
        "similarities": sims,
    }
    return {m["speaker"]: m["role"] for m in matches}, info


def measure_prosody(audio: Audio, speech: Speech, result: Result) -> dict:
    """The terminal pitch of the sentences that no word cue makes a question (:mod:`pipeline.prosody`),
    tracked in the speaker's own channel in channel mode, else in the mix."""
    from . import prosody
    from .metrics.questions import cues
    from .sentences import split

    def samples_of(speaker: str) -> Optional[np.ndarray]:
        if speech.per_channel and audio.channel_samples is not None:
            if speaker not in speech.per_channel:
                return None
            return audio.channel_samples[speech.per_channel.index(speaker)]
        return audio.samples

    return prosody.measure(split(result.words), samples_of, lambda s: not cues(s.text))
