"""The stages and the runner with a fake speech-to-text engine and a fake diarizer (no models)."""

import json
import threading

import numpy as np
import pytest
from helpers import sample_clip

from pipeline import loaders
from pipeline.analysis import Analyzer
from pipeline.asr import ASREngine
from pipeline.diarize import Diarization
from pipeline.errors import AttuneError, ModelError
from pipeline.folder import FolderOptions, analyze_to_folder
from pipeline.hooks import Hook, Hooks, TimingHook
from pipeline.options import AnalysisOptions
from pipeline.result import ModelInfo, Segment, Word
from pipeline.stages import Speech, transcribe_and_diarize

# 6 s: the clinician asks, the patient answers
WORDS = [
    Word("How", 0.2, 0.5, 0.9),
    Word("are", 0.5, 0.7, 0.9),
    Word("you?", 0.7, 1.1, 0.9),
    Word("Not", 2.1, 2.4, 0.9),
    Word("great,", 2.4, 2.9, 0.9),
    Word("doctor.", 2.9, 3.6, 0.9),
]
SEGMENTS = [Segment("SPEAKER_00", 0.1, 1.3), Segment("SPEAKER_01", 2.0, 5.5)]


class FakeEngine(ASREngine):
    backend = "fake"

    def __init__(self, fail: bool = False):
        self.fail = fail
        self.thread = None

    def transcribe(self, samples, progress=None, speech_only=False):
        self.thread = threading.current_thread().name
        if self.fail:
            raise ModelError("the fake engine broke")
        if progress is not None:
            progress(len(samples) / 16000, len(samples) / 16000)
        return [Word(w.text, w.start, w.end, w.probability) for w in WORDS]

    def info(self):
        return ModelInfo("asr", "fake", "0", "test")


class FakeDiarizer:
    def __init__(self, fail: bool = False):
        self.fail = fail
        self.calls = []

    def __call__(self, samples, num_speakers=None, min_speakers=2, max_speakers=4, progress=None):
        self.calls.append((num_speakers, min_speakers, max_speakers))
        if self.fail:
            raise AttuneError("the fake diarizer broke")
        if progress is not None:
            progress("segmentation", 1, 1)
            progress("embeddings", 2, 2)
        return Diarization(list(SEGMENTS), list(SEGMENTS), "fake")


class Recorder(Hook):
    def __init__(self):
        self.events = []

    def started(self, step, total, unit):
        self.events.append(("started", step, total, unit))

    def progressed(self, step, done, total):
        self.events.append(("progressed", step, done))

    def finished(self, step, seconds):
        self.events.append(("finished", step))


@pytest.fixture
def clip(tmp_path):
    return sample_clip(tmp_path / "clip.wav", 0, 6)


@pytest.fixture
def fakes(monkeypatch):
    engine, diarizer = FakeEngine(), FakeDiarizer()
    monkeypatch.setattr(loaders, "asr_engine", lambda *a, **k: engine)
    monkeypatch.setattr(loaders, "diarizer", lambda *a, **k: diarizer)
    monkeypatch.setattr(loaders, "speaker_embedder", lambda *a, **k: OneVoice())
    return engine, diarizer


class OneVoice:
    """A fake speaker embedder that hears the same voice everywhere."""

    def embed(self, samples):
        return np.array([1.0, 0.0], dtype=np.float32)


def test_transcribe_and_diarize_side_by_side_with_hooks():
    import numpy as np

    from pipeline.audio import Audio

    audio = Audio("x.wav", np.zeros(16000 * 6, dtype=np.float32), 16000, 16000, 1, "pcm", "wav", "0" * 64)
    engine, diarizer, rec = FakeEngine(), FakeDiarizer(), Recorder()
    speech = transcribe_and_diarize(audio, engine, diarizer, AnalysisOptions(num_speakers=2, threads=2), Hooks([rec]))
    assert isinstance(speech, Speech)
    assert [w.text for w in speech.words] == [w.text for w in WORDS]
    assert speech.segments == SEGMENTS and speech.exclusive == SEGMENTS
    assert engine.thread.startswith("attune-asr")  # in its own thread, beside the diarization
    assert diarizer.calls == [(2, 2, 4)]
    assert ("started", "asr", 6.0, "s") in rec.events and ("started", "diarization", 100, "%") in rec.events
    assert ("progressed", "diarization", 30.0) in rec.events and ("progressed", "diarization", 100.0) in rec.events
    assert {e[1] for e in rec.events if e[0] == "finished"} == {
        "asr",
        "diarization",
        "asr_and_diarization_wall",
        "resegmentation",
        "speaker_changes",
    }


@pytest.mark.parametrize("broken", ["engine", "diarizer"])
def test_an_error_in_either_stage_is_raised(broken):
    import numpy as np

    from pipeline.audio import Audio

    audio = Audio("x.wav", np.zeros(16000, dtype=np.float32), 16000, 16000, 1, "pcm", "wav", "0" * 64)
    engine, diarizer = FakeEngine(fail=broken == "engine"), FakeDiarizer(fail=broken == "diarizer")
    with pytest.raises(AttuneError, match=f"the fake {broken} broke"):
        transcribe_and_diarize(audio, engine, diarizer, AnalysisOptions(threads=2), Hooks())


