"""The ``predictbench`` command line (typer + rich). The only module that prints."""

from __future__ import annotations

import logging
import os
import shlex
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    SpinnerColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from predictbench.experiment import MAX_COUNT, MAX_JOBS, MAX_SEEDS, Component, ExperimentError, parse_spec
from predictbench.proxies.cli import proxies_app
from predictbench.supernet.cli import supernet_app
from predictbench.types import PredictBenchError

if TYPE_CHECKING:
    import pandas as pd

    from predictbench.experiment import Experiment

EXIT_CODES = (
    "Exit codes: 0 success; 1 runtime failure (a failing computation or a missing dependency); "
    "2 usage error or bad configuration (unknown option or name, invalid experiment file, benchmark not "
    "converted); 130 interrupted (Ctrl-C: every finished result is kept, rerun the same command to resume)."
)
app = typer.Typer(
    help="predictbench: performance prediction for NAS on tabular benchmarks.",
    epilog=EXIT_CODES,
    no_args_is_help=True,
)
data_app = typer.Typer(help="List, convert and inspect benchmark stores.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(proxies_app, name="proxies")
app.add_typer(supernet_app, name="supernet")
console = Console()
err_console = Console(stderr=True)

DEFAULT_BENCHMARK = "nb201-analog/cifar10"
_state: dict[str, Any] = {"debug": False, "argv": None, "interrupt_reported": False}

RootOption = Annotated[Path | None, typer.Option("--root", help="Data folder (default: see `data list`).")]
JobsOption = Annotated[int, typer.Option("--jobs", "-j", min=1, max=MAX_JOBS, help="Parallel local processes.")]


def _version(value: bool) -> None:
    if value:
        from predictbench import __version__

        console.print(f"predictbench {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of unexpected errors.")] = False,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """predictbench: performance prediction for NAS on tabular benchmarks."""
    _state["debug"] = debug


def parse_component(spec: str) -> tuple[str, str, dict[str, Any]]:
    """'lgbm:encoding=path,n_estimators=200' -> (label, 'lgbm', {...})."""
    component = _component(spec)
    return component.label, component.name, dict(component.params)


def _component(spec: str) -> Component:
    try:
        return parse_spec(spec)
    except ExperimentError as exc:
        raise typer.BadParameter(str(exc)) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
    )


@contextmanager
def _working(description: str) -> Iterator[None]:
    """A spinner with elapsed time for steps that report no progress of their own (conversion, reports)."""
    with Progress(SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn(), console=console) as bar:
        bar.add_task(description, total=None)
        yield


