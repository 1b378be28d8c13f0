"""The published accuracy table: analyze + evaluate on every consultation, per configuration.

For each configuration (default; fast = greedy decoding; base = Whisper base; channels =
dual-channel mode on the stereo versions) this runs ``benchmarks/run_analyze.py`` (one
process per recording, so RTF and peak RSS are per recording) on the bundled sample and on
the consultations in ``../shared/data`` (PriMock57 (CC-BY-4.0), re-voiced), scores every
result with :mod:`pipeline.evaluate` against the reference JSON, and writes the tables into
``docs/benchmarks.md`` between the ``accuracy`` markers (or into ``--out``).

Usage:
    python benchmarks/accuracy.py [--configs default,fast,base,channels] [--sample-only] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
DOC = ROOT / "docs" / "benchmarks.md"
BEGIN, END = "<!-- accuracy:begin -->", "<!-- accuracy:end -->"
CONFIGS = {
    "default": {"args": [], "stereo": False, "what": "Whisper tiny.en int8 beam 5, pyannote + CAM++ on the mono mix"},
    "fast": {"args": ["--beam-size", "1"], "stereo": False, "what": "as default, greedy decoding (beam 1)"},
    "base": {"args": ["--asr-model", "base"], "stereo": False, "what": "Whisper base int8 beam 5 (language en)"},
    "channels": {
        "args": ["--channels", "clinician,patient"],
        "stereo": True,
        "what": "dual-channel mode on the stereo versions (clinician left, patient right)",
    },
}
MAIN = [
    ("clinician_talk_share", 100, "talk share (pp)"),
    ("clinician_interruptions", 1, "clinician interruptions"),
    ("patient_interruptions", 1, "patient interruptions"),
    ("listening_pauses", 1, "listening pauses"),
    ("clinician_response_latency_median_s", 1, "clinician latency (s)"),
]


def files_for(stereo: bool, sample_only: bool) -> list[Path]:
    sample = ROOT / "samples" / ("consultation.stereo.flac" if stereo else "consultation.flac")
    if sample_only:
        return [sample]
    pattern = "*.stereo.flac" if stereo else "*.flac"
    shared = sorted(p for p in SHARED.glob(pattern) if stereo or ".stereo." not in p.name)
    return [sample] + shared


def reference_for(audio: Path) -> Path:
    return audio.with_name(audio.name.split(".")[0] + ".ref.json")


def run_config(name: str, spec: dict, sample_only: bool, work: Path) -> list[dict]:
    sys.path.insert(0, str(ROOT))
    from pipeline.annotations import read_timing
    from pipeline.evaluate import evaluate
    from pipeline.result import Result

    save = work / name
    rows = []
    for audio in files_for(spec["stereo"], sample_only):
        cmd = [
            sys.executable,
            str(ROOT / "benchmarks" / "run_analyze.py"),
            "--one",
            str(audio),
            "--save",
            str(save),
            *spec["args"],
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"{name} {audio.name}: FAILED {proc.stderr.strip().splitlines()[-1:]}", file=sys.stderr)
            continue
        perf = json.loads(proc.stdout.strip().splitlines()[-1])
        result = Result.load(save / (audio.name.split(".")[0] + ".result.json"))
        score = evaluate(result, read_timing([reference_for(audio)]))
        agree = {m["metric"]: m["abs_diff"] for m in score["metric_agreement"]}
        rows.append(
            {
                "file": audio.name,
                "duration_s": perf["duration_s"],
                "rtf": perf["rtf"],
                "peak_rss_mb": perf["peak_rss_mb"],
                "score": score,
                "agree": agree,
            }
        )
        print(
            f"{name} {audio.name}: DER {score['der_c025']:.3f} WER {score['wer']:.3f} RTF {perf['rtf']:.3f}",
            file=sys.stderr,
            flush=True,
        )
    return rows


def table(name: str, spec: dict, rows: list[dict]) -> str:
    def pct(v):
        return "n/a" if v is None else f"{v * 100:.1f} %"

    head = (
        ["recording", "length", "DER c=0", "DER c=0.25", "WER", "roles right"]
        + [f"abs err {label}" for _, _, label in MAIN]
        + ["RTF", "peak RSS"]
    )
    out = [f"### {name}: {spec['what']}", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in rows:
        s = r["score"]
        errs = [r["agree"].get(m) for m, _, _ in MAIN]
        cells = (
            [
                r["file"],
                f"{r['duration_s']:.0f} s",
                pct(s["der_c0"]),
                pct(s["der_c025"]),
                pct(s["wer"]),
                "n/a" if s["role_accuracy"] is None else f"{s['role_accuracy'] * 100:.0f} %",
            ]
            + ["n/a" if e is None else f"{e * k:.2f}".rstrip("0").rstrip(".") for e, (_, k, _) in zip(errs, MAIN)]
            + [f"{r['rtf']:.3f}", f"{r['peak_rss_mb']:.0f} MB"]
        )
        out.append("| " + " | ".join(cells) + " |")
    if len(rows) > 1:
        from pipeline.evaluate import summarise

        summ = summarise([r["score"] for r in rows])
        maes = [summ["metric_mae"].get(m) for m, _, _ in MAIN]
        audio = sum(r["duration_s"] for r in rows)
        rtf = sum(r["rtf"] * r["duration_s"] for r in rows) / audio
        cells = (
            [
                "**all (pooled / mean)**",
                f"{audio:.0f} s",
                pct(summ["der_c0"]),
                pct(summ["der_c025"]),
                pct(summ["wer"]),
                "n/a" if summ["role_accuracy"] is None else f"{summ['role_accuracy'] * 100:.0f} %",
            ]
            + ["n/a" if e is None else f"{e * k:.2f}" for e, (_, k, _) in zip(maes, MAIN)]
            + [f"{rtf:.3f}", f"{max(r['peak_rss_mb'] for r in rows):.0f} MB"]
        )
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--sample-only", action="store_true", help="only the bundled sample (a quick check)")
    ap.add_argument("--out", type=Path, default=None, help="write the tables here instead of docs/benchmarks.md")
    args = ap.parse_args()
    names = [c.strip() for c in args.configs.split(",") if c.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        ap.error(f"unknown configuration {unknown[0]!r} (choose from {', '.join(CONFIGS)})")
    parts = [
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}. "
        "Scores by `attune evaluate` against the reference JSON (DER with optimal mapping, overlap "
        "scored; WER with fillers kept); abs err = absolute difference between the metric from the "
        "reference timing and from the analysis (talk share in percentage points).",
        "",
    ]
    with tempfile.TemporaryDirectory(prefix="attune-accuracy-") as tmp:
        for name in names:
            rows = run_config(name, CONFIGS[name], args.sample_only, Path(tmp))
            parts.append(table(name, CONFIGS[name], rows))
    block = "\n".join(parts)
    if args.out is not None:
        args.out.write_text(block)
    else:
        text = DOC.read_text()
        if BEGIN in text and END in text:
            text = text[: text.index(BEGIN) + len(BEGIN)] + "\n" + block + "\n" + text[text.index(END) :]
        else:
            text += f"\n## Accuracy per configuration (`benchmarks/accuracy.py`)\n\n{BEGIN}\n{block}\n{END}\n"
        DOC.write_text(text)
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
