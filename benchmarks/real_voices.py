"""Speaker attribution on real human voices: diarization and timing metrics against references.

Sources (fetched at benchmark time with ``pip download`` into ``--cache``; nothing of them is
committed):

* **AMI excerpts**: ``tests/data/*.wav`` with ``debug.*.rttm`` from the pyannote.audio 4.0.7
  source archive (CC-BY-4.0, AMI Meeting Corpus). ``trn*`` are for tuning, ``dev*``/``tst*``
  are reported.
* **pyannote's sample.wav** with its RTTM (same archive).
* **Two-party consultations voiced by real speakers**: the speakerbox 1.2.0 wheel's test clips
  (``diarized.zip``: 9 Seattle city council members, public meeting speech), spliced on the
  utterance timings of the three ``../shared/data`` consultations (PriMock57, CC-BY-4.0).
  Each utterance is filled with the next seconds of its speaker's speech (clips in order,
  looped); the reference is an energy detector on each speaker's own track (10 ms frames,
  35 dB below the track's loud frames, gaps under 0.25 s bridged, runs under 0.1 s dropped).
  Same-gender and cross-gender pairs; ``--split tune`` and ``--split report`` use different
  pairs.

Conditions: ``clean``; ``room`` (each voice through its own synthetic reverberant response,
RT60 about 0.5 s, plus noise at 15 dB SNR); ``phone`` (300-3400 Hz at 8 kHz and a 12 kbit/s
Opus round trip); ``quiet`` (peak at -35 dBFS). The channel-mode floor (``--floor``) scores
``--channels clinician,patient`` on the clean stereo version (one voice per channel, 25 dB
crosstalk): it cannot confuse speakers, so its DER is disagreement over where speech is.

Usage:
    python benchmarks/real_voices.py [--split report|tune] [--conditions clean,room,phone,quiet]
                                     [--no-ami] [--no-consultations] [--floor] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
SR = 16000
GENDER = {
    "lewis": "M",
    "pedersen": "M",
    "strauss": "M",
    "gonzalez": "F",
    "herbold": "F",
    "juarez": "F",
    "morales": "F",
    "mosqueda": "F",
    "sawant": "F",
}
# (consultation, doctor voice, patient voice)
SPLITS = {
    "report": [
        ("day1_consultation01", "lewis", "gonzalez"),  # M/F
        ("day1_consultation01", "strauss", "pedersen"),  # M/M
        ("day1_consultation03", "herbold", "morales"),  # F/F
        ("day1_consultation03", "mosqueda", "lewis"),  # F/M
        ("day1_consultation04", "juarez", "sawant"),  # F/F
        ("day1_consultation04", "pedersen", "herbold"),  # M/F
    ],
    "tune": [
        ("day1_consultation01", "sawant", "mosqueda"),  # F/F
        ("day1_consultation03", "gonzalez", "strauss"),  # F/M
        ("day1_consultation04", "lewis", "pedersen"),  # M/M
    ],
}
CONDITIONS = ("clean", "room", "phone", "quiet")
METRICS = [
    ("clinician_talk_share", "talk share"),
    ("clinician_turns", "clinician turns"),
    ("patient_turns", "patient turns"),
    ("clinician_interruptions", "clinician interruptions"),
    ("patient_interruptions", "patient interruptions"),
    ("clinician_response_latency_median_s", "clinician latency (s)"),
    ("patient_response_latency_median_s", "patient latency (s)"),
]


# ---------------------------------------------------------------------------- data
def fetch(cache: Path) -> dict[str, Path]:
    """Download (once) and unpack the pyannote.audio sdist and the speakerbox wheel."""
    cache.mkdir(parents=True, exist_ok=True)
    pip = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", str(cache)]
    sdist = cache / "pyannote_audio-4.0.7.tar.gz"
    if not sdist.exists():
        subprocess.run(pip + ["--no-binary", ":all:", "pyannote.audio==4.0.7"], check=True)
    wheel = cache / "speakerbox-1.2.0-py3-none-any.whl"
    if not wheel.exists():
        subprocess.run(pip + ["speakerbox==1.2.0"], check=True)
    ami = cache / "ami"
    if not (ami / ".done").exists():
        ami.mkdir(exist_ok=True)
        with tarfile.open(sdist) as tar:
            for m in tar.getmembers():
                name = Path(m.name)
                keep = (
                    ("tests/data/" in m.name and name.suffix in (".wav", ".rttm"))
                    or m.name.endswith("src/pyannote/audio/sample/sample.wav")
                    or m.name.endswith("src/pyannote/audio/sample/sample.rttm")
                )
                if keep and m.isfile():
                    data = tar.extractfile(m)
                    assert data is not None
                    (ami / name.name).write_bytes(data.read())
        (ami / ".done").write_text("")
    voices = cache / "speakerbox"
    if not (voices / ".done").exists():
        voices.mkdir(exist_ok=True)
        with zipfile.ZipFile(wheel) as whl:
            inner = whl.read("speakerbox/tests/data/diarized.zip")
        (voices / "diarized.zip").write_bytes(inner)
        with zipfile.ZipFile(voices / "diarized.zip") as z:
            z.extractall(voices)
        (voices / ".done").write_text("")
    return {"ami": ami, "voices": voices}


def ami_files(ami: Path, split: str) -> list[tuple[Path, list[str]]]:
    """(wav, its RTTM lines) for the AMI excerpts of the split, and pyannote's sample."""
    lines: dict[str, list[str]] = {}
    for rttm in ami.glob("*.rttm"):
        for line in rttm.read_text().splitlines():
            parts = line.split()
            if len(parts) >= 8 and parts[0] == "SPEAKER":
                lines.setdefault(parts[1], []).append(line)
    wanted = ("trn",) if split == "tune" else ("dev", "tst", "sample")
    out = []
    for wav in sorted(ami.glob("*.wav")):
        if wav.stem.startswith(wanted) and wav.stem in lines:
            out.append((wav, lines[wav.stem]))
    return out


