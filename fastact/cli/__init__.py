"""``fastact``: the command line (parsing and dispatch only).

    fastact train  --act relu sigmoid --epochs 10      compare activations (cli/train.py)
    fastact sweep  leaky-slope --values 0:1:0.1         vary one setting (cli/sweep.py)
    fastact study  seed --quick                         a whole resumable study (cli/study.py)
    fastact report runs/ --csv all.csv                  redraw saved runs (cli/report.py)
    fastact bench  --act relu                           kernel benchmarks (cli/bench.py)

One module per subcommand, each with ``add_arguments(parser)`` and ``run_cli(args)``: parsing
and printing only. Every list flag (``--act``, ``--hidden``, ``--values``, bench's ``--batch`` ...) takes values
separated by spaces and/or commas (`fastact.cli.options.add_list_argument`). Bad input is one
line naming the subcommand, ``fastact train: error: --epochs must be a positive
integer. Received: epochs=0``, and exit code 2 (argparse's convention): library
`SettingsError` s are worded with the flags that set each field (`fastact.cli.options`).
Ctrl-C exits 130 after the running run has written its files.
"""

from __future__ import annotations

import argparse
import importlib
import sys

COMMANDS = {
    "train": ("fastact.cli.train", "train MLPs and compare activations epoch by epoch"),
    "sweep": ("fastact.cli.sweep", "sweep one setting (Leaky ReLU's slope, depth, an activation parameter)"),
    "study": ("fastact.cli.study", "run a whole study (a grid over activations, parameters, depth, seeds), resumable"),
    "report": ("fastact.cli.report", "redraw tables and charts from saved runs, export CSV"),
    "bench": ("fastact.cli.bench", "benchmark the kernels against NumPy and PyTorch"),
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
    from fastact._version import __version__

    return __version__


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    # Lazy: import only the module of the command given (`fastact report` never loads the
    # benchmark peers); a missing module only disables its own subcommand.
    command = next((a for a in argv if not a.startswith("-")), "")
    parser = build_parser(command)
    args, extra = parser.parse_known_args(argv)
    sub = parser._subparsers._group_actions[0].choices[args.command]
    if extra:  # worded by the subcommand, like every other usage error of its arguments
        sub.error(f"unrecognized arguments: {' '.join(extra)}")
    if getattr(args, "_missing", None):
        sub.error(args._missing)
    from fastact.cli.options import cli_message
    from fastact.errors import SettingsError

    try:
        return importlib.import_module(COMMANDS[args.command][0]).run_cli(args)
    except SettingsError as exc:
        sub.error(cli_message(exc))
    except ValueError as exc:  # UsageError, DatasetError and the library's other bad-value errors
        sub.error(str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
