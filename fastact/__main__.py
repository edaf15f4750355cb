"""``python -m fastact`` is the ``fastact`` command."""

import sys

from fastact.cli import main

sys.exit(main())
