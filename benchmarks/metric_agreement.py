"""Metrics from the reference timing next to the same metrics from ``attune analyze``.

For every consultation in ``../shared/data`` (PriMock57 (CC-BY-4.0), re-voiced) that has a
reference RTTM and a saved analysis (``benchmarks/run_analyze.py --save DIR``), prints the
metric agreement of :func:`pipeline.evaluate.evaluate`: each timing metric from the
reference RTTM (clinician = the ``doctor`` speaker) and from the analysis's speaker timing
(clinician = the speaker the analysis called clinician), with the absolute difference.
Both sides use the timing-only backchannel variant, so the comparison is like for like.

Usage:
    python benchmarks/metric_agreement.py RESULTS_DIR [--markdown]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from pipeline.annotations import read_timing
    from pipeline.evaluate import evaluate
    from pipeline.result import Result

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=Path, help="folder of <id>.result.json files")
    ap.add_argument("--markdown", action="store_true", help="print markdown tables")
    args = ap.parse_args()

    pairs = []
    for rttm in sorted(SHARED.glob("*.rttm")):
        res = args.results / (rttm.stem + ".result.json")
        if res.exists():
            pairs.append((rttm, res))
    if not pairs:
        print(f"no pairs: need {SHARED}/<id>.rttm and {args.results}/<id>.result.json", file=sys.stderr)
        return 1
    for rttm, res in pairs:
        result = Result.load(res)
        agreement = evaluate(result, read_timing([rttm]))["metric_agreement"]
        print(f"\n{rttm.stem} ({result.recording.duration_s:.0f} s): reference RTTM vs attune analyze (timing variant)")
        sep = " | "
        head = ["metric", "reference", "analyze", "abs diff"]
        if args.markdown:
            print("| " + sep.join(head) + " |\n|" + "---|" * len(head))
        else:
            print(sep.join(head))
        for m in agreement:
            cells = [
                m["metric"],
                _fmt(m["reference"]),
                _fmt(m["analysis"]),
                _fmt(m["abs_diff"])
                if m["abs_diff"] is not None
                else ("" if m["reference"] == m["analysis"] else "differs"),
            ]
            print(("| " + sep.join(cells) + " |") if args.markdown else sep.join(cells))
    return 0


def _fmt(v) -> str:
    if v is None:
        return "null"
    if isinstance(v, float):
        return f"{v:.4f}".rstrip("0").rstrip(".") if v != 0 else "0"
    return str(v)


if __name__ == "__main__":
    sys.exit(main())
