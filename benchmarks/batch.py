"""Batch throughput and resume speed of ``attune batch``.

1. Throughput: the consultations in ``../shared/data`` (mono; PriMock57 (CC-BY-4.0),
   re-voiced) through ``attune batch`` with 1 and with 2 local workers: wall time,
   recordings per hour, and the speed-up over 1 worker.
2. Resume: a finished batch of 100 recordings (hard links to the bundled sample, each with
   its result.json and database row in place) run again: the time to find there is
   nothing to do.

Usage:
    python benchmarks/batch.py [--workers 1,2] [--skip-throughput]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
ATTUNE = [sys.executable, "-m", "pipeline.cli"]


def run(args: list[str]) -> tuple[float, str]:
    t0 = time.perf_counter()
    proc = subprocess.run(ATTUNE + args, capture_output=True, text=True, cwd=ROOT)
    return time.perf_counter() - t0, (proc.stdout + proc.stderr).strip()


def throughput(workers: list[int], tmp: Path) -> None:
    files = sorted(p for p in SHARED.glob("*.flac") if ".stereo." not in p.name)
    if not files:
        print("no consultations in ../shared/data: throughput skipped")
        return
    audio_s = 0.0
    for f in files:
        import soundfile as sf

        audio_s += sf.info(str(f)).duration
    print(f"throughput: {len(files)} recordings, {audio_s / 60:.1f} min of audio")
    single = 0.0
    for i, f in enumerate(files):
        wall, _ = run(["analyze", str(f), "-o", str(tmp / f"single{i}"), "--no-voices", "-q", "--no-audio"])
        single += wall
    print(
        f"  {len(files)} single `attune analyze` runs in a row: {single:.1f} s "
        f"({len(files) / single * 3600:.0f} recordings/hour, RTF {single / audio_s:.3f})"
    )
    base = None
    for n in workers:
        wall, out = run(
            [
                "batch",
                *map(str, files),
                "-o",
                str(tmp / f"w{n}"),
                "--workers",
                str(n),
                "--no-voices",
                "-q",
                "--no-audio",
            ]
        )
        base = base or wall
        print(
            f"  batch, {n} worker(s): {wall:.1f} s, {len(files) / wall * 3600:.0f} recordings/hour, "
            f"RTF {wall / audio_s:.3f}, speed-up x{base / wall:.2f} over 1 worker, "
            f"x{single / wall:.2f} over single runs  [{out.splitlines()[0]}]"
        )


def resume(tmp: Path, n: int = 100) -> None:
    sys.path.insert(0, str(ROOT))
    from pipeline.audio import file_sha256
    from pipeline.options import AnalysisOptions
    from pipeline.result import Result
    from pipeline.store import Store

    src = ROOT / "samples" / "consultation.flac"
    ref = Result.load(_analysed(src, tmp))
    folder, out = tmp / "many", tmp / "many-out"
    folder.mkdir()
    out.mkdir()
    sha = file_sha256(src)
    params = AnalysisOptions(use_voice_book=False).parameters()
    with Store(out / "attune.db") as store:
        for i in range(n):
            p = folder / f"rec{i:03d}.flac"
            os.link(src, p)
            ref.recording.path, ref.recording.sha256, ref.parameters = str(p), sha, params
            (out / p.stem).mkdir()
            (out / p.stem / "result.json").write_text(ref.to_json())
            store.conn.execute("DELETE FROM analyses")  # one audio hash: keep the last row only
            store.record(ref, {}, str(out / p.stem / "result.json"))
    wall, text = run(["batch", str(folder), "-o", str(out), "--no-voices", "-q"])
    print(f"resume: {n} finished recordings re-run in {wall:.2f} s (process start included)  [{text.splitlines()[0]}]")


def _analysed(src: Path, tmp: Path) -> Path:
    out = tmp / "one"
    subprocess.run(
        ATTUNE + ["analyze", str(src), "-o", str(out), "-q", "--no-voices", "--no-audio"], check=True, cwd=ROOT
    )
    return out / "result.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--workers", default="1,2")
    ap.add_argument("--skip-throughput", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="attune-batch-bench-") as tmp:
        if not args.skip_throughput:
            throughput([int(x) for x in args.workers.split(",")], Path(tmp))
        resume(Path(tmp))
    return 0


if __name__ == "__main__":
    sys.exit(main())
