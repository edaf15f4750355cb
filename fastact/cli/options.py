"""The run options ``fastact train`` and ``fastact sweep`` share (``fastact-tui`` too), the
executor options of ``fastact sweep`` and ``fastact study`` (`add_executor_arguments`), and the
one mapping from library field names to the flags that set them.

Flags come from the library: the `TrainConfig` defaults, the choices in `fastact.nn`, one flag
per activation parameter from the table (``--<option>``, `Activation.option`). A library
`SettingsError` names a field (``batch_size``, ``rrelu.lower``); `flag_of` turns it into the
flag users typed (``--batch-size``, ``--rrelu-lower``) so messages read in their words.
"""

from __future__ import annotations

import argparse

from fastact import activations
from fastact.errors import SettingsError
from fastact.experiments.tasks import EXECUTORS, make_executor
from fastact.nn import DTYPES, OPTIMIZERS, PRELU_MODES
from fastact.training import TrainConfig
from fastact.training.config import MONITORS, check_seeds


class UsageError(ValueError):
    """Bad input that only the command line can have: printed as one ``prog: error: ...`` line, exit 2."""


def flag_of(field: str) -> str:
    """The flag of a library field: ``batch_size`` -> ``--batch-size``, ``rrelu.lower`` -> ``--rrelu-lower``."""
    if "." in field:
        act, param = field.split(".", 1)
        try:
            return "--" + activations.get(act).option(param)
        except SettingsError:
            pass
    return "--" + field.replace("_", "-").replace(".", "-")


def key_of(field: str) -> str:
    """The name after ``Received:``: the flag without dashes (``batch_size``, ``rrelu_lower``)."""
    return flag_of(field)[2:].replace("-", "_")


def cli_message(exc: SettingsError) -> str:
    """A library `SettingsError` in the command line's words."""
    return exc.render(flag_of, key_of)


def param_dest(act: str, param: str) -> str:
    """The argparse ``dest`` of an activation parameter's flag."""
    return "p_" + activations.get(act).option(param).replace("-", "_")


# ---- lists: one syntax for every list flag and form field ------------------------------------
def split_words(text: str) -> list[str]:
    """The words of a list as users type it: ``"relu rrelu"``, ``"relu,rrelu"``, ``"relu, rrelu"``."""
    return str(text).replace(",", " ").split()


def parse_list(text: str, item=str, what: str = "value") -> list:
    """A list typed as one string (a form field): each word converted by ``item`` (which may
    return a list, spliced in, as `act_words` does).

    Raises:
        ValueError: ``invalid int value: 'x'`` for the first word ``item`` rejects, or no words.
    """
    out: list = []
    for word in split_words(text):
        try:
            got = item(word)
        except argparse.ArgumentTypeError as exc:
            raise ValueError(str(exc)) from None
        except (ValueError, TypeError):
            raise ValueError(f"invalid {what} value: {word!r}") from None
        out += got if isinstance(got, list) else [got]
    if not out:
        raise ValueError(f"expected at least one {what}. Received: {text!r}")
    return out


def list_type(item=str, what: str = "value"):
    """argparse ``type`` of one command-line word of a list flag (``nargs="+"``): ``"128,1024"`` -> [128, 1024]."""
    def parse(word):
        words = split_words(word)
        return parse_list(word, item, what) if words else []

    def typed(word):
        try:
            return parse(word)
        except ValueError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    typed.__name__ = what
    return typed


class _Joined(argparse.Action):
    """The words of a list flag as one flat list (``--act relu, rrelu`` -> [relu, rrelu]); the
    flag given twice: the last one counts, as for any other flag."""

    def __init__(self, *args, unique: bool = False, **kw):
        super().__init__(*args, **kw)
        self.unique = unique

    def __call__(self, parser, namespace, values, option_string=None):
        items = [v for part in values for v in part]
        if self.unique:
            items = list(dict.fromkeys(items))
        if not items:
            parser.error(f"argument {option_string}: expected at least one {self.type.__name__}")
        setattr(namespace, self.dest, items)


def add_list_argument(p: argparse.ArgumentParser, flag: str, item=str, what: str = "value",
                      unique: bool = False, **kw) -> None:
    """A list flag: values separated by spaces and/or commas (`split_words`), converted by ``item``."""
    p.add_argument(flag, nargs="+", type=list_type(item, what), action=_Joined, unique=unique, **kw)


def choice(valid, what: str):
    """A list item converter accepting only ``valid`` (argparse's own wording on a bad one)."""
    def pick(word):
        if word not in valid:
            raise argparse.ArgumentTypeError(f"invalid choice: {word!r} (choose from {', '.join(valid)})")
        return word

    pick.__name__ = what
    return pick