def speech_stream(voices: Path, speaker: str) -> np.ndarray:
    """All of a speaker's clips, in order, as one 16 kHz signal."""
    x = np.concatenate([_clip(clip) for clip in sorted(voices.glob(f"*/{speaker}/*.wav"))])
    return x / (np.sqrt(np.mean(x**2)) + 1e-9) * 0.05  # the same speech level for every voice


def energy_reference(track: np.ndarray, speaker: str) -> list[tuple[str, float, float]]:
    """Speech regions of one speaker's own track (see the module docstring)."""
    from pipeline.boundaries import frame_db

    db = frame_db(track)  # 10 ms frames
    loud = np.percentile(db[db > -100], 95) if np.any(db > -100) else -100
    active = db > max(loud - 35.0, -70.0)
    from pipeline.metrics.timeline import runs_of

    runs = runs_of(active)
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and a - merged[-1][1] < 25:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    return [(speaker, a / 100, b / 100) for a, b in merged if b - a >= 10]


def voice_consultation(ref_json: Path, doctor: str, patient: str, voices: Path) -> dict:
    """Two tracks (doctor, patient) placed on the consultation's utterance timings."""
    ref = json.loads(ref_json.read_text())
    n = int(round(float(ref["duration"]) * SR)) + SR
    tracks = {"doctor": np.zeros(n, np.float32), "patient": np.zeros(n, np.float32)}
    streams = {"doctor": speech_stream(voices, doctor), "patient": speech_stream(voices, patient)}
    pos = {"doctor": 0, "patient": 0}
    fade = np.linspace(0, 1, int(0.02 * SR), dtype=np.float32)
    for u in ref["utterances"]:
        role = "doctor" if u["role"] == "doctor" else "patient"
        a, b = int(u["start"] * SR), min(n, int(u["end"] * SR))
        if b <= a:
            continue
        s = streams[role]
        idx = (pos[role] + np.arange(b - a)) % len(s)
        piece = s[idx].copy()
        pos[role] = int((pos[role] + (b - a)) % len(s))
        k = min(len(fade), len(piece) // 2)
        piece[:k] *= fade[:k]
        piece[len(piece) - k :] *= fade[::-1][:k]
        tracks[role][a:b] += piece
    regions = energy_reference(tracks["doctor"], "doctor") + energy_reference(tracks["patient"], "patient")
    return {"tracks": tracks, "regions": sorted(regions, key=lambda r: r[1])}


# ---------------------------------------------------------------------------- conditions
def _rir(seed: int, rt60: float = 0.5) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(rt60 * SR)) / SR
    h = rng.standard_normal(len(t)) * np.exp(-6.9 * t / rt60)
    h[0] = 1.0 / 0.3  # the direct sound, above the tail
    return (h / np.sqrt(np.sum(h**2))).astype(np.float32)


