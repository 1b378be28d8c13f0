"""The attune command line: help for every command, and one-line errors for bad input."""

import json

import click
import numpy as np
import pytest
import soundfile as sf
from click.testing import CliRunner
from helpers import ffmpeg

from pipeline.cli import main


def all_commands(group, prefix=()):
    for name, cmd in group.commands.items():
        yield prefix + (name,), cmd
        if isinstance(cmd, click.Group):
            yield from all_commands(cmd, prefix + (name,))


def test_every_command_has_help_text():
    commands = list(all_commands(main))
    assert {c[0][0] for c in commands} >= {"analyze", "models"}
    for path, cmd in commands:
        assert cmd.help and cmd.help.strip(), f"attune {' '.join(path)} has no help text"
        assert cmd.get_short_help_str().strip()
        for param in cmd.params:
            if isinstance(param, click.Option) and param.name not in ("help",):
                assert param.help, f"attune {' '.join(path)} {param.opts[0]} has no help text"


def test_version():
    r = CliRunner().invoke(main, ["--version"])
    assert r.exit_code == 0 and "attune" in r.output


def run(args):
    r = CliRunner().invoke(main, args)
    return r, r.stderr.strip().splitlines()


def assert_one_line_error(r, lines, code, pattern):
    assert r.exit_code == code, (r.exit_code, r.output, r.stderr)
    assert len(lines) == 1, lines
    assert lines[0].startswith("attune: error: ")
    assert pattern in lines[0], lines[0]
    assert "Traceback" not in r.output + r.stderr


def test_missing_file(tmp_path):
    r, lines = run(["analyze", str(tmp_path / "gone.wav")])
    assert_one_line_error(r, lines, 2, "gone.wav: no such file")
    assert not (tmp_path / "gone.attune").exists()


def test_directory_as_input(tmp_path):
    r, lines = run(["analyze", str(tmp_path)])
    assert_one_line_error(r, lines, 2, "is a folder, not an audio file")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.mp3"
    p.write_bytes(b"")
    r, lines = run(["analyze", str(p)])
    assert_one_line_error(r, lines, 2, "empty.mp3: empty file (0 bytes)")
    assert not (tmp_path / "empty.attune").exists()


def test_corrupt_file(tmp_path):
    p = tmp_path / "corrupt.flac"
    p.write_bytes(b"fLaC" + bytes(range(256)) * 40)
    r, lines = run(["analyze", str(p)])
    assert_one_line_error(r, lines, 2, "corrupt.flac:")
    assert not (tmp_path / "corrupt.attune").exists()


def test_text_file_renamed(tmp_path):
    p = tmp_path / "letter.wav"
    p.write_text("Dear colleague,\n" * 50)
    r, lines = run(["analyze", str(p)])
    assert_one_line_error(r, lines, 2, "letter.wav: not a readable audio or video file")


def test_no_audio_stream(tmp_path):
    p = tmp_path / "picture.mp4"
    ffmpeg("-f", "lavfi", "-i", "testsrc=size=64x64:rate=5:duration=2", "-c:v", "mpeg4", str(p))
    r, lines = run(["analyze", str(p)])
    assert_one_line_error(r, lines, 2, "picture.mp4: the file has no audio stream")


def test_shorter_than_one_second(tmp_path):
    p = tmp_path / "blip.wav"
    sf.write(p, np.zeros(4000, dtype=np.float32), 16000)
    r, lines = run(["analyze", str(p)])
    assert_one_line_error(r, lines, 2, "blip.wav: audio is too short (0.25 s; at least 1 s is needed)")


def test_output_folder_is_a_file(clip_dir, tmp_path):
    f = tmp_path / "taken"
    f.write_text("x")
    r, lines = run(["analyze", str(clip_dir / "clip.wav"), "-o", str(f)])
    assert_one_line_error(r, lines, 4, "exists and is not a folder")


def test_output_folder_cannot_be_created(clip_dir, tmp_path):
    f = tmp_path / "afile"
    f.write_text("x")
    r, lines = run(["analyze", str(clip_dir / "clip.wav"), "-o", str(f / "sub" / "out")])
    assert_one_line_error(r, lines, 4, "cannot create the output folder")
    assert f.read_text() == "x"


def test_contradictory_speaker_counts(clip_dir, tmp_path):
    r, lines = run(
        ["analyze", str(clip_dir / "clip.wav"), "-o", str(tmp_path / "o"), "--min-speakers", "3", "--max-speakers", "2"]
    )
    assert_one_line_error(r, lines, 1, "--min-speakers (3) is larger than --max-speakers (2)")
    assert not (tmp_path / "o").exists()


def test_unknown_asr_model_folder(clip_dir, tmp_path):
    empty = tmp_path / "model"
    empty.mkdir()
    r, lines = run(["analyze", str(clip_dir / "clip.wav"), "-o", str(tmp_path / "o"), "--asr-model", str(empty)])
    assert_one_line_error(r, lines, 3, "not a CTranslate2 Whisper model folder (missing model.bin, config.json)")
    assert not (tmp_path / "o").exists()


def test_models_lists_every_catalogued_model():
    r = CliRunner().invoke(main, ["models", "--json"])
    assert r.exit_code == 0, r.output
    rows = {m["id"]: m for m in json.loads(r.stdout)}
    assert set(rows) == {"whisper-tiny.en", "whisper-base", "segmentation-3.0", "campplus"}
    for m in rows.values():
        assert m["status"] == "installed", m
        assert m["size_bytes"] > 1_000_000
        assert m["licence"] in ("MIT", "Apache-2.0")


def test_models_human_readable_and_verified():
    r = CliRunner().invoke(main, ["models", "--verify"])
    assert r.exit_code == 0, r.output
    assert r.stdout.count("sha256 ok") == 4
    assert "whisper-tiny.en (default) [asr] - installed" in r.stdout


@pytest.mark.parametrize("args", [["analyze", "--help"], ["models", "--help"], ["--help"]])
def test_help_runs(args):
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 0 and "Usage:" in r.output


def test_one_line_escapes_control_characters():
    from pipeline.cli.common import one_line

    assert one_line("a\nb\tc\x1b[31m d é 中") == "a\\nb\\tc\\x1b[31m d é 中"
