"""``fastact train`` (also ``python -m fastact.train``): compare activations epoch by epoch.

Prints the dataset and thread count, a progress bar per epoch and one line per
epoch, then a table (mean +- std over ``--seeds``) and the two charts of the
original experiment: training and validation accuracy against epoch, a line
per activation. Every run is saved under ``--out`` (`fastact.results`).
"""

from __future__ import annotations

import argparse
import shutil
import sys

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from fastact import activations, optim, report
from fastact.trainer import DTYPES, PRELU_MODES, Callbacks, TrainConfig, param_flag, train_many

EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


class UsageError(ValueError):
    """Bad input: printed as one ``prog: error: ...`` line, exit code 2."""


def _param_dest(act: str, param: str) -> str:
    return "p_" + param_flag(act, param)[2:].replace("-", "_")


def add_arguments(p: argparse.ArgumentParser, sweep: bool = False) -> None:
    """The run options shared by ``train`` and ``sweep``."""
    d = TrainConfig()
    acts = activations.names("every")
    p.add_argument("--act", nargs="+", default=["relu"] if sweep else ["all"], metavar="NAME",
                   choices=[*acts, "all", "every"],
                   help=f"activations: {', '.join(acts)}; 'all' = the seed's seven, 'every' = all "
                        f"{len(acts)} (default: {'relu' if sweep else 'all'})")
    p.add_argument("--hidden", nargs="+", type=int, default=list(d.hidden), metavar="N",
                   help="hidden layer widths: '512' is one layer, '512 256 128' three (default: 512)")
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"(default: {d.epochs})")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"(default: {d.batch_size})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default: {d.lr:g})")
    p.add_argument("--optimizer", default=d.optimizer, choices=optim.OPTIMIZERS, help="(default: adam)")
    p.add_argument("--momentum", type=float, default=d.momentum, help="SGD momentum (default: 0)")
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum (SGD)")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help="(default: 0)")
    p.add_argument("--seed", type=int, default=d.seed, help="first seed (default: 0)")
    p.add_argument("--seeds", type=int, default=1, help="repeat with N seeds, report mean +- std (default: 1)")
    p.add_argument("--val-split", type=float, default=d.val_split, help="validation fraction (default: 0.1)")
    p.add_argument("--dataset", default=d.dataset, help="mnist, fashion-mnist, ... or auto (default: auto)")
    p.add_argument("--data-dir", default=None, help="directory holding the four MNIST-format files")
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    p.add_argument("--dtype", default=d.dtype, choices=DTYPES, help="(default: float32)")
    p.add_argument("--prelu", default=d.prelu, choices=PRELU_MODES, help="PReLU slopes per unit or shared")
    for act in activations.ACTIVATIONS.values():
        for prm in act.params:
            p.add_argument(param_flag(act.name, prm.name), dest=_param_dest(act.name, prm.name), type=float,
                           default=None, metavar="X",
                           help=f"{act.name} {prm.name}, {prm.rule} (default: {prm.default:g}) {prm.help}")
    p.add_argument("--out", default="runs", metavar="DIR", help="results root (default: runs)")
    p.add_argument("--no-save", action="store_true", help="write no files")
    p.add_argument("--quiet", action="store_true", help="no progress bars, epoch lines or charts")


def act_names(given: list[str]) -> list[str]:
    out = []
    for name in given:
        for n in (activations.names("seed") if name == "all" else activations.names("every") if name == "every"
                  else [activations.get(name).name]):
            if n not in out:
                out.append(n)
    return out


def configs_from_args(args) -> list[TrainConfig]:
    """One validated config per (activation, seed); raises UsageError naming the flag."""
    if args.seeds < 1:
        raise UsageError(f"--seeds must be a positive integer. Received: seeds={args.seeds!r}")
    configs = []
    for act in act_names(args.act):
        params = {prm.name: getattr(args, _param_dest(act, prm.name)) for prm in activations.get(act).params}
        for seed in range(args.seed, args.seed + args.seeds):
            configs.append(TrainConfig(
                act=act, hidden=tuple(args.hidden), epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                optimizer=args.optimizer, momentum=args.momentum, nesterov=args.nesterov,
                weight_decay=args.weight_decay, seed=seed, val_split=args.val_split, dataset=args.dataset,
                data_dir=args.data_dir, threads=args.threads, dtype=args.dtype,
                act_params={k: v for k, v in params.items() if v is not None}, prelu=args.prelu,
                out=None if args.no_save else args.out))
    try:
        for c in configs:
            c.validate()
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return configs


