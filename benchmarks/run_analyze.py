"""Speed, memory and accuracy of ``attune analyze`` on real-length consultations.

Runs the analysis on the bundled sample and on every consultation in ``../shared/data``
(when present; PriMock57 (CC-BY-4.0), re-voiced), each in its own process so that peak RSS
is per recording, and prints per-stage seconds, RTF, peak RSS, DER (collar 0 and 0.25 s),
WER and roles, scored by :mod:`pipeline.evaluate` against the reference JSON.

Usage:
    python benchmarks/run_analyze.py [--asr-backend openai-whisper] [--asr-model base] [--beam-size 1] [FILES...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"


def reference_for(audio: Path):
    """The reference JSON for ``audio`` (``<stem>.ref.json``), or None."""
    ref = audio.with_name(audio.name.split(".")[0] + ".ref.json")
    return ref if ref.exists() else None


def score(result, ref_json: Path) -> dict:
    """DER, WER and roles by :mod:`pipeline.evaluate` against the reference JSON."""
    from pipeline.annotations import read_timing
    from pipeline.evaluate import evaluate

    e = evaluate(result, read_timing([ref_json]))
    right = sum(1 for r in e["roles"].values() if r["analysis"] == r["reference"])
    return {
        "der_0.0": e["der_c0"],
        "der_0.25": e["der_c025"],
        "wer": e["wer"],
        "roles_right": f"{right}/{len(e['roles'])}",
    }


def run_one(path: Path, args) -> dict:
    """Child process: analyse one file and report timings, peak RSS and scores."""
    from pipeline.analysis import Analyzer
    from pipeline.options import AnalysisOptions

    opts = AnalysisOptions(
        asr_backend=args.asr_backend,
        asr_model=args.asr_model,
        beam_size=args.beam_size,
        channels=args.channels,
        use_voice_book=False,
    )
    t0 = time.perf_counter()
    result = Analyzer(opts).run(path).result
    wall = time.perf_counter() - t0
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        (args.save / (path.name.split(".")[0] + ".result.json")).write_text(result.to_json())
    row = {
        "file": path.name,
        "duration_s": result.recording.duration_s,
        "wall_s": wall,
        **{k: v for k, v in result.timings.items()},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "speakers": len(result.speakers),
        "mode": result.mode.get("name"),
    }
    ref = reference_for(path)
    if ref:
        row.update(score(result, ref))
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("files", nargs="*", type=Path)
    ap.add_argument("--asr-model", default=None)
    ap.add_argument("--asr-backend", default="faster-whisper", help="faster-whisper or openai-whisper")
    ap.add_argument("--beam-size", type=int, default=5)
    ap.add_argument("--channels", default=None, help="channel mode, e.g. clinician,patient or auto")
    ap.add_argument(
        "--stereo", action="store_true", help="use the dual-channel versions (*.stereo.flac) of the consultations"
    )
    ap.add_argument("--save", type=Path, default=None, help="also write each result.json to SAVE/<stem>.result.json")
    ap.add_argument("--one", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        print(json.dumps(run_one(args.one, args)))
        return 0
    if args.stereo:
        files = args.files or [ROOT / "samples" / "consultation.stereo.flac"] + sorted(SHARED.glob("*.stereo.flac"))
    else:
        files = args.files or [ROOT / "samples" / "consultation.flac"] + sorted(
            p for p in SHARED.glob("*.flac") if ".stereo." not in p.name
        )
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
    print(
        f"settings: asr_backend={args.asr_backend} asr_model={args.asr_model or 'whisper-tiny.en'} "
        f"beam={args.beam_size} "
        f"channels={args.channels}\n"
    )
    cols = [
        "file",
        "mode",
        "duration_s",
        "load_models",
        "decode",
        "asr",
        "diarization",
        "channel_vad",
        "total",
        "rtf",
        "rtf_without_model_loading",
        "peak_rss_mb",
        "der_0.0",
        "der_0.25",
        "wer",
        "roles_right",
    ]
    print(" | ".join(cols))
    rows = []
    for f in files:
        cmd = [
            sys.executable,
            __file__,
            "--one",
            str(f),
            "--beam-size",
            str(args.beam_size),
            "--asr-backend",
            args.asr_backend,
        ]
        if args.channels:
            cmd += ["--channels", args.channels]
        if args.asr_model:
            cmd += ["--asr-model", args.asr_model]
        if args.save:
            cmd += ["--save", str(args.save)]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{f.name}: FAILED: {proc.stderr.strip().splitlines()[-1:]}")
            continue
        row = json.loads(proc.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(" | ".join(_fmt(row.get(c)) for c in cols), flush=True)
    if rows:
        audio = sum(r["duration_s"] for r in rows)
        proc_s = sum(r["total"] for r in rows)
        print(
            f"\noverall: {audio:.0f} s of audio in {proc_s:.0f} s: RTF {proc_s / audio:.3f}; "
            f"max peak RSS {max(r['peak_rss_mb'] for r in rows):.0f} MB"
        )
    return 0


def _fmt(v) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
