"""Do the two speech-to-text engines agree? WER of faster-whisper and openai-whisper on the
same recordings, the same bundled Whisper tiny.en weights and the same chunking.

Speech-to-text only (no diarization), through :func:`pipeline.asr.transcribe_long` as the
analysis calls it, scored against each reference's words (normalised as ``attune evaluate``
does). Configurations (``--configs``, comma-separated):

* ``fw-int8``: faster-whisper as shipped (int8, beam 5);
* ``fw-f32``: faster-whisper with float32 weights (beam 5), to tell quantisation from decoding;
* ``ow``: openai-whisper as shipped (float32, beam 5, the bundled weights converted);
* ``fw-greedy`` / ``ow-greedy``: both at beam 1 (they give the same words: tests/test_openai_backend.py).

Usage:
    python benchmarks/asr_parity.py [--configs fw-int8,fw-f32,ow] [--files sample,01,03,04] [--json F]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "data"

CONFIGS = {
    "fw-int8": ("faster-whisper", {"beam_size": 5}),
    "fw-f32": ("faster-whisper", {"beam_size": 5, "compute_type": "float32"}),
    "ow": ("openai-whisper", {"beam_size": 5}),
    "fw-greedy": ("faster-whisper", {"beam_size": 1, "compute_type": "float32"}),
    "ow-greedy": ("openai-whisper", {"beam_size": 1}),
}


def recordings(names: list[str]) -> list[tuple[str, Path, Path]]:
    out = []
    for n in names:
        if n == "sample":
            out.append(("sample", ROOT / "samples" / "consultation.flac", ROOT / "samples" / "consultation.ref.json"))
        else:
            stem = f"day1_consultation{n}"
            audio = SHARED / f"{stem}.flac"
            if audio.is_file():
                out.append((n, audio, SHARED / f"{stem}.ref.json"))
            else:
                print(f"skipped {n}: {audio} not found", file=sys.stderr)
    return out


def wer(ref_path: Path, words) -> tuple[int, int]:
    import jiwer

    from pipeline.textnorm import normalize

    utts = sorted(json.loads(ref_path.read_text())["utterances"], key=lambda u: u["start"])
    ref = normalize(" ".join(u["text"] for u in utts))
    hyp = normalize(" ".join(w.text for w in words))
    m = jiwer.process_words(ref, hyp)
    return m.substitutions + m.deletions + m.insertions, len(ref.split())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--configs", default="fw-int8,fw-f32,ow")
    ap.add_argument("--files", default="sample,01,03,04")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from pipeline.asr import load_engine, transcribe_long
    from pipeline.audio import load_audio

    recs = recordings(args.files.split(","))
    audio = {name: load_audio(path).samples for name, path, _ in recs}
    rows = []
    for config in args.configs.split(","):
        backend, kwargs = CONFIGS[config]
        engine = load_engine(backend, threads=args.threads, **kwargs)
        errors = words = 0
        for name, _path, ref in recs:
            t0 = time.perf_counter()
            hyp = transcribe_long(engine, audio[name])
            seconds = time.perf_counter() - t0
            e, n = wer(ref, hyp)
            errors, words = errors + e, words + n
            rows.append({"config": config, "recording": name, "wer": round(e / n, 4), "errors": e, "words": n,
                         "asr_s": round(seconds, 1)})  # fmt: skip
            print(f"{config:10} {name:7} WER {100 * e / n:5.1f} %  ({e}/{n})  {seconds:6.1f} s", flush=True)
        rows.append({"config": config, "recording": "pooled", "wer": round(errors / words, 4), "errors": errors,
                     "words": words})  # fmt: skip
        print(f"{config:10} pooled  WER {100 * errors / words:5.1f} %", flush=True)
        del engine
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
