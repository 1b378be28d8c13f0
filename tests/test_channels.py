"""Channel mode: each channel one speaker (real models on the bundled stereo sample)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from helpers import ROOT, SAMPLE
from pyannote.core import Annotation, Segment
from pyannote.metrics.diarization import DiarizationErrorRate

from pipeline.channels import _smooth, parse_channel_roles
from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.result import Result

STEREO = ROOT / "samples" / "consultation.stereo.flac"


class TestLabels:
    def test_parse(self):
        assert parse_channel_roles("clinician,patient", 2) == ["clinician", "patient"]
        assert parse_channel_roles("Patient, Clinician", 2) == ["patient", "clinician"]
        assert parse_channel_roles("auto", 1) is None

    @pytest.mark.parametrize(
        "value,channels,message",
        [
            ("clinician,patient", 1, "the recording is mono"),
            ("clinician,patient,other", 2, "3 labels for a recording with 2 channels"),
            ("doctor,patient", 2, "unknown label 'doctor'"),
            ("patient,patient", 2, "exactly one clinician"),
        ],
    )
    def test_errors(self, value, channels, message):
        with pytest.raises(InputError, match=message):
            parse_channel_roles(value, channels)


def test_smoothing_drops_stray_frames_before_bridging():
    # 1 stray frame, gap, 1 stray frame: dropped (not bridged into a region);
    # 10 frames, 5-frame gap (0.16 s < 0.5 s), 10 frames: bridged into one run of 25
    mask = np.zeros(60, dtype=bool)
    mask[[2, 8]] = True
    mask[20:30] = True
    mask[35:45] = True
    out = _smooth(mask)
    assert not out[:20].any() and out[20:45].all() and not out[45:].any()


def run(args):
    r = CliRunner().invoke(main, args)
    return r, r.stderr.strip().splitlines()


@pytest.fixture(scope="module")
def stereo_run(tmp_path_factory, sample_run):
    out = tmp_path_factory.mktemp("stereo") / "o"
    r, _ = run(["analyze", str(STEREO), "--channels", "clinician,patient", "-o", str(out), "--quiet", "--no-audio"])
    assert r.exit_code == 0, r.output + r.stderr
    return Result.load(out / "result.json")


pytestmark = pytest.mark.models


def test_channel_mode_der(stereo_run, sample_ref):
    ref, hyp = Annotation(), Annotation()
    for u in sample_ref["utterances"]:
        ref[Segment(u["start"], u["end"])] = u["speaker"]
    for s in stereo_run.segments:
        hyp[Segment(s.start, s.end)] = s.speaker
    der = DiarizationErrorRate(collar=0.25)(ref, hyp, uem=Segment(0, sample_ref["duration_s"]))
    assert der <= 0.03, der
    assert stereo_run.mode["name"] == "channels"
    assert {s.id: s.role for s in stereo_run.speakers} == {"clinician": "clinician", "patient": "patient"}
    assert stereo_run.roles["rule"] == "channels"


def test_overlapping_speech_is_transcribed_for_both(stereo_run):
    # the clinician interrupts at 33.77 s while the patient goes on to 34.57 s
    window = [w for w in stereo_run.words if 33.0 <= w.start <= 34.6]
    assert {w.speaker for w in window} == {"clinician", "patient"}
    clin = " ".join(w.text for w in stereo_run.words if 33.6 <= w.start <= 37.2 and w.speaker == "clinician").lower()
    pat = " ".join(w.text for w in stereo_run.words if 32.0 <= w.start <= 34.6 and w.speaker == "patient").lower()
    assert "sickness" in clin and "worse" in pat


def test_crosstalk_is_not_speech(stereo_run, sample_ref):
    # talk time per channel within 1.5 s of the truth although each channel carries the other
    # voice 20 dB lower
    truth = {"clinician": 0.0, "patient": 0.0}
    for u in sample_ref["utterances"]:
        truth[u["speaker"]] += u["end"] - u["start"]
    talk = {s.id: s.talk_s for s in stereo_run.speakers}
    for spk in truth:
        assert abs(talk[spk] - truth[spk]) <= 1.5, (spk, talk[spk], truth[spk])


def test_auto_picks_channels_for_separate_voices(tmp_path, sample_run):
    r, _ = run(["analyze", str(STEREO), "--channels", "auto", "-o", str(tmp_path / "o"), "--quiet", "--no-audio"])
    assert r.exit_code == 0
    res = Result.load(tmp_path / "o" / "result.json")
    assert res.mode["name"] == "channels" and "each channel carries its own voice" in res.mode["reason"]
    assert sorted(s.role for s in res.speakers) == ["clinician", "patient"]
    assert next(s for s in res.speakers if s.id == "channel_1").role == "clinician"


def test_auto_diarizes_the_same_mix_twice(tmp_path, sample_run):
    x, sr = sf.read(SAMPLE, dtype="float32")
    p = tmp_path / "twice.wav"
    sf.write(p, np.stack([x[: 25 * sr], x[: 25 * sr]], axis=1), sr)
    r, _ = run(["analyze", str(p), "--channels", "auto", "-o", str(tmp_path / "o"), "--quiet", "--no-audio"])
    assert r.exit_code == 0, r.stderr
    res = Result.load(tmp_path / "o" / "result.json")
    assert res.mode["name"] == "diarization"
    assert "the channels carry the same signal" in res.mode["reason"]


def test_auto_on_mono_diarizes(clip_dir, tmp_path, sample_run):
    r, _ = run(
        [
            "analyze",
            str(clip_dir / "clip.wav"),
            "--channels",
            "auto",
            "-o",
            str(tmp_path / "o"),
            "--quiet",
            "--no-audio",
            "--num-speakers",
            "1",
        ]
    )
    assert r.exit_code == 0
    assert "the recording is mono" in Result.load(tmp_path / "o" / "result.json").mode["reason"]


@pytest.mark.parametrize(
    "args,code,message",
    [
        (["--channels", "clinician,patient"], 2, "channel mode needs one channel per speaker"),
    ],
)
def test_channels_on_mono(clip_dir, tmp_path, args, code, message):
    r, lines = run(["analyze", str(clip_dir / "clip.wav"), "-o", str(tmp_path / "o"), *args])
    assert r.exit_code == code and len(lines) == 1 and message in lines[0]
    assert not (tmp_path / "o").exists()


def test_label_count_mismatch(tmp_path):
    r, lines = run(["analyze", str(STEREO), "-o", str(tmp_path / "o"), "--channels", "clinician,patient,other"])
    assert r.exit_code == 2 and lines == [
        "attune: error: --channels clinician,patient,other: 3 labels for a recording with 2 channels"
    ]


def test_silent_channel(tmp_path, sample_run):
    x, sr = sf.read(SAMPLE, dtype="float32")
    p = tmp_path / "one-sided.wav"
    sf.write(p, np.stack([x[: 20 * sr], np.zeros(20 * sr, dtype=np.float32)], axis=1), sr)
    r, lines = run(["analyze", str(p), "-o", str(tmp_path / "o"), "--channels", "clinician,patient"])
    assert r.exit_code == 2 and len(lines) == 1
    assert "channel 2 (patient) is silent (0.0 s of speech)" in lines[0]
    assert not (tmp_path / "o").exists()


def test_clinician_option_conflicts_with_labels(tmp_path):
    r, lines = run(
        [
            "analyze",
            str(STEREO),
            "-o",
            str(tmp_path / "o"),
            "--channels",
            "clinician,patient",
            "--clinician",
            "SPEAKER_00",
        ]
    )
    assert r.exit_code == 1 and "--clinician cannot be combined with --channels LABELS" in lines[0]
