"""``fastact``: the command line (parsing and dispatch only).

    fastact train  --act relu sigmoid --epochs 10      compare activations (fastact.train)
    fastact sweep  leaky-slope --values 0:1:0.1         vary one setting (fastact.sweep)
    fastact report runs/ --csv all.csv                  redraw saved runs (fastact.report)
    fastact bench  --act relu                           kernel benchmarks (fastact.benchmarks)

Bad input is one line, ``fastact train: error: --epochs must be a positive
integer. Received: epochs=0``, and exit code 2 (argparse's convention);
Ctrl-C exits 130 after the running run has written its files.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "train": ("fastact.train", "train MLPs and compare activations epoch by epoch"),
    "sweep": ("fastact.sweep", "sweep one setting (Leaky ReLU's slope, depth, an activation parameter)"),
    "report": ("fastact.report", "redraw tables and charts from saved runs, export CSV"),
    "bench": ("fastact.benchmarks", "benchmark the kernels against NumPy and PyTorch"),
}


class Parser(argparse.ArgumentParser):
    """argparse, but a usage error is the one line ``prog: error: message`` (no usage block)."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; only ``command``'s module is imported for its options (all when None)."""
    parser = Parser(prog="fastact", description="Study activation functions on MNIST-format data.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (module, help_) in COMMANDS.items():
        p = sub.add_parser(name, help=help_, description=help_)
        if command is not None and name != command:
            continue
        try:
            importlib.import_module(module).add_arguments(p)
        except ImportError as exc:
            p.set_defaults(_missing=f"{module} is not available ({exc})")
    return parser


def _version() -> str:
    from fastact import __version__

    return __version__


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # Lazy: import only the module of the command given (`fastact report` never loads the
    # benchmark peers); a missing module only disables its own subcommand.
    command = next((a for a in argv if not a.startswith("-")), "")
    parser = build_parser(command)
    args = parser.parse_args(argv)
    sub = parser._subparsers._group_actions[0].choices[args.command]
    if getattr(args, "_missing", None):
        sub.error(args._missing)
    from fastact.data import DatasetError

    try:
        return importlib.import_module(COMMANDS[args.command][0]).run_cli(args)
    except (ValueError, DatasetError) as exc:  # UsageError, DatasetError and validation errors
        sub.error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