ACT_WORDS = ("all", "seed", "extra", "every")


def act_words(word: str) -> list[str]:
    """One word of ``--act``: a name, or a group (`ACT_WORDS`) spliced in (`fastact.activations.expand`)."""
    try:
        return activations.expand(word)
    except SettingsError as exc:
        choices = ", ".join([*activations.names("every"), *ACT_WORDS])
        raise argparse.ArgumentTypeError(f"invalid choice: {exc.value!r} (choose from {choices})") from None


def positive_int(word: str) -> int:
    value = int(word)
    if value < 1:
        raise ValueError(word)
    return value


def flatten(groups) -> list[str]:
    """``--act`` values (lists per item, or names) as one list in order, without repeats."""
    out: list[str] = []
    for g in groups:
        for name in (g if isinstance(g, list) else [g]):
            if name not in out:
                out.append(name)
    return out


def add_act_argument(p: argparse.ArgumentParser, default: list[str], shown: str) -> None:
    """``--act``, the same in every command: names and groups separated by spaces and/or commas."""
    acts = activations.names("every")
    add_list_argument(p, "--act", act_words, "activation", unique=True, default=list(default), metavar="NAME",
                      help=f"activations, separated by spaces or commas: {', '.join(acts)}; 'all' or 'seed' = "
                           f"the experiment's seven, 'extra' = the other {len(acts) - len(activations.names('seed'))}"
                           f", 'every' = all {len(acts)} (default: {shown})")


def add_run_arguments(p: argparse.ArgumentParser, sweep: bool = False) -> None:
    """The options of one or more training runs (``fastact train``; ``fastact sweep`` with ``sweep``)."""
    d = TrainConfig()
    add_act_argument(p, ["relu"] if sweep else activations.names("seed"), "relu" if sweep else "all")
    add_list_argument(p, "--hidden", int, "int", default=list(d.hidden), metavar="N",
                      help="hidden layer widths: '512' is one layer, '512 256 128' (or 512,256,128) three "
                           "(default: 512)")
    p.add_argument("--epochs", type=int, default=d.epochs, help=f"(default: {d.epochs})")
    p.add_argument("--batch-size", type=int, default=d.batch_size, help=f"(default: {d.batch_size})")
    p.add_argument("--lr", type=float, default=d.lr, help=f"learning rate (default: {d.lr:g})")
    p.add_argument("--optimizer", default=d.optimizer, choices=OPTIMIZERS, help=f"(default: {d.optimizer})")
    p.add_argument("--momentum", type=float, default=d.momentum, help=f"SGD momentum (default: {d.momentum:g})")
    p.add_argument("--nesterov", action="store_true", help="Nesterov momentum (SGD)")
    p.add_argument("--weight-decay", type=float, default=d.weight_decay, help=f"(default: {d.weight_decay:g})")
    p.add_argument("--seed", type=int, default=d.seed, help=f"first seed (default: {d.seed})")
    p.add_argument("--seeds", type=int, default=1, help="repeat with N seeds, report mean +- std (default: 1)")
    p.add_argument("--val-split", type=float, default=d.val_split,
                   help=f"validation fraction (default: {d.val_split:g})")
    p.add_argument("--dataset", default=d.dataset, help=f"mnist, fashion-mnist, ... or auto (default: {d.dataset})")
    p.add_argument("--data-dir", default=None, help="directory holding the four MNIST-format files")
    p.add_argument("--data-file", default=None, metavar="NPZ",
                   help="your own data: an .npz with x_train (n, features), y_train (n,) class indices and "
                        "optionally x_test, y_test (numpy.savez writes it); replaces --dataset/--data-dir")
    p.add_argument("--threads", type=int, default=None, help="kernel threads (default: all cores)")
    p.add_argument("--dtype", default=d.dtype, choices=list(DTYPES), help=f"(default: {d.dtype})")
    p.add_argument("--prelu", default=d.prelu, choices=PRELU_MODES,
                   help=f"learnable slopes per unit or shared (default: {d.prelu})")
    p.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE",
                   help="stop once --monitor has not improved for PATIENCE epochs (Keras's EarlyStopping; "
                        "default: train every epoch)")
    p.add_argument("--monitor", default=d.monitor, choices=MONITORS,
                   help=f"what the best epoch and early stopping watch (default: {d.monitor})")
    p.add_argument("--min-delta", type=float, default=d.min_delta,
                   help=f"the least change that counts as an improvement (default: {d.min_delta:g})")
    p.add_argument("--restore-best-weights", action="store_true",
                   help="end with the best epoch's weights (model.npz, test metrics), as Keras does")
    p.add_argument("--no-save-best", action="store_true", help="do not write model.best.npz (the best epoch's weights)")
    for act in activations.ACTIVATIONS.values():
        for prm in act.params:
            p.add_argument("--" + act.option(prm.name), dest=param_dest(act.name, prm.name), type=float,
                           default=None, metavar="X",
                           help=f"{act.name} {prm.name}, {prm.rule} (default: {prm.default:g}) {prm.help}")
    p.add_argument("--out", default=d.out, metavar="DIR", help=f"results root (default: {d.out})")
    p.add_argument("--no-save", action="store_true", help="write no files")
    p.add_argument("--quiet", action="store_true", help="no progress bars, epoch lines or charts")


