"""``python -m fastact.train``: the same command as ``fastact train`` (`fastact.cli.train`)."""

import sys

from fastact.cli.train import main

if __name__ == "__main__":
    sys.exit(main())
