"""The word metrics against the hand-labelled gold set (benchmarks/gold/): questions, open or
closed, reflections, empathic opportunities and their responses, consultation tasks.

On the **reference text** (PriMock57 (CC-BY-4.0), re-voiced, in ../shared/data): each reference
sentence is run through the same rules as an analysis (the detector sees the words with the
punctuation of the human transcript, and once more with every "?" removed, as a recogniser that
writes full stops would give them). On the **ASR output** (optional ``--results DIR`` of saved
analyses): the analysis's events are matched to the gold sentences by time (each reference
sentence timed by sharing its utterance's span out by characters; within ``--slack`` s, one to
one). Prints precision, recall and F1 per category, and the open/closed agreement.

Usage:
    python benchmarks/what_was_said.py [--results DIR] [--markdown]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
GOLD = ROOT / "benchmarks" / "gold" / "primock57_what_was_said.json"


def reference(cid: str):
    """The keyed sentences of one consultation: [(key, role, text, start, end)]."""
    from pipeline.evaluate import reference_sentences

    data = json.loads((SHARED / f"{cid}.ref.json").read_text())
    utterances = sorted(data["utterances"], key=lambda u: u["start"])
    return [
        (f"{s['u']}.{s['s']}", s["role"], s["text"], s["start"], s["end"])
        for s in reference_sentences(utterances, who="role")
    ]


def sentences_of(rows, strip_question_marks: bool):
    from pipeline.result import Word
    from pipeline.sentences import Sentence

    speaker = {"doctor": "C", "patient": "P"}
    out, keys = [], {}
    for key, role, text, start, end in rows:
        t = text.replace("?", ".") if strip_question_marks else text
        tokens = t.split()
        step = (end - start) / max(1, len(tokens))
        words = tuple(
            Word(w, round(start + i * step, 3), round(start + (i + 1) * step, 3), 1.0, speaker[role])
            for i, w in enumerate(tokens)
        )
        s = Sentence(speaker[role], start, end, t, words)
        out.append(s)
        keys[(s.speaker, round(s.start, 2))] = key
    return out, keys


def scores(hits: int, found: int, gold: int) -> dict:
    """pipeline.evaluate's detection scores, NaN where undefined (for printing)."""
    from pipeline.evaluate import detection_scores

    d = detection_scores(hits, found, gold)
    nan = float("nan")
    return {
        "found": found,
        "gold": gold,
        "hits": hits,
        **{k: nan if d[k] is None else d[k] for k in ("precision", "recall", "f1")},
    }


def prf(found: set, gold: set) -> dict:
    return scores(len(found & gold), len(found), len(gold))


def score_text(cid: str, g: dict, strip: bool) -> dict:
    from pipeline.metrics import questions as q
    from pipeline.metrics import responses as rs
    from pipeline.metrics.language import is_empathy_statement
    from pipeline.metrics.tasks import find_tasks

    rows = reference(cid)
    sents, keys = sentences_of(rows, strip)
    key_of = lambda e: keys.get((e["speaker"], round(e["start"], 2)))  # noqa: E731
    doctor = [s for s in sents if s.speaker == "C"]
    found_q = {keys[(s.speaker, round(s.start, 2))] for s in doctor if q.is_question(s.text)}
    gold_q = set(g["questions"])
    kinds_right = sum(
        1
        for s in doctor
        if keys[(s.speaker, round(s.start, 2))] in gold_q
        and q.kind(s.text) == g["questions"][keys[(s.speaker, round(s.start, 2))]]
    )
    refl = {key_of(e) for e in rs.reflections(sents, "C", "P")}
    empathic = [s.text for s in doctor if is_empathy_statement(s.text)]
    opps = rs.opportunities(sents, "C", "P", empathic)
    found_cues = {key_of(o) for o in opps}
    outcome_right = sum(1 for o in opps if key_of(o) in g["cues"] and o["outcome"] == g["cues"][key_of(o)][1])
    duration = max(r[4] for r in rows)
    tasks = find_tasks(sents, "C", duration)
    task_found = {(cid, t["task"]) for t in tasks if t["found"]}
    task_gold = {(cid, name) for name, keys_ in g["tasks"].items() if keys_}
    return {
        "questions": prf(found_q, gold_q),
        "open_closed": {"agree": kinds_right, "of": len(gold_q)},
        "reflections": prf(refl, set(g["reflections"])),
        "opportunities": prf(found_cues, set(g["cues"])),
        "response_outcome": {"agree": outcome_right, "of": len(found_cues & set(g["cues"]))},
        "tasks": prf(task_found, task_gold),
        "task_items": len(tasks),
    }


