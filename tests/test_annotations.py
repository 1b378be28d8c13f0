"""Annotation readers and `attune metrics` on every input kind."""

import csv
import io
import json

import pytest
from click.testing import CliRunner

from pipeline.annotations import read_eaf, read_rttm, read_textgrid, read_timing
from pipeline.cli import main
from pipeline.errors import InputError
from pipeline.metrics import TIMING_METRICS, compute
from pipeline.outputs import render_rttm
from pipeline.result import Recording, Result, Segment, Speaker, Word

SPANS = [("doctor", 0.0, 2.0), ("patient", 2.5, 6.0), ("doctor", 6.2, 8.0)]

RTTM = "".join(f"SPEAKER visit 1 {a:.3f} {b - a:.3f} <NA> <NA> {s} <NA> <NA>\n" for s, a, b in SPANS)

TEXTGRID_LONG = """File type = "ooTextFile"
Object class = "TextGrid"

xmin = 0
xmax = 10
tiers? <exists>
size = 2
item []:
    item [1]:
        class = "IntervalTier"
        name = "doctor"
        xmin = 0
        xmax = 10
        intervals: size = 4
        intervals [1]:
            xmin = 0
            xmax = 2
            text = "Hello, ""doctor"" here"
        intervals [2]:
            xmin = 2
            xmax = 6.2
            text = ""
        intervals [3]:
            xmin = 6.2
            xmax = 8
            text = "How long
has it been?"
        intervals [4]:
            xmin = 8
            xmax = 10
            text = ""
    item [2]:
        class = "IntervalTier"
        name = "patient"
        xmin = 0
        xmax = 10
        intervals: size = 3
        intervals [1]:
            xmin = 0
            xmax = 2.5
            text = ""
        intervals [2]:
            xmin = 2.5
            xmax = 6
            text = "My head hurts"
        intervals [3]:
            xmin = 6
            xmax = 10
            text = "   "
"""

TEXTGRID_SHORT = """File type = "ooTextFile"
Object class = "TextGrid"

0
10
<exists>
1
"IntervalTier"
"{name}"
0
10
{n}
{rows}
"""


