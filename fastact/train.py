"""``python -m fastact.train``: the same command as ``fastact train`` (`fastact.cli.train`)."""

import sys

from fastact._entry import run

if __name__ == "__main__":
    sys.exit(run("fastact.cli.train:main"))
