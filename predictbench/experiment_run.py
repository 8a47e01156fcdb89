"""Running an experiment's parts: convert missing benchmarks, build its studies, run predictor cells in processes.

The command line (``predictbench run``) strings these together with progress bars; they print nothing.
"""

from __future__ import annotations

import contextlib
import functools
import html
import importlib.util
import logging
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import as_completed
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from predictbench.benchmarks import BenchmarkNotConverted, TabularBenchmark
from predictbench.benchmarks.store import MetricRef
from predictbench.experiment import SHIPPED_DIR, Component, Experiment, ExperimentError, metric_ref
from predictbench.oracle import check_budget
from predictbench.paths import atomic_write_text, data_root
from predictbench.studies import PredictorStudy, ResultsFile, read_results
from predictbench.studies.engines import local_pool
from predictbench.studies.search_study import SearchStudy

if TYPE_CHECKING:
    from predictbench.multiobjective.study import MultiObjectiveStudy
    from predictbench.spaces import SearchSpace

Progress = Callable[[int, int, str], None]


def missing_modules(component: Component) -> list[str]:
    """The modules a component ``requires`` that are not installed."""
    return [module for module in component.requires if importlib.util.find_spec(module) is None]


def unconverted(exp: Experiment, root: Path | None = None) -> list[str]:
    """The experiment's benchmarks that have no store under ``root`` yet."""
    from predictbench.benchmarks.catalog import converted_stores

    stores = converted_stores(root or data_root())
    return [name for name in exp.benchmarks if name not in stores]


def convert_missing(exp: Experiment, root: Path | None = None) -> list[Path]:
    """Convert the experiment's missing benchmarks with its ``[data]`` hint; returns the stores written.

    Raises :class:`BenchmarkNotConverted` naming the command to run when there is no hint or its source is absent.
    """
    from predictbench.benchmarks.catalog import store_path
    from predictbench.benchmarks.convert import CONVERTERS

    root = root or data_root()
    missing = unconverted(exp, root)
    if not missing:
        return []
    hint = exp.data
    if hint is None:
        store_path(missing[0], root)  # raises the catalog's "not converted; run: ..." message
        raise BenchmarkNotConverted(f"benchmark {missing[0]!r} is not converted in {root}")
    source = Path(hint.source) if hint.source else None
    if source is not None and not source.exists():
        raise BenchmarkNotConverted(
            f"benchmark {missing[0]!r} is not converted in {root}, and the source named in {exp.source} "
            f"([data] source = {hint.source!r}) does not exist here; run: "
            f"predictbench data convert {hint.converter} PATH/TO/SOURCE --root {root}"
        )
    written = list(CONVERTERS.get(hint.converter)(source, root=root))
    still = unconverted(exp, root)
    if still:
        raise BenchmarkNotConverted(
            f"converter {hint.converter!r} (from {exp.source}) did not write benchmark {still[0]!r} into {root}"
        )
    return [Path(p) for p in written]


def _metric(bench: TabularBenchmark, text: str | None) -> MetricRef | None:
    parsed = metric_ref(text)
    if parsed is None:
        return None
    metric, fidelity = parsed
    bench.metric(metric)  # unknown metric: one clear error naming the store's metrics
    return MetricRef(metric, bench._resolve_fidelity(metric, fidelity))


def predictor_study(
    exp: Experiment, bench: TabularBenchmark, models: Sequence[Component] | None = None
) -> PredictorStudy:
    """The experiment's predictor study on ``bench`` (``models``: a subset of its models, e.g. those installed)."""
    from predictbench.predictors import make_predictor

    section = exp.predictors
    if section is None:
        raise ExperimentError(f"{exp.source}: no [predictors] section")
    return PredictorStudy(
        bench,
        {m.label: make_predictor(m.name, **m.params) for m in (section.models if models is None else models)},
        results=exp.predictor_results,
        train_sizes=section.sizes,
        test_size=section.test_size,
        protocol=section.protocol,
        twin_free=section.twin_free,
        seeds=section.seeds,
        target=_metric(bench, section.target),
        name=exp.name,
    )


def search_study(
    exp: Experiment, bench: TabularBenchmark, root: Path | None = None, searchers: Sequence[Component] | None = None
) -> SearchStudy:
    """The experiment's search study on ``bench``; every searcher is built once first so bad options fail early."""
    section = exp.search
    if section is None:
        raise ExperimentError(f"{exp.source}: no [search] section")
    chosen = section.searchers if searchers is None else searchers
    check_searchers(chosen, bench.space, lambda c: f"{exp.source}: key 'search.searchers.{c.label}'")
    study = SearchStudy(
        bench.name,
        {c.label: (c.name, dict(c.params)) for c in chosen},
        results=exp.search_results,
        budget=section.budget,
        seeds=section.seeds,
        search_metric=_metric(bench, section.search_metric),
        report_metric=_metric(bench, section.report_metric),
        name=exp.name,
        jobs=section.jobs,
        root=root or data_root(),
    )
    try:
        study.check()
    except ValueError as exc:
        raise ExperimentError(f"{exp.source}: [search]: {exc}") from exc
    return study