def short_grid(name, spans, end=10.0):
    rows, t = [], 0.0
    for a, b in spans:
        if a > t:
            rows += [str(t), str(a), '""']
        rows += [str(a), str(b), '"speech"']
        t = b
    if t < end:
        rows += [str(t), str(end), '""']
    return TEXTGRID_SHORT.format(name=name, n=len(rows) // 3, rows="\n".join(rows))


EAF = """<?xml version="1.0" encoding="UTF-8"?>
<ANNOTATION_DOCUMENT AUTHOR="" DATE="2026-01-01T00:00:00+00:00" FORMAT="3.0" VERSION="3.0">
  <HEADER MEDIA_FILE="" TIME_UNITS="milliseconds"/>
  <TIME_ORDER>
    <TIME_SLOT TIME_SLOT_ID="ts1" TIME_VALUE="0"/>
    <TIME_SLOT TIME_SLOT_ID="ts2" TIME_VALUE="2000"/>
    <TIME_SLOT TIME_SLOT_ID="ts3" TIME_VALUE="2500"/>
    <TIME_SLOT TIME_SLOT_ID="ts4" TIME_VALUE="6000"/>
    <TIME_SLOT TIME_SLOT_ID="ts5" TIME_VALUE="6200"/>
    <TIME_SLOT TIME_SLOT_ID="ts6" TIME_VALUE="8000"/>
    <TIME_SLOT TIME_SLOT_ID="ts7"/>
  </TIME_ORDER>
  <TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="doctor">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a1" TIME_SLOT_REF1="ts1" TIME_SLOT_REF2="ts2"><ANNOTATION_VALUE>Hello</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a2" TIME_SLOT_REF1="ts5" TIME_SLOT_REF2="ts6"><ANNOTATION_VALUE>How long?</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a9" TIME_SLOT_REF1="ts6" TIME_SLOT_REF2="ts7"><ANNOTATION_VALUE>unaligned</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="default-lt" TIER_ID="patient">
    <ANNOTATION><ALIGNABLE_ANNOTATION ANNOTATION_ID="a3" TIME_SLOT_REF1="ts3" TIME_SLOT_REF2="ts4"><ANNOTATION_VALUE>My head hurts</ANNOTATION_VALUE></ALIGNABLE_ANNOTATION></ANNOTATION>
  </TIER>
  <TIER LINGUISTIC_TYPE_REF="translation" PARENT_REF="patient" TIER_ID="patient-translation">
    <ANNOTATION><REF_ANNOTATION ANNOTATION_ID="a4" ANNOTATION_REF="a3"><ANNOTATION_VALUE>x</ANNOTATION_VALUE></REF_ANNOTATION></ANNOTATION>
  </TIER>
</ANNOTATION_DOCUMENT>
"""


def spans_of(timing):
    return sorted((s.speaker, s.start, s.end) for s in timing.segments)


def write(tmp_path, name, text, encoding="utf-8"):
    p = tmp_path / name
    p.write_text(text, encoding=encoding)
    return p


def test_rttm(tmp_path):
    t = read_rttm(
        write(tmp_path, "a.rttm", "# comment\n\n" + RTTM + "SPKR-INFO visit 1 <NA> <NA> <NA> unknown doctor <NA>\n")
    )
    assert spans_of(t) == sorted(SPANS)
    assert t.speakers == ["doctor", "patient"]


def test_textgrid_long_format_with_quotes_and_multiline_labels(tmp_path):
    t = read_textgrid(write(tmp_path, "a.TextGrid", TEXTGRID_LONG))
    assert spans_of(t) == sorted(SPANS)
    assert t.duration == 10


def test_textgrid_utf16(tmp_path):
    t = read_textgrid(write(tmp_path, "a.TextGrid", TEXTGRID_LONG, encoding="utf-16"))
    assert spans_of(t) == sorted(SPANS)


def test_textgrid_short_format_pair(tmp_path):
    d = write(tmp_path, "visit_doctor.TextGrid", short_grid("doctor", [(0, 2), (6.2, 8)]))
    p = write(tmp_path, "visit_patient.TextGrid", short_grid("patient", [(2.5, 6)]))
    t = read_timing([d, p])
    assert spans_of(t) == sorted(SPANS)
    assert t.duration == 10


def test_textgrid_pair_with_same_tier_names_uses_file_names(tmp_path):
    d = write(tmp_path, "doc.TextGrid", short_grid("speech", [(0, 2), (6.2, 8)]))
    p = write(tmp_path, "pat.TextGrid", short_grid("speech", [(2.5, 6)]))
    assert {s.speaker for s in read_timing([d, p]).segments} == {"doc", "pat"}


def test_eaf(tmp_path):
    t = read_eaf(write(tmp_path, "a.eaf", EAF))
    assert spans_of(t) == sorted(SPANS)


def test_all_formats_give_the_same_metrics(tmp_path):
    files = [
        [write(tmp_path, "a.rttm", RTTM)],
        [write(tmp_path, "a.TextGrid", TEXTGRID_LONG)],
        [
            write(tmp_path, "d.TextGrid", short_grid("doctor", [(0, 2), (6.2, 8)])),
            write(tmp_path, "p.TextGrid", short_grid("patient", [(2.5, 6)])),
        ],
        [write(tmp_path, "a.eaf", EAF)],
    ]
    rows = []
    for f in files:
        r = CliRunner().invoke(main, ["metrics", *map(str, f), "--json", "--duration", "10"])
        assert r.exit_code == 0, r.output
        m = json.loads(r.stdout)
        rows.append({k: m[k] for k in TIMING_METRICS})
    assert all(r == rows[0] for r in rows)
    # and they are the hand-computed values of the simple exchange (doctor first = clinician)
    assert rows[0]["clinician_talk_s"] == 3.8 and rows[0]["patient_talk_s"] == 3.5
    assert rows[0]["silence_s"] == 2.7 and rows[0]["opening_statement_s"] == 3.5


def test_round_trip_rttm_and_result_json(tmp_path):
    segs = [
        Segment("SPEAKER_00", 0.0, 3.1),
        Segment("SPEAKER_01", 2.8, 9.47),
        Segment("SPEAKER_00", 5.0, 5.6),
        Segment("SPEAKER_00", 10.2, 14.0),
        Segment("SPEAKER_01", 15.3, 21.0),
        Segment("SPEAKER_00", 20.5, 22.0),
    ]
    result = Result(
        recording=Recording("x.wav", 23.0, 16000, 1, "0" * 64),
        speakers=[Speaker("SPEAKER_00", "clinician", 0), Speaker("SPEAKER_01", "patient", 0)],
        segments=segs,
        words=[Word("Hi?", 0.1, 0.5, 1.0, "SPEAKER_00")],
    )
    rj = write(tmp_path, "result.json", result.to_json())
    rt = write(tmp_path, "x.rttm", render_rttm(segs, "x"))
    a = json.loads(CliRunner().invoke(main, ["metrics", str(rj), "--json"]).stdout)
    b = json.loads(
        CliRunner().invoke(main, ["metrics", str(rt), "--json", "--clinician", "SPEAKER_00", "--duration", "23"]).stdout
    )
    for k in TIMING_METRICS:
        assert a[k] == b[k], k
    assert a["clinician_questions"] == 1 and "clinician_questions" not in b
    assert a["backchannel_variant"] == "words" and b["backchannel_variant"] == "timing"


def test_csv_output_is_one_row(tmp_path):
    r = CliRunner().invoke(main, ["metrics", str(write(tmp_path, "a.rttm", RTTM)), "--duration", "10"])
    assert r.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert len(rows) == 1
    assert rows[0]["clinician"] == "doctor" and rows[0]["clinician_talk_share"] == "0.5205"
    assert rows[0]["opening_first_clinician_vocalization_s"] == ""  # null


def test_output_file_and_clinician_option(tmp_path):
    out = tmp_path / "sub" / "m.json"
    r = CliRunner().invoke(
        main, ["metrics", str(write(tmp_path, "a.rttm", RTTM)), "--clinician", "patient", "-o", str(out)]
    )
    assert r.exit_code == 0 and r.stdout == ""
    m = json.loads(out.read_text())
    assert m["clinician"] == "patient" and m["clinician_talk_s"] == 3.5
    assert m["duration_s"] == 8.0  # end of the last region


def test_parameters_are_options(tmp_path):
    # with a 0.1 s listening threshold, the 0.2 s P -> C gap is a wait
    r = CliRunner().invoke(main, ["metrics", str(write(tmp_path, "a.rttm", RTTM)), "--json", "--listen-pause", "0.1"])
    m = json.loads(r.stdout)
    assert m["clinician_waits_ge_1s"] == 1 and m["parameters"]["listen_pause"] == 0.1


BAD = [
    (
        "bad.rttm",
        "SPEAKER x 1 0.0 1.0 <NA> <NA> a <NA> <NA>\nSPEAKER x 1 oops 1.0 <NA> <NA> b\n",
        "bad.rttm:2: start time is not a number ('oops')",
    ),
    ("short.rttm", "SPEAKER x 1 0.0\n", "short.rttm:1: malformed RTTM line (expected at least 8 fields, got 4)"),
    ("neg.rttm", "SPEAKER x 1 -1.0 2.0 <NA> <NA> a <NA> <NA>\n", "neg.rttm:1: negative start time (-1)"),
    ("negdur.rttm", "SPEAKER x 1 1.0 -2.0 <NA> <NA> a <NA> <NA>\n", "negdur.rttm:1: negative duration (-2)"),
    ("nan.rttm", "SPEAKER x 1 nan 2.0 <NA> <NA> a <NA> <NA>\n", "nan.rttm:1: start time is not a finite number"),
    ("rev.TextGrid", short_grid("a", [(2, 1)]).replace("\n2\n1\n", "\n2\n1\n"), "rev.TextGrid:"),
    ("trunc.TextGrid", TEXTGRID_LONG[:600], "trunc.TextGrid: truncated TextGrid"),
    ("nottg.TextGrid", "hello\n", "nottg.TextGrid: not a Praat TextGrid"),
    ("bad.eaf", "<ANNOTATION_DOCUMENT><TIER", "bad.eaf:1: not well-formed XML"),
    ("other.eaf", "<html></html>", "other.eaf: not an ELAN annotation document"),
    (
        "rev.eaf",
        EAF.replace('TIME_VALUE="2000"', 'TIME_VALUE="-5"'),
        "rev.eaf: annotation a1: end (-0.005) is before start (0)",
    ),
    (
        "bomb.eaf",
        '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x "xx">]><ANNOTATION_DOCUMENT/>',
        "bomb.eaf: XML entity declarations are not accepted",
    ),
    ("x.csv", "a,b\n", "x.csv: unknown annotation format .csv"),
    ("r.json", '{"schema": "nope"}', "r.json: not an attunement result"),
]


@pytest.mark.parametrize("name,content,message", BAD, ids=[b[0] for b in BAD])
def test_bad_input_one_line_error(tmp_path, name, content, message):
    p = write(tmp_path, name, content)
    r = CliRunner().invoke(main, ["metrics", str(p)])
    assert r.exit_code == 2, r.output
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], lines
    assert r.stdout == ""


