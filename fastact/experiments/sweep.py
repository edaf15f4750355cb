"""Sweeps: one setting varied over values, every point a full training run.

Targets: ``leaky-slope`` (Leaky ReLU's ``negative_slope``), ``depth`` (that many hidden
layers of the base config's first width), ``width`` (one hidden layer of that width), ``lr``,
``dropout``, and every activation parameter by its option name (``rrelu-lower``, ``elu-alpha``,
``prelu-init``, a defined activation's ``swishb-beta`` ...: `fastact.activations.Activation.option`).

Values are written ``0,0.1,0.5`` or as ranges ``start:stop:step`` (stop included when
reached), mixable with commas; `parse_values` is the one parser every interface uses. The
points run through a study executor (`fastact.experiments.tasks`: serial, or Dask) by
`run_points`, which writes each finished run's directory in this process.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Callable

from fastact import activations
from fastact.errors import SettingsError
from fastact.experiments.tasks import SerialExecutor, StudyExecutor, Task, failure
from fastact.nn.memory import MAX_LAYERS
from fastact.training import Callbacks, RunResult, TrainConfig
from fastact.training import runs as saved

#: the most points one values expression may expand to (``0:1:1e-12`` is refused, not allocated)
MAX_VALUES = 10_000
#: the most runs one sweep builds (points x seeds x activations), checked before any is built
MAX_RUNS = 100_000


@dataclass(frozen=True)
class Target:
    """What a sweep varies: ``apply(config, value)`` and ``value_of(config dict)``."""

    name: str
    apply: Callable[[TrainConfig, float], TrainConfig]
    value_of: Callable[[dict], float]
    act: str | None = None  # the activation a parameter sweep implies
    example: str = ""  # values to offer when nothing is typed yet (the TUI's field)
    title: str = ""  # what it varies, in words


def _param_target(name: str, act: str, param: str, example: str = "") -> Target:
    default = activations.get(act).defaults[param]
    return Target(name, lambda c, v: replace(c, act=act, act_params={**c.act_params, param: v}),
                  lambda d: float((d.get("act_params") or {}).get(param, default)),
                  act, example or f"{default / 2:g} {default:g} {2 * default:g}", f"{act} {param}")


def targets() -> dict[str, Target]:
    """Every sweepable setting by the name ``fastact sweep`` takes."""
    out = {
        "leaky-slope": _param_target("leaky-slope", "leaky_relu", "negative_slope", "0:1:0.1"),
        "depth": Target("depth", lambda c, v: replace(c, hidden=(c.hidden[0],) * _count(v, "depth", MAX_LAYERS - 1)),
                        lambda d: float(len(d["hidden"])), example="1 2 3 4 5", title="hidden layers"),
        "width": Target("width", lambda c, v: replace(c, hidden=(_count(v, "width"),)),
                        lambda d: float(d["hidden"][0]), example="64 128 256 512", title="hidden width"),
        "lr": Target("lr", lambda c, v: replace(c, lr=v), lambda d: float(d["lr"]),
                     example="0.0001 0.0003 0.001 0.003", title="learning rate"),
        "dropout": Target("dropout", lambda c, v: replace(c, dropout=v), lambda d: float(d.get("dropout") or 0.0),
                          example="0 0.1 0.3 0.5", title="dropout rate"),
    }
    for act in activations.ACTIVATIONS.values():
        for p in act.params:
            name = act.option(p.name)
            out.setdefault(name, _param_target(name, act.name, p.name))
    return out


def _count(v: float, name: str, top: int | None = None) -> int:
    if v != int(v) or v < 1 or (top is not None and v > top):
        raise SettingsError("values", v, f"integers in 1..{top} for {name}" if top else f"positive integers for {name}")
    return int(v)


def parse_values(text: str) -> list[float]:
    """``"0,0.1,0.5"`` or ranges ``"0:1:0.25"`` (start:stop:step, stop included), separated by
    commas and/or spaces (``"0 0.5 1"``, ``"0.05, 0:0.2:0.1"``).

    Raises:
        SettingsError: (field ``values``) anything else, or more than `MAX_VALUES` points.
    """
    rule = "numbers or start:stop:step ranges (step > 0), separated by commas or spaces"
    if not isinstance(text, str):
        raise SettingsError("values", text, rule)
    out: list[float] = []
    for part in re.split(r"[,\s]+", text.strip()):
        if not part:
            continue
        try:
            nums = [float(x) for x in part.split(":")]
        except ValueError:
            nums = []
        if not all(math.isfinite(x) for x in nums):
            nums = []
        if len(nums) == 1:
            out.append(nums[0])
        elif len(nums) == 3 and nums[2] > 0 and nums[1] >= nums[0]:
            start, stop, step = nums
            count = int(math.floor((stop - start) / step + 1e-9)) + 1
            if len(out) + count > MAX_VALUES:
                raise SettingsError("values", text, f"at most {MAX_VALUES:,} points (this range has {count:,})")
            out += [round(start + i * step, 12) for i in range(count)]
        else:
            raise SettingsError("values", text, rule)
        if len(out) > MAX_VALUES:
            raise SettingsError("values", text, f"at most {MAX_VALUES:,} points")
    if not out:
        raise SettingsError("values", text, "at least one value")
    return out


def build_configs(target: Target, values: list[float], bases: list[TrainConfig]) -> list[TrainConfig]:
    """One config per (base, value); a parameter sweep fixes the activation its parameter belongs to."""
    if target.act is not None:
        bases = list({(b.seed,): replace(b, act=target.act) for b in bases}.values())
    if len(bases) * len(values) > MAX_RUNS:
        raise SettingsError("values", f"{len(values):,} values", f"at most {MAX_RUNS:,} runs with the other settings "
                            f"(this sweep has {len(values):,} values x {len(bases):,} seeds and activations)")
    configs = [target.apply(b, v) for b in bases for v in values]
    for c in configs:
        c.validate()
    return configs




def run_points(configs: list[TrainConfig], executor: StudyExecutor | None = None, callbacks: Callbacks | None = None,
               cancel=None, labels: list[str] | None = None):
    """Run every config through ``executor`` (default: serial); yield ``(index, RunResult)`` as each
    point finishes (in any order), its run directory already written under its ``out`` (unless
    None) by this process, from the result (`fastact.training.runs.write_run`): the workers write
    nothing. A point the executor could not run is a ``failed`` result with the reason; a point
    cut short by ``cancel`` is yielded as ``cancelled``, and written too."""
    tasks = [Task(str(i), labels[i] if labels else c.act, replace(c, out=None)) for i, c in enumerate(configs)]
    for task, outcome in (executor or SerialExecutor()).submit(tasks, callbacks, cancel):
        i = int(task.key)
        result = outcome if isinstance(outcome, RunResult) else failure(task, outcome)
        result.config = configs[i]
        if configs[i].out is not None:
            saved.write_run(configs[i].out, saved.make_run_id(activations.get(configs[i].act).name, configs[i].seed),
                            result)
        yield i, result
