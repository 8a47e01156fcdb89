"""Multi-objective parts of the command line: the study ``predictbench mosearch`` builds from its options (every
option checked before any run) and the hypervolume board it and ``predictbench run`` print. Prints nothing itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.markup import escape
from rich.table import Table

from predictbench.experiment import Component

if TYPE_CHECKING:
    import pandas as pd

    from predictbench.benchmarks.store import MetricRef
    from predictbench.multiobjective.study import MultiObjectiveStudy


def check_output(path: Path, option: str, *, folder: bool) -> None:
    """Fail before any work when ``path`` cannot be the file (``folder=False``) or folder that ``option`` writes."""
    existing = next((p for p in (path, *path.parents) if p.exists()), None)
    if existing == path and path.is_dir() != folder:
        expected = "a folder" if folder else "a file (JSON lines)"
        raise typer.BadParameter(
            f"{path} is a {'file' if folder else 'folder'}; expected {expected}", param_hint=option
        )
    if existing is not None and existing != path and not existing.is_dir():
        raise typer.BadParameter(f"{path}: {existing} is a file, not a folder", param_hint=option)


def mosearch_study(
    benchmark: str,
    searchers: Sequence[Component],
    objectives: Sequence[str] | None,
    *,
    results: Path,
    report: Path | None,
    budget: int,
    seeds: int,
    jobs: int,
    name: str,
    root: Path | None,
) -> MultiObjectiveStudy:
    """The study of ``predictbench mosearch``, its paths, searchers and objectives checked against the benchmark.

    Raises ``typer.BadParameter`` (a bad path or objective) or :class:`~predictbench.experiment.ExperimentError`
    (a bad searcher or option); loading a benchmark that is not converted raises the catalog's message.
    """
    from predictbench.experiment import check_component
    from predictbench.experiment_run import check_mo_searchers
    from predictbench.multiobjective import MO_SEARCHERS
    from predictbench.multiobjective.study import MultiObjectiveStudy

    labels = [c.label for c in searchers]
    if len(set(labels)) < len(labels):
        raise typer.BadParameter(f"each searcher once, got {labels}", param_hint="'--searcher'")
    for component in searchers:  # names and option values, before the benchmark is loaded
        check_component(component, MO_SEARCHERS, f"--searcher {component.label}", ("space",))
    check_output(results, "'--results'", folder=False)
    if report is not None:
        check_output(report, "'--report'", folder=True)
    study = MultiObjectiveStudy(
        benchmark,
        {c.label: (c.name, dict(c.params)) for c in searchers},
        results=results,
        budget=budget,
        seeds=seeds,
        objectives=objectives,
        name=name,
        jobs=jobs,
        root=root,
    )
    check_mo_searchers(searchers, study.bench.space, lambda c: f"--searcher {c.label}")
    try:
        study.resolved_objectives()
    except (ValueError, KeyError) as exc:
        raise typer.BadParameter(str(exc), param_hint="'--objective'") from None
    return study


def objectives_line(study: MultiObjectiveStudy) -> str:
    """``"objectives: valid_acc@12 (max), ...; reported as test_acc@200 (max), ..."`` with the store's directions."""
    search, reported = study.resolved_objectives()

    def listed(refs: Sequence[MetricRef]) -> str:
        return ", ".join(
            f"{r.metric}@{r.fidelity} ({'max' if study.bench.metric(r.metric).higher_is_better else 'min'})"
            for r in refs
        )

    return f"objectives: {listed(search)}; reported as {listed(reported)}"


def mo_board(frame: pd.DataFrame) -> Table:
    """Final normalised hypervolume per searcher (mean, std, runs) in % of the true front's, best first."""
    final = frame.groupby("searcher")["final_hv_normalised"].agg(["mean", "std", "count"]).sort_values("mean")[::-1]
    objectives = " vs ".join(frame["report_objectives"].iloc[0])
    table = Table(
        title=f"hypervolume at budget {frame['budget'].max()} (% of the true front's)", caption=f"on {objectives}"
    )
    for column in ("searcher", "mean", "std", "runs"):
        table.add_column(column)
    for label, row in final.iterrows():
        std = f"{100 * row['std']:.1f}" if row["count"] > 1 else "-"
        table.add_row(escape(str(label)), f"{100 * row['mean']:.1f}", std, str(int(row["count"])))
    return table