def pool(parts: list[dict]) -> dict:
    out = {}
    for k in parts[0]:
        if isinstance(parts[0][k], dict) and "hits" in parts[0][k]:
            out[k] = scores(*(sum(p[k][x] for p in parts) for x in ("hits", "found", "gold")))
        elif isinstance(parts[0][k], dict) and "agree" in parts[0][k]:
            out[k] = {"agree": sum(p[k]["agree"] for p in parts), "of": sum(p[k]["of"] for p in parts)}
    return out


def score_asr(cid: str, g: dict, result_path: Path, slack: float) -> dict:
    from pipeline.evaluate import match_spans
    from pipeline.metrics import compute_for_result
    from pipeline.result import Result

    rows = reference(cid)
    span = {k: (s, e) for k, _, _, s, e in rows}
    result = Result.load(result_path)
    clin = next((s.id for s in result.speakers if s.role == "clinician"), None)
    pat = next((s.id for s in result.speakers if s.role == "patient"), None)
    ev = compute_for_result(result).get("events") or {}

    def score(events, gold_keys):
        found = [(e["start"], e["end"]) for e in events]
        gold = [span[k] for k in gold_keys]
        return scores(match_spans(found, gold, slack), len(found), len(gold))

    return {
        "questions": score([e for e in ev.get("questions") or [] if e["speaker"] == clin], g["questions"]),
        "reflections": score(ev.get("reflections") or [], g["reflections"]),
        "opportunities": score([o for o in ev.get("empathic_opportunities") or [] if o["speaker"] == pat], g["cues"]),
    }


def main() -> int:
    sys.path.insert(0, str(ROOT))
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=None)
    ap.add_argument("--slack", type=float, default=1.0)
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()
    gold = json.loads(GOLD.read_text())["consultations"]
    text, stripped, asr = [], [], []
    for cid, g in gold.items():
        rows = reference(cid)
        digest = hashlib.sha256("\n".join(f"{k}\t{r}\t{t}" for k, r, t, _, _ in rows).encode()).hexdigest()
        if digest != g["sentences_sha256"]:
            print(f"{cid}: the reference sentences differ from the ones labelled; skipped", file=sys.stderr)
            continue
        text.append(score_text(cid, g, strip=False))
        stripped.append(score_text(cid, g, strip=True))
        if args.results:
            for p in (args.results / cid / "result.json", args.results / f"{cid}.result.json"):
                if p.exists():
                    asr.append(score_asr(cid, g, p, args.slack))
                    break
    report = {"reference text": pool(text), "reference text without '?'": pool(stripped)}
    if asr:
        report["ASR output"] = pool(asr)
    if not args.markdown:
        print(json.dumps(report, indent=2))
        return 0
    print("| category | on | found | gold | precision | recall | F1 |")
    print("|---|---|---|---|---|---|---|")
    for on, parts in report.items():
        for k, v in parts.items():
            if "hits" in v:
                print(
                    f"| {k} | {on} | {v['found']} | {v['gold']} | {v['precision']:.2f} | {v['recall']:.2f} "
                    f"| {v['f1']:.2f} |"
                )
    for on, parts in report.items():
        for k, v in parts.items():
            if "agree" in v:
                print(f"\n{k} ({on}): {v['agree']} of {v['of']} agree ({v['agree'] / max(1, v['of']):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
