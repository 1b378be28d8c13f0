"""openai-whisper as the second engine: the CTranslate2 reader and converter, the checkpoint
loader's errors, and the two engines giving the same words on the sample (greedy)."""

from __future__ import annotations

import base64
import gzip
import json
import struct
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from helpers import SAMPLE, sample_clip

from pipeline.asr import convert
from pipeline.asr.openai_whisper import speech_clips
from pipeline.cli import main
from pipeline.errors import ModelError


def write_ct2(path: Path, variables: dict, aliases=(), spec="WhisperSpec", version=6) -> None:
    """A model.bin exactly as ctranslate2's model_spec._serialize writes one."""
    type_ids = {
        np.dtype(np.float32): 0,
        np.dtype(np.int8): 1,
        np.dtype(np.int16): 2,
        np.dtype(np.int32): 3,
        np.dtype(np.float16): 4,
    }

    def string(s: str) -> bytes:
        return struct.pack("H", len(s) + 1) + s.encode() + b"\0"

    out = struct.pack("I", version) + string(spec) + struct.pack("I", 3) + struct.pack("I", len(variables))
    for name, value in variables.items():
        value = np.asarray(value)
        out += string(name) + struct.pack("B", value.ndim) + b"".join(struct.pack("I", d) for d in value.shape)
        out += struct.pack("B", type_ids[value.dtype]) + struct.pack("I", value.nbytes) + value.tobytes()
    out += struct.pack("I", len(aliases))
    for a, b in aliases:
        out += string(a) + string(b)
    path.write_bytes(out)


def test_read_ct2_types_aliases_and_dequantization(tmp_path):
    w = np.array([[0.5, -1.0], [0.25, 0.125]], dtype=np.float32)
    scale = (127.0 / np.abs(w).max(axis=1)).astype(np.float32)  # CTranslate2's int8 rule
    q = np.rint(w * scale[:, None]).astype(np.int8)
    w16 = np.array([1.5, -2.0, 3.25], dtype=np.float32)
    s16 = np.float32(2**10 / np.abs(w16).max())  # and its int16 rule
    write_ct2(
        tmp_path / "model.bin",
        {
            "a/weight": q,
            "a/weight_scale": scale,
            "b/weight": np.rint(w16 * s16).astype(np.int16),
            "b/weight_scale": np.array(s16),
            "c/bias": np.array([1, 2], dtype=np.float16),
            "n": np.array(6, dtype=np.int16),
        },
        aliases=[("d/weight", "a/weight")],
    )
    spec, v = convert.read_ct2(tmp_path / "model.bin")
    assert spec == "WhisperSpec"
    assert v["c/bias"].dtype == np.float16 and list(v["c/bias"]) == [1, 2]
    assert int(v["n"]) == 6 and v["d/weight"] is v["a/weight"]
    np.testing.assert_allclose(convert._weights(v, "a"), w, atol=1 / 127)
    np.testing.assert_allclose(convert._weights(v, "b"), w16, atol=np.abs(w16).max() / 2**11 + 1e-7)  # half a step
    assert convert._weights(v, "a").dtype == np.float32


@pytest.mark.parametrize(
    "mutate, message",
    [
        (lambda p: write_ct2(p, {"x": np.zeros(2, np.float32)}, version=5), "format version 5, expected 6"),
        (lambda p: p.write_bytes(p.read_bytes()[:-7]), "truncated CTranslate2 model file"),
    ],
)
def test_read_ct2_bad_files(tmp_path, mutate, message):
    p = tmp_path / "model.bin"
    write_ct2(p, {"x": np.zeros(4, np.float32)})
    mutate(p)
    with pytest.raises(ModelError, match=message):
        convert.read_ct2(p)


def test_alignment_dump_is_openai_whisper_encoding():
    dump = convert.alignment_dump([[2, 1], [3, 0]], 4, 3)
    mask = np.frombuffer(gzip.decompress(base64.b85decode(dump)), dtype=bool).reshape(4, 3)
    assert sorted(zip(*np.nonzero(mask))) == [(2, 1), (3, 0)]
    with pytest.raises(ModelError, match="outside 4 layers"):
        convert.alignment_dump([[4, 0]], 4, 3)


def test_converter_bad_folders(tmp_path):
    with pytest.raises(ModelError, match="not a folder"):
        convert.ct2_to_openai(tmp_path / "nothing")
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "config.json").write_text("{}")
    with pytest.raises(ModelError, match=r"missing model.bin; expected model.bin and config.json"):
        convert.ct2_to_openai(tmp_path / "m")
    write_ct2(tmp_path / "m" / "model.bin", {"x": np.zeros(2, np.float32)}, spec="TransformerSpec")
    with pytest.raises(ModelError, match="a CTranslate2 TransformerSpec model, not a Whisper model"):
        convert.ct2_to_openai(tmp_path / "m")
    write_ct2(tmp_path / "m" / "model.bin", {"x": np.zeros(2, np.float32)})
    with pytest.raises(ModelError, match="lacks encoder/conv1/weight"):
        convert.ct2_to_openai(tmp_path / "m")
    r = CliRunner().invoke(main, ["models", "export-openai", str(tmp_path / "m"), str(tmp_path / "x.pt")])
    assert r.exit_code != 0 and "lacks encoder/conv1/weight" in r.stderr and len(r.stderr.splitlines()) == 1
    r = CliRunner().invoke(main, ["models", "export-openai", str(tmp_path / "m"), str(tmp_path / "x.bin")])
    assert r.exit_code != 0 and "must end in .pt" in r.stderr
    assert not (tmp_path / "x.pt").exists()