def load_data(config: TrainConfig, console: Console):
    """The dataset, loaded once per invocation; bad names or files become UsageError."""
    from fastact.data import DatasetError
    from fastact.trainer import load_for

    try:
        return load_for(config, progress=True)
    except DatasetError as exc:
        raise UsageError(f"--dataset/--data-dir: {exc}") from None


class ConsoleCallbacks(Callbacks):
    """A rich progress bar per epoch and one printed line per epoch."""

    def __init__(self, console: Console, quiet: bool = False, label=report.label_of):
        self.console, self.quiet, self.label = console, quiet, label
        self.progress = None
        self.task = None

    def on_run_start(self, config, info):
        if self.quiet:
            return
        where = f" -> {info['run_dir']}" if info["run_dir"] else ""
        ready = info.get("compile_seconds")
        kernels = f" (kernels ready in {ready:.1f}s)" if ready is not None else ""
        self.console.print(f"[bold]{self._label(config)}[/bold] seed {config.seed}{where}{kernels}")
        self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                 TextColumn("loss {task.fields[loss]:.4f}"), TimeRemainingColumn(),
                                 console=self.console, transient=True)
        self.progress.start()

    def _label(self, config):
        return self.label(config.to_dict())

    def on_batch(self, config, epoch, batch, n_batches, loss):
        if self.progress is None:
            return
        if self.task is None:
            self.task = self.progress.add_task(f"epoch {epoch}/{config.epochs}", total=n_batches, loss=loss)
        self.progress.update(self.task, completed=batch, loss=loss)

    def on_epoch_end(self, config, record):
        if self.progress is None:
            return
        if self.task is not None:
            self.progress.remove_task(self.task)
            self.task = None
        self.progress.console.print(report.epoch_line(self._label(config), record, config.epochs))

    def on_run_end(self, result):
        if self.progress is not None:
            self.progress.stop()
            self.progress, self.task = None, None
        if not self.quiet and result.status != "completed":
            self.console.print(f"[yellow]{result.status}[/yellow]: {result.message}")


def header(console: Console, ds, threads: int) -> None:
    from fastact.engine.threads import threading_layer
    from fastact.trainer import _blas_name

    console.print(f"dataset: {ds.description}")
    console.print(f"         {len(ds.y_train):,} train / {len(ds.y_val):,} validation / {len(ds.y_test):,} test, "
                  f"{ds.input_dim} inputs, {ds.n_classes} classes")
    console.print(f"threads: {threads} ({threading_layer()}), BLAS: {_blas_name()}")


def print_results(console: Console, results, quiet: bool, title: str = "Results") -> None:
    console.print(report.summary_table(results, title))
    for line in report.problems(results):
        console.print(f"[yellow]{line}[/yellow]")
    if not quiet and any(r.history for r in results):
        width = min(100, shutil.get_terminal_size((100, 24)).columns)
        for chart in report.accuracy_charts(results, color=console.is_terminal, width=width):
            console.out(chart, highlight=False)
    dirs = sorted({str(r.run_dir).rsplit("/", 1)[0] for r in results if r.run_dir})
    if dirs:
        console.print(f"saved under {', '.join(dirs)}/ (fastact report {dirs[0]} redraws this)")


def make_console() -> Console:
    """stdout; 120 columns when piped (rich would wrap tables and epoch lines at 80)."""
    return Console() if sys.stdout.isatty() else Console(width=120)


def run_cli(args, console: Console | None = None) -> int:
    """Run ``fastact train``; raises UsageError for bad input (the caller prints it, exit 2)."""
    from fastact.engine.threads import set_num_threads

    console = console or make_console()
    configs = configs_from_args(args)
    threads = set_num_threads(args.threads)
    ds = load_data(configs[0], console)
    header(console, ds, threads)
    results = []

    class Collect(ConsoleCallbacks):
        def on_run_end(self, result):
            super().on_run_end(result)
            results.append(result)

    try:
        train_many(configs, ds, Collect(console, args.quiet))
    except KeyboardInterrupt:
        console.print("\n[yellow]interrupted[/yellow]: runs so far are saved; the stopped run is marked cancelled")
        if results:
            print_results(console, results, quiet=True)
        return EXIT_INTERRUPTED
    print_results(console, results, args.quiet)
    return 1 if any(r.status == "failed" for r in results) else 0


def main(argv=None) -> int:
    from fastact.cli import main as cli_main

    return cli_main(["train", *(sys.argv[1:] if argv is None else argv)])


if __name__ == "__main__":
    sys.exit(main())
