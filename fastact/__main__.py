"""``python -m fastact`` is the ``fastact`` command."""

from fastact._entry import fastact

fastact()
