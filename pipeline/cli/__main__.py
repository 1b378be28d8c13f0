"""``python -m pipeline.cli``: the same as the ``attune`` command."""

from . import main

main()
