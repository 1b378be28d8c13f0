"""How close an analysis comes to a human reference: DER, JER, WER, roles, metric agreement.

* **Diarization**: DER with its parts (missed speech, false alarm, confusion) at collar 0 and
  0.25 s, and JER, by pyannote.metrics with the optimal speaker mapping (pyannote's collar
  is the total width around each reference boundary, half on each side). Overlapping
  speech is scored. The scored span is from 0 to the later of the audio's and the
  reference's end: a reference longer than the audio is reported, not cut.
* **Words**: WER by jiwer after :func:`pipeline.textnorm.normalize` (lower case, no
  punctuation, contractions and "Dr." expanded, backchannel spellings unified; filler words
  kept unless ``drop_fillers``), overall and per reference speaker; the speaker-attributed
  WER scores each reference speaker's words against the words the analysis gave to the
  speaker mapped to it.
* **Roles**: was each reference role (from role names such as doctor/patient, or a ``role``
  field) given to the mapped speaker?
* **Metric agreement**: every timing metric from the reference timing next to the same
  metric from the analysis's speaker timing (both with the timing-only backchannel rule).
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path
from typing import Optional, Sequence

from .annotations import Timing, read_timing, role_for_label, words_from_utterances
from .errors import AttuneError, InputError
from .metrics import TIMING_METRICS, WORD_METRICS, compute, compute_for_result
from .result import Result
from .textnorm import normalize

COLLARS = (0.0, 0.25)


def _annotation(segments):
    from pyannote.core import Annotation, Segment

    ann = Annotation()
    for i, s in enumerate(segments):
        if s.end > s.start:
            ann[Segment(s.start, s.end), i] = s.speaker
    return ann


def _reference_roles(ref: Timing) -> dict[str, str]:
    roles = {spk: role for spk, role in ref.roles.items() if role in ("clinician", "patient")}
    if not roles:
        roles = {spk: role for spk in ref.speakers if (role := role_for_label(spk))}
    return roles


def evaluate(result: Result, ref: Timing, drop_fillers: bool = False) -> dict:
    """Scores of one analysis against one reference."""
    from pyannote.core import Segment
    from pyannote.metrics.diarization import DiarizationErrorRate, JaccardErrorRate

    notes: list[str] = []
    audio_end = result.recording.duration_s
    ref_end = max((s.end for s in ref.segments), default=0.0)
    if ref.duration:
        ref_end = max(ref_end, ref.duration)
    if ref_end > audio_end + 0.5:
        notes.append(
            f"the reference ends at {ref_end:.1f} s, {ref_end - audio_end:.1f} s after the audio "
            f"({audio_end:.1f} s): scored up to the reference's end, not cut"
        )
    uem = Segment(0, max(audio_end, ref_end))
    r_ann, h_ann = _annotation(ref.segments), _annotation(result.segments)
    out: dict = {"recording": result.recording.path, "reference": ref.source, "duration_s": round(audio_end, 2)}
    for collar in COLLARS:
        d = DiarizationErrorRate(collar=collar)(r_ann, h_ann, uem=uem, detailed=True)
        total = d["total"] or 1.0
        key = f"c{collar:g}".replace(".", "")
        out[f"der_{key}"] = round(d["diarization error rate"], 4)
        out[f"missed_{key}"] = round(d["missed detection"] / total, 4)
        out[f"false_alarm_{key}"] = round(d["false alarm"] / total, 4)
        out[f"confusion_{key}"] = round(d["confusion"] / total, 4)
        out[f"_der_parts_{key}"] = {k: d[k] for k in ("missed detection", "false alarm", "confusion", "total")}
    out["jer"] = round(JaccardErrorRate()(r_ann, h_ann, uem=uem), 4)
    mapping = DiarizationErrorRate().optimal_mapping(r_ann, h_ann)  # hyp speaker -> ref speaker
    to_hyp = {r: h for h, r in mapping.items()}
    out["speaker_mapping"] = {r: to_hyp.get(r) for r in ref.speakers}

    out.update(_words(result, ref, to_hyp, drop_fillers, notes))
    out.update(_roles(result, ref, to_hyp, notes))
    out["questions"] = _questions(result, ref, to_hyp, notes)
    clin_q = next((q for q in out["questions"].values() if q["role"] == "clinician"), None)
    out["clinician_question_precision"] = clin_q["precision"] if clin_q else None
    out["clinician_question_recall"] = clin_q["recall"] if clin_q else None
    out["_clinician_question_parts"] = clin_q
    out["metric_agreement"] = _agreement(result, ref, uem.end)
    out["word_metric_agreement"] = _word_agreement(result, ref, uem.end)
    out["normalisation"] = (
        f"lower case, punctuation removed, contractions expanded, fillers {'dropped' if drop_fillers else 'kept'}"
    )
    out["notes"] = notes
    return out


QUESTION_SLACK_S = 1.0


def _words(result: Result, ref: Timing, to_hyp: dict, drop_fillers: bool, notes: list) -> dict:
    import jiwer

    if not ref.utterances or not any(u["text"].strip() for u in ref.utterances):
        notes.append("the reference has no text: word error rates not computed")
        return {"wer": None, "wer_by_speaker": {}, "speaker_attributed_wer": None, "_wer_parts": None}
    utts = sorted(ref.utterances, key=lambda u: u["start"])
    ref_text = normalize(" ".join(u["text"] for u in utts), drop_fillers)
    hyp_text = normalize(" ".join(w.text for w in result.words), drop_fillers)
    overall = jiwer.process_words(ref_text, hyp_text) if ref_text else None
    by_spk, errors, n_ref = {}, 0, 0
    for spk in ref.speakers:
        r = normalize(" ".join(u["text"] for u in utts if u["speaker"] == spk), drop_fillers)
        if not r:
            continue
        h_spk = to_hyp.get(spk)
        h = normalize(" ".join(w.text for w in result.words if h_spk is not None and w.speaker == h_spk), drop_fillers)
        m = jiwer.process_words(r, h)
        e = m.substitutions + m.deletions + m.insertions
        by_spk[spk] = round(e / len(r.split()), 4)
        errors += e
        n_ref += len(r.split())
    return {
        "wer": round(overall.wer, 4) if overall else None,
        "wer_by_speaker": by_spk,
        "speaker_attributed_wer": round(errors / n_ref, 4) if n_ref else None,
        "_wer_parts": (
            {"errors": overall.substitutions + overall.deletions + overall.insertions, "words": len(ref_text.split())}
            if overall
            else None
        ),
        "_sa_wer_parts": {"errors": errors, "words": n_ref},
    }


def _roles(result: Result, ref: Timing, to_hyp: dict, notes: list) -> dict:
    ref_roles = _reference_roles(ref)
    if not ref_roles:
        notes.append(
            "the reference gives no roles (label speakers doctor/clinician and patient, or give a "
            "'role' field): role accuracy not computed"
        )
        return {"role_accuracy": None, "clinician_identified": None, "roles": {}}
    hyp_roles = {s.id: s.role for s in result.speakers}
    detail, right = {}, 0
    for spk, role in ref_roles.items():
        hyp = to_hyp.get(spk)
        got = hyp_roles.get(hyp) if hyp is not None else None
        detail[spk] = {"reference": role, "analysis_speaker": to_hyp.get(spk), "analysis": got}
        right += int(got == role)
    clin = [spk for spk, role in ref_roles.items() if role == "clinician"]
    return {
        "role_accuracy": round(right / len(ref_roles), 4),
        "clinician_identified": (hyp_roles.get(to_hyp.get(clin[0], "")) == "clinician") if clin else None,
        "roles": detail,
    }


def reference_sentences(utterances: Sequence[dict], who: str = "speaker") -> list[dict]:
    """Every sentence of a reference's utterances (split after ``.``, ``?`` or ``!`` and a space):
    ``who`` (the utterance's speaker or role), ``u`` and ``s`` (utterance and sentence index),
    text, and start/end, the utterance's span shared out by characters."""
    out = []
    for ui, u in enumerate(utterances):
        parts = [p for p in re.split(r"(?<=[.?!])\s+", str(u.get("text", "")).strip()) if p.strip()]
        total = sum(len(p) for p in parts) or 1
        t, span = float(u["start"]), float(u["end"]) - float(u["start"])
        for si, p in enumerate(parts):
            d = span * len(p) / total
            out.append({who: u[who], "u": ui, "s": si, "text": p, "start": t, "end": t + d})
            t += d
    return out


def reference_questions(utterances: Sequence[dict]) -> list[dict]:
    """The sentences of the reference that end in "?" (closing quotes and brackets allowed)."""
    return [s for s in reference_sentences(utterances) if s["text"].rstrip().rstrip("\"')]").endswith("?")]


def match_spans(found: Sequence[tuple[float, float]], ref: Sequence[tuple[float, float]], slack: float) -> int:
    """How many found spans match a reference span: overlapping once widened by ``slack`` seconds,
    one to one, nearest midpoints first."""
    pairs = []
    for i, (a, b) in enumerate(found):
        for j, (c, d) in enumerate(ref):
            if a - slack < d and c < b + slack:
                pairs.append((abs((a + b) / 2 - (c + d) / 2), i, j))
    used_i: set[int] = set()
    used_j: set[int] = set()
    for _, i, j in sorted(pairs):
        if i not in used_i and j not in used_j:
            used_i.add(i)
            used_j.add(j)
    return len(used_i)


def detection_scores(hits: int, found: int, ref: int) -> dict:
    p = hits / found if found else None
    r = hits / ref if ref else None
    f = 2 * p * r / (p + r) if p is not None and r is not None and p + r > 0 else None
    return {
        "reference": ref,
        "analysis": found,
        "matched": hits,
        "precision": None if p is None else round(p, 4),
        "recall": None if r is None else round(r, 4),
        "f1": None if f is None else round(f, 4),
    }


def _questions(result: Result, ref: Timing, to_hyp: dict, notes: list) -> dict:
    """Questions per reference speaker: the reference's "?" against the analysis's question events."""
    if not ref.utterances or not any(str(u.get("text", "")).strip() for u in ref.utterances):
        return {}
    events = ((result.metrics or {}).get("events") or {}).get("questions")
    if events is None:
        events = (compute_for_result(result).get("events") or {}).get("questions") or []
    refs = reference_questions(ref.utterances)
    roles = _reference_roles(ref)
    out = {}
    for spk in ref.speakers:
        hyp = to_hyp.get(spk)
        found = [(e["start"], e["end"]) for e in events if hyp is not None and e["speaker"] == hyp]
        mine = [(q["start"], q["end"]) for q in refs if q["speaker"] == spk]
        scores = detection_scores(match_spans(found, mine, QUESTION_SLACK_S), len(found), len(mine))
        out[spk] = {"role": roles.get(spk), **scores}
    if out:
        notes.append(
            f"questions: the reference's are its sentences ending in '?', timed by sharing out each "
            f"utterance's span by characters; a question found matches one within {QUESTION_SLACK_S:g} s"
        )
    return out


def _word_agreement(result: Result, ref: Timing, duration: float) -> list[dict]:
    """Each word metric from the reference's text (the same rules) and from the analysis."""
    if not ref.utterances or not any(str(u.get("text", "")).strip() for u in ref.utterances):
        return []
    ref_roles = _reference_roles(ref)
    ref_clin = next((s for s, r in ref_roles.items() if r == "clinician"), None) or next(iter(ref.speakers), None)
    ref_pat = next((s for s, r in ref_roles.items() if r == "patient"), None)
    a = compute(ref.segments, ref_clin, duration=duration, words=words_from_utterances(ref.utterances), patient=ref_pat)
    b = result.metrics if any(k in (result.metrics or {}) for k in WORD_METRICS) else compute_for_result(result)
    return [_diff(name, a.get(name), b.get(name)) for name in WORD_METRICS]


def _diff(name: str, x, y) -> dict:
    numeric = isinstance(x, (int, float)) and isinstance(y, (int, float)) and not isinstance(x, bool)
    return {"metric": name, "reference": x, "analysis": y, "abs_diff": round(abs(x - y), 4) if numeric else None}


def _agreement(result: Result, ref: Timing, duration: float) -> list[dict]:
    ref_roles = _reference_roles(ref)
    ref_clin = next((s for s, r in ref_roles.items() if r == "clinician"), None) or next(iter(ref.speakers), None)
    ref_pat = next((s for s, r in ref_roles.items() if r == "patient"), None)
    hyp_clin = next((s.id for s in result.speakers if s.role == "clinician"), None)
    hyp_pat = next((s.id for s in result.speakers if s.role == "patient"), None)
    a = compute(ref.segments, ref_clin, duration=duration, patient=ref_pat)
    b = compute(result.segments, hyp_clin, duration=duration, patient=hyp_pat)
    return [_diff(name, a[name], b[name]) for name in TIMING_METRICS]


def summarise(rows: Sequence[dict]) -> dict:
    """Means over pairs, and pooled DER / WER (errors summed over all pairs / total)."""
    s: dict = {"recording": f"ALL ({len(rows)})", "reference": ""}
    for key in ("c0", "c025"):
        parts = [r[f"_der_parts_{key}"] for r in rows]
        total = sum(p["total"] for p in parts) or 1.0
        s[f"der_{key}"] = round(
            sum(p["missed detection"] + p["false alarm"] + p["confusion"] for p in parts) / total, 4
        )
        for name, k in (("missed", "missed detection"), ("false_alarm", "false alarm"), ("confusion", "confusion")):
            s[f"{name}_{key}"] = round(sum(p[k] for p in parts) / total, 4)
    for name in ("jer", "role_accuracy"):
        vals = [r[name] for r in rows if r.get(name) is not None]
        s[name] = round(sum(vals) / len(vals), 4) if vals else None
    wp = [r["_wer_parts"] for r in rows if r.get("_wer_parts")]
    s["wer"] = round(sum(p["errors"] for p in wp) / sum(p["words"] for p in wp), 4) if wp else None
    sp = [r["_sa_wer_parts"] for r in rows if r.get("_sa_wer_parts") and r["_sa_wer_parts"]["words"]]
    s["speaker_attributed_wer"] = round(sum(p["errors"] for p in sp) / sum(p["words"] for p in sp), 4) if sp else None
    qp = [r["_clinician_question_parts"] for r in rows if r.get("_clinician_question_parts")]
    pooled_q = detection_scores(
        sum(q["matched"] for q in qp), sum(q["analysis"] for q in qp), sum(q["reference"] for q in qp)
    )
    s["clinician_question_precision"] = pooled_q["precision"] if qp else None
    s["clinician_question_recall"] = pooled_q["recall"] if qp else None
    s["metric_mae"] = {}
    for name in TIMING_METRICS:
        diffs = [
            m["abs_diff"]
            for r in rows
            for m in r["metric_agreement"]
            if m["metric"] == name and m["abs_diff"] is not None
        ]
        if diffs:
            s["metric_mae"][name] = round(sum(diffs) / len(diffs), 4)
    return s


SCORE_COLUMNS = [
    "recording",
    "der_c0",
    "missed_c0",
    "false_alarm_c0",
    "confusion_c0",
    "der_c025",
    "missed_c025",
    "false_alarm_c025",
    "confusion_c025",
    "jer",
    "wer",
    "speaker_attributed_wer",
    "role_accuracy",
    "clinician_question_precision",
    "clinician_question_recall",
]


def public(row: dict) -> dict:
    """A row without the internal parts used for pooling."""
    return {k: v for k, v in row.items() if not k.startswith("_")}


def to_csv(rows: Sequence[dict], summary: Optional[dict]) -> str:
    buf = io.StringIO()
    names = SCORE_COLUMNS + [f"{m}_abs_diff" for m in TIMING_METRICS]
    w = csv.DictWriter(buf, fieldnames=names, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for r in rows:
        flat = {k: r.get(k) for k in SCORE_COLUMNS}
        flat.update({f"{m['metric']}_abs_diff": m["abs_diff"] for m in r["metric_agreement"]})
        w.writerow({k: "" if v is None else v for k, v in flat.items()})
    if summary is not None:
        flat = {k: summary.get(k) for k in SCORE_COLUMNS}
        flat.update({f"{k}_abs_diff": v for k, v in summary["metric_mae"].items()})
        w.writerow({k: "" if v is None else v for k, v in flat.items()})
    return buf.getvalue()


def to_text(rows: Sequence[dict], summary: Optional[dict]) -> str:
    def pct(v):
        return "n/a" if v is None else f"{v * 100:.1f} %"

    lines = []
    for r in rows:
        lines.append(f"{r['recording']}  vs  {r['reference']}")
        for key, label in (("c0", "collar 0"), ("c025", "collar 0.25 s")):
            lines.append(
                f"  DER ({label}): {pct(r[f'der_{key}'])}  (missed {pct(r[f'missed_{key}'])}, "
                f"false alarm {pct(r[f'false_alarm_{key}'])}, confusion {pct(r[f'confusion_{key}'])})"
            )
        lines.append(f"  JER: {pct(r['jer'])}")
        lines.append(
            f"  WER: {pct(r['wer'])}; speaker-attributed WER: {pct(r['speaker_attributed_wer'])}"
            + "".join(f"; {spk}: {pct(v)}" for spk, v in r["wer_by_speaker"].items())
            + f"  [{r['normalisation']}]"
        )
        lines.append(
            f"  roles: accuracy {pct(r['role_accuracy'])}, clinician identified: "
            f"{'n/a' if r['clinician_identified'] is None else ('yes' if r['clinician_identified'] else 'no')}"
        )
        lines.append("  metric agreement (reference | analysis | abs diff):")
        for m in r["metric_agreement"]:
            lines.append(
                f"    {m['metric']:<42} {_v(m['reference']):>8} | {_v(m['analysis']):>8} | {_v(m['abs_diff']):>8}"
            )
        for spk, qs in (r.get("questions") or {}).items():
            lines.append(
                f"  questions of {spk}: reference {qs['reference']} ('?'), analysis {qs['analysis']}, matched "
                f"{qs['matched']}: precision {_v(qs['precision'])}, recall {_v(qs['recall'])}"
            )
        if r.get("word_metric_agreement"):
            lines.append("  word metrics, same rules on the reference text (reference | analysis | abs diff):")
            for m in r["word_metric_agreement"]:
                lines.append(
                    f"    {m['metric']:<42} {_v(m['reference']):>8} | {_v(m['analysis']):>8} | {_v(m['abs_diff']):>8}"
                )
        for n in r["notes"]:
            lines.append(f"  note: {n}")
        lines.append("")
    if summary is not None:
        lines.append(
            f"{summary['recording']}: pooled DER {pct(summary['der_c0'])} (collar 0), "
            f"{pct(summary['der_c025'])} (collar 0.25 s); pooled WER {pct(summary['wer'])}; "
            f"mean role accuracy {pct(summary['role_accuracy'])}"
            + (
                f"; clinician questions: precision {pct(summary['clinician_question_precision'])}, "
                f"recall {pct(summary['clinician_question_recall'])}"
                if summary.get("clinician_question_recall") is not None
                else ""
            )
        )
        lines.append(
            "  mean absolute metric differences: " + ", ".join(f"{k} {v:g}" for k, v in summary["metric_mae"].items())
        )
    return "\n".join(lines) + "\n"


def _v(x) -> str:
    if x is None:
        return "null"
    if isinstance(x, bool):
        return "yes" if x else "no"
    return f"{x:g}" if isinstance(x, float) else str(x)


def evaluate_files(pairs: Sequence[tuple[str | Path, Sequence[str | Path]]], drop_fillers: bool = False) -> list[dict]:
    rows = []
    for result_path, ref_paths in pairs:
        result = Result.load(result_path)
        ref = read_timing(ref_paths)
        if not ref.segments:
            raise InputError(f"{ref.source}: the reference has no speech regions")
        rows.append(evaluate(result, ref, drop_fillers))
    return rows


def pair_files(results: Sequence[Path], references: Sequence[Path]) -> list[tuple[Path, list[Path]]]:
    """Results paired with their references, in order; one result may take two one-tier TextGrids."""
    if len(results) == len(references):
        return [(r, [ref]) for r, ref in zip(results, references)]
    if len(results) == 1 and references and all(r.suffix.lower() == ".textgrid" for r in references):
        return [(results[0], list(references))]
    raise AttuneError(
        f"{len(results)} result file(s) but {len(references)} {{references}} file(s): give one "
        "reference per result (or two one-tier TextGrids for one result)",
        "references",
    )