def _noise(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    white = rng.standard_normal(n)
    spectrum = np.fft.rfft(white) / np.maximum(1.0, np.arange(n // 2 + 1)) ** 0.5  # pink
    return np.fft.irfft(spectrum, n).astype(np.float32)


def condition(tracks: dict[str, np.ndarray], name: str, work: Path, stem: str) -> Path:
    """The mono recording of the tracks under one condition, as a file."""
    import soundfile as sf
    from scipy.signal import butter, fftconvolve, sosfiltfilt

    if name == "room":
        wet = [fftconvolve(x, _rir(i + 1))[: len(x)] for i, x in enumerate(tracks.values())]
        mix = np.sum(wet, axis=0)
        speech_power = np.mean(mix[np.abs(mix) > 1e-4] ** 2)
        noise = _noise(len(mix), 7)
        mix = mix + noise * np.sqrt(speech_power / 10**1.5 / np.mean(noise**2))
    else:
        mix = np.sum(list(tracks.values()), axis=0)
    peak = np.max(np.abs(mix)) or 1.0
    mix = mix / peak * (10 ** (-35 / 20) if name == "quiet" else 10 ** (-3 / 20))
    out = work / f"{stem}.{name}.flac"
    if name == "phone":
        band = sosfiltfilt(butter(6, [300, 3400], btype="band", fs=SR, output="sos"), mix)
        wav = work / f"{stem}.phone-band.wav"
        sf.write(wav, band.astype(np.float32), SR)
        opus = work / f"{stem}.phone.opus"
        ff = ["ffmpeg", "-nostdin", "-loglevel", "error", "-y"]
        subprocess.run(ff + ["-i", str(wav), "-ar", "8000", "-c:a", "libopus", "-b:a", "12k", str(opus)], check=True)
        subprocess.run(ff + ["-i", str(opus), "-ar", str(SR), str(out)], check=True)
        wav.unlink()
        opus.unlink()
        return out
    sf.write(out, mix.astype(np.float32), SR)
    return out


def stereo(tracks: dict[str, np.ndarray], work: Path, stem: str) -> Path:
    import soundfile as sf

    d, p = tracks["doctor"], tracks["patient"]
    leak = 10 ** (-25 / 20)
    x = np.stack([d + leak * p, p + leak * d], axis=1)
    x = x / (np.max(np.abs(x)) or 1.0) * 10 ** (-3 / 20)
    out = work / f"{stem}.stereo.flac"
    sf.write(out, x.astype(np.float32), SR)
    return out


def write_rttm(regions, path: Path, uri: str) -> Path:
    path.write_text(
        "".join(f"SPEAKER {uri} 1 {a:.3f} {b - a:.3f} <NA> <NA> {spk} <NA> <NA>\n" for spk, a, b in regions)
    )
    return path


# ---------------------------------------------------------------------------- scoring
def score(analyzer, audio: Path, rttm: Path, save: Path) -> dict:
    """Analyse ``audio`` and score it against the RTTM; the result is kept in ``save``.

    The timing metrics of the analysis are computed with the roles of the reference's
    speakers (clinician = the speaker mapped to ``doctor`` by the optimal DER mapping): the
    real voices here do not say the consultation's words, so the role rule (who asks the
    most questions) is not under test on them; it is measured on the re-voiced consultations.
    """
    from pipeline.annotations import read_timing
    from pipeline.evaluate import evaluate

    t0 = time.perf_counter()
    result = analyzer.run(audio).result
    wall = time.perf_counter() - t0
    save.write_text(result.to_json())
    ref = read_timing([rttm])
    e = evaluate(result, ref)
    return {
        "file": audio.name,
        "result": str(save),
        "duration_s": result.recording.duration_s,
        "wall_s": round(wall, 1),
        "speakers_ref": len(ref.speakers),
        "speakers_found": len(result.speakers),
        "der_c0": e["der_c0"],
        "der_c025": e["der_c025"],
        "missed_c025": e.get("missed_c025"),
        "false_alarm_c025": e.get("false_alarm_c025"),
        "confusion_c025": e.get("confusion_c025"),
        "jer": e.get("jer"),
        "roles": e.get("role_accuracy"),
        "metrics": oracle_role_metrics(result, ref),
        "quality": result.quality,
    }


def oracle_role_metrics(result, ref) -> dict:
    """(reference, analysis) of each timing metric, the analysis's roles taken from the reference."""
    from pyannote.core import Annotation, Segment
    from pyannote.metrics.diarization import DiarizationErrorRate

    from pipeline.metrics import compute

    def ann(segments):
        a = Annotation()
        for s in segments:
            a[Segment(s.start, s.end)] = s.speaker
        return a

    mapping = DiarizationErrorRate().optimal_mapping(ann(ref.segments), ann(result.segments))  # hyp -> ref
    to_hyp = {r: h for h, r in mapping.items()}
    clin_ref = "doctor" if "doctor" in ref.speakers else ref.speakers[0]
    pat_ref = next((s for s in ref.speakers if s != clin_ref), None)
    duration = result.recording.duration_s
    a = compute(ref.segments, clin_ref, duration=duration, patient=pat_ref)
    b = compute(result.segments, to_hyp.get(clin_ref), duration=duration, patient=to_hyp.get(pat_ref))
    return {k: (a.get(k), b.get(k)) for k, _ in METRICS}


def pooled(rows: list[dict], key: str) -> float:
    total = sum(r["duration_s"] for r in rows)
    return sum(r[key] * r["duration_s"] for r in rows if r[key] is not None) / total if total else float("nan")


def fmt_row(r: dict) -> str:
    def pct(v):
        return "–" if v is None else f"{v * 100:.1f} %"

    cells = [
        r["name"],
        pct(r["der_c025"]),
        pct(r["confusion_c025"]),
        pct(r["missed_c025"]),
        pct(r["false_alarm_c025"]),
        f"{r['speakers_found']}/{r['speakers_ref']}",
    ]
    for k, _ in METRICS:
        ref, hyp = r["metrics"].get(k) or (None, None)
        cells.append(f"{_v(ref)} → {_v(hyp)}")
    return "| " + " | ".join(cells) + " |"


def _v(x) -> str:
    if x is None:
        return "–"
    if isinstance(x, float):
        return f"{x:.3f}" if abs(x) < 1 else f"{x:.2f}"
    return str(x)


def header() -> list[str]:
    cols = ["recording", "DER c=0.25", "confusion", "missed", "false alarm", "speakers"] + [t for _, t in METRICS]
    return ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]


def voice_similarities(voices: Path) -> dict:
    """The voice book's threshold on real speakers: CAM++ similarity of one meeting's speech
    of a speaker (up to 60 s) against another meeting's (same speaker) and against the other
    speakers'."""
    from pipeline.embedding import CamPlusPlus
    from pipeline.voices import MATCH_THRESHOLD

    embedder = CamPlusPlus(2)
    embs: dict[tuple[str, str], np.ndarray] = {}
    for meeting in sorted(p.name for p in voices.iterdir() if p.is_dir()):
        for spk_dir in sorted((voices / meeting).iterdir()):
            x = np.concatenate([_clip(c) for c in sorted(spk_dir.glob("*.wav"))])[: 60 * SR]
            if len(x) >= 3 * SR:
                embs[(meeting, spk_dir.name)] = embedder.embed(x)
    same, diff = [], []
    keys = sorted(embs)
    for i, a in enumerate(keys):
        for b in keys[i + 1 :]:
            sim = float(embs[a] @ embs[b])
            (same if a[1] == b[1] else diff).append((sim, a[1], b[1]))
    return {
        "threshold": MATCH_THRESHOLD,
        "same_speaker": {"n": len(same), "min": min(same)[0], "median": float(np.median([s for s, *_ in same]))},
        "different_speakers": {"n": len(diff), "max": max(diff), "median": float(np.median([s for s, *_ in diff]))},
        "same_below_threshold": sum(s < MATCH_THRESHOLD for s, *_ in same),
        "different_above_threshold": sum(s >= MATCH_THRESHOLD for s, *_ in diff),
    }


def _clip(path: Path) -> np.ndarray:
    """A clip as 16 kHz mono (the clips are short: read directly, not through the analysis's decoder)."""
    import soundfile as sf

    x, sr = sf.read(path, dtype="float32", always_2d=True)
    x = x.mean(axis=1)
    if sr != SR:
        import librosa

        x = librosa.resample(x, orig_sr=sr, target_sr=SR)
    return x


# ---------------------------------------------------------------------------- main
def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=list(SPLITS), default="report")
    ap.add_argument("--conditions", default=",".join(CONDITIONS))
    ap.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "attunement" / "benchmark-data")
    ap.add_argument("--work", type=Path, default=Path("/tmp/attune-real-voices"))
    ap.add_argument("--no-ami", action="store_true")
    ap.add_argument("--no-consultations", action="store_true")
    ap.add_argument("--floor", action="store_true", help="also score channel mode on the clean stereo versions")
    ap.add_argument("--limit", type=int, default=None, help="only the first N consultations")
    ap.add_argument("--json", type=Path, default=None, help="write every row as JSON")
    ap.add_argument("--voices", action="store_true", help="only the voice-book threshold check on real speakers")
    ap.add_argument("--no-refine", action="store_true", help="without moving speaker changes into pauses (before)")
    ap.add_argument("--no-resegment", action="store_true", help="without the frame-level resegmentation")
    args = ap.parse_args()
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("ATTUNE_DATA_DIR", str(args.work / "data"))
    from pipeline import stages
    from pipeline.analysis import Analyzer
    from pipeline.options import AnalysisOptions

    if args.no_refine:
        stages.refine_changes = lambda samples, segments: list(segments)  # the diarization's own changes

    data = fetch(args.cache)
    args.work.mkdir(parents=True, exist_ok=True)
    if args.voices:
        print(json.dumps(voice_similarities(data["voices"]), indent=2))
        return 0
    analyzer = Analyzer(AnalysisOptions(use_voice_book=False, resegment=not args.no_resegment))
    tag = ("before" if args.no_refine else "after") + ("" if args.no_resegment else "-reseg")
    rows: list[dict] = []
    if not args.no_consultations:
        conditions = [c for c in args.conditions.split(",") if c]
        for cid, doc, pat in SPLITS[args.split][: args.limit]:
            v = voice_consultation(SHARED / f"{cid}.ref.json", doc, pat, data["voices"])
            stem = f"{cid}-{doc}-{pat}"
            rttm = write_rttm(v["regions"], args.work / f"{stem}.rttm", stem)
            pair = f"{GENDER[doc]}/{GENDER[pat]}"
            for cond in conditions:
                audio = condition(v["tracks"], cond, args.work, stem)
                r = score(analyzer, audio, rttm, args.work / f"{stem}.{cond}.{tag}.result.json")
                r.update(name=f"{cid[-2:]} {doc}/{pat} ({pair}) {cond}", kind="consultation", condition=cond, pair=pair)
                rows.append(r)
                print(fmt_row(r), flush=True)
            if args.floor:
                floor = Analyzer(AnalysisOptions(use_voice_book=False, channels="clinician,patient"))
                r = score(floor, stereo(v["tracks"], args.work, stem), rttm, args.work / f"{stem}.floor.result.json")
                r.update(
                    name=f"{cid[-2:]} {doc}/{pat} ({pair}) channel floor", kind="floor", condition="floor", pair=pair
                )
                rows.append(r)
                print(fmt_row(r), flush=True)
    if not args.no_ami:
        for wav, lines in ami_files(data["ami"], args.split):
            rttm = args.work / f"{wav.stem}.ref.rttm"
            rttm.write_text("\n".join(lines) + "\n")
            r = score(analyzer, wav, rttm, args.work / f"{wav.stem}.{tag}.result.json")
            r.update(name=wav.stem, kind="ami" if wav.stem != "sample" else "sample", condition="as recorded", pair="")
            rows.append(r)
            print(fmt_row(r), flush=True)
    print()
    print("\n".join(header()))
    for r in rows:
        print(fmt_row(r))
    print()
    for kind in ("consultation", "floor", "ami"):
        for cond in sorted({r["condition"] for r in rows if r["kind"] == kind}):
            sel = [r for r in rows if r["kind"] == kind and r["condition"] == cond]
            if sel:
                print(
                    f"pooled {kind} {cond}: DER c=0.25 {pooled(sel, 'der_c025') * 100:.1f} %, "
                    f"c=0 {pooled(sel, 'der_c0') * 100:.1f} %, confusion {pooled(sel, 'confusion_c025') * 100:.1f} %, "
                    f"speaker count wrong in {sum(r['speakers_found'] != r['speakers_ref'] for r in sel)}/{len(sel)}"
                )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
