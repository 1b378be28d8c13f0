"""Speaker changes moved into the pause between the speakers: hand-built signals."""

import numpy as np
import pytest

from pipeline.boundaries import MIN_PAUSE_S, frame_db, quiet_level, refine_changes
from pipeline.result import Segment

SR = 16000


def signal(parts, noise=0.0, seed=0):
    """``parts``: (start, end, amplitude) of a 200 Hz tone; the rest is silence (or noise)."""
    n = int(max(e for _, e, _ in parts) * SR) + SR
    rng = np.random.default_rng(seed)
    x = noise * rng.standard_normal(n)
    for a, b, amp in parts:
        t = np.arange(int(a * SR), int(b * SR))
        x[t] += amp * np.sin(2 * np.pi * 200 * t / SR)
    return x.astype(np.float32)


def test_a_touching_change_moves_into_the_pause():
    x = signal([(0.0, 2.0, 0.3), (2.3, 4.0, 0.3)])
    out = refine_changes(x, [Segment("A", 0.0, 2.15), Segment("B", 2.15, 4.0)])
    assert out == [Segment("A", 0.0, 2.0), Segment("B", 2.3, 4.0)]


def test_in_background_noise_too():
    x = signal([(0.0, 2.0, 0.3), (2.3, 4.0, 0.3)], noise=0.003)  # about 37 dB below the speech
    out = refine_changes(x, [Segment("A", 0.0, 2.2), Segment("B", 2.2, 4.0)])
    assert out[0].end == pytest.approx(2.0, abs=0.02) and out[1].start == pytest.approx(2.3, abs=0.02)


def test_latched_speech_is_left_alone():
    x = signal([(0.0, 2.0, 0.3), (2.0, 4.0, 0.3)])
    segs = [Segment("A", 0.0, 2.0), Segment("B", 2.0, 4.0)]
    assert refine_changes(x, segs) == segs


def test_a_pause_too_short_or_too_far_is_not_used():
    short = signal([(0.0, 2.0, 0.3), (2.0 + MIN_PAUSE_S / 2, 4.0, 0.3)])
    segs = [Segment("A", 0.0, 2.02), Segment("B", 2.02, 4.0)]
    assert refine_changes(short, segs) == segs
    far = signal([(0.0, 1.0, 0.3), (1.3, 4.0, 0.3)])  # the pause is 0.85 s before the change
    segs = [Segment("A", 0.0, 2.0), Segment("B", 2.0, 4.0)]
    assert refine_changes(far, segs) == segs


def test_only_touching_changes_of_speaker_move():
    x = signal([(0.0, 2.0, 0.3), (2.3, 4.0, 0.3), (4.3, 6.0, 0.3)])
    segs = [Segment("A", 0.0, 2.15), Segment("A", 2.15, 4.0), Segment("B", 4.5, 6.0)]
    assert refine_changes(x, segs) == segs  # same speaker, then a real gap


def test_a_pause_never_swallows_a_region():
    x = signal([(0.0, 2.0, 0.3), (2.6, 4.0, 0.3)])
    segs = [Segment("A", 0.0, 2.0), Segment("B", 2.0, 2.4), Segment("A", 2.4, 4.0)]
    out = refine_changes(x, segs)
    assert out[1].end > out[1].start


def test_quiet_level_follows_the_speech_and_the_background():
    x = signal([(0.0, 2.0, 0.3)], noise=0.001)
    db = frame_db(x)
    level = quiet_level(db, [Segment("A", 0.0, 2.0)])
    speech_db = 10 * np.log10(0.3**2 / 2)
    assert level == pytest.approx(max(speech_db - 25, 10 * np.log10(1e-6) + 6), abs=1.0)


def test_the_pause_between_the_two_regions_wins_over_a_longer_one_beyond():
    # A says a short word (2.44-2.63 s) after a 0.27 s pause; the pause to B's word is 0.26 s.
    # The longer pause before A's word would swallow A's region: the one between is taken.
    x = signal([(0.0, 2.16, 0.3), (2.44, 2.63, 0.3), (2.89, 4.0, 0.3)])
    segs = [Segment("B", 0.0, 2.16), Segment("A", 2.44, 2.66), Segment("B", 2.66, 4.0)]
    out = refine_changes(x, segs)
    assert out[1] == Segment("A", 2.44, pytest.approx(2.63, abs=0.011))
    assert out[2].start == pytest.approx(2.89, abs=0.011)


def test_a_silent_sliver_of_the_other_speaker_is_dropped():
    # B "speaks" for 40 ms in the silence right before A's turn: no frame of it is audible
    x = signal([(0.0, 2.0, 0.3), (2.6, 4.0, 0.3)])
    segs = [Segment("A", 0.0, 2.0), Segment("B", 2.50, 2.54), Segment("A", 2.54, 4.0), Segment("B", 4.0, 4.2)]
    out = refine_changes(x, segs)
    assert Segment("B", 2.50, 2.54) not in out
    assert Segment("B", 4.0, 4.2) not in out  # also silent (the signal ends at 4.0 s)
    assert [s.speaker for s in out] == ["A", "A"]


def test_a_short_audible_region_is_kept():
    x = signal([(0.0, 2.0, 0.3), (2.3, 2.5, 0.3), (2.8, 4.0, 0.3)])
    segs = [Segment("A", 0.0, 2.0), Segment("B", 2.3, 2.5), Segment("A", 2.8, 4.0)]
    assert refine_changes(x, segs) == segs
