"""Offline/privacy environment and the one torchaudio workaround, in one place.

Two things must happen before pyannote.audio (and onnxruntime) is imported:

1. **Privacy**: pyannote.audio 4.x sends usage telemetry by default
   (``PYANNOTE_METRICS_ENABLED``), onnxruntime's native code tries to reach Microsoft's
   telemetry service (``ORT_DISABLE_TELEMETRY``), and Hugging Face libraries may look
   things up online. Telemetry is switched off when ``pipeline`` is imported, and the hub
   is offline unless the user explicitly asked for a hub model (``allow_hub=True``).
2. **torchaudio on a CPU-only torch**: PyPI's torchaudio wheels are linked against CUDA and
   their native extension fails to load next to a CPU build of torch. pyannote.audio only
   uses torchaudio's pure-Python parts (``functional.resample``,
   ``compliance.kaldi.fbank``). When — and only when — the real extension fails to load,
   we register a stub ``torchaudio._extension`` that reports the extension as unavailable
   and import torchaudio again. Where the extension loads, nothing is changed.
"""

from __future__ import annotations

import os
import sys
import types

_PRIVACY_ENV = {
    "PYANNOTE_METRICS_ENABLED": "0",  # pyannote.audio 4.x telemetry
    "HF_HUB_DISABLE_TELEMETRY": "1",
    # onnxruntime's Linux wheels carry Microsoft's 1DS telemetry: traced here, an analysis
    # looked up mobile.events.data.microsoft.com (DNS, from onnxruntime's native code) six
    # times; with this set, never. Read when onnxruntime starts, so set on import of pipeline.
    "ORT_DISABLE_TELEMETRY": "1",
    "DO_NOT_TRACK": "1",
}
_OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}

TORCHAUDIO_SHIMMED = False


def set_private_environment(allow_hub: bool = False) -> None:
    """Switch off telemetry; keep the Hugging Face hub offline unless ``allow_hub``."""
    os.environ.update(_PRIVACY_ENV)
    if not allow_hub:
        os.environ.update(_OFFLINE_ENV)
    else:
        for key in _OFFLINE_ENV:
            os.environ.pop(key, None)


def import_torchaudio():
    """Import torchaudio, stubbing its native extension only if that fails to load."""
    global TORCHAUDIO_SHIMMED
    try:
        import torchaudio  # noqa: F401

        return sys.modules["torchaudio"]
    except OSError:
        pass
    for name in [m for m in sys.modules if m == "torchaudio" or m.startswith("torchaudio.")]:
        del sys.modules[name]
    stub = types.ModuleType("torchaudio._extension")
    stub._IS_TORCHAUDIO_EXT_AVAILABLE = False
    stub._IS_ALIGN_AVAILABLE = False
    stub.__all__ = ["_check_cuda_version", "_IS_TORCHAUDIO_EXT_AVAILABLE"]

    def _unavailable(*_args, **_kwargs):
        raise RuntimeError("torchaudio's native extension is not available on this machine")

    def fail_if_no_align(func):
        def wrapper(*_args, **_kwargs):
            _unavailable()

        return wrapper

    stub._check_cuda_version = lambda: None
    stub.fail_if_no_align = fail_if_no_align
    sys.modules["torchaudio._extension"] = stub
    import torchaudio  # noqa: F401,F811

    TORCHAUDIO_SHIMMED = True
    return sys.modules["torchaudio"]


def prepare_pyannote(allow_hub: bool = False) -> None:
    """Make importing pyannote.audio private and possible on a CPU-only torch."""
    set_private_environment(allow_hub=allow_hub)
    import_torchaudio()


def switch_off_telemetry() -> None:
    """Set the telemetry switches (and hub offline mode) now, before any library reads them."""
    os.environ.update(_PRIVACY_ENV)
    for key, value in _OFFLINE_ENV.items():
        os.environ.setdefault(key, value)
