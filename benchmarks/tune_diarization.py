"""Tune the clustering of the default diarization on real voices (the tuning part only).

Runs segmentation and embeddings once per recording of ``benchmarks/real_voices.py --split
tune`` (AMI ``trn*`` excerpts and the tuning consultations, clean and room), then re-runs
only the clustering for each setting of a grid, and prints pooled DER (collar 0.25) and
confusion per setting. Report the chosen setting on the other part with
``benchmarks/real_voices.py`` (never on this one).

Usage:
    python benchmarks/tune_diarization.py [--thresholds 0.7,0.75,...] [--min-cluster-sizes 6,12]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))


def recordings(work: Path, cache: Path, conditions: list[str]):
    import real_voices as rv

    data = rv.fetch(cache)
    work.mkdir(parents=True, exist_ok=True)
    out = []
    for wav, lines in rv.ami_files(data["ami"], "tune"):
        ref = [(p[7], float(p[3]), float(p[3]) + float(p[4])) for p in (line.split() for line in lines)]
        out.append((wav.stem, wav, ref))
    for cid, doc, pat in rv.SPLITS["tune"]:
        v = rv.voice_consultation(rv.SHARED / f"{cid}.ref.json", doc, pat, data["voices"])
        for cond in conditions:
            path = rv.condition(v["tracks"], cond, work, f"{cid}-{doc}-{pat}")
            out.append((f"{cid[-2:]}-{doc}-{pat}-{cond}", path, v["regions"]))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--thresholds", default="0.65,0.7,0.75,0.8,0.85,0.9")
    ap.add_argument("--min-cluster-sizes", default="6,12")
    ap.add_argument("--exclude-overlap", default="0,1")
    ap.add_argument("--conditions", default="clean,room")
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "attunement" / "benchmark-data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/attune-tune-diarization"))
    args = ap.parse_args()

    import torch
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from pipeline import loaders
    from pipeline.audio import load_audio
    from pipeline.diarize import DEFAULT_PARAMS

    diarizer = loaders.diarizer(None, None, 2)
    pipe = diarizer._pipeline
    files = recordings(args.work, args.cache, args.conditions.split(","))
    cache: dict = {}
    grid = list(
        itertools.product(
            [int(x) for x in args.exclude_overlap.split(",")],
            [float(x) for x in args.thresholds.split(",")],
            [int(x) for x in args.min_cluster_sizes.split(",")],
        )
    )
    totals = {g: {"der": 0.0, "conf": 0.0, "total": 0.0, "count_wrong": 0} for g in grid}
    for name, path, ref_regions in files:
        x = load_audio(path).samples
        file = {"waveform": torch.from_numpy(x)[None], "sample_rate": 16000, "uri": name}
        ref = Annotation(uri=name)
        for spk, a, b in ref_regions:
            ref[Segment(a, b)] = spk
        n_ref = len(ref.labels())
        seg_cache: dict = {}
        for exclude, threshold, mcs in grid:
            params = {
                "segmentation": dict(DEFAULT_PARAMS["segmentation"]),
                "clustering": {**DEFAULT_PARAMS["clustering"], "threshold": threshold, "min_cluster_size": mcs},
            }
            pipe.embedding_exclude_overlap = bool(exclude)
            pipe.instantiate(params)
            key = (name, exclude)
            if cache.get(key) is not None:
                pipe.get_segmentations = lambda f, hook=None, s=seg_cache["seg"]: s
                pipe.get_embeddings = lambda *a, e=cache[key], **k: e
            else:
                pipe.__dict__.pop("get_segmentations", None)
                pipe.__dict__.pop("get_embeddings", None)
            captured: dict = {}

            def hook(step, artefact, file=None, total=None, completed=None, captured=captured):
                if step in ("segmentation", "embeddings") and artefact is not None and total is None:
                    captured[step] = artefact

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                out = pipe(dict(file), hook=hook, min_speakers=2, max_speakers=4)
            if key not in cache:  # no embeddings: the segmentation found no speech at all
                cache[key] = captured.get("embeddings")
                seg_cache["seg"] = captured.get("segmentation")
            hyp = out.speaker_diarization
            metric = DiarizationErrorRate(collar=0.25, skip_overlap=False)
            d = metric(ref, hyp, detailed=True)
            t = totals[(exclude, threshold, mcs)]
            t["der"] += d["missed detection"] + d["false alarm"] + d["confusion"]
            t["conf"] += d["confusion"]
            t["total"] += d["total"]
            t["count_wrong"] += int(len(hyp.labels()) != n_ref)
        print(f"{name}: done", flush=True)
        pipe.__dict__.pop("get_segmentations", None)
        pipe.__dict__.pop("get_embeddings", None)
    print("\nexclude_overlap | threshold | min_cluster_size | pooled DER c=0.25 | confusion | speaker count wrong")
    for g, t in sorted(totals.items(), key=lambda kv: kv[1]["der"]):
        print(
            f"{g[0]} | {g[1]} | {g[2]} | {t['der'] / t['total'] * 100:.1f} % | {t['conf'] / t['total'] * 100:.1f} % | "
            f"{t['count_wrong']}/{len(files)}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