def act_names(args) -> list[str]:
    return flatten(args.act)


def configs_from_args(args, acts: list[str] | None = None) -> list[TrainConfig]:
    """One validated config per (activation, seed).

    Raises:
        UsageError: a parameter flag for an activation that is not trained.
        SettingsError: a setting breaks a library rule (the caller words it as a flag).
    """
    acts = act_names(args) if acts is None else acts
    check_seeds(args.seeds)
    given = {(a.name, p.name): getattr(args, param_dest(a.name, p.name), None)
             for a in activations.ACTIVATIONS.values() for p in a.params}
    for (a, p), v in given.items():
        if v is not None and a not in acts:
            flag = flag_of(f"{a}.{p}")
            raise UsageError(f"{flag} is a parameter of {a}, which --act does not train "
                             f"(add {a} to --act or drop {flag}). Received: {key_of(f'{a}.{p}')}={v!r}, "
                             f"act={' '.join(acts)}")
    configs = []
    for act in acts:
        params = {p: v for (a, p), v in given.items() if a == act and v is not None}
        for seed in range(args.seed, args.seed + args.seeds):
            configs.append(TrainConfig(
                act=act, hidden=tuple(args.hidden), epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
                optimizer=args.optimizer, momentum=args.momentum, nesterov=args.nesterov,
                weight_decay=args.weight_decay, seed=seed, val_split=args.val_split, dataset=args.dataset,
                data_dir=args.data_dir, data_file=args.data_file, threads=args.threads, dtype=args.dtype,
                act_params=params, prelu=args.prelu, early_stopping=args.early_stopping, monitor=args.monitor,
                min_delta=args.min_delta, restore_best_weights=args.restore_best_weights,
                save_best=not args.no_save_best, out=None if args.no_save else args.out))
    for c in configs:
        c.validate()
    return configs


# ---- where the points run ---------------------------------------------------------------------
def add_executor_arguments(p: argparse.ArgumentParser) -> None:
    """``--executor``, ``--scheduler``, ``--workers``: the same in every command that runs many points."""
    g = p.add_argument_group("where the points run")
    g.add_argument("--executor", default="serial", choices=list(EXECUTORS),
                   help="serial: one point after another in this process, all cores (default); dask: on a Dask "
                        "cluster, a LocalCluster on this machine unless --scheduler names one (needs the extra: "
                        'pip install "fastact[dask]")')
    g.add_argument("--scheduler", metavar="ADDRESS", default=None,
                   help="a running Dask scheduler, tcp://HOST:PORT (default: $DASK_SCHEDULER_ADDRESS; neither: "
                        "a LocalCluster); implies --executor dask")
    g.add_argument("--workers", type=positive_int_arg, default=None, metavar="N",
                   help="the LocalCluster's worker processes, each with cores/N kernel threads (default: one per "
                        "core; --executor dask)")


def positive_int_arg(word: str) -> int:
    try:
        return positive_int(word)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid positive integer: {word!r}") from None


def executor_from_args(args, log=None):
    """The executor the flags name (`fastact.experiments.tasks.make_executor`); close it when done.

    Raises:
        UsageError: ``--workers`` with the serial executor, or with ``--scheduler``.
        ExecutorError: Dask is not installed, or no scheduler answers (one line).
    """
    name = "dask" if args.scheduler and args.executor == "serial" else args.executor
    if name == "serial":
        if args.workers not in (None, 1):
            raise UsageError(f"--workers {args.workers} starts Dask worker processes: add --executor dask "
                             f"(points no longer run in a process pool of their own). Received: workers={args.workers}")
        return make_executor("serial")
    if args.workers is not None and args.scheduler:
        raise UsageError(f"--workers sizes a LocalCluster; the cluster at --scheduler has its own workers. "
                         f"Received: workers={args.workers}, scheduler={args.scheduler!r}")
    return make_executor(name, scheduler=args.scheduler, workers=args.workers, log=log)