def _with_progress(description: str, total: int, run: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """``run(*args, progress=..., **kwargs)`` under a progress bar with ETA fed by its progress callback."""
    with _progress() as progress:
        task = progress.add_task(description, total=total, status="")

        def update(done: int, total: int, status: str) -> None:
            progress.update(task, completed=done, total=total, status=status)

        return run(*args, progress=update, **kwargs)


def _command_line() -> str:
    argv = _state["argv"] if _state["argv"] is not None else sys.argv[1:]
    return shlex.join(["predictbench", *argv])


def _count_records(path: Path) -> int:
    """The grid cells ``path`` records (duplicates once); 0 when it cannot be read."""
    from predictbench.studies import read_results

    try:
        return len(read_results(path))
    except (OSError, ValueError):
        return 0


@contextmanager
def _resumable(*results: Path) -> Iterator[None]:
    """Check the results paths first; on Ctrl-C say which files keep the finished records and how to resume (130)."""
    from predictbench.studies.results import check_results_path

    for path in results:
        check_results_path(path)
    try:
        yield
    except KeyboardInterrupt:
        kept = [f"{path} ({_count_records(path)} records)" for path in results if path.is_file()]
        done = f"finished results are kept in {', '.join(kept)}" if kept else "no result was finished yet"
        err_console.print(f"[yellow]interrupted[/yellow]: {done}; rerun `{_command_line()}` to resume", soft_wrap=True)
        _state["interrupt_reported"] = True
        raise typer.Exit(130) from None


@contextmanager
def _data_root(root: Path | None) -> Iterator[None]:
    """Make ``--root`` the data folder of every store loaded by name, e.g. a searcher's proxy store option."""
    from predictbench.paths import ENV_VAR

    if root is None:
        yield
        return
    previous = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(root)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = previous


@data_app.command("list")
def data_list(root: RootOption = None) -> None:
    """Known and converted benchmarks, with the command that converts each."""
    from predictbench.benchmarks import list_benchmarks
    from predictbench.paths import data_root

    frame = list_benchmarks(root=root)
    table = Table(title=f"benchmarks (data folder: {root or data_root()})")
    table.add_column("name", no_wrap=True)
    table.add_column("converted", no_wrap=True)
    for column in ("description", "convert"):
        table.add_column(column, overflow="fold")
    for row in frame.itertuples(index=False):
        table.add_row(row.name, "yes" if row.converted else "no", row.description, "" if row.converted else row.convert)
    console.print(table)


@data_app.command("convert")
def data_convert(
    converter: Annotated[
        str,
        typer.Argument(
            help="analog-nasbench | nats-tss | nats-sss | nb201-pth | nb201-tables | nb101-tfrecord | "
            "nas-bench-graph | table (see `data list` for which benchmark each writes).",
        ),
    ],
    source: Annotated[
        Path | None, typer.Argument(help="Raw input (file or folder); optional for analog-nasbench.")
    ] = None,
    root: RootOption = None,
    force: Annotated[bool, typer.Option("--force", help="Convert again even if the store is current.")] = False,
) -> None:
    """Convert raw benchmark files into canonical stores (offline, idempotent)."""
    from predictbench.benchmarks.convert import CONVERTERS
    from predictbench.paths import data_root
    from predictbench.types import DataFormatError

    convert = CONVERTERS.get(converter)
    started = time.perf_counter()
    # --root is the data folder of everything written, the NB101 cell cache (spaces/) included
    with _data_root(root), _working(f"converting {converter} ..."):
        try:
            written = convert(source, root=root or data_root(), force=force)
        except (DataFormatError, FileNotFoundError) as exc:  # name the converter that expected the input
            raise type(exc)(f"data convert {converter}: {exc}") from exc
    for path in written:
        console.print(f"[green]store[/green] {path}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")


@data_app.command("info")
def data_info(
    name: Annotated[str, typer.Argument(help="A converted benchmark, e.g. nb201-analog/cifar10.")],
    root: RootOption = None,
) -> None:
    """Metrics, fidelities, seeds and provenance of a converted benchmark."""
    from predictbench.benchmarks import load

    bench = load(name, root=root)
    info = bench.info()
    table = Table(title=f"{name}: {info['architectures']} architectures, space {info['space']}")
    for column in ("metric", "direction", "unit", "kind", "fidelities"):
        table.add_column(column)
    for metric in bench.metrics.values():
        fids = ",".join(str(f) for f in bench.fidelities_of(metric.name))
        table.add_row(metric.name, "higher" if metric.higher_is_better else "lower", metric.unit, metric.kind, fids)
    console.print(table)
    for field in ("search", "report", "seeds", "proxies", "path"):
        console.print(f"[bold]{field}[/bold]: {info[field]}")
    prov = info["provenance"]
    console.print(
        f"[bold]provenance[/bold]: {prov.get('converter')} v{prov.get('converter_version')}, {prov.get('created')}"
    )
    for entry in prov.get("inputs", []):
        console.print(f"  {entry['name']}  sha256 {entry['sha256']}")
    console.print(f"[bold]content sha256[/bold]: {bench.meta.content_sha256} (tables checked on load)")


def _print_predictor_board(frame: pd.DataFrame) -> None:
    from predictbench.report import predictor_leaderboard

    board = predictor_leaderboard(frame)
    cols = [c for c in board.columns if c.startswith("n=")][-3:]
    table = Table(title="leaderboard (mean Kendall τ)")
    for column in ["predictor", "rank", "AUC", *cols]:
        table.add_column(column)
    for name, row in board.iterrows():
        table.add_row(escape(str(name)), str(int(row["rank"])), f"{row['AUC']:.3f}", *[f"{row[c]:.3f}" for c in cols])
    console.print(table)


def _print_search_board(frame: pd.DataFrame) -> None:
    final = frame.groupby("searcher")["final_report"].agg(["mean", "std", "count"]).sort_values("mean")[::-1]
    hits = frame.groupby("searcher")["queries_to_optimum"].apply(lambda q: q.notna().mean())
    table = Table(title=f"final {frame['report_metric'].iloc[0]} of the incumbent at budget {frame['budget'].max()}")
    for column in ("searcher", "mean", "std", "runs", "found the search optimum"):
        table.add_column(column)
    for name, row in final.iterrows():
        std = f"{row['std']:.3f}" if row["count"] > 1 else "-"
        table.add_row(escape(str(name)), f"{row['mean']:.3f}", std, str(int(row["count"])), f"{hits[name]:.0%}")
    console.print(table)


def _build_predictors(components: Sequence[Component]) -> dict[str, Any]:
    from predictbench.experiment import check_component
    from predictbench.predictors import PREDICTORS, make_predictor

    for component in components:
        check_component(component, PREDICTORS, f"--predictor {component.label}")
    return {c.label: make_predictor(c.name, **c.params) for c in components}


def _sizes(text: str) -> list[int | str]:
    """``--sizes``: comma-separated counts (2..MAX_COUNT) or percentages of the store's cells (``0.5%``)."""
    from predictbench.studies.splits import TrainSize

    items = [s.strip() for s in text.split(",") if s.strip()]
    expected = f"expected comma-separated training sizes: counts in 2..{MAX_COUNT} or percentages such as 0.5%"
    if not items:
        raise typer.BadParameter(f"{expected}, got {text!r}", param_hint="'--sizes'")
    for item in items:
        try:
            size = TrainSize.parse(item)
        except ValueError as exc:
            raise typer.BadParameter(f"{expected}; {exc}", param_hint="'--sizes'") from None
        if size.count is not None and not 2 <= size.count <= MAX_COUNT:
            raise typer.BadParameter(f"{expected}, got {item!r}", param_hint="'--sizes'")
    return [int(item) if item.lstrip("+-").isdigit() else item for item in items]


@app.command()
def predict(
    benchmark: Annotated[str, typer.Option("--benchmark", "-b", help="Benchmark name.")] = DEFAULT_BENCHMARK,
    predictor: Annotated[
        list[str] | None,
        typer.Option("--predictor", "-p", help="Predictor, e.g. lgbm or 'lgbm:encoding=path' (repeat; default lgbm)."),
    ] = None,
    sizes: Annotated[
        str,
        typer.Option(help="Training sizes, comma-separated: counts, or percentages of the store's cells (0.5%,1%)."),
    ] = "5,8,14,24,42,71,121,205,347,589,1000",
    seeds: Annotated[int, typer.Option(min=1, max=MAX_SEEDS, help="Number of seeds (paired splits 0..seeds-1).")] = 20,
    protocol: Annotated[
        str,
        typer.Option(
            help="Test set: 'sample' (--test-size uniform cells), 'rest' (every cell not used for training) or "
            "'all-including-train' (every cell, training cells included: the NAR-Former / NN-Former / PINAT code's).",
        ),
    ] = "sample",
    twin_free: Annotated[
        bool, typer.Option("--twin-free", help="No test cell has a functionally identical cell in the training set.")
    ] = False,
    test_size: Annotated[
        int | None,
        typer.Option(min=20, max=MAX_COUNT, help="Held-out test cells per seed (protocol 'sample'; default 200)."),
    ] = None,
    target: Annotated[str | None, typer.Option(help="Target metric (default: the benchmark's report metric).")] = None,
    jobs: JobsOption = 1,
    results: Annotated[Path, typer.Option(help="Results file (JSON lines, appended, resumable).")] = Path(
        "results/predictors.jsonl"
    ),
    report: Annotated[Path | None, typer.Option(help="Write a report into this folder.")] = None,
    name: Annotated[str, typer.Option(help="Study name recorded with each result.")] = "predictor-study",
    root: RootOption = None,
) -> None:
    """Run a predictor study: predictors x training sizes x seeds, Kendall τ on test cells (resumable)."""
    from predictbench.benchmarks import load
    from predictbench.experiment_run import run_predictor_study
    from predictbench.studies import PredictorStudy
    from predictbench.studies.splits import PROTOCOLS, check_protocol, protocol_label

    with _data_root(root):
        train_sizes = _sizes(sizes)
        check_protocol(protocol)
        if protocol != "sample" and test_size is not None:
            raise typer.BadParameter(
                f"applies to --protocol sample only; --protocol {protocol} tests on "
                f"{PROTOCOLS[protocol].split(';')[0]}",
                param_hint="'--test-size'",
            )
        predictors = _build_predictors([_component(spec) for spec in predictor or ["lgbm"]])
        bench = load(benchmark, root=root)
        study = PredictorStudy(
            bench, predictors, results=results, train_sizes=train_sizes, seeds=seeds, test_size=test_size,
            target=target, name=name, protocol=protocol, twin_free=twin_free,
        )  # fmt: skip
        study._validate()  # every usage error before the progress bar and before the results file is touched
        started = time.perf_counter()
        with _resumable(results):
            frame = _with_progress(f"{name} on {benchmark}", len(study.cells()), run_predictor_study, study, jobs=jobs)
        console.print(f"{len(frame)} records in {results} ({time.perf_counter() - started:.1f} s)")
        console.print(f"test protocol: {escape(protocol_label(protocol, twin_free))}", soft_wrap=True)
        _print_predictor_board(frame)
        if report is not None:
            from predictbench.report import predictor_report

            with _working("writing the report"):
                predictor_report(frame, report, title=f"Predictor leaderboard: {benchmark}")
            console.print(f"report: {report / 'README.md'}")


@app.command()
def search(
    benchmark: Annotated[str, typer.Option("--benchmark", "-b", help="Benchmark name.")] = DEFAULT_BENCHMARK,
    searcher: Annotated[
        list[str] | None,
        typer.Option(
            "--searcher", "-s", help="Searcher, e.g. random or 'evolution:population_size=20' (repeat; default random)."
        ),
    ] = None,
    budget: Annotated[int, typer.Option(min=1, max=MAX_COUNT, help="Distinct architectures per run.")] = 100,
    seeds: Annotated[int, typer.Option(min=1, max=MAX_SEEDS, help="Runs per searcher (paired seeds 0..seeds-1).")] = 20,
    jobs: JobsOption = 1,
    results: Annotated[Path, typer.Option(help="Results file (JSON lines, appended, resumable).")] = Path(
        "results/search.jsonl"
    ),
    report: Annotated[Path | None, typer.Option(help="Write a report into this folder.")] = None,
    name: Annotated[str, typer.Option(help="Study name recorded with each result.")] = "search-study",
    root: RootOption = None,
) -> None:
    """Run a search study: searchers x seeds at a budget; the incumbent's reported value per query (resumable)."""
    from predictbench.benchmarks import load
    from predictbench.experiment import check_component
    from predictbench.experiment_run import check_searchers
    from predictbench.search import SEARCHERS
    from predictbench.studies.search_study import SearchStudy

    with _data_root(root):
        components = [_component(spec) for spec in searcher or ["random"]]
        for component in components:
            check_component(component, SEARCHERS, f"--searcher {component.label}", ("space",))
        check_searchers(components, load(benchmark, root=root).space, lambda c: f"--searcher {c.label}")
        specs = {c.label: (c.name, dict(c.params)) for c in components}
        study = SearchStudy(
            benchmark, specs, results=results, budget=budget, seeds=seeds, name=name, jobs=jobs, root=root
        )
        study.check()  # refuse an impossible budget or a test-metric signal before any progress is shown
        started = time.perf_counter()
        with _resumable(results):
            frame = _with_progress(f"{name} on {benchmark}", seeds * len(specs), study.run)
        console.print(f"{len(frame)} runs in {results} ({time.perf_counter() - started:.1f} s)")
        _print_search_board(frame)
        if report is not None:
            from predictbench.report import search_report

            with _working("writing the report"):
                search_report(frame, report, title=f"Search leaderboard: {benchmark}")
            console.print(f"report: {report / 'README.md'}")


@app.command()
def mosearch(
    benchmark: Annotated[str, typer.Option("--benchmark", "-b", help="Benchmark name.")] = DEFAULT_BENCHMARK,
    objective: Annotated[
        list[str] | None,
        typer.Option(
            "--objective",
            "-o",
            help="Objective 'metric' or 'metric@fidelity', e.g. valid_acc@12 (repeat, at least 2; default: the "
            "store's search metric and a hardware metric). Directions are those the store declares.",
        ),
    ] = None,
    searcher: Annotated[
        list[str] | None,
        typer.Option(
            "--searcher",
            "-s",
            help="Multi-objective searcher (random, nsga2, parego), e.g. 'parego:predictor=lgbm' (repeat; default "
            "all three).",
        ),
    ] = None,
    budget: Annotated[int, typer.Option(min=1, max=MAX_COUNT, help="Distinct architectures per run.")] = 100,
    seeds: Annotated[int, typer.Option(min=1, max=MAX_SEEDS, help="Runs per searcher (paired seeds 0..seeds-1).")] = 20,
    jobs: JobsOption = 1,
    results: Annotated[Path, typer.Option(help="Results file (JSON lines, appended, resumable).")] = Path(
        "results/mosearch.jsonl"
    ),
    report: Annotated[
        Path | None, typer.Option(help="Write a report (hypervolume curves, Pareto fronts) into this folder.")
    ] = None,
    name: Annotated[str, typer.Option(help="Study name recorded with each result.")] = "mo-study",
    root: RootOption = None,
) -> None:
    """Run a multi-objective search study: searchers x seeds at a budget; hypervolume of the Pareto front per query.

    Each run's front is reported on the store's reported objectives (e.g. valid_acc@12 is reported as
    test_acc@200) as a share of the true front's hypervolume. Resumable: a rerun skips recorded runs.
    """
    from predictbench.cli_mo import mo_board, mosearch_study, objectives_line

    with _data_root(root):
        components = [_component(spec) for spec in searcher or ["random", "nsga2", "parego"]]
        study = mosearch_study(
            benchmark, components, objective, results=results, report=report, budget=budget, seeds=seeds, jobs=jobs,
            name=name, root=root,
        )  # fmt: skip
        console.print(objectives_line(study))
        started = time.perf_counter()
        with _resumable(results):
            frame = _with_progress(f"{name} on {benchmark}", seeds * len(study.searchers), study.run)
        console.print(f"{len(frame)} runs in {results} ({time.perf_counter() - started:.1f} s)")
        console.print(mo_board(frame))
        if report is not None:
            with _working("writing the report"):
                study.report(report, frame, title=f"Multi-objective search: {benchmark}")
            console.print(f"report: {report / 'README.md'}")


@app.command("report")
def report_cmd(
    results: Annotated[list[Path], typer.Argument(help="Results file(s) written by a study.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder.")] = Path("reports/predictors"),
) -> None:
    """Build a leaderboard report (Markdown + figure) from results files.

    Records of several studies, benchmarks, budgets or targets get one report each, in subfolders of --out with
    an index; files holding different kinds of study records are refused.
    """
    from predictbench.report.sections import results_report

    with _working("writing the report"):
        folders = results_report(results, out)
    if len(folders) > 1:
        console.print(f"{len(folders)} reports: {out / 'README.md'}")
    else:
        console.print(f"report: {out / 'README.md'}")


def _installed(components: Sequence[Component]) -> list[Component]:
    """The components whose required modules are installed; prints a note for each one skipped."""
    from predictbench.experiment_run import missing_modules

    kept = []
    for component in components:
        missing = missing_modules(component)
        if missing:
            console.print(
                f"[yellow]skipping[/yellow] {escape(component.label)}: needs {', '.join(missing)}, "
                "which is not installed"
            )
        else:
            kept.append(component)
    return kept


def _grid(exp: Experiment) -> list[str]:
    lines = []
    if exp.predictors is not None:
        p = exp.predictors
        lines.append(
            f"predictors: {', '.join(m.label for m in p.models)} x sizes {list(p.sizes)} x {len(p.seeds)} seeds, "
            f"{p.protocol_text()}, target {p.target or '(report metric)'}, jobs {p.jobs}"
        )
    if exp.search is not None:
        s = exp.search
        lines.append(
            f"search: {', '.join(c.label for c in s.searchers)} x {len(s.seeds)} seeds at budget {s.budget}, "
            f"jobs {s.jobs}"
        )
    if exp.multiobjective is not None:
        m = exp.multiobjective
        lines.append(
            f"multiobjective: {', '.join(c.label for c in m.searchers)} x {len(m.seeds)} seeds at budget {m.budget}, "
            f"objectives {', '.join(m.objectives) if m.objectives else '(the store defaults)'}, jobs {m.jobs}"
        )
    return lines


def _summary(exp: Experiment) -> list[str]:
    lines = []
    if exp.predictors is not None:
        p = exp.predictors
        lines.append(f"predictors: {len(p.models)} x {len(p.sizes)} sizes x {len(p.seeds)} seeds")
    if exp.search is not None:
        lines.append(f"search: {len(exp.search.searchers)} x {len(exp.search.seeds)} seeds, T={exp.search.budget}")
    if exp.multiobjective is not None:
        m = exp.multiobjective
        lines.append(f"multiobjective: {len(m.searchers)} x {len(m.seeds)} seeds, T={m.budget}")
    return lines


def _list_experiments() -> None:
    from predictbench.experiment import load_experiment, shipped_experiments

    table = Table(title="shipped experiments (predictbench run NAME)")
    table.add_column("name", no_wrap=True)
    for column in ("description", "benchmarks", "studies"):
        table.add_column(column, overflow="fold")
    for name, path in shipped_experiments().items():
        try:
            exp = load_experiment(path)
        except PredictBenchError as exc:  # e.g. a searcher another install does not register
            table.add_row(name, f"[red]not runnable here[/red]: {escape(str(exc))}", "", "")
            continue
        table.add_row(
            name, escape(exp.description), escape("\n".join(exp.benchmarks)), escape("\n".join(_summary(exp)))
        )
    console.print(table)


def _run_experiment(exp: Experiment, root: Path | None) -> None:
    from predictbench.benchmarks import load
    from predictbench.cli_mo import mo_board
    from predictbench.experiment_run import (
        convert_missing,
        multiobjective_study,
        predictor_study,
        report_dir,
        run_predictor_study,
        search_study,
        unconverted,
        write_index,
    )
    from predictbench.paths import data_root
    from predictbench.report import predictor_report, search_report

    data = root or data_root()
    started = time.perf_counter()
    console.print(f"[bold]{escape(exp.name)}[/bold]: {escape(exp.description)}")
    missing = unconverted(exp, data)
    if missing:
        with _working(f"converting {', '.join(missing)} into {data}"):
            written = convert_missing(exp, data)
        for path in written:
            console.print(f"[green]store[/green] {path}")
    models = _installed(exp.predictors.models) if exp.predictors is not None else []
    searchers = _installed(exp.search.searchers) if exp.search is not None else []
    mo_searchers = _installed(exp.multiobjective.searchers) if exp.multiobjective is not None else []
    plans = []  # every study is built before any runs, so a bad option fails before hours of work
    for name in exp.benchmarks:
        bench = load(name, root=data)
        plans.append(
            (
                name,
                predictor_study(exp, bench, models) if models else None,
                search_study(exp, bench, data, searchers) if searchers else None,
                multiobjective_study(exp, bench, data, mo_searchers) if mo_searchers else None,
            )
        )
    search_reports: list[tuple[str, Path]] = []
    predictor_reports: list[tuple[str, Path]] = []
    with _resumable(exp.predictor_results, exp.search_results, exp.multiobjective_results):
        # searches first: SearchStudy forks its workers, and a fork of a process that has already trained
        # OpenMP models (LightGBM, XGBoost) in-process can deadlock; predictor workers start from a fork server
        for name, _, searches, _ in plans:
            if searches is not None and exp.search is not None:
                runs = len(searches.searchers) * len(exp.search.seeds)
                frame = _with_progress(f"search on {name}", runs, searches.run)
                _print_search_board(frame)
                out = report_dir(exp, "search", name)
                with _working("writing the search report"):
                    search_report(frame, out, title=f"{exp.name}: search leaderboard on {name}")
                search_reports.append((f"Search leaderboard: {name}", out))
        for name, _, _, pareto in plans:
            if pareto is not None and exp.multiobjective is not None:
                runs = len(pareto.searchers) * len(exp.multiobjective.seeds)
                frame = _with_progress(f"multi-objective search on {name}", runs, pareto.run)
                console.print(mo_board(frame))
                out = report_dir(exp, "multiobjective", name)
                with _working("writing the multi-objective report"):
                    pareto.report(out, frame, title=f"{exp.name}: multi-objective search on {name}")
                search_reports.append((f"Multi-objective search: {name}", out))
        for name, predictors, _, _ in plans:
            if predictors is not None and exp.predictors is not None:
                frame = _with_progress(
                    f"predictors on {name}",
                    len(predictors.cells()),
                    run_predictor_study,
                    predictors,
                    jobs=exp.predictors.jobs,
                )
                _print_predictor_board(frame)
                out = report_dir(exp, "predictors", name)
                with _working("writing the predictor report"):
                    predictor_report(frame, out, title=f"{exp.name}: predictor leaderboard on {name}")
                predictor_reports.append((f"Predictor leaderboard: {name}", out))
    write_index(exp, predictor_reports + search_reports)
    console.print(
        f"[green]done[/green] in {time.perf_counter() - started:.0f} s; results in {exp.results}, "
        f"report: {exp.report / 'README.md'}"
    )


def _run_named(
    experiment: str,
    *,
    root: Path | None,
    seeds: int | None = None,
    jobs: int | None = None,
    results: Path | None = None,
    report: Path | None = None,
    dry_run: bool = False,
) -> None:
    from predictbench.experiment import load_experiment

    exp = load_experiment(experiment, root=root).with_overrides(seeds=seeds, jobs=jobs, results=results, report=report)
    if dry_run:
        from predictbench.experiment_run import check_on_spaces

        with _data_root(root):
            unchecked = check_on_spaces(exp, root)
        console.print(f"[bold]{escape(exp.name)}[/bold] ({escape(exp.source)}): {escape(exp.description)}")
        console.print(
            f"benchmarks: {', '.join(exp.benchmarks)}; results: {exp.results}; report: {exp.report}", markup=False
        )
        for line in _grid(exp):
            console.print(line, markup=False)
        if unchecked and (exp.search is not None or exp.multiobjective is not None):
            console.print(f"searchers not built on {', '.join(unchecked)} (not converted yet)", markup=False)
        return
    with _data_root(root):
        _run_experiment(exp, root)


@app.command()
def run(
    experiment: Annotated[
        str | None,
        typer.Argument(help="An experiment TOML file, or the name of a shipped experiment (see --list)."),
    ] = None,
    list_: Annotated[
        bool, typer.Option("--list", help="List the shipped experiments with their descriptions and exit.")
    ] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Validate the experiment and print its studies without running them.")
    ] = False,
    seeds: Annotated[
        int | None,
        typer.Option(min=1, max=MAX_SEEDS, help="Override every study's seeds with 0..SEEDS-1 (e.g. a quick try)."),
    ] = None,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", min=1, max=MAX_JOBS, help="Override every study's parallel local processes."),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(help="Override the results folder (predictors.jsonl, search.jsonl, multiobjective.jsonl)."),
    ] = None,
    report: Annotated[Path | None, typer.Option(help="Override the report folder.")] = None,
    root: RootOption = None,
) -> None:
    """Run an experiment file: convert its benchmarks if needed, run its studies, write its report.

    A rerun resumes: finished records in the results folder are skipped. Shipped experiments reproduce the
    published tables; `predictbench run --list` shows them.
    """
    if list_:
        _list_experiments()
        return
    if experiment is None:
        raise typer.BadParameter(
            "missing: give an experiment file or a shipped experiment's name (--list shows them)",
            param_hint="EXPERIMENT",
        )
    _run_named(experiment, root=root, seeds=seeds, jobs=jobs, results=results, report=report, dry_run=dry_run)


