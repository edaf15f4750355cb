"""The run options ``fastact train`` and ``fastact sweep`` share (``fastact-tui`` too), the
executor options of ``fastact sweep`` and ``fastact study`` (`add_executor_arguments`), and the
one mapping from library field names to the flags that set them.

Flags come from the library: the `TrainConfig` defaults, the choices in `fastact.nn`, one flag
per activation parameter from the table (``--<option>``, `Activation.option`). A library
`SettingsError` names a field (``batch_size``, ``rrelu.lower``); `flag_of` turns it into the
flag users typed (``--batch-size``, ``--rrelu-lower``) so messages read in their words.

``--define`` adds activations to the table, and the table decides which ``--act`` names and
parameter flags exist, so a parser is built in two stages: `prescan_defines` reads only the
``--define`` values of the command line and `apply_defines` defines them, then the full parser
is built (`fastact.cli.main` and ``fastact-tui`` both do this).
"""

from __future__ import annotations

import argparse
import contextlib
import os

from fastact import activations, fsio, resources
from fastact.errors import SettingsError
from fastact.experiments.tasks import EXECUTORS, make_executor
from fastact.formula import SYNTAX, FormulaError, parse_definition
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


ACT_WORDS = ("all", "seed", "extra", "custom", "every")


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


def bounded(kind, lo, hi, what):
    """argparse type: ``kind(text)`` in ``[lo, hi]``; NaN and inf fail."""
    interval = f"[{lo:g}, {hi:g}]" if kind is float else f"{lo}..{hi:,}"

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = None
        if value is None or not lo <= value <= hi:  # NaN compares False
            raise argparse.ArgumentTypeError(f"must be {what} in {interval}. "
                                             f"Received: {text!r}")
        return value

    parse.__name__ = what
    return parse


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


DEFINE_HELP = (f"define an activation from a formula in z (repeatable), then use it in --act: {SYNTAX}; "
               "e.g. 'hswish = z * clip(z + 3, 0, 6) / 6' or 'swishb = z * sigmoid(beta * z); beta = 1.0 > 0 "
               "learnable'. Formulas are parsed by a whitelisted grammar, never run as Python (docs/FORMULAS.md)")


def add_define_argument(p: argparse.ArgumentParser) -> None:
    p.add_argument("--define", action="append", default=[], metavar="DEFINITION", help=DEFINE_HELP)


def prescan_defines(argv) -> list[str]:
    """The ``--define`` values in ``argv`` (also ``--define=...`` and unambiguous prefixes, as argparse reads them)."""
    p = argparse.ArgumentParser(add_help=False)
    add_define_argument(p)
    try:
        known, _ = p.parse_known_args(list(argv))
    except SystemExit:  # `--define` without a value: the full parser words the error
        return []
    return list(known.define)


def apply_defines(texts) -> list[activations.Activation]:
    """Define each ``--define`` text (the same definition again is a no-op).

    Raises:
        UsageError: a definition that does not parse or compile, one line starting ``--define:``.
    """
    out = []
    for text in texts:
        try:
            out.append(activations.define(**parse_definition(text)))
        except FormulaError as exc:
            raise UsageError(f"--define: {str(exc).splitlines()[0]}") from None
    return out


def add_run_arguments(p: argparse.ArgumentParser, sweep: bool = False) -> None:
    """The options of one or more training runs (``fastact train``; ``fastact sweep`` with ``sweep``).

    Raises:
        UsageError: a defined activation's parameter flag would clash with an existing option.
    """
    d = TrainConfig()
    add_define_argument(p)
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
    p.add_argument("--prelu", "--learnable", dest="prelu", default=d.prelu, choices=PRELU_MODES,
                   help="a learnable activation parameter (PReLU's slope, a defined activation's learnable one) "
                        f"per unit or shared by the layer (default: {d.prelu})")
    p.add_argument("--dropout", type=float, default=d.dropout, metavar="P",
                   help="inverted dropout after every hidden layer while training, rate P in [0, 1), fused into "
                        f"the kernels (no mask is stored) (default: {d.dropout:g})")
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
            flag = "--" + act.option(prm.name)
            if flag in p._option_string_actions:
                raise UsageError(f"--define: {act.name}'s parameter {prm.name} would be the flag {flag}, which "
                                 f"{p.prog} already has; rename the parameter or the activation")
            p.add_argument(flag, dest=param_dest(act.name, prm.name), type=float, default=None, metavar="X",
                           help=f"{act.name} {prm.name}, {prm.rule} (default: {prm.default:g}) {prm.help}")
    p.add_argument("--out", default=d.out, metavar="DIR", help=f"results root (default: {d.out})")
    p.add_argument("--no-save", action="store_true", help="write no files")
    p.add_argument("--quiet", action="store_true", help="no progress bars, epoch lines or charts")


