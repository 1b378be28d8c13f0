"""CTranslate2 Whisper model -> openai-whisper checkpoint (``attune models export-openai``).

The bundled Whisper models ship in CTranslate2's format (a folder with ``model.bin`` and
``config.json``); openai-whisper loads a torch file holding ``dims`` and
``model_state_dict``. This module reads ``model.bin`` as CTranslate2 writes it
(``ctranslate2/specs/model_spec.py``, binary format version 6):

* ``uint32`` version, a string (``uint16`` length with the NUL, bytes) for the spec name,
  ``uint32`` revision, ``uint32`` count of variables;
* per variable: name string, ``uint8`` rank, ``uint32`` per dimension, ``uint8`` type id
  (0 float32, 1 int8, 2 int16, 3 int32, 4 float16, 5 bfloat16), ``uint32`` byte count, data;
* ``uint32`` count of aliases, each two strings (alias, variable).

Quantized weights are dequantized: int8 rows were multiplied by ``127 / max|row|`` and
int16 tensors by ``2**10 / max|w|`` (``<name>_scale`` holds that factor), so the weight is
``q / scale``. Fused projections are split back: self-attention ``linear_0`` is query, key
and value stacked; cross-attention ``linear_0`` is the query and ``linear_1`` key and value
(openai-whisper's key projections have no bias: CTranslate2 stores zeros there).

The alignment heads of ``config.json`` (the decoder heads whose cross-attention gives word
times) are kept in the checkpoint as ``alignment_heads`` (openai-whisper's own base85/gzip
encoding); attunement's openai-whisper engine applies them, so word times match.
"""

from __future__ import annotations

import base64
import gzip
import json
import struct
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import ModelError, first_line

BINARY_VERSION = 6
REQUIRED_FILES = ("model.bin", "config.json")
_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16, 5: "bfloat16"}


class _Reader:
    def __init__(self, fh: BinaryIO, path: Path):
        self.fh, self.path = fh, path

    def read(self, n: int) -> bytes:
        data = self.fh.read(n)
        if len(data) != n:
            raise ModelError(f"{self.path}: truncated CTranslate2 model file")
        return data

    def unpack(self, fmt: str):
        return struct.unpack("<" + fmt, self.read(struct.calcsize("<" + fmt)))[0]

    def string(self) -> str:
        n = self.unpack("H")
        raw = self.read(n)
        try:
            return raw[:-1].decode("utf-8")
        except UnicodeDecodeError:
            raise ModelError(f"{self.path}: not a CTranslate2 model file (unreadable name)") from None


def read_ct2(model_bin: str | Path) -> tuple[str, dict[str, np.ndarray]]:
    """The spec name and every variable (aliases resolved) of a CTranslate2 ``model.bin``."""
    path = Path(model_bin)
    with open(path, "rb") as fh:
        r = _Reader(fh, path)
        version = r.unpack("I")
        if version != BINARY_VERSION:
            raise ModelError(
                f"{path}: CTranslate2 model format version {version}, expected {BINARY_VERSION} "
                "(convert it again with a current ctranslate2)"
            )
        name = r.string()
        r.unpack("I")  # revision of the spec
        variables: dict[str, np.ndarray] = {}
        for _ in range(r.unpack("I")):
            var = r.string()
            shape = tuple(r.unpack("I") for _ in range(r.unpack("B")))
            type_id = r.unpack("B")
            nbytes = r.unpack("I")
            if type_id not in _DTYPES:
                raise ModelError(f"{path}: unknown data type {type_id} for {var}")
            raw = r.read(nbytes)
            dtype = _DTYPES[type_id]
            arr: np.ndarray
            if dtype == "bfloat16":
                arr = (np.frombuffer(raw, dtype="<u2").astype(np.uint32) << 16).view(np.float32)
            else:
                arr = np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<"))  # type: ignore[call-overload]
            if arr.size != int(np.prod(shape)):
                raise ModelError(f"{path}: {var} has {arr.size} values for shape {shape}")
            variables[var] = arr.reshape(shape)
        for _ in range(r.unpack("I")):
            alias, target = r.string(), r.string()
            if target in variables:
                variables[alias] = variables[target]
    return name, variables


