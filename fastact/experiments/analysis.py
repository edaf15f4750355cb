"""A study's results, part by part: its groups (`fastact.experiments.grouping`) and the paired
comparisons against each part's baseline (`fastact.experiments.stats`), from a study directory
or a running study. What the CLI, the TUI and the report print.

Example (a finished study)::

    study = load_study("studies/seed")
    for part in study.spec.parts:
        groups = part_groups(study, part)
        for c in part_comparisons(part, groups, "test_acc"):
            print(statement(c))
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastact.experiments.grouping import Group, _matches, group_runs
from fastact.experiments.metrics import METRICS
from fastact.experiments.runner import SPEC, STATE, StudyRun, load_runs, open_study, read_state
from fastact.experiments.spec import Part, parse_spec
from fastact.experiments.stats import Comparison, compare_sets


@dataclass
class Study:
    """A study directory read back: spec, points and state (`StudyRun`), and the loaded runs by key."""

    run: StudyRun
    runs: dict[str, dict]

    @property
    def spec(self):
        return self.run.spec


def load_study(out) -> Study:
    """Read ``out`` (written by `fastact.experiments.runner.run_study`).

    Raises:
        FileNotFoundError: ``out`` holds no ``spec.toml``.
    """
    out = Path(out)
    if not (out / SPEC).is_file():
        raise FileNotFoundError(f"not a study directory (no {SPEC}). Received: {out}")
    state = read_state(out) or {}
    spec = parse_spec((out / SPEC).read_text(), state.get("source", str(out / SPEC)), bool(state.get("quick")))
    run = open_study(spec, out, dataset_name=state.get("dataset_name"))
    return Study(run, load_runs(run))


def part_runs(study: Study, part: Part) -> list[dict]:
    return [study.runs[p.key] for p in study.run.points if part.name in p.parts and p.key in study.runs]


def part_groups(study: Study, part: Part) -> list[Group]:
    """The part's runs grouped by configuration (seeds apart), in spec order."""
    return group_runs(part_runs(study, part))


def part_comparisons(part: Part, groups: list[Group], metric: str = "test_acc",
                     alpha: float = 0.05) -> list[Comparison]:
    """Each group against the part's baseline (per ``within`` partition), Holm-corrected over
    all comparisons of the part. Empty when the part has no baseline or it has not run yet."""
    if not part.baseline:
        return []
    partitions: dict[tuple, list[Group]] = {}
    for g in groups:
        partitions.setdefault(tuple(g.settings.get(w) for w in part.within), []).append(g)
    rows: list[tuple[list[Group], Group]] = []
    for members in partitions.values():
        base = [g for g in members if _matches(g.settings, part.baseline)]
        if len(base) == 1 and len(members) > 1:
            rows.append((members, base[0]))
    return compare_sets([([*members], base.label) for members, base in rows], metric, alpha)


def statement(c: Comparison) -> str:
    """``elu vs relu: test acc +1.23 pp (5 seeds), better (Holm p = 0.004)``."""
    m = METRICS[c.metric]
    if c.n_pairs < 2:
        return f"{c.group} vs {c.baseline}: {m.title}: {c.verdict} ({c.n_pairs} paired seed)"
    diff = f"{100 * c.mean_diff:+.2f} pp" if m.percent else f"{c.mean_diff:+.4g}"
    return (f"{c.group} vs {c.baseline}: {m.title} {diff} ({c.n_pairs} seeds), {c.verdict} "
            f"(Holm p = {c.holm_p:.3g}, t-test p = {c.t_p:.3g}, Wilcoxon p = {c.wilcoxon_p:.3g})")


__all__ = ["STATE", "Study", "load_study", "part_comparisons", "part_groups", "part_runs", "statement"]