def check_searchers(components: Sequence[Component], space: SearchSpace, where: Callable[[Component], str]) -> None:
    """Build each searcher once on ``space`` so option values that need the space fail before any run.

    ``where(component)`` starts each error message (e.g. ``"--searcher evolution:population_size=0"``).
    """
    from predictbench.search import make_searcher

    for component in components:
        try:
            make_searcher(component.name, space, seed=0, **component.params)
        except (TypeError, ValueError) as exc:
            raise ExperimentError(f"{where(component)}: {exc}") from exc


def _where(exp: Experiment, section: str, benchmark: str) -> Callable[[Component], str]:
    return lambda c: f"{exp.source}: key '{section}.searchers.{c.label}' on {benchmark}"


def check_on_spaces(exp: Experiment, root: Path | None = None) -> list[str]:
    """What a run checks before it starts, without running: every installed searcher of ``exp`` built once on the
    space of each of its converted benchmarks. Returns the benchmarks not converted under ``root`` (not checked).
    """
    from predictbench.benchmarks.catalog import converted_stores
    from predictbench.benchmarks.store import read_meta
    from predictbench.spaces import get_space

    stores = converted_stores(root or data_root())
    for name in exp.benchmarks:
        if name not in stores:
            continue
        space = get_space(read_meta(stores[name]).space)
        if exp.search is not None:
            chosen = [c for c in exp.search.searchers if not missing_modules(c)]
            check_searchers(chosen, space, _where(exp, "search", name))
        if exp.multiobjective is not None:
            chosen = [c for c in exp.multiobjective.searchers if not missing_modules(c)]
            check_mo_searchers(chosen, space, _where(exp, "multiobjective", name))
    return [name for name in exp.benchmarks if name not in stores]


def check_mo_searchers(components: Sequence[Component], space: SearchSpace, where: Callable[[Component], str]) -> None:
    """Check each multi-objective searcher's name and option names, then build it once so bad values fail early.

    ``where(component)`` starts each error message (e.g. ``"--searcher nsga2:population_size=0"``).
    """
    from predictbench.experiment import check_component
    from predictbench.multiobjective import MO_SEARCHERS, make_mo_searcher

    for component in components:
        check_component(component, MO_SEARCHERS, where(component), ("space",))
        try:
            make_mo_searcher(component.name, space, seed=0, **component.params)
        except (TypeError, ValueError, KeyError) as exc:
            raise ExperimentError(f"{where(component)}: {exc}") from exc


def multiobjective_study(
    exp: Experiment, bench: TabularBenchmark, root: Path | None = None, searchers: Sequence[Component] | None = None
) -> MultiObjectiveStudy:
    """The experiment's multi-objective study on ``bench``; searchers and objectives are checked before it runs."""
    from predictbench.multiobjective.study import MultiObjectiveStudy

    section = exp.multiobjective
    if section is None:
        raise ExperimentError(f"{exp.source}: no [multiobjective] section")
    chosen = section.searchers if searchers is None else searchers
    check_mo_searchers(chosen, bench.space, lambda c: f"{exp.source}: key 'multiobjective.searchers.{c.label}'")
    study = MultiObjectiveStudy(
        bench.name,
        {c.label: (c.name, dict(c.params)) for c in chosen},
        results=exp.multiobjective_results,
        budget=section.budget,
        seeds=section.seeds,
        objectives=section.objectives,
        name=exp.name,
        jobs=section.jobs,
        root=root or data_root(),
    )
    try:
        study.resolved_objectives()
        check_budget(bench, section.budget)
    except (ValueError, KeyError) as exc:
        raise ExperimentError(f"{exp.source}: key 'multiobjective.objectives' on {bench.name}: {exc}") from exc
    return study


@functools.cache
def _bench_at(path: str) -> TabularBenchmark:
    return TabularBenchmark.from_path(path)


class _Warnings(logging.Handler):
    """Collects the warnings logged in a worker (name, level, message) for the parent to show."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.seen: list[tuple[str, int, str]] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.seen.append((record.name, record.levelno, record.getMessage()))


@contextlib.contextmanager
def _collected_warnings() -> Iterator[list[tuple[str, int, str]]]:
    """The warnings predictbench logs meanwhile, kept from this worker's stderr (the parent shows each once)."""
    logger, handler = logging.getLogger("predictbench"), _Warnings()
    propagate, logger.propagate = logger.propagate, False
    logger.addHandler(handler)
    try:
        yield handler.seen
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _predictor_cell(args: tuple[Any, ...]) -> tuple[dict[str, Any], list[tuple[str, int, str]]]:
    """One (predictor, size, seed) cell in a worker: a one-cell PredictorStudy, so records match a serial run.

    Returns the record and the warnings logged meanwhile, which the parent shows once per run (not once per
    worker process).
    """
    path, label, predictor, size, seed, test_size, target, name, protocol, twin_free = args
    with tempfile.TemporaryDirectory(prefix="predictbench-cell-") as tmp, _collected_warnings() as warned:
        results = Path(tmp) / "cell.jsonl"
        one = PredictorStudy(
            _bench_at(path),
            {label: predictor},
            results=results,
            train_sizes=(size,),
            seeds=[seed],
            test_size=test_size,
            target=target,
            name=name,
            protocol=protocol,
            twin_free=twin_free,
        )
        one.run()
        (record,) = ResultsFile(results).records()
    return record, warned


