"""``attune models``: the model catalogue, and converting a model for openai-whisper."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from ..errors import ExitCode
from .common import debug_option


@click.group("models", invoke_without_command=True)
@click.option("--verify", is_flag=True, help="Also check every file's sha256 against the manifest.")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
@debug_option
@click.pass_context
def models_cmd(ctx: click.Context, verify: bool, as_json: bool):
    """List the models attunement uses, and whether they are installed here.

    With a sub-command (export-openai), do that instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    from .. import catalogue

    rows = catalogue.status(verify=verify)
    if as_json:
        click.echo(json.dumps(catalogue.status_rows(rows), indent=2))
        return
    click.echo(f"models catalogue: {catalogue.manifest_path()}")
    for r in rows:
        e = r.entry
        state = "installed" if r.installed else "MISSING"
        if r.verified is not None:
            state += ", sha256 ok" if r.verified else ", SHA256 MISMATCH"
        click.echo(f"\n{e.id}{' (default)' if e.default else ''} [{e.stage}] - {state}, {r.size / 1e6:.1f} MB")
        click.echo(f"  {e.description}")
        click.echo(f"  package: {e.package}; licence: {e.licence}; upstream: {e.upstream}")
        if r.location:
            click.echo(f"  location: {r.location}")
        if not r.installed:
            click.echo(f"  install: {e.install}")
    if catalogue.defaults_missing(rows):
        sys.exit(int(ExitCode.MODEL))


@models_cmd.command("export-openai")
@click.argument("model_dir", metavar="CT2_MODEL_DIR")
@click.argument("out", metavar="OUT.pt", type=click.Path(path_type=Path))
@click.option(
    "--fp16", is_flag=True, help="Store the weights as float16 (half the size; loaded as float32 on the CPU)."
)
@debug_option
def models_export_openai(model_dir: str, out: Path, fp16: bool):
    """Convert a CTranslate2 Whisper model into an openai-whisper checkpoint.

    CT2_MODEL_DIR is a folder with model.bin and config.json, or a bundled model's id
    (whisper-tiny.en, whisper-base). Quantized weights are dequantized and the alignment
    heads are kept, so --asr-backend openai-whisper --asr-model OUT.pt works offline.
    """
    from .. import catalogue
    from ..asr.convert import export_openai

    entry = catalogue.get_entry(model_dir)
    source = catalogue.whisper_dir(entry.id) if entry is not None and entry.stage == "asr" else Path(model_dir)
    dims = export_openai(source, out, fp16=fp16)
    click.echo(
        f"export-openai: {out} ({dims['n_text_layer']} decoder layers, {dims['n_vocab']} tokens, "
        f"{'float16' if fp16 else 'float32'}, {out.stat().st_size / 1e6:.1f} MB)"
    )


COMMANDS = [models_cmd]
