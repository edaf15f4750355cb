"""The console entry points (``fastact``, ``fastact-tui``, ``python -m fastact``): Ctrl-C at any
moment exits 130 without a traceback.

`run` imports the command (NumPy, Numba, Textual: the first half second) only inside its own
``try``, so an interrupt during the imports is caught like one during a run; ``import fastact``
itself loads nothing heavy (its names are imported on first use). Once the command has
returned, the interpreter still joins threads, runs exit handlers and flushes: a Ctrl-C there
would surface as a traceback from the runtime, so from then on SIGINT ends the process at once
with the same 130.
"""

import os
import signal
import sys

EXIT_INTERRUPTED = 130


def _exit_interrupted(signum, frame):
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except Exception:  # noqa: BLE001 (a closed or broken stream: exit anyway)
            pass
    os._exit(EXIT_INTERRUPTED)


def _quiet_from_now() -> None:
    try:
        signal.signal(signal.SIGINT, _exit_interrupted)
    except ValueError:  # not the main thread: the caller keeps its own handling
        pass


def run(target: str, argv=None) -> int:
    """Import ``"module:function"``, call it with ``argv`` and return its exit code (130 on Ctrl-C)."""
    try:
        import importlib

        module, _, name = target.partition(":")
        code = getattr(importlib.import_module(module), name)(argv)
    except KeyboardInterrupt:
        _quiet_from_now()
        try:
            print("interrupted", file=sys.stderr)
        except Exception:  # noqa: BLE001 (stderr gone: the exit code says it)
            pass
        code = EXIT_INTERRUPTED
    finally:  # also when the command exits through SystemExit (argparse's --help, usage errors)
        _quiet_from_now()
    return code


def fastact() -> None:
    """The ``fastact`` command."""
    sys.exit(run("fastact.cli:main"))


def fastact_tui() -> None:
    """The ``fastact-tui`` command."""
    sys.exit(run("fastact_tui.app:main"))
