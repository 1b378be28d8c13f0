"""Frame-level resegmentation of the speakers: one GMM per speaker on MFCCs, then Viterbi.

pyannote assigns speakers per 10 s window and stitches the windows by clustering their
embeddings; on real voices a few windows land on the wrong side (speaker confusion 3-7 %
on the real-voice benchmark), often whole short turns. This pass re-decides every 10 ms
frame of speech with models of the recording's own speakers:

1. Features: 20 MFCCs and their deltas (librosa, 25 ms window, 10 ms hop), standardised
   over the recording.
2. Each speaker's model: a diagonal Gaussian mixture (:attr:`ResegmentOptions.components`
   components) trained on the frames the diarization gave that speaker alone, each region
   trimmed by :attr:`~ResegmentOptions.trim_s` at both ends (where the labels are least
   sure). A speaker with under :attr:`~ResegmentOptions.min_train_s` of such frames gets no
   model, and its frames keep their label.
3. Viterbi within each run of speech of the modelled speakers: the log-likelihoods of the
   frames, with a cost of :attr:`~ResegmentOptions.switch_penalty` (nats) per change of
   speaker, so that a change needs sustained evidence (at typical per-frame margins,
   0.2-0.6 s). A pause between runs costs nothing. A stretch whose label changed but that
   is shorter than :attr:`~ResegmentOptions.min_change_s` gets its old label back: such
   flips mostly nudge a boundary by a few frames, into the words beside it, and cut
   sentences into 1-2-word turns.
4. Overlap is kept: where the diarization had two or more speakers at once, the
   overlap-aware regions keep them; elsewhere both outputs follow the new labels.

Speech and silence do not change: only who speaks each frame of speech. Measured on the
real-voice benchmark (tune part) in docs/benchmarks.md.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Sequence

import numpy as np

from .metrics.timeline import runs_of
from .result import Segment

SR = 16000
HOP = 160  # 10 ms
FRAME_S = HOP / SR


@dataclass(frozen=True)
class ResegmentOptions:
    components: int = 32  # Gaussians per speaker model
    switch_penalty: float = 60.0  # nats per change of speaker inside a run of speech
    trim_s: float = 0.1  # each region's edges left out of training
    min_train_s: float = 3.0  # a speaker with less training speech keeps its labels
    min_change_s: float = 0.5  # a re-decided stretch shorter than this keeps its old label
    max_train_s: float = 600.0  # training frames per speaker, evenly subsampled beyond this

    def parameters(self) -> dict:
        return {"features": "20 MFCC + deltas, 10 ms", "model": "diagonal GMM per speaker", **asdict(self)}


def features(samples: np.ndarray) -> np.ndarray:
    """(frames, 40) standardised MFCCs + deltas; frame i is centred on i * 10 ms."""
    import librosa

    x = np.ascontiguousarray(samples, dtype=np.float32)
    mfcc = librosa.feature.mfcc(y=x, sr=SR, n_mfcc=20, n_fft=512, hop_length=HOP, win_length=400, n_mels=40)
    delta = librosa.feature.delta(mfcc, width=9, mode="nearest") if mfcc.shape[1] >= 9 else np.zeros_like(mfcc)
    f = np.vstack([mfcc, delta]).T.astype(np.float32)
    return (f - f.mean(axis=0)) / (f.std(axis=0) + 1e-6)


def viterbi(loglik: np.ndarray, penalty: float) -> np.ndarray:
    """The best label path through ``loglik`` (frames, speakers) with ``penalty`` per change."""
    n, k = loglik.shape
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    back = np.zeros((n, k), dtype=np.int64)
    score = loglik[0].astype(np.float64)
    states = np.arange(k)
    for t in range(1, n):
        best = int(np.argmax(score))
        switch = score[best] - penalty
        stay = score >= switch
        back[t] = np.where(stay, states, best)
        score = np.where(stay, score, switch) + loglik[t]
    path = np.empty(n, dtype=np.int64)
    path[-1] = int(np.argmax(score))
    for t in range(n - 1, 0, -1):
        path[t - 1] = back[t, path[t]]
    return path


def _frames(segments: Sequence[Segment], speakers: list[str], n: int) -> np.ndarray:
    """(n, speakers) activity of each 10 ms frame."""
    act = np.zeros((n, len(speakers)), dtype=bool)
    for s in segments:
        a, b = int(round(s.start / FRAME_S)), min(n, int(round(s.end / FRAME_S)))
        if b > a:
            act[a:b, speakers.index(s.speaker)] = True
    return act


def _segments(act: np.ndarray, speakers: list[str]) -> list[Segment]:
    out = [
        Segment(spk, round(a * FRAME_S, 3), round(b * FRAME_S, 3))
        for i, spk in enumerate(speakers)
        for a, b in runs_of(act[:, i])
    ]
    return sorted(out, key=lambda s: (s.start, s.speaker))


def _loglik(feats: np.ndarray, train: np.ndarray, i: int, options: ResegmentOptions) -> np.ndarray:
    from sklearn.mixture import GaussianMixture

    rows = np.flatnonzero(train == i)
    most = int(options.max_train_s / FRAME_S)
    if len(rows) > most:
        rows = rows[np.linspace(0, len(rows) - 1, most).astype(np.int64)]
    gmm = GaussianMixture(
        n_components=min(options.components, max(1, len(rows) // 50)),
        covariance_type="diag",
        reg_covar=1e-3,
        max_iter=50,
        random_state=0,
    )
    gmm.fit(feats[rows].astype(np.float64))
    return gmm.score_samples(feats)


def relabel(feats: np.ndarray, labels: np.ndarray, options: ResegmentOptions) -> np.ndarray:
    """New labels for the frames (``labels``: speaker index per frame, -1 for no speech)."""
    n = len(labels)
    k = int(labels.max()) + 1 if n and labels.max() >= 0 else 0
    train = np.full(n, -1, dtype=np.int64)
    trim = int(round(options.trim_s / FRAME_S))
    for i in range(k):
        for a, b in runs_of(labels == i):
            if b - a > 2 * trim:
                train[a + trim : b - trim] = i
    modelled = [i for i in range(k) if np.count_nonzero(train == i) * FRAME_S >= options.min_train_s]
    if len(modelled) < 2:
        return labels.copy()
    loglik = np.stack([_loglik(feats, train, i, options) for i in modelled], axis=1)
    out = labels.copy()
    for a, b in runs_of(np.isin(labels, modelled)):
        out[a:b] = np.asarray(modelled)[viterbi(loglik[a:b], options.switch_penalty)]
    shortest = int(round(options.min_change_s / FRAME_S))
    for a, b in runs_of(out != labels):
        if b - a < shortest:  # a short flip moves a boundary into the words around it: keep the old label
            out[a:b] = labels[a:b]
    return out


def resegment(
    samples: np.ndarray,
    segments: list[Segment],
    exclusive: list[Segment],
    options: ResegmentOptions = ResegmentOptions(),
) -> tuple[list[Segment], list[Segment]]:
    """(overlap-aware, exclusive) regions with every frame of single-speaker speech re-decided."""
    speakers = sorted({s.speaker for s in [*segments, *exclusive]})
    if len(speakers) < 2:
        return list(segments), list(exclusive)
    feats = features(samples)
    n = len(feats)
    excl = _frames(exclusive, speakers, n)
    labels = np.where(excl.any(axis=1), excl.argmax(axis=1), -1)
    new = relabel(feats, labels, options)
    if np.array_equal(new, labels):
        return list(segments), list(exclusive)
    new_excl = np.zeros_like(excl)
    rows = np.flatnonzero(new >= 0)
    new_excl[rows, new[rows]] = True
    aware = _frames(segments, speakers, n)
    overlap = aware.sum(axis=1) >= 2
    new_aware = new_excl.copy()
    new_aware[overlap] = aware[overlap]
    return _segments(new_aware, speakers), _segments(new_excl, speakers)
