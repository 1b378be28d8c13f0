"""Recall and over-redaction of ``--redact`` on real consultation transcripts.

The transcripts of the PriMock57 consultations in ``../shared/data`` (CC-BY-4.0,
re-voiced) were de-identified by their publishers: apart from one first name ("Alex")
they hold no identifiers. So the benchmark measures two things:

1. **Over-redaction**: every word of the original utterances goes through the redactor;
   each replaced word is listed (a true identifier such as "Alex" or a false positive).
2. **Recall**: identifiers of every type are put into the same transcripts, one sentence
   after a randomly chosen patient or clinician utterance (seeded), in the words people
   use ("my date of birth is the 4th of June 1961", "I live at 27 Mill Lane, Hull"...),
   and each identifier word is checked: replaced or missed. Recall per type = identifier
   words replaced / identifier words inserted.

Usage:
    python benchmarks/redaction.py [--per-file 48] [--seed 1]
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared" / "data"
sys.path.insert(0, str(ROOT))

FIRST = [
    "Alex",
    "Sarah",
    "Mohammed",
    "Priya",
    "James",
    "Olivia",
    "Tomasz",
    "Grace",
    "Daniel",
    "Aisha",
    "Liam",
    "Chloe",
    "Oluwaseun",
    "Emily",
    "Jack",
    "Fatima",
    "George",
    "Hannah",
    "Wei",
    "Sophie",
]
LAST = [
    "Smith",
    "Khan",
    "Patel",
    "Jones",
    "Williams",
    "Nowak",
    "Brown",
    "O'Connor",
    "Taylor",
    "Okafor",
    "Evans",
    "Murphy",
    "Chen",
    "Wilson",
    "Hughes",
    "Ali",
    "Davies",
    "Roberts",
    "Lewis",
    "Walker",
]
STREETS = [
    "Mill Lane",
    "Station Road",
    "Church Street",
    "Park Avenue",
    "Victoria Road",
    "Elm Close",
    "High Street",
    "Queens Drive",
    "Oak Grove",
    "Manor Way",
]
TOWNS = ["Leeds", "Hull", "Bristol", "Manchester", "Leicester", "Norwich", "Cardiff", "York", "Brighton", "Derby"]
MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def nhs_number(rng: random.Random) -> str:
    """A random NHS number with a valid modulus-11 check digit."""
    while True:
        digits = [rng.randint(0, 9) for _ in range(9)]
        check = 11 - sum(d * w for d, w in zip(digits, range(10, 1, -1))) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, digits + [check]))
            return f"{s[:3]} {s[3:6]} {s[6:]}"


def ordinal(n: int) -> str:
    return f"{n}{'th' if 11 <= n % 100 <= 13 else {1: 'st', 2: 'nd', 3: 'rd'}.get(n % 10, 'th')}"


def identifier(kind: str, rng: random.Random) -> tuple[str, str]:
    """(sentence, the identifier inside it) for one kind."""
    first, last = rng.choice(FIRST), rng.choice(LAST)
    if kind == "name":  # after words that introduce a name (which the redactor also looks for)
        ident = f"{first} {last}"
        return rng.choice(
            [f"My name is {ident}.", f"It's {ident}, I'm here for my appointment.", f"I spoke to {ident} at reception."]
        ), ident
    if kind == "name_uncued":  # no introducing words: only spaCy's entity recogniser can find these
        ident = f"{first} {last}"
        return rng.choice(
            [f"Ask for {ident} at the front desk.", f"{ident} is my husband.", f"My GP, {ident}, referred me."]
        ), ident
    if kind == "date_of_birth":
        d, m, y = rng.randint(1, 28), rng.randint(1, 12), rng.randint(1935, 2005)
        ident = rng.choice(
            [f"the {ordinal(d)} of {MONTHS[m - 1]} {y}", f"{MONTHS[m - 1]} {ordinal(d)}, {y}", f"{d:02d}/{m:02d}/{y}"]
        )
        return rng.choice([f"My date of birth is {ident}.", f"I was born on {ident}."]), ident
    if kind == "phone":
        ident = rng.choice(
            [
                f"07{rng.randint(100, 999)} {rng.randint(100000, 999999)}",
                f"0113 {rng.randint(100, 999)} {rng.randint(1000, 9999)}",
            ]
        )
        return rng.choice([f"My number is {ident}.", f"You can call me on {ident}."]), ident
    if kind == "address":
        ident = f"{rng.randint(1, 200)} {rng.choice(STREETS)}, {rng.choice(TOWNS)}"
        return rng.choice([f"I live at {ident}.", f"My address is {ident}."]), ident
    if kind == "postcode":
        ident = (
            f"{rng.choice(['LS', 'HU', 'BS', 'M', 'LE', 'NR'])}{rng.randint(1, 19)} {rng.randint(1, 9)}"
            f"{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
        )
        return f"The postcode is {ident}.", ident
    if kind == "email":
        ident = f"{first.lower()}.{last.lower().replace(chr(39), '')}{rng.randint(1, 99)}@example.co.uk"
        return rng.choice([f"My email is {ident}.", f"Email it to {ident} please."]), ident
    if kind == "nhs_number":
        ident = nhs_number(rng)
        return f"My NHS number is {ident}.", ident
    raise ValueError(kind)


KINDS = ["name", "name_uncued", "date_of_birth", "phone", "address", "postcode", "email", "nhs_number"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--per-file", type=int, default=48, help="identifier sentences put into each transcript")
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    from pipeline.redact import engine_description, redact_words
    from pipeline.result import Word

    files = sorted(SHARED.glob("*.ref.json"))
    if not files:
        print("no transcripts in ../shared/data: nothing to measure")
        return 0
    rng = random.Random(args.seed)
    t0 = time.perf_counter()
    print(f"engine: {engine_description()}")

    def run(text: str) -> list[str]:
        ws = [Word(t, float(i), i + 0.5, 1.0, "S") for i, t in enumerate(text.split())]
        out, _ = redact_words(ws)
        return [w.text for w in out]

    total_words, replaced = 0, Counter()
    found = {k: 0 for k in KINDS}
    inserted = {k: 0 for k in KINDS}
    whole = {k: [0, 0] for k in KINDS}  # identifiers fully replaced / inserted
    leaked = {k: [] for k in KINDS}
    for f in files:
        utts = [u["text"] for u in json.loads(f.read_text())["utterances"] if u.get("text", "").strip()]
        for text in utts:  # 1. the original words
            words = text.split()
            total_words += len(words)
            for before, after in zip(words, run(text)):
                if after != before:
                    replaced[before.strip(".,?!")] += 1
        for _ in range(args.per_file):  # 2. identifiers put in
            kind = KINDS[_ % len(KINDS)]
            base = rng.choice(utts)
            sentence, ident = identifier(kind, rng)
            text = f"{base} {sentence}"
            words, out = text.split(), run(text)
            first = ident.split()[0]
            start = len(base.split()) + next(i for i, w in enumerate(sentence.split()) if w.startswith(first))
            ident_words = ident.split()
            hits = [out[start + i] != words[start + i] for i in range(len(ident_words))]
            found[kind] += sum(hits)
            inserted[kind] += len(ident_words)
            whole[kind][0] += all(hits)
            whole[kind][1] += 1
            if not all(hits):
                leaked[kind].append(" ".join(o for o in out[start : start + len(ident_words)]))
    print(f"{len(files)} transcripts, {total_words} words, in {time.perf_counter() - t0:.0f} s\n")
    print("recall on inserted identifiers (PriMock57 transcripts, CC-BY-4.0):")
    print("| kind | identifier words replaced | identifiers fully replaced |")
    print("|---|---|---|")
    for k in KINDS:
        print(
            f"| {k} | {found[k]}/{inserted[k]} ({100 * found[k] / max(1, inserted[k]):.0f} %) | "
            f"{whole[k][0]}/{whole[k][1]} |"
        )
    tw = sum(found.values()), sum(inserted.values())
    print(
        f"| all | {tw[0]}/{tw[1]} ({100 * tw[0] / max(1, tw[1]):.1f} %) | "
        f"{sum(w[0] for w in whole.values())}/{sum(w[1] for w in whole.values())} |"
    )
    for k in KINDS:
        if leaked[k]:
            print(f"  partly missed {k}: {leaked[k][:3]}")
    n = sum(replaced.values())
    print(f"\noriginal words replaced: {n} of {total_words} ({100 * n / max(1, total_words):.2f} %)")
    print("  " + ", ".join(f"{w} x{c}" for w, c in replaced.most_common(25)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
