"""attunement: offline analysis of recorded clinical consultations.

Use from Python without the CLI::

    from pipeline import analyze, analyze_to_folder
    result = analyze("consultation.flac")
    print(result.metrics["clinician_talk_share"])
    analyze_to_folder("consultation.flac", "consultation.attune")  # result.json, report.html, ...
"""

from ._compat import switch_off_telemetry
from ._version import __version__

switch_off_telemetry()  # before pyannote, onnxruntime or Hugging Face code can start

from .errors import AttuneError, ExitCode, InputError, ModelError, OutputError  # noqa: E402
from .result import SCHEMA, Result  # noqa: E402


def analyze(path, progress: bool = False, **options) -> Result:
    """Analyse one recording (see :func:`pipeline.analysis.analyze`)."""
    from .analysis import analyze as _analyze

    return _analyze(path, progress=progress, **options)


def analyze_to_folder(path, out_dir, **kwargs):
    """Analyse one recording into a folder of outputs (see :func:`pipeline.folder.analyze_to_folder`)."""
    from .folder import analyze_to_folder as _to_folder

    return _to_folder(path, out_dir, **kwargs)


__all__ = [
    "analyze",
    "analyze_to_folder",
    "AttuneError",
    "ExitCode",
    "InputError",
    "ModelError",
    "OutputError",
    "Result",
    "SCHEMA",
    "__version__",
]
