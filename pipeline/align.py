"""Words to speakers, and words into turns.

Pure functions over the typed results: no audio, no models. (Roles: :mod:`pipeline.roles`.)

Rules (documented in README and ``docs/result-schema.md``):

* **Word speaker**: the speaker of the exclusive (one-at-a-time) diarization that overlaps
  the word the most (summed over that speaker's regions). A word that overlaps no region
  goes to the nearest region within :data:`NEAREST_MAX_S` seconds; otherwise it stays
  unassigned (``speaker = None``) and is counted in the result's notes.
* **Turns**: consecutive words and word-less regions of one speaker, in time order.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from typing import Iterable, Optional, Sequence

from .result import Segment, Turn, Word

NEAREST_MAX_S = 1.0
UNASSIGNED_ROLE = "unknown"


def _overlap(a0: float, a1: float, b0: float, b1: float) -> float:
    return max(0.0, min(a1, b1) - max(a0, b0))


def _distance(a0: float, a1: float, b0: float, b1: float) -> float:
    if a1 < b0:
        return b0 - a1
    if b1 < a0:
        return a0 - b1
    return 0.0


def speaker_for_span(
    start: float, end: float, regions: Sequence[Segment], nearest_max_s: float = NEAREST_MAX_S
) -> Optional[str]:
    """Return the speaker for the time span ``[start, end]`` following the word rule."""
    totals: dict[str, float] = defaultdict(float)
    for seg in regions:
        ov = _overlap(start, end, seg.start, seg.end)
        if ov > 0:
            totals[seg.speaker] += ov
    if totals:
        # max overlap; on an exact tie the speaker whose region comes first wins
        order: dict[str, float] = {}
        for seg in regions:
            order.setdefault(seg.speaker, seg.start)
        return max(totals, key=lambda s: (totals[s], -order[s]))
    best, best_d = None, None
    for seg in regions:
        d = _distance(start, end, seg.start, seg.end)
        if d <= nearest_max_s and (best_d is None or d < best_d):
            best, best_d = seg.speaker, d
    return best


def assign_words(words: Iterable[Word], regions: Sequence[Segment], nearest_max_s: float = NEAREST_MAX_S) -> list[Word]:
    """Return copies of ``words`` with ``speaker`` set from the exclusive ``regions``."""
    regions = sorted(regions, key=lambda s: (s.start, s.end))
    out = []
    for w in words:
        spk = speaker_for_span(w.start, w.end, regions, nearest_max_s)
        out.append(Word(text=w.text, start=w.start, end=w.end, probability=w.probability, speaker=spk))
    return out


MAX_STRAY_WORDS = 2  # at most this many words are moved back to the sentence they belong to
_SENTENCE_END = ".?!"


def _ends_sentence(w: Word) -> bool:
    return w.text.strip().rstrip("\"')]").endswith(tuple(_SENTENCE_END))


def keep_sentences_whole(words: Sequence[Word]) -> list[Word]:
    """Words with a sentence split between two speakers given back to one of them.

    Whisper's word times drift at a change of speaker: the tail of one person's sentence
    ("... more loose?") lands in the next person's region, or the head of the next sentence
    in the previous one's. At each change from speaker A's run of words to B's, the sentence
    that A leaves unfinished (A's words after its last ``.``, ``?`` or ``!``) and B finishes
    (B's words up to the first sentence end) is one sentence cut in two. The shorter part,
    if it has at most :data:`MAX_STRAY_WORDS` words, goes to the other speaker:

    * B's few words finish A's longer sentence (and B goes on speaking after them): A's;
    * A's few words start B's longer sentence: B's.

    Nothing moves without punctuation to show it, parts of equal length stay, and a short
    reply inside someone else's unfinished sentence ("Yes." while the other goes on) stays.
    """
    runs = _runs(words)
    out = list(words)
    for (i, j), (k, r) in zip(runs, runs[1:]):
        a, b = out[j].speaker, out[k].speaker
        if a is None or b is None or _ends_sentence(out[j]):
            continue
        t = j
        while t > i and not _ends_sentence(out[t - 1]):
            t -= 1
        tail = j - t + 1
        end = next((u for u in range(k, r + 1) if _ends_sentence(out[u])), None)
        if end is None:
            continue
        head = end - k + 1
        if head <= MAX_STRAY_WORDS and head < tail and end < r:
            for u in range(k, end + 1):  # B's few words finish A's sentence
                out[u] = _with_speaker(out[u], a)
        elif tail <= MAX_STRAY_WORDS and tail < head:
            for u in range(t, j + 1):  # A's few words start B's sentence
                out[u] = _with_speaker(out[u], b)
    return out


def _runs(words: Sequence[Word]) -> list[tuple[int, int]]:
    """(first, last) index of each run of one speaker's consecutive words."""
    runs: list[tuple[int, int]] = []
    for n, w in enumerate(words):
        if runs and words[runs[-1][1]].speaker == w.speaker:
            runs[-1] = (runs[-1][0], n)
        else:
            runs.append((n, n))
    return runs


def _with_speaker(w: Word, speaker: Optional[str]) -> Word:
    return Word(text=w.text, start=w.start, end=w.end, probability=w.probability, speaker=speaker)


LONG_SILENCE_S = 2.0  # a word in a silence at least this long ...
LOW_PROBABILITY = 0.5  # ... with a recogniser probability below this is taken for a hallucination


def split_unspoken(words: Sequence[Word], regions: Sequence[Segment]) -> tuple[list[Word], list[Word]]:
    """(kept, dropped): words recognised where nobody was found speaking are dropped.

    A word is dropped when it has no speaker (no region within :data:`NEAREST_MAX_S`), or when
    it overlaps no region, lies in a silence of at least :data:`LONG_SILENCE_S` between
    regions, and its probability is below :data:`LOW_PROBABILITY` (Whisper writes "You" or
    "Thank you" into silence).
    """
    spans = sorted((s.start, s.end) for s in regions if s.end > s.start)
    starts = [a for a, _ in spans]
    ends_before = []  # the latest region end among the regions starting up to each index
    latest = float("-inf")
    for _a, b in spans:
        latest = max(latest, b)
        ends_before.append(latest)
    kept, dropped = [], []
    for w in words:
        if w.speaker is None or (
            w.probability < LOW_PROBABILITY and _silence_around(w, starts, ends_before) >= LONG_SILENCE_S
        ):
            dropped.append(w)
        else:
            kept.append(w)
    return kept, dropped


def _silence_around(w: Word, starts: list[float], ends_before: list[float]) -> float:
    """Length of the speech-free gap that contains the word (0 when it touches a region)."""
    i = bisect.bisect_left(starts, w.end)  # regions [0, i) start before the word ends
    prev_end = ends_before[i - 1] if i > 0 else 0.0
    if prev_end > w.start:
        return 0.0  # an earlier region reaches into the word
    next_start = starts[i] if i < len(starts) else float("inf")
    return next_start - prev_end


def talk_seconds(segments: Iterable[Segment]) -> dict[str, float]:
    """Seconds each speaker is active: the union of its (possibly overlapping) regions."""
    by_spk: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for s in segments:
        if s.end > s.start:
            by_spk[s.speaker].append((s.start, s.end))
    totals = {}
    for spk, spans in by_spk.items():
        spans.sort()
        total, cur0, cur1 = 0.0, spans[0][0], spans[0][1]
        for a, b in spans[1:]:
            if a > cur1:
                total += cur1 - cur0
                cur0, cur1 = a, b
            else:
                cur1 = max(cur1, b)
        totals[spk] = total + (cur1 - cur0)
    return totals


def build_turns(words: Sequence[Word], regions: Sequence[Segment], roles: dict[str, str]) -> list[Turn]:
    """Merge consecutive words (and word-less regions) of one speaker into turns.

    Args:
        words: words with speakers assigned (``None`` = unassigned).
        regions: exclusive speaker regions; they extend their speaker's turns to the
            speech the diarization found, and a region without words still makes a turn
            (with no text).
        roles: speaker id -> role.
    """
    items: list[tuple[float, float, Optional[str], str]] = [(w.start, w.end, w.speaker, w.text) for w in words]
    by_mid = sorted(words, key=lambda w: (w.start + w.end) / 2)
    mids = [(w.start + w.end) / 2 for w in by_mid]
    items += [_region_item(seg, by_mid, mids) for seg in regions]
    items.sort(key=lambda it: (it[0], it[1]))

    turns: list[Turn] = []
    cur: Optional[dict] = None
    for start, end, spk, text in items:
        if cur is not None and cur["speaker"] == spk:
            cur["end"] = max(cur["end"], end)
            if text:
                cur["texts"].append(text)
            continue
        if cur is not None:
            turns.append(_finish(cur, roles))
        cur = {"speaker": spk, "start": start, "end": end, "texts": [text] if text else []}
    if cur is not None:
        turns.append(_finish(cur, roles))
    return turns


def _region_item(seg: Segment, by_mid: list[Word], mids: list[float]) -> tuple[float, float, Optional[str], str]:
    """A region as a turn item, starting after (and ending before) another speaker's words at
    its edges, so that words given back to their sentence's speaker do not split a turn.
    ``by_mid``: the words sorted by their midpoints ``mids``."""
    inside = by_mid[bisect.bisect_left(mids, seg.start) : bisect.bisect_left(mids, seg.end)]
    own = [w for w in inside if w.speaker == seg.speaker]
    if not own:
        return (seg.start, seg.end, seg.speaker, "")
    first, last = min(w.start for w in own), max(w.end for w in own)
    lead = [w.end for w in inside if w.speaker != seg.speaker and w.end <= first]
    trail = [w.start for w in inside if w.speaker != seg.speaker and w.start >= last]
    return (max([seg.start, *lead]), min([seg.end, *trail]), seg.speaker, "")


def _finish(cur: dict, roles: dict[str, str]) -> Turn:
    spk = cur["speaker"]
    text = " ".join(t.strip() for t in cur["texts"]).strip()
    return Turn(
        speaker=spk if spk is not None else "",
        role=roles.get(spk, "other") if spk is not None else UNASSIGNED_ROLE,
        start=round(cur["start"], 3),
        end=round(cur["end"], 3),
        text=text,
    )
