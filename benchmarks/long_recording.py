"""Peak memory and speed of ``attune analyze`` on a long recording (default: 2 hours).

Builds a synthetic recording by repeating the bundled sample (two voices, 81 s) until it
reaches ``--hours``, writes it as FLAC to a temporary folder, and runs ``attune analyze``
on it in a child process. Prints the wall time, RTF and the child's peak resident memory
(``ru_maxrss``), and what the analysis found.

Usage:
    python benchmarks/long_recording.py [--hours 2] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=float, default=2.0)
    ap.add_argument("--keep", type=Path, default=None, help="keep the outputs in this folder")
    args = ap.parse_args()
    x, sr = sf.read(ROOT / "samples" / "consultation.flac", dtype="float32")
    n = int(args.hours * 3600 * sr)
    reps = int(np.ceil(n / len(x)))
    with tempfile.TemporaryDirectory(prefix="attune-long-") as tmp:
        audio = Path(tmp) / "long.flac"
        with sf.SoundFile(audio, "w", sr, 1, format="FLAC") as fh:
            for i in range(reps):
                fh.write(x[: max(0, min(len(x), n - i * len(x)))])
        out = args.keep or Path(tmp) / "out"
        print(f"{audio.name}: {n / sr / 3600:.2f} h, {audio.stat().st_size / 1e6:.0f} MB FLAC")
        t0 = time.perf_counter()
        proc = subprocess.run(
            [sys.executable, "-m", "pipeline.cli", "analyze", str(audio), "-o", str(out), "--no-voices", "-q"],
            cwd=ROOT,
            capture_output=True,
            text=True,
        )
        wall = time.perf_counter() - t0
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0:
            print(f"FAILED ({proc.returncode}): {proc.stderr.strip()[-500:]}")
            return 1
        result = json.loads((out / "result.json").read_text())
        t = result["timings"]
        print(f"wall {wall:.0f} s, RTF {wall / (n / sr):.3f}; peak RSS {peak:.0f} MB")
        print(
            "stages: "
            + ", ".join(f"{k} {v:.0f} s" for k, v in t.items() if k not in ("rtf", "rtf_without_model_loading"))
        )
        print(
            f"found {len(result['speakers'])} speakers, {len(result['words'])} words, {len(result['turns'])} turns; "
            f"outputs: {', '.join(sorted(p.name for p in out.iterdir()))}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
