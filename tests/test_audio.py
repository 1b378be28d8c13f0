"""Decoding: every common format, the original layout kept, and clear errors."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from helpers import ffmpeg

from pipeline.audio import SAMPLE_RATE, load_audio
from pipeline.errors import InputError


def test_wav_decodes_to_16k_mono(clip_dir):
    a = load_audio(clip_dir / "clip.wav")
    assert a.sample_rate == SAMPLE_RATE == 16000
    assert a.samples.dtype == np.float32 and a.samples.ndim == 1
    assert a.duration_s == pytest.approx(4.0, abs=0.01)
    assert a.channels == 1 and a.original_sample_rate == 16000
    assert len(a.sha256) == 64


def test_stereo_layout_is_kept_and_mixed_down(clip_dir):
    mono = load_audio(clip_dir / "clip.wav").samples
    st = load_audio(clip_dir / "stereo.wav")
    assert st.channels == 2
    # the mix is the mean of the channels: (x + 0.5 x) / 2 = 0.75 x
    np.testing.assert_allclose(st.samples, 0.75 * mono, atol=2e-4)


@pytest.mark.parametrize(
    "name,args",
    [
        ("clip.flac", []),
        ("clip.mp3", ["-ar", "44100", "-ac", "2"]),
        ("clip.m4a", ["-c:a", "aac", "-ar", "48000"]),
        ("clip.ogg", ["-c:a", "libvorbis", "-ar", "22050"]),
        ("clip.opus", ["-c:a", "libopus"]),
        ("clip.webm", ["-c:a", "libopus"]),
    ],
)
def test_common_formats(clip_dir, tmp_path, name, args):
    out = tmp_path / name
    ffmpeg("-i", str(clip_dir / "clip.wav"), *args, str(out))
    a = load_audio(out)
    assert a.sample_rate == 16000
    assert a.duration_s == pytest.approx(4.0, abs=0.1)
    # the speech is still there (not silence, not noise at full scale)
    assert 0.01 < float(np.sqrt(np.mean(a.samples**2))) < 0.5


@pytest.mark.parametrize("ext", ["mp4", "mov"])
def test_audio_track_of_a_video(clip_dir, tmp_path, ext):
    out = tmp_path / f"video.{ext}"
    ffmpeg(
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=64x64:rate=5:duration=4",
        "-i",
        str(clip_dir / "clip.wav"),
        "-c:v",
        "mpeg4",
        "-c:a",
        "aac",
        "-shortest",
        str(out),
    )
    a = load_audio(out)
    assert a.duration_s == pytest.approx(4.0, abs=0.15)
    assert a.codec == "aac"


def test_video_without_audio(tmp_path):
    out = tmp_path / "silent.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5:duration=2", "-c:v", "mpeg4", str(out))
    with pytest.raises(InputError, match=r"silent.mp4: the file has no audio stream"):
        load_audio(out)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match=r"nope.wav: no such file"):
        load_audio(tmp_path / "nope.wav")


def test_directory(tmp_path):
    with pytest.raises(InputError, match="is a folder"):
        load_audio(tmp_path)


def test_empty_file(tmp_path):
    p = tmp_path / "empty.wav"
    p.write_bytes(b"")
    with pytest.raises(InputError, match=r"empty.wav: empty file \(0 bytes\)"):
        load_audio(p)


def test_text_renamed_wav(tmp_path):
    p = tmp_path / "notes.wav"
    p.write_text("Patient notes, not audio.\n" * 20)
    with pytest.raises(InputError, match=r"notes.wav: not a readable audio or video file"):
        load_audio(p)


def test_too_short(tmp_path):
    p = tmp_path / "short.wav"
    sf.write(p, np.zeros(8000, dtype=np.float32), 16000)
    with pytest.raises(InputError, match=r"short.wav: audio is too short \(0.50 s; at least 1 s is needed\)"):
        load_audio(p)


def test_zero_length_audio(tmp_path):
    p = tmp_path / "zero.wav"
    sf.write(p, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(InputError, match=r"zero.wav: audio is too short \(0.00 s"):
        load_audio(p)


def test_truncated_file_keeps_what_decodes(clip_dir, tmp_path):
    data = (clip_dir / "clip.wav").read_bytes()
    p = tmp_path / "cut.wav"
    p.write_bytes(data[: len(data) // 2])
    a = load_audio(p)
    assert a.duration_s == pytest.approx(2.0, abs=0.05)


def test_nan_and_inf_samples_are_zeroed(tmp_path):
    x = np.zeros(32000, dtype=np.float32)
    x[100] = np.nan
    x[200] = np.inf
    x[300] = -np.inf
    x[400] = 0.5
    p = tmp_path / "nan.wav"
    sf.write(p, x, 16000, subtype="FLOAT")
    a = load_audio(p)
    assert np.isfinite(a.samples).all()
    assert a.samples.max() == pytest.approx(0.5, abs=0.01)


def test_eight_channels_without_a_channel_mask(clip_dir, tmp_path):
    # regression: PyAV's planar conversion crashed (segfault) on this layout
    x, sr = sf.read(clip_dir / "clip.wav", dtype="float32")
    p = tmp_path / "eight.wav"
    sf.write(p, np.stack([x * (i + 1) / 8 for i in range(8)], axis=1), sr)
    a = load_audio(p, keep_channels=True)
    assert a.channels == 8 and a.channel_samples.shape == (8, len(x))
    np.testing.assert_allclose(a.channel_samples[7], x, atol=2e-4)
    np.testing.assert_allclose(a.samples, x * np.mean([(i + 1) / 8 for i in range(8)]), atol=2e-4)


def test_stereo_channels_kept_in_order(clip_dir):
    a = load_audio(clip_dir / "stereo.wav", keep_channels=True)
    np.testing.assert_allclose(a.channel_samples[1], 0.5 * a.channel_samples[0], atol=2e-4)


def test_several_audio_tracks_are_named_in_a_note(clip_dir, tmp_path):
    """Issue 16 item 16: with several audio tracks the first was used without a word."""
    out = tmp_path / "two-tracks.mka"
    ffmpeg(
        "-i", str(clip_dir / "clip.wav"), "-i", str(clip_dir / "stereo.wav"),
        "-map", "0:a", "-map", "1:a", "-c:a", "flac", "-metadata:s:a:1", "language=fra", str(out),
    )  # fmt: skip
    a = load_audio(out)
    assert a.duration_s == pytest.approx(4.0, abs=0.05)
    assert a.channels == 1  # the first track
    assert a.notes == [
        "the file has 2 audio tracks; only the first (flac, 1 channel) was analysed and the others were "
        "ignored (track 2: flac, 2 channels, language fra); to analyse another, extract it first, for "
        "example ffmpeg -i FILE -map 0:a:1 track2.wav"
    ]
    assert load_audio(clip_dir / "clip.wav").notes == []


def test_the_track_note_reaches_the_result():
    from pipeline.assemble import assemble
    from pipeline.audio import Audio

    audio = Audio(Path("x.mka"), np.zeros(16000, np.float32), 16000, 16000, 1, "flac", "matroska", "", notes=["n"])
    assert assemble(audio, [], [], []).notes[0] == "n"