def test_the_runner_composes_the_stages(clip, fakes):
    timing = TimingHook()
    analysis = Analyzer(AnalysisOptions(use_voice_book=False, threads=2), Hooks([timing])).run(clip)
    result = analysis.result
    assert analysis.audio.samples.shape == (16000 * 6,)  # the decoded audio comes back with the result
    assert [(s.id, s.role) for s in result.speakers] == [("SPEAKER_00", "clinician"), ("SPEAKER_01", "patient")]
    assert result.roles["rule"] == "most_questions"
    assert [(t.role, t.text) for t in result.turns if t.text] == [
        ("clinician", "How are you?"),
        ("patient", "Not great, doctor."),
    ]
    assert result.metrics["clinician_questions"] == 1 and result.metrics["clinician_talk_s"] == 1.2
    assert result.models[0].name == "fake"
    assert result.quality["signals"]["speaker_separation"] is None  # under 2 windows of 3 s per speaker
    for step in (
        "decode",
        "load_models",
        "asr",
        "diarization",
        "asr_and_diarization_wall",
        "align",
        "metrics",
        "quality",
    ):
        assert step in result.timings and step in timing.seconds, step
    assert result.timings["rtf"] > 0


def test_the_runner_can_be_reused_and_keeps_no_state(clip, fakes):
    analyzer = Analyzer(AnalysisOptions(use_voice_book=False, threads=2))
    a, b = analyzer.run(clip), analyzer.run(clip)
    assert a.result.metrics == b.result.metrics and a.audio is not b.audio
    assert not hasattr(analyzer, "last_audio")


def test_analyze_to_folder_writes_every_output(clip, fakes, tmp_path):
    out = tmp_path / "out"
    done = analyze_to_folder(
        clip, out, Analyzer(AnalysisOptions(use_voice_book=False, threads=2)), FolderOptions(include_audio=False)
    )
    names = sorted(p.name for p in done.files)
    assert names == sorted(
        ["result.json", "transcript.txt", "transcript.vtt", "transcript.srt", "diarization.rttm", "report.html"]
    )
    assert json.loads((out / "result.json").read_text())["schema"] == "attunement.result/1"
    assert (out / "transcript.txt").read_text().splitlines()[0] == "[00:00] Clinician: How are you?"


def test_options_errors_name_the_parameter():
    with pytest.raises(AttuneError) as err:
        AnalysisOptions(min_speakers=3, max_speakers=2).validate()
    assert str(err.value) == "min_speakers (3) is larger than max_speakers (2)"
    assert (
        err.value.describe(lambda p: "--" + p.replace("_", "-"))
        == "--min-speakers (3) is larger than --max-speakers (2)"
    )
    with pytest.raises(AttuneError, match="^threads must be at least 1"):
        AnalysisOptions(threads=0).validate()
    with pytest.raises(AttuneError, match="^asr_backend nope: unknown speech-to-text engine"):
        AnalysisOptions(asr_backend="nope").validate()
    with pytest.raises(AttuneError, match="unknown analysis option 'beam'"):
        AnalysisOptions.from_dict({"beam": 3})


def test_both_speech_to_text_engines_get_the_same_decoding_options():
    """Issue 16 item 21: the two engines must decode alike, so that their words differ only by
    the weights' precision (docs/benchmarks.md). Each engine's call is recorded, without a model."""
    import inspect
    import types

    import numpy as np

    from pipeline.asr import Decoding
    from pipeline.asr.faster import FasterWhisperEngine
    from pipeline.asr.openai_whisper import OpenAIWhisperEngine

    calls: dict = {}

    class FakeModel:
        is_multilingual = False

        def transcribe(self, audio, **kw):
            calls["faster"] = kw
            return iter(()), None

    fw = object.__new__(FasterWhisperEngine)
    fw._model, fw.beam_size, fw.language = FakeModel(), 5, "en"
    fw.transcribe(np.zeros(16000, np.float32))

    ow = object.__new__(OpenAIWhisperEngine)
    ow._model, ow.beam_size, ow.language, ow.threads = FakeModel(), 5, "en", 1
    ow._whisper = types.SimpleNamespace(transcribe=lambda model, audio, **kw: calls.setdefault("openai", kw) and {})
    ow.transcribe(np.zeros(16000, np.float32))

    f, o = calls["faster"], calls["openai"]
    d = Decoding()
    assert f["beam_size"] == o["beam_size"] == d.beam_size == 5
    assert f["best_of"] == o["best_of"] == 5 and f["patience"] == o["patience"] == 1.0
    assert tuple(f["temperature"]) == tuple(o["temperature"]) == (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
    assert f["compression_ratio_threshold"] == o["compression_ratio_threshold"] == 2.4
    assert f["log_prob_threshold"] == o["logprob_threshold"] == -1.0
    assert f["no_speech_threshold"] == o["no_speech_threshold"] == 0.6
    assert f["condition_on_previous_text"] is o["condition_on_previous_text"] is False
    assert f["word_timestamps"] and o["word_timestamps"]
    # and these are faster-whisper's own defaults (a change there is noticed here)
    import faster_whisper

    sig = inspect.signature(faster_whisper.WhisperModel.transcribe).parameters
    for name in ("beam_size", "best_of", "patience", "compression_ratio_threshold", "log_prob_threshold"):
        assert sig[name].default == f[name], name
