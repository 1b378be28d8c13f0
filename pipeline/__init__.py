"""attunement: offline analysis of recorded clinical consultations.

Use from Python without the CLI::

    from pipeline import analyze
    result = analyze("consultation.flac")
    print(result.metrics)
"""

__version__ = "0.1.0"

from ._compat import switch_off_telemetry  # noqa: E402

switch_off_telemetry()  # before pyannote, onnxruntime or Hugging Face code can start

from .errors import AttuneError  # noqa: E402
from .result import SCHEMA, Result  # noqa: E402


def analyze(path, progress: bool = False, **options):
    """Analyse one recording (see :func:`pipeline.analysis.analyze`)."""
    from .analysis import analyze as _analyze

    return _analyze(path, progress=progress, **options)


__all__ = ["analyze", "AttuneError", "Result", "SCHEMA", "__version__"]
