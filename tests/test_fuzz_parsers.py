"""Property-based fuzzing of every parser that reads a user's file: RTTM, TextGrid, ELAN,
result.json, reference JSON and the batch manifest. Whatever the bytes, a parser either
returns its normal result or raises the program's own one-line input error; never another
exception (which the CLI would report as an internal error), and never a hang."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline import annotations as A
from pipeline.errors import AttuneError
from pipeline.manifest import read_manifest

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def parse(reader, content: bytes, suffix: str):
    fd, name = tempfile.mkstemp(suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(content)
        try:
            out = reader(Path(name))
        except AttuneError as exc:
            message = str(exc)
            assert message and "\n" not in message.strip() or len(message) < 2000
            return None
        return out
    finally:
        os.unlink(name)


def check_timing(t):
    if t is None:
        return
    assert isinstance(t, A.Timing)
    for s in t.segments:
        assert 0 <= s.start <= s.end and isinstance(s.speaker, str)


# ------------------------------------------------------------------ raw bytes, every parser
READERS = [
    (A.read_rttm, ".rttm"),
    (A.read_textgrid, ".TextGrid"),
    (A.read_eaf, ".eaf"),
    (A.read_result, ".json"),
    (A.read_reference_json, ".ref.json"),
    (lambda p: A.read_timing([p]), ".json"),
]


@SETTINGS
@given(st.binary(max_size=2000))
def test_any_bytes(content):
    for reader, suffix in READERS:
        check_timing(parse(reader, content, suffix))
    parse(read_manifest, content, ".csv")


# ------------------------------------------------------------------ near-valid RTTM
field = st.one_of(
    st.text(alphabet="0123456789.-+eEinfa", min_size=1, max_size=8),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.text(min_size=1, max_size=6),
)


@SETTINGS
@given(st.lists(st.lists(field, min_size=0, max_size=11), max_size=12))
def test_rttm_lines(rows):
    lines = []
    for r in rows:
        lines.append(" ".join(["SPEAKER", "f", "1", *r]))
    check_timing(parse(A.read_rttm, "\n".join(lines).encode(), ".rttm"))


# ------------------------------------------------------------------ near-valid TextGrid
number = st.one_of(
    st.floats(-10, 1e4, allow_nan=False).map(lambda x: f"{x:g}"),
    st.sampled_from(["nan", "inf", "-1", "", "x", "1e999"]),
)
label = st.text(max_size=12).map(lambda s: s.replace('"', '""'))


@st.composite
def textgrid(draw):
    tiers = []
    for t in range(draw(st.integers(0, 3))):
        ivs = []
        for _ in range(draw(st.integers(0, 5))):
            ivs.append(f'intervals [1]:\n xmin = {draw(number)}\n xmax = {draw(number)}\n text = "{draw(label)}"')
        tiers.append(
            f'item [{t + 1}]:\n class = "IntervalTier"\n name = "{draw(label)}"\n xmin = 0\n'
            f" xmax = {draw(number)}\n intervals: size = {len(ivs)}\n" + "\n".join(ivs)
        )
    body = (
        'File type = "ooTextFile"\nObject class = "TextGrid"\n\nxmin = 0\n'
        f"xmax = {draw(number)}\ntiers? <exists>\nsize = {len(tiers)}\nitem []:\n" + "\n".join(tiers)
    )
    cut = draw(st.integers(0, len(body)))
    return body[:cut] if draw(st.booleans()) else body


@SETTINGS
@given(textgrid())
def test_textgrids(text):
    check_timing(parse(A.read_textgrid, text.encode(), ".TextGrid"))


# ------------------------------------------------------------------ near-valid ELAN
@st.composite
def eaf(draw):
    slots = "".join(f'<TIME_SLOT TIME_SLOT_ID="ts{i}" TIME_VALUE="{draw(number)}"/>' for i in range(4))
    anns = "".join(
        f'<ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a{i}" TIME_SLOT_REF1="ts{draw(st.integers(0, 5))}" '
        f'TIME_SLOT_REF2="ts{draw(st.integers(0, 5))}"><ANNOTATION_VALUE>{draw(label)}</ANNOTATION_VALUE>'
        f"</ALIGNABLE_ANNOTATION></ANNOTATION>"
        for i in range(draw(st.integers(0, 3)))
    )
    body = (
        f'<?xml version="1.0"?><ANNOTATION_DOCUMENT><TIME_ORDER>{slots}</TIME_ORDER>'
        f'<TIER TIER_ID="{draw(label)}">{anns}</TIER></ANNOTATION_DOCUMENT>'
    )
    cut = draw(st.integers(0, len(body)))
    return body[:cut] if draw(st.booleans()) else body


@SETTINGS
@given(eaf())
def test_elan_files(text):
    check_timing(parse(A.read_eaf, text.encode(), ".eaf"))


# ------------------------------------------------------------------ near-valid JSON
json_value = st.recursive(
    st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)


@st.composite
def result_like(draw):
    seg = st.fixed_dictionaries(
        {
            "speaker": json_value | st.text(max_size=4),
            "start": json_value | st.floats(-5, 100),
            "end": json_value | st.floats(-5, 100),
        }
    )
    doc = {
        "schema": draw(st.sampled_from(["attunement.result/1", "attunement.result/2", None, 3])),
        "recording": draw(st.one_of(json_value, st.fixed_dictionaries({"duration_s": json_value}))),
        "segments": draw(st.one_of(json_value, st.lists(seg, max_size=4))),
        "speakers": draw(json_value),
        "words": draw(json_value),
    }
    return {k: v for k, v in doc.items() if draw(st.booleans())}


@SETTINGS
@given(result_like())
def test_result_json(doc):
    check_timing(parse(A.read_result, json.dumps(doc).encode(), ".json"))


@st.composite
def reference_like(draw):
    utt = st.fixed_dictionaries(
        {
            "role": json_value | st.sampled_from(["doctor", "patient"]),
            "start": json_value | st.floats(-5, 100),
            "end": json_value | st.floats(-5, 100),
            "text": json_value,
        }
    )
    doc = {"utterances": draw(st.one_of(json_value, st.lists(utt, max_size=4))), "duration": draw(json_value)}
    return {k: v for k, v in doc.items() if draw(st.booleans())}


@SETTINGS
@given(reference_like())
def test_reference_json(doc):
    check_timing(parse(A.read_reference_json, json.dumps(doc).encode(), ".ref.json"))


# ------------------------------------------------------------------ manifest CSV
cell = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=10)


@SETTINGS
@given(st.lists(st.lists(cell, max_size=5), max_size=6), st.booleans())
def test_manifest_rows(rows, with_header):
    import csv
    import io

    buf = io.StringIO()
    w = csv.writer(buf)
    if with_header:
        w.writerow(["path", "clinician", "station"])
    for r in rows:
        w.writerow(r)
    out = parse(read_manifest, buf.getvalue().encode("utf-8"), ".csv")
    if out is not None:
        assert all(isinstance(k, Path) and isinstance(v, dict) for k, v in out.items())


def _crafted_cases():
    import copy

    from pipeline.metrics import compute
    from pipeline.result import Recording, Result, Segment, Speaker, Word

    segs = [Segment("A", 0.0, 2.0), Segment("B", 2.5, 4.0)]
    r = Result(
        recording=Recording("x.wav", 5.0, 16000, 1, "a" * 64),
        speakers=[Speaker("A", "clinician", 2.0), Speaker("B", "patient", 1.5)],
        segments=segs,
        exclusive_segments=segs,
        words=[Word("hello.", 0.1, 0.5, 0.9, "A")],
    )
    r.metrics = compute(segs, "A", duration=5.0, words=r.words)
    base = r.to_dict()

    def mk(f):
        d = copy.deepcopy(base)
        f(d)
        return json.dumps(d)

    return {
        "string metric": mk(lambda d: d["metrics"].__setitem__("clinician_talk_share", "lots")),
        "list metric": mk(lambda d: d["metrics"].__setitem__("clinician_turns", [1, 2])),
        "events not an object": mk(lambda d: d["metrics"].__setitem__("events", "x")),
        "untimed events": mk(lambda d: d["metrics"]["events"].__setitem__("turns", [{"start": "a"}])),
        "mode a list": mk(lambda d: d.__setitem__("mode", [1])),
        "created a number": mk(lambda d: d.__setitem__("created", 5)),
        "path a number": mk(lambda d: d["recording"].__setitem__("path", 5)),
        "word text a number": mk(lambda d: d["words"][0].__setitem__("text", 5)),
        "duration text": mk(lambda d: d["recording"].__setitem__("duration_s", "x")),
        "infinite metric": mk(lambda d: d["metrics"].__setitem__("clinician_talk_share", float("inf"))),
        "5000-digit number": json.dumps(base).replace(
            '"clinician_turns": ', '"clinician_turns": ' + "9" * 5000 + ', "y": ', 1
        ),
        "deep nesting": '{"schema": "attunement.result/1", "recording": ' + "[" * 100000 + "]" * 100000 + "}",
    }


@pytest.mark.parametrize("case", list(_crafted_cases()))
def test_crafted_result_json_gives_one_line_and_exit_2(case, tmp_path):
    # issue 16 #13: 15 of 37 crafted files gave exit 70 in report/metrics/evaluate
    from click.testing import CliRunner

    from pipeline.cli import main

    p = tmp_path / "result.json"
    p.write_text(_crafted_cases()[case])
    for args in (["metrics", str(p)], ["report", str(p), "-o", str(tmp_path / "r.html"), "--no-audio"]):
        r = CliRunner().invoke(main, args)
        assert r.exit_code == 2, (case, args[0], r.stderr)
        assert r.stderr.count("\n") == 1 and "result.json" in r.stderr
    assert not (tmp_path / "r.html").exists()
