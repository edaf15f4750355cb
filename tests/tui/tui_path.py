"""Make ``fastact_tui`` importable before the package is pip-installed.

pyproject maps the distribution package ``fastact_tui`` onto the directory ``tui/``; an
editable install does that mapping, a plain checkout does not. Importing this module
registers ``tui/`` under the name ``fastact_tui`` when no installed copy is found.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def ensure_fastact_tui() -> None:
    """Register ``tui/`` as ``fastact_tui`` (and put the repo root on ``sys.path``) if needed."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    if "fastact_tui" in sys.modules or importlib.util.find_spec("fastact_tui") is not None:
        return
    spec = importlib.util.spec_from_file_location(
        "fastact_tui", ROOT / "tui" / "__init__.py", submodule_search_locations=[str(ROOT / "tui")])
    module = importlib.util.module_from_spec(spec)
    sys.modules["fastact_tui"] = module
    spec.loader.exec_module(module)


ensure_fastact_tui()