def test_speech_clips():
    x = np.zeros(16000 * 10, dtype=np.float32)
    x[16000:32000] = 0.1  # 1-2 s
    x[40000:48000] = 0.1  # 2.5-3 s: bridged (gap < 2 s)
    x[16000 * 7 : 16000 * 8] = 0.1  # 7-8 s
    assert speech_clips(x) == [1.0, 3.0, 7.0, 8.0]
    assert speech_clips(np.zeros(16000, dtype=np.float32)) == []


def test_backend_without_the_extra_says_how_to_install(clip_dir, tmp_path, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "whisper", None)  # as if openai-whisper were not installed
    r = CliRunner().invoke(
        main,
        [
            "analyze",
            str(clip_dir / "clip.wav"),
            "-o",
            str(tmp_path / "o"),
            "--asr-backend",
            "openai-whisper",
            "--no-voices",
        ],
    )
    assert r.exit_code != 0
    assert r.stderr.strip() == (
        "attune: error: --asr-backend openai-whisper needs the openai-whisper package: "
        "pip install 'attunement[openai]' (or: pip install openai-whisper)"
    )
    assert not (tmp_path / "o" / "result.json").exists()


# ------------------------------------------------------------ with openai-whisper installed

whisper = pytest.importorskip("whisper")


@pytest.fixture(scope="module")
def converted(tmp_path_factory):
    out = tmp_path_factory.mktemp("ow") / "tiny.en.pt"
    r = CliRunner().invoke(main, ["models", "export-openai", "whisper-tiny.en", str(out)])
    assert r.exit_code == 0, r.stderr
    return out


@pytest.mark.models
def test_converted_checkpoint_loads_in_openai_whisper_itself(converted):
    import torch

    model = whisper.load_model(str(converted), device="cpu")  # openai-whisper's own loader
    assert model.dims.n_vocab == 51864 and not model.is_multilingual
    ckpt = torch.load(str(converted), map_location="cpu", weights_only=True)
    heads = json.loads((convert_source() / "config.json").read_text())["alignment_heads"]
    mask = np.frombuffer(gzip.decompress(base64.b85decode(ckpt["alignment_heads"])), dtype=bool).reshape(4, 6)
    assert sorted(map(list, zip(*np.nonzero(mask)))) == sorted(heads)


def convert_source() -> Path:
    from pipeline import catalogue

    return catalogue.whisper_dir("whisper-tiny.en")


@pytest.mark.models
def test_both_backends_give_the_same_words_on_the_sample(converted):
    from pipeline.asr import load_engine
    from pipeline.audio import load_audio

    audio = load_audio(SAMPLE).samples
    # the same arithmetic on both sides: float32 (the default int8 changes a word or two,
    # e.g. "I'm" for "I am", which is quantization, not the conversion)
    fw = load_engine("faster-whisper", beam_size=1, threads=2, compute_type="float32").transcribe(audio)
    ow = load_engine("openai-whisper", model=str(converted), beam_size=1, threads=2).transcribe(audio)
    assert [w.text for w in fw] == [w.text for w in ow]
    assert len(fw) > 150
    starts = np.array([w.start for w in fw]) - np.array([w.start for w in ow])
    ends = np.array([w.end for w in fw]) - np.array([w.end for w in ow])
    assert np.abs(starts).max() <= 0.05 and np.abs(ends).max() <= 0.05


@pytest.mark.models
def test_bad_checkpoints_and_names(tmp_path):
    import torch

    from pipeline.asr.openai_whisper import OpenAIWhisperEngine

    txt = tmp_path / "notes.pt"
    txt.write_text("not a checkpoint")
    with pytest.raises(ModelError, match="not readable as a torch checkpoint.*expected an openai-whisper checkpoint"):
        OpenAIWhisperEngine(model=str(txt))
    other = tmp_path / "other.pt"
    torch.save({"state_dict": {"w": torch.zeros(2)}}, other)
    with pytest.raises(ModelError, match="expected an openai-whisper checkpoint: a torch file with 'dims'"):
        OpenAIWhisperEngine(model=str(other))
    with pytest.raises(ModelError, match="no such checkpoint file"):
        OpenAIWhisperEngine(model=str(tmp_path / "missing.pt"))
    with pytest.raises(ModelError, match="not an openai-whisper model name"):
        OpenAIWhisperEngine(model="enormous")


@pytest.mark.models
def test_unknown_name_offline_is_one_line(tmp_path, monkeypatch):
    from pipeline.asr.openai_whisper import OpenAIWhisperEngine

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))  # an empty whisper cache
    import socket

    def refuse(*a, **k):
        raise OSError("network blocked in tests")

    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket.socket, "connect", refuse)
    with pytest.raises(ModelError, match=r"asr_model small: not in .*whisper and could not be downloaded"):
        OpenAIWhisperEngine(model="small")


@pytest.mark.models
def test_analyze_with_openai_whisper_offline(tmp_path, no_network):
    clip = sample_clip(tmp_path / "first20s.wav", 0, 20)
    out = tmp_path / "out"
    r = CliRunner().invoke(
        main,
        ["analyze", str(clip), "-o", str(out), "--asr-backend", "openai-whisper", "--no-voices", "--no-audio", "-q"],
    )
    assert r.exit_code == 0, r.stderr
    result = json.loads((out / "result.json").read_text())
    asr = [m for m in result["models"] if m["stage"] == "asr"][0]
    assert asr["version"].startswith("openai-whisper ") and "converted from the bundled" in asr["source"]
    assert result["parameters"]["asr_backend"] == "openai-whisper"
    text = " ".join(w["text"] for w in result["words"])
    assert text.startswith("Good morning") and len(result["words"]) > 30
    assert no_network == []