def _weights(v: dict[str, np.ndarray], prefix: str) -> np.ndarray:
    """A float32 weight, dequantized when it has a scale."""
    w = v[prefix + "/weight"]
    scale = v.get(prefix + "/weight_scale")
    if scale is not None:
        s = np.asarray(scale, dtype=np.float32)
        if s.ndim == 1:  # one scale per output row (int8)
            s = s.reshape((-1,) + (1,) * (w.ndim - 1))
        return (w.astype(np.float32) / s).astype(np.float32)
    return w.astype(np.float32)


def _vec(v: dict[str, np.ndarray], name: str) -> np.ndarray:
    return v[name].astype(np.float32)


def _count_layers(v: dict[str, np.ndarray], prefix: str) -> int:
    n = 0
    while f"{prefix}/layer_{n}/ffn/linear_0/bias" in v:
        n += 1
    return n


def alignment_dump(heads: list, n_layers: int, n_heads: int) -> bytes:
    """openai-whisper's encoding of an alignment-head mask (base85 of gzip of a bool array)."""
    mask = np.zeros((n_layers, n_heads), dtype=bool)
    for layer, head in heads:
        if not (0 <= layer < n_layers and 0 <= head < n_heads):
            raise ModelError(f"alignment head ({layer}, {head}) is outside {n_layers} layers x {n_heads} heads")
        mask[layer, head] = True
    return base64.b85encode(gzip.compress(mask.tobytes(), mtime=0))


