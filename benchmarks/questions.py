"""How well clinician questions are found, against the human transcripts' "?".

For the consultations in ``../shared/data`` (PriMock57 (CC-BY-4.0), re-voiced):

* **reference text**: the detector (:mod:`pipeline.metrics.questions`) on each sentence of the
  doctor's reference utterances, with every "?" removed, against the "?" of the human
  transcript: how far the words alone find the questions;
* **ASR output**: the clinician question events of a saved analysis (``result.json`` of
  ``attune analyze``, re-scored with the current rules) against the reference questions by
  time: a reference sentence's time is its utterance's span shared out by characters; a
  detected question matches an unmatched reference question whose span overlaps its own
  widened by ``--slack`` seconds (one to one, nearest first). Also the old rule (a sentence
  ending in "?") on the same words, for comparison.

Usage:
    python benchmarks/questions.py RESULTS_DIR [--markdown]

``RESULTS_DIR/<consultation id>/result.json`` (as written by ``benchmarks/run_analyze.py
--save``) or ``RESULTS_DIR/<consultation id>.result.json``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def reference_sentences(ref: dict) -> list[dict]:
    """The doctor's sentences: text, start, end (shared out by characters), question (has '?')."""
    from pipeline.evaluate import reference_sentences as split

    return [
        {**s, "question": s["text"].rstrip().endswith("?")}
        for s in split(ref["utterances"], who="role")
        if s["role"] == "doctor"
    ]


def prf(hits: int, found: int, ref: int) -> dict:
    """pipeline.evaluate's detection scores, with NaN for an undefined ratio (for printing)."""
    from pipeline.evaluate import detection_scores

    d = detection_scores(hits, found, ref)
    return {
        "hits": hits,
        "found": found,
        "ref": ref,
        **{k: float("nan") if d[k] is None else d[k] for k in ("precision", "recall", "f1")},
    }


def find_result(results: Path, cid: str) -> Path | None:
    for p in (results / cid / "result.json", results / f"{cid}.result.json"):
        if p.exists():
            return p
    return None


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from pipeline.evaluate import match_spans as match
    from pipeline.metrics import compute_for_result
    from pipeline.metrics import questions as q
    from pipeline.result import Result
    from pipeline.sentences import split

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path)
    ap.add_argument("--slack", type=float, default=1.0)
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--show", action="store_true", help="print the misses and false alarms (transcript text)")
    args = ap.parse_args()
    rows = []
    for ref_path in sorted(SHARED.glob("*.ref.json")):
        cid = ref_path.name.split(".")[0]
        ref = json.loads(ref_path.read_text())
        sents = reference_sentences(ref)
        ref_q = [s for s in sents if s["question"]]
        text_found = [s for s in sents if q.is_question(s["text"].replace("?", "."))]
        text_hits = sum(1 for s in text_found if s["question"])
        row = {"consultation": cid, "text": prf(text_hits, len(text_found), len(ref_q))}
        if args.show:
            for s in sents:
                got = q.is_question(s["text"].replace("?", "."))
                if got != s["question"]:
                    print(f"  text {'FA ' if got else 'MISS'} {s['text']}")
        path = find_result(args.results, cid)
        if path is not None:
            result = Result.load(path)
            clin = next((s.id for s in result.speakers if s.role == "clinician"), None)
            metrics = compute_for_result(result)
            events = [e for e in (metrics.get("events") or {}).get("questions") or [] if e["speaker"] == clin]
            spans = [(e["start"], e["end"]) for e in events]
            refs = [(s["start"], s["end"]) for s in ref_q]
            row["asr"] = prf(match(spans, refs, args.slack), len(spans), len(refs))
            old = [(s.start, s.end) for s in split(result.words) if s.speaker == clin and s.text.rstrip().endswith("?")]
            row["asr_old_rule"] = prf(match(old, refs, args.slack), len(old), len(refs))
            row["open_share"] = metrics.get("clinician_open_question_share")
            row["stacked"] = metrics.get("clinician_stacked_questions")
        rows.append(row)
    pooled = {}
    for key in ("text", "asr", "asr_old_rule"):
        sel = [r[key] for r in rows if key in r]
        if sel:
            pooled[key] = prf(sum(s["hits"] for s in sel), sum(s["found"] for s in sel), sum(s["ref"] for s in sel))
    if args.markdown:
        print("| consultation | on | found | reference | precision | recall | F1 |")
        print("|---|---|---|---|---|---|---|")
        for r in rows + [{"consultation": "pooled", **pooled}]:
            for key, label in (("text", "reference text"), ("asr", "ASR, new rule"), ("asr_old_rule", "ASR, '?' only")):
                if key in r:
                    m = r[key]
                    print(
                        f"| {r['consultation']} | {label} | {m['found']} | {m['ref']} | {m['precision']:.2f} | "
                        f"{m['recall']:.2f} | {m['f1']:.2f} |"
                    )
    else:
        print(json.dumps({"rows": rows, "pooled": pooled}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