def test_reversed_interval_in_textgrid(tmp_path):
    grid = TEXTGRID_SHORT.format(name="a", n=1, rows='3\n1\n"x"')
    with pytest.raises(InputError, match=r"rev.TextGrid:\d+: end \(1\) is before start \(3\)"):
        read_textgrid(write(tmp_path, "rev.TextGrid", grid))


def test_unknown_clinician_label(tmp_path):
    r = CliRunner().invoke(main, ["metrics", str(write(tmp_path, "a.rttm", RTTM)), "--clinician", "nurse"])
    assert r.exit_code == 2
    assert "--clinician nurse: no such speaker" in r.stderr and "(speakers: doctor, patient)" in r.stderr


def test_single_speaker_and_no_speech_give_nulls_with_a_note(tmp_path):
    r = CliRunner().invoke(main, ["metrics", str(write(tmp_path, "one.rttm", RTTM.splitlines()[0] + "\n")), "--json"])
    assert r.exit_code == 0
    m = json.loads(r.stdout)
    assert m["patient_talk_s"] is None and "only one speaker" in r.stderr
    r = CliRunner().invoke(main, ["metrics", str(write(tmp_path, "none.rttm", "")), "--json", "--duration", "60"])
    assert r.exit_code == 0
    assert json.loads(r.stdout)["clinician_talk_s"] is None and "no speech" in r.stderr