def _read_folder(model_dir: str | Path) -> tuple[Path, dict, dict[str, np.ndarray]]:
    """(folder, config.json, model.bin's variables) of a CTranslate2 Whisper model folder."""
    folder = Path(model_dir)
    if not folder.is_dir():
        raise ModelError(f"{folder}: not a folder (a CTranslate2 Whisper model folder is needed)")
    missing = [f for f in REQUIRED_FILES if not (folder / f).is_file()]
    if missing:
        raise ModelError(
            f"{folder}: not a CTranslate2 Whisper model folder (missing {', '.join(missing)}; "
            "expected model.bin and config.json)"
        )
    try:
        config = json.loads((folder / "config.json").read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        raise ModelError(f"{folder / 'config.json'}: not valid JSON") from None
    spec, v = read_ct2(folder / "model.bin")
    if spec != "WhisperSpec":
        raise ModelError(f"{folder}: a CTranslate2 {spec} model, not a Whisper model")
    return folder, config, v


class _StateDict:
    """openai-whisper's parameter names, filled from CTranslate2's variables."""

    def __init__(self, v: dict[str, np.ndarray]):
        self.v = v
        self.sd: dict[str, np.ndarray] = {}

    def norm(self, dst: str, src: str) -> None:
        self.sd[dst + ".weight"], self.sd[dst + ".bias"] = _vec(self.v, src + "/gamma"), _vec(self.v, src + "/beta")

    def linear(self, dst: str, src: str, bias: bool = True) -> None:
        self.sd[dst + ".weight"] = _weights(self.v, src)
        if bias:
            self.sd[dst + ".bias"] = _vec(self.v, src + "/bias")

    def fused(self, dsts: list[str], src: str) -> None:
        w, b = _weights(self.v, src), _vec(self.v, src + "/bias")
        d = w.shape[0] // len(dsts)
        for i, dst in enumerate(dsts):
            self.sd[dst + ".weight"] = w[i * d : (i + 1) * d].copy()
            if not dst.endswith(".key"):  # openai-whisper's key projections have no bias
                self.sd[dst + ".bias"] = b[i * d : (i + 1) * d].copy()

    def block(self, s: str, o: str) -> None:
        """Self-attention and feed-forward: the parts encoder and decoder layers share."""
        self.norm(o + ".attn_ln", s + "/self_attention/layer_norm")
        self.fused([o + ".attn.query", o + ".attn.key", o + ".attn.value"], s + "/self_attention/linear_0")
        self.linear(o + ".attn.out", s + "/self_attention/linear_1")
        self.norm(o + ".mlp_ln", s + "/ffn/layer_norm")
        self.linear(o + ".mlp.0", s + "/ffn/linear_0")
        self.linear(o + ".mlp.2", s + "/ffn/linear_1")

    def encoder(self) -> int:
        v, sd = self.v, self.sd
        n = _count_layers(v, "encoder")
        sd["encoder.conv1.weight"], sd["encoder.conv1.bias"] = (
            _weights(v, "encoder/conv1"),
            _vec(v, "encoder/conv1/bias"),
        )
        sd["encoder.conv2.weight"], sd["encoder.conv2.bias"] = (
            _weights(v, "encoder/conv2"),
            _vec(v, "encoder/conv2/bias"),
        )
        sd["encoder.positional_embedding"] = _vec(v, "encoder/position_encodings/encodings")
        for i in range(n):
            self.block(f"encoder/layer_{i}", f"encoder.blocks.{i}")
        self.norm("encoder.ln_post", "encoder/layer_norm")
        return n

    def decoder(self) -> int:
        v, sd = self.v, self.sd
        n = _count_layers(v, "decoder")
        sd["decoder.token_embedding.weight"] = _weights(v, "decoder/embeddings")
        sd["decoder.positional_embedding"] = _vec(v, "decoder/position_encodings/encodings")
        for i in range(n):
            s, o = f"decoder/layer_{i}", f"decoder.blocks.{i}"
            self.block(s, o)
            self.norm(o + ".cross_attn_ln", s + "/attention/layer_norm")
            self.linear(o + ".cross_attn.query", s + "/attention/linear_0")
            self.fused([o + ".cross_attn.key", o + ".cross_attn.value"], s + "/attention/linear_1")
            self.linear(o + ".cross_attn.out", s + "/attention/linear_2")
        self.norm("decoder.ln", "decoder/layer_norm")
        return n


def ct2_to_openai(model_dir: str | Path) -> dict:
    """Build an openai-whisper checkpoint dict (``dims``, ``model_state_dict``,
    ``alignment_heads``) from a CTranslate2 Whisper model folder."""
    import torch

    folder, config, v = _read_folder(model_dir)
    state = _StateDict(v)
    try:
        n_enc, n_dec = state.encoder(), state.decoder()
        n_audio_head = int(v["encoder/num_heads"].reshape(-1)[0])
        n_text_head = int(v["decoder/num_heads"].reshape(-1)[0])
    except KeyError as exc:
        raise ModelError(f"{folder}: model.bin lacks {exc.args[0]} (not a complete Whisper model)") from None
    sd = state.sd
    conv1, emb = sd["encoder.conv1.weight"], sd["decoder.token_embedding.weight"]
    dims = {
        "n_mels": int(conv1.shape[1]),
        "n_audio_ctx": int(sd["encoder.positional_embedding"].shape[0]),
        "n_audio_state": int(conv1.shape[0]),
        "n_audio_head": n_audio_head,
        "n_audio_layer": n_enc,
        "n_vocab": int(emb.shape[0]),
        "n_text_ctx": int(sd["decoder.positional_embedding"].shape[0]),
        "n_text_state": int(emb.shape[1]),
        "n_text_head": n_text_head,
        "n_text_layer": n_dec,
    }
    heads = config.get("alignment_heads") or []
    return {
        "dims": dims,
        "model_state_dict": {k: torch.from_numpy(np.ascontiguousarray(a)) for k, a in sd.items()},
        "alignment_heads": alignment_dump(heads, n_dec, n_text_head) if heads else None,
        "converted_from": str(folder.resolve()),
    }


def export_openai(model_dir: str | Path, out_path: str | Path, fp16: bool = False) -> dict:
    """Convert and write the checkpoint atomically (owner-only); returns its ``dims``."""
    import io

    import torch

    from ..outputs import atomic_write

    out = Path(out_path)
    if out.suffix != ".pt":
        raise ModelError(f"{out}: the checkpoint's file name must end in .pt")
    ckpt = ct2_to_openai(model_dir)
    if fp16:
        ckpt["model_state_dict"] = {k: t.half() for k, t in ckpt["model_state_dict"].items()}
    check_model(ckpt, str(out))
    buf = io.BytesIO()
    torch.save(ckpt, buf)
    out.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(out, buf.getvalue(), 0o600)
    return ckpt["dims"]


def check_model(ckpt: dict, label: str) -> None:
    """Build the openai-whisper model from a checkpoint dict (strict): proves the names and shapes."""
    try:
        from whisper.model import ModelDimensions, Whisper
    except ImportError:  # the converter itself needs only torch; checking needs openai-whisper
        return
    model = Whisper(ModelDimensions(**ckpt["dims"]))
    try:
        model.load_state_dict(ckpt["model_state_dict"], strict=True)
    except RuntimeError as exc:
        raise ModelError(f"{label}: the converted weights do not fit openai-whisper ({first_line(exc)})") from None
