"""Render the bundled sample consultation with Debian's ``flite`` (offline).

The script below is our own (not from a real patient). Two clearly different
flite voices play the parts: ``rms`` (male) is the clinician, ``slt`` (female)
the patient. Each utterance is synthesised on its own, trimmed to its speech,
and placed on a timeline; the placements put in the events the metrics must
find:

* a clinician interruption with about 0.8 s of overlapping speech,
* two clinician "mm-hmm" backchannels spoken over the patient,
* a 2.4 s silent pause inside the patient's speech,
* clinician questions that the patient answers after a gap (1.8 s, 1.2 s).

Outputs (beside this file):
    consultation.flac      16 kHz mono mix, faint seeded noise added
    consultation.ref.json  ground truth utterances {speaker, role, start, end, text}
    consultation.rttm      the same utterances as reference speech regions
    consultation.stereo.flac  dual-channel version: clinician left, patient right, each channel
                           also carrying the other voice 20 dB lower (crosstalk), for channel mode

Run: ``python samples/make_sample.py`` (needs ``flite`` on PATH, numpy and soundfile).
The rendered files are committed, so users need no synthesiser.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import soundfile as sf

SR = 16000
HERE = Path(__file__).resolve().parent
VOICES = {"clinician": "rms", "patient": "slt"}
SPEAKER_IDS = {"clinician": "clinician", "patient": "patient"}

# (role, text, placement)
# placement ("gap", g): start g seconds after the latest end so far (negative = overlap)
# placement ("into", s): start s seconds after the start of the previous utterance
SCRIPT = [
    ("clinician", "Good morning, I'm Doctor Morgan. What brings you in today?", ("gap", 0.6)),
    ("patient", "Hi doctor. I have been having these headaches for about three weeks now.", ("gap", 0.5)),
    ("patient", "They start behind my eyes, and then they spread to the back of my head.", ("gap", 0.35)),
    ("clinician", "Mm-hmm.", ("into", 1.6)),  # spoken faster: a backchannel under 1 s
    ("patient", "Some days it is so bad that I have to lie down in a dark room.", ("gap", 0.4)),
    ("patient", "And last week I had to leave work early, twice.", ("gap", 2.4)),
    ("clinician", "That sounds really difficult. Have you noticed anything that makes them worse?", ("gap", 0.5)),
    (
        "patient",
        "Screens, I think. I work on a computer all day, and the light seems to make it much worse.",
        ("gap", 1.8),
    ),
    ("clinician", "Do you get any sickness or changes in your vision with them?", ("gap", -0.8)),
    ("patient", "No, no sickness. Sometimes a bit of blurring, but it goes away.", ("gap", 0.6)),
    ("clinician", "How much water and coffee are you drinking during the day?", ("gap", 0.5)),
    ("patient", "Probably four or five cups of coffee, and not much water, to be honest.", ("gap", 1.2)),
    ("clinician", "Mm-hmm.", ("into", 1.5)),
    (
        "clinician",
        "I can imagine that has been worrying you. Tell me, how are you sleeping at the moment?",
        ("gap", 0.6),
    ),
    ("patient", "Not very well. I have a lot on at work, and I often stay up late.", ("gap", 0.9)),
    ("clinician", "Okay. I would like to check your blood pressure and look at the back of your eyes.", ("gap", 0.6)),
    ("patient", "Yes, of course.", ("gap", 0.5)),
    (
        "clinician",
        "After that, we can talk about cutting down on coffee, and some ways to manage the stress. Does that sound all right?",  # noqa: E501
        ("gap", 0.5),
    ),
    ("patient", "That sounds good. Thank you, doctor.", ("gap", 0.7)),
]
TAIL_S = 1.0
NOISE_RMS = 0.002
CROSSTALK_DB = 20.0
SEED = 20261127


BACKCHANNEL_STRETCH = 0.7  # flite duration_stretch for "Mm-hmm." (about 0.75 s instead of 1.05 s)


def synthesize(text: str, voice: str, workdir: Path) -> np.ndarray:
    """Speak ``text`` with flite and return float32 samples trimmed to the speech."""
    out = workdir / "utt.wav"
    cmd = ["flite", "-voice", voice, "-t", text, "-o", str(out)]
    if text.lower().startswith("mm-hmm"):
        cmd[1:1] = ["--setf", f"duration_stretch={BACKCHANNEL_STRETCH}"]
    subprocess.run(cmd, check=True)
    audio, sr = sf.read(out, dtype="float32")
    if sr != SR:
        raise SystemExit(f"flite voice {voice} gave {sr} Hz, expected {SR}")
    return trim(audio)


def trim(audio: np.ndarray, frame: int = 160, rel_threshold: float = 0.02) -> np.ndarray:
    """Cut leading/trailing frames whose peak is below ``rel_threshold`` of the clip peak."""
    n = len(audio) // frame
    peaks = np.abs(audio[: n * frame]).reshape(n, frame).max(axis=1)
    loud = np.flatnonzero(peaks >= rel_threshold * peaks.max())
    return audio[loud[0] * frame : (loud[-1] + 1) * frame]


def main() -> int:
    if shutil.which("flite") is None:
        print("make_sample.py: flite is not installed (apt-get install flite)", file=sys.stderr)
        return 1
    placed = []  # (role, text, start_sample, audio)
    latest_end = 0
    with tempfile.TemporaryDirectory() as tmp:
        for role, text, (kind, value) in SCRIPT:
            audio = synthesize(text, VOICES[role], Path(tmp))
            if kind == "gap":
                start = latest_end + int(round(value * SR))
            elif kind == "into":
                start = placed[-1][2] + int(round(value * SR))
            else:
                raise ValueError(kind)
            placed.append((role, text, start, audio))
            latest_end = max(latest_end, start + len(audio))
    total = latest_end + int(TAIL_S * SR)
    mix = np.zeros(total, dtype=np.float32)
    for _, _, start, audio in placed:
        mix[start : start + len(audio)] += audio
    rng = np.random.default_rng(SEED)
    mix += rng.normal(0.0, NOISE_RMS, total).astype(np.float32)
    mix *= 0.9 / max(1e-9, float(np.abs(mix).max()))
    sf.write(HERE / "consultation.flac", mix, SR, subtype="PCM_16")

    # dual-channel: each party on its own channel, the other leaking in 20 dB lower
    tracks = {role: np.zeros(total, dtype=np.float32) for role in VOICES}
    for role, _, start, audio in placed:
        tracks[role][start : start + len(audio)] += audio
    leak = 10 ** (-CROSSTALK_DB / 20)
    left = tracks["clinician"] + leak * tracks["patient"]
    right = tracks["patient"] + leak * tracks["clinician"]
    stereo = np.stack([left, right], axis=1) + rng.normal(0.0, NOISE_RMS, (total, 2)).astype(np.float32)
    stereo *= 0.9 / max(1e-9, float(np.abs(stereo).max()))
    sf.write(HERE / "consultation.stereo.flac", stereo, SR, subtype="PCM_16")

    utterances = [
        {
            "speaker": SPEAKER_IDS[role],
            "role": role,
            "start": round(start / SR, 3),
            "end": round((start + len(audio)) / SR, 3),
            "text": text,
        }
        for role, text, start, audio in placed
    ]
    ref = {
        "recording": "consultation.flac",
        "duration_s": round(total / SR, 3),
        "voices": {role: f"flite {voice}" for role, voice in VOICES.items()},
        "utterances": utterances,
    }
    (HERE / "consultation.ref.json").write_text(json.dumps(ref, indent=2) + "\n")
    with open(HERE / "consultation.rttm", "w") as fh:
        for u in utterances:
            fh.write(
                f"SPEAKER consultation 1 {u['start']:.3f} {u['end'] - u['start']:.3f} "
                f"<NA> <NA> {u['speaker']} <NA> <NA>\n"
            )
    print(f"wrote {HERE / 'consultation.flac'} ({total / SR:.1f} s, {len(utterances)} utterances)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
