"""Metrics from the reference timing next to the same metrics from ``attune analyze``.

For every consultation in ``../shared/data`` (PriMock57 (CC-BY-4.0), re-voiced) that has a
reference RTTM and a saved analysis (``benchmarks/run_analyze.py --save DIR``), prints each
timing metric computed from the reference RTTM (clinician = the ``doctor`` speaker) and from
the analysis's diarization (clinician = the speaker the analysis called clinician), with the
absolute difference. Both sides use the timing-only backchannel variant, so the comparison
is like for like.

Usage:
    python benchmarks/metric_agreement.py RESULTS_DIR [--markdown]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from pipeline.annotations import read_rttm
    from pipeline.metrics import TIMING_METRICS, compute
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
        ref_meta = json.loads(rttm.with_suffix(".ref.json").read_text())
        duration = ref_meta.get("duration")
        ref = compute(read_rttm(rttm).segments, "doctor", duration=duration)
        result = Result.load(res)
        clin = next((s.id for s in result.speakers if s.role == "clinician"), None)
        pat = next((s.id for s in result.speakers if s.role == "patient"), None)
        hyp = compute(result.segments, clin, duration=duration, patient=pat)
        print(f"\n{rttm.stem} ({duration:.0f} s): reference RTTM vs attune analyze (timing variant)")
        sep = " | "
        head = ["metric", "reference", "analyze", "abs diff"]
        if args.markdown:
            print("| " + sep.join(head) + " |\n|" + "---|" * len(head))
        else:
            print(sep.join(head))
        for name in TIMING_METRICS:
            a, b = ref[name], hyp[name]
            diff = abs(a - b) if isinstance(a, (int, float)) and isinstance(b, (int, float)) and \
                not isinstance(a, bool) else ("" if a == b else "differs")
            cells = [name, _fmt(a), _fmt(b), _fmt(diff)]
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