def test_bad_parameter_values(tmp_path):
    p = str(write(tmp_path, "a.rttm", RTTM))
    r = CliRunner().invoke(main, ["metrics", p, "--frame", "0"])
    assert r.exit_code == 1 and "--frame must be between 0 and 1 seconds" in r.stderr
    r = CliRunner().invoke(main, ["metrics", p, "--duration", "-3"])
    assert r.exit_code == 1 and "--duration must be more than 0" in r.stderr


def test_missing_input(tmp_path):
    r = CliRunner().invoke(main, ["metrics", str(tmp_path / "none.rttm")])
    assert r.exit_code == 2 and "none.rttm: no such file" in r.stderr


def test_compute_matches_direct_call(tmp_path):
    t = read_rttm(write(tmp_path, "a.rttm", RTTM))
    m = compute(t.segments, "doctor", duration=10)
    assert m["clinician_talk_share"] == 0.5205


def test_an_implausible_length_is_one_line_not_a_memory_bomb(tmp_path):
    """A 78-byte RTTM with a region at 10^7 s (and --duration 1e9) used to reach 3 GB."""
    bomb = tmp_path / "bomb.rttm"
    bomb.write_text("SPEAKER x 1 10000000 5 <NA> <NA> A <NA> <NA>\nSPEAKER x 1 1 5 <NA> <NA> B <NA> <NA>\n")
    r = CliRunner().invoke(main, ["metrics", str(bomb)])
    assert r.exit_code == 2 and "implausible consultation length: 1e+07 s (the metrics cover at most 24 h)" in r.stderr
    ok = tmp_path / "ok.rttm"
    ok.write_text("SPEAKER x 1 0 5 <NA> <NA> A <NA> <NA>\nSPEAKER x 1 6 5 <NA> <NA> B <NA> <NA>\n")
    r = CliRunner().invoke(main, ["metrics", str(ok), "--duration", "1e9"])
    assert r.exit_code == 2 and "implausible consultation length" in r.stderr