def run_predictor_study(study: PredictorStudy, *, jobs: int = 1, progress: Progress | None = None) -> pd.DataFrame:
    """``study.run()``, with its missing cells spread over ``jobs`` local processes when ``jobs > 1``.

    Each worker runs a one-cell study and the parent appends the record, so the results file, the records and
    resuming are those of a serial run (only the timing fields differ). On an error or Ctrl-C the queued cells
    are cancelled; every record appended so far stays. Workers start from a fork server (spawn where there is
    none), so a script calling this with ``jobs > 1`` needs the usual ``if __name__ == "__main__":`` guard.
    """
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if jobs == 1:
        return study.run(progress=progress)
    study._validate()
    bench, target = study.bench, study.target_ref()
    with study.recording() as (out, done):  # holds the results file; refuses records of other settings
        cells = study.cells()
        todo = []
        sizes = study.sizes
        for label, size, seed in cells:
            if study.cell_id(label, size, seed) not in done:  # the identity PredictorStudy.run records
                todo.append(
                    (str(bench.path), label, study.predictors[label], sizes[size].text, seed, study.test_size,
                     target, study.name, study.protocol, study.twin_free)
                )  # fmt: skip
        finished = len(cells) - len(todo)
        if progress:
            progress(finished, len(cells), f"{finished} recorded before")
        if todo:
            pool = local_pool(min(jobs, len(todo)))  # its workers end if this process is killed
            try:
                shown: set[tuple[str, str]] = set()
                for future in as_completed([pool.submit(_predictor_cell, args) for args in todo]):
                    record, warned = future.result()
                    for logger, level, message in warned:
                        if (logger, message) not in shown:
                            shown.add((logger, message))
                            logging.getLogger(logger).log(level, message)
                    out.append(record)
                    finished += 1
                    if progress:
                        status = (
                            f"{record['predictor']} n={record['train_size']} seed={record['seed']} "
                            f"tau={record['kendall_tau']:.3f}"
                        )
                        progress(finished, len(cells), status)
            except BaseException:
                pool.shutdown(wait=False, cancel_futures=True)
                raise
            pool.shutdown()
    frame = read_results(study.results)
    return frame[(frame["study"] == study.name) & (frame["benchmark"] == bench.name)].reset_index(drop=True)


def report_dir(exp: Experiment, section: str, benchmark: str) -> Path:
    """``report/<section>``, or ``report/<section>/<benchmark>`` when the experiment has several benchmarks."""
    base = exp.report / section
    return base / benchmark if len(exp.benchmarks) > 1 else base


def write_index(exp: Experiment, reports: Sequence[tuple[str, Path]]) -> Path:
    """``report/README.md`` and ``report/index.html``: the experiment, how to rerun it, links to its reports."""
    rows = []
    for title, folder in reports:
        relative = folder.relative_to(exp.report).as_posix()
        html_page = folder / "index.html"
        rows.append((title, relative, f"{relative}/index.html" if html_page.is_file() else f"{relative}/README.md"))
    rerun = f"predictbench run {exp.name if Path(exp.source).parent == SHIPPED_DIR else exp.source}"
    lines = [
        f"# Experiment: {exp.name}",
        "",
        exp.description,
        "",
        f"Benchmark(s): {', '.join(exp.benchmarks)}. Results: `{exp.results}`. Rerun (resumes): `{rerun}`.",
        "",
        *[f"- [{title}]({relative}/README.md)" for title, relative, _ in rows],
        "",
    ]
    atomic_write_text(exp.report / "README.md", "\n".join(lines))
    items = "".join(f'<li><a href="{html.escape(link)}">{html.escape(title)}</a></li>' for title, _, link in rows)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(exp.name)}</title>"
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}"
        "code{background:#f2f2f2;padding:0 .2rem}</style></head><body>"
        f"<h1>Experiment: {html.escape(exp.name)}</h1><p>{html.escape(exp.description)}</p>"
        f"<p>Benchmark(s): {html.escape(', '.join(exp.benchmarks))}. Results: <code>{html.escape(str(exp.results))}"
        f"</code>. Rerun (resumes): <code>{html.escape(rerun)}</code>.</p><ul>{items}</ul></body></html>\n"
    )
    atomic_write_text(exp.report / "index.html", page)
    return exp.report