@app.command()
def quickstart(
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("reports/quickstart"),
    seeds: Annotated[int | None, typer.Option(min=1, max=MAX_SEEDS, help="Override the seeds of both studies.")] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, max=MAX_JOBS, help="Parallel local processes (default 2).")
    ] = None,
    root: RootOption = None,
) -> None:
    """The main job, `run quickstart`: convert the embedded default if needed; predictor and search leaderboards."""
    _run_named("quickstart", root=root, seeds=seeds, jobs=jobs, report=out)


def _exit_code(exc: BaseException) -> int:
    """Print ``exc`` as one line and return its exit code (2: the user can fix it; 1: it failed at run time)."""
    if isinstance(exc, (PredictBenchError, FileNotFoundError, ValueError)):
        err_console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True, highlight=False)
        return 2
    if isinstance(exc, ModuleNotFoundError):
        err_console.print(
            f"[red]error:[/red] a dependency is not installed: {escape(str(exc))} (see the README's set-up)",
            soft_wrap=True,
        )
        return 1
    err_console.print(
        f"[red]error:[/red] {type(exc).__name__}: {escape(str(exc))} "
        "(rerun with `predictbench --debug ...` for the traceback)",
        soft_wrap=True,
        highlight=False,
    )
    return 1


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the ``predictbench`` command: runs the app and exits with a meaningful code."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    _state.update(argv=list(argv) if argv is not None else None, interrupt_reported=False, debug=False)
    try:
        code = app(args=argv, standalone_mode=False)
    except typer.Abort:
        code = 130
    except Exception as exc:
        # usage errors (typer ships its own click) know how to show themselves and their exit code
        show, exit_code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(exit_code, int):
            show()
            sys.exit(exit_code)
        if _state["debug"]:
            raise
        sys.exit(_exit_code(exc))
    if code == 130 and not _state["interrupt_reported"]:
        err_console.print("[yellow]interrupted[/yellow]")
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()
