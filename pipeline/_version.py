"""The one version of attunement (read by the package, the build and every result)."""

__version__ = "0.1.0"
