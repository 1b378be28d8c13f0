"""The frame-level resegmentation: Viterbi by hand, relabelling on synthetic features, the wrapper."""

from __future__ import annotations

import numpy as np
import pytest

from pipeline import resegment as rs
from pipeline.result import Segment

ONE = rs.ResegmentOptions(components=1, switch_penalty=5.0, trim_s=0.0, min_train_s=1.0)


def _ll(head: int, middle: int, margin: float, tail: int) -> np.ndarray:
    """Frames favouring speaker 0 by 1 nat, then ``middle`` frames favouring 1 by ``margin``."""
    ll = np.zeros((head + middle + tail, 2))
    ll[:, 1] = -1.0
    ll[head : head + middle, 1] = margin
    return ll


def test_viterbi_needs_more_evidence_than_two_changes_cost():
    # switching to 1 for the 3 middle frames and back gains 3 * margin and costs 2 * 5
    assert rs.viterbi(_ll(10, 3, 3.0, 10), 5.0).tolist() == [0] * 23  # 9 < 10: stays
    path = rs.viterbi(_ll(10, 3, 4.0, 10), 5.0).tolist()
    assert path == [0] * 10 + [1] * 3 + [0] * 10  # 12 > 10: switches and comes back


def test_viterbi_free_start_and_no_penalty():
    ll = np.array([[0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    assert rs.viterbi(ll, 5.0).tolist() == [1, 1, 1]  # one frame's nat is not worth a change
    assert rs.viterbi(ll, 0.0).tolist() == [1, 1, 0]
    assert rs.viterbi(np.zeros((0, 2)), 5.0).tolist() == []


def test_viterbi_three_speakers_takes_the_best_previous_state():
    ll = np.array([[3.0, 0.0, 0.0]] * 5 + [[0.0, 0.0, 4.0]] * 5)
    assert rs.viterbi(ll, 5.0).tolist() == [0] * 5 + [2] * 5


def _two_voices(seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.normal(0.0, 1.0, (1000, 4))
    b = rng.normal(4.0, 1.0, (1000, 4))
    return np.vstack([a, b]), np.repeat([0, 1], 1000)


def test_relabel_fixes_a_stretch_given_to_the_wrong_speaker():
    feats, truth = _two_voices()
    labels = truth.copy()
    labels[1000:1100] = 0  # the first 1 s of speaker 1 attributed to speaker 0
    out = rs.relabel(feats, labels, ONE)
    assert np.count_nonzero(out != truth) <= 3  # at most a few frames at the change


def test_relabel_keeps_silence_and_unmodelled_speakers():
    feats, truth = _two_voices()
    labels = truth.copy()
    labels[500:600] = -1  # a pause
    labels[1500:1550] = 2  # 0.5 s of a third speaker: under min_train_s, no model
    out = rs.relabel(feats, labels, ONE)
    assert (out[500:600] == -1).all()
    assert (out[1500:1550] == 2).all()
    assert np.array_equal(out, labels)


def test_relabel_with_one_modelled_speaker_changes_nothing():
    feats, truth = _two_voices()
    labels = np.where(truth == 1, -1, 0)
    labels[1000:1050] = 1  # 0.5 s: no model
    assert np.array_equal(rs.relabel(feats, labels, ONE), labels)


def test_resegment_relabels_single_speaker_frames_and_keeps_overlap(monkeypatch):
    feats, _ = _two_voices()
    monkeypatch.setattr(rs, "features", lambda samples: feats)
    # the diarization: A 0-11 s (wrongly, B starts at 10 s), B 11-20 s, and B overlapping A at 5-6 s
    aware = [Segment("A", 0.0, 11.0), Segment("B", 5.0, 6.0), Segment("B", 11.0, 20.0)]
    exclusive = [Segment("A", 0.0, 11.0), Segment("B", 11.0, 20.0)]
    new_aware, new_excl = rs.resegment(np.zeros(1), aware, exclusive, ONE)
    assert [(s.speaker, s.start) for s in new_excl] == [("A", 0.0), ("B", pytest.approx(10.0, abs=0.03))]
    assert new_excl[0].end == pytest.approx(10.0, abs=0.03) and new_excl[1].end == 20.0
    # the overlap at 5-6 s stays in the overlap-aware output, the new B start too
    assert [(s.speaker, s.start, s.end) for s in new_aware][:2] == [("A", 0.0, new_excl[0].end), ("B", 5.0, 6.0)]
    assert new_aware[2].speaker == "B" and new_aware[2].start == new_excl[1].start


def test_resegment_without_a_change_returns_the_input(monkeypatch):
    feats, _ = _two_voices()
    monkeypatch.setattr(rs, "features", lambda samples: feats)
    aware = [Segment("A", 0.0, 10.0), Segment("B", 10.003, 20.0)]
    exclusive = list(aware)
    out = rs.resegment(np.zeros(1), aware, exclusive, ONE)
    assert out == (aware, exclusive)  # times untouched, not rounded to frames
    assert rs.resegment(np.zeros(1), [aware[0]], [aware[0]], ONE) == ([aware[0]], [aware[0]])


def test_features_shape_and_standardisation():
    t = np.arange(16000) / 16000
    x = (0.1 * np.sin(2 * np.pi * 220 * t) + 0.01 * np.random.default_rng(0).normal(size=t.size)).astype(np.float32)
    f = rs.features(x)
    assert f.shape == (101, 40)  # one frame per 10 ms, centred (n / 160 + 1)
    assert np.allclose(f.mean(axis=0), 0, atol=1e-4)


def test_a_short_flip_keeps_its_old_label():
    # 0.3 s of speaker 1 inside speaker 0's labels: the models would flip it, but a change
    # under min_change_s is undone (it mostly nudges a boundary into the words beside it)
    feats, truth = _two_voices()
    labels = truth.copy()
    labels[1000:1030] = 0
    out = rs.relabel(feats, labels, ONE)
    assert np.array_equal(out, labels)
    longer = rs.ResegmentOptions(components=1, switch_penalty=5.0, trim_s=0.0, min_train_s=1.0, min_change_s=0.2)
    assert np.count_nonzero(rs.relabel(feats, labels, longer) != truth) <= 3