def add_resource_arguments(p: argparse.ArgumentParser) -> None:
    """``--memory-budget SIZE``, for every command that allocates (apply it with `resource_limits`)."""
    p.add_argument(resources.OPTION, dest="memory_budget", type=_budget, default=None, metavar="SIZE",
                   help=f"most memory one allocation may take: bytes, K/M/G/T (powers of 1024) or a percentage of "
                        f"available memory, e.g. 8G or 75%% (default: ${resources.ENV_BUDGET}, else "
                        f"{round(100 * resources.DEFAULT_FRACTION)}%% of available memory)")


def _budget(text: str) -> str:
    try:
        resources.parse_size(text, what=resources.OPTION)
    except resources.ResourceError as exc:
        raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{resources.OPTION} ")) from None
    return text


@contextlib.contextmanager
def resource_limits(args):
    """``--memory-budget`` in force for the command, its worker processes included; restored after.

    A percentage is turned into bytes once, here: workers (spawned processes) inherit it as
    ``$FASTACT_MEMORY_BUDGET`` in bytes, so every process of a command has the same budget.
    """
    value = getattr(args, "memory_budget", None)
    if value is None:
        yield
        return
    saved = os.environ.get(resources.ENV_BUDGET)
    resources.set_memory_budget(value, source=f"{resources.OPTION} {value}")
    os.environ[resources.ENV_BUDGET] = str(resources.memory_budget().n_bytes)
    try:
        yield
    finally:
        resources.set_memory_budget(None)
        if saved is None:
            os.environ.pop(resources.ENV_BUDGET, None)
        else:
            os.environ[resources.ENV_BUDGET] = saved


def check_out(args) -> None:
    """``--out`` can hold run directories (nothing is created yet); `UsageError` saying why not."""
    if getattr(args, "no_save", False) or not isinstance(args.out, str) or not args.out.strip():
        return  # --no-save writes nothing; an empty --out is TrainConfig's rule
    problem = fsio.writable_dir_problem(args.out)
    if problem:
        raise UsageError(f"--out must be a directory fastact can write run folders into ({problem}). "
                         f"Received: out={args.out!r}")


def check_output_file(flag: str, path) -> None:
    """A file option (``--json``, ``--csv``) can be written, checked before any work (nothing is created)."""
    if path is None:
        return
    key = flag.lstrip("-").replace("-", "_")
    if os.path.isdir(path):
        raise UsageError(f"{flag} must be a file path; {path} is a directory. Received: {key}={path!r}")
    problem = fsio.writable_dir_problem(os.path.dirname(os.path.abspath(path)))
    if problem:
        raise UsageError(f"{flag} must be a file fastact can write ({problem}). Received: {key}={path!r}")


def act_names(args) -> list[str]:
    return flatten(args.act)


def configs_from_args(args, acts: list[str] | None = None) -> list[TrainConfig]:
    """One validated config per (activation, seed).

    Raises:
        UsageError: a parameter flag for an activation that is not trained; an ``--out`` that
            cannot be written.
        SettingsError: a setting breaks a library rule (the caller words it as a flag).
    """
    apply_defines(getattr(args, "define", None) or [])
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
                act_params=params, prelu=args.prelu, dropout=args.dropout, early_stopping=args.early_stopping,
                monitor=args.monitor, min_delta=args.min_delta, restore_best_weights=args.restore_best_weights,
                save_best=not args.no_save_best, out=None if args.no_save else args.out))
    for c in configs:
        c.validate()
    check_out(args)
    return configs


# ---- where the points run ---------------------------------------------------------------------
#: the most LocalCluster workers per core: a typo (``--workers 100000``) must not start a process per point
WORKERS_PER_CORE = 4


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
    g.add_argument("--workers", type=bounded(int, 1, WORKERS_PER_CORE * (os.cpu_count() or 1), "an integer"),
                   default=None, metavar="N",
                   help="the LocalCluster's worker processes, each with cores/N kernel threads (default: one per "
                        "core; --executor dask)")



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
