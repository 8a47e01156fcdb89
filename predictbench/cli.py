"""The ``predictbench`` command line (typer + rich). The only module that prints."""

from __future__ import annotations

import ast
import logging
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from predictbench.proxies.cli import proxies_app
from predictbench.types import PredictBenchError

app = typer.Typer(help="predictbench: performance prediction for NAS on tabular benchmarks.", no_args_is_help=True)
data_app = typer.Typer(help="List, convert and inspect benchmark stores.", no_args_is_help=True)
app.add_typer(data_app, name="data")
app.add_typer(proxies_app, name="proxies")
console = Console()
err_console = Console(stderr=True)

DEFAULT_BENCHMARK = "nb201-analog/cifar10"
QUICKSTART_PREDICTORS = ("lgbm", "xgb", "lgbm:encoding=path", "ridge", "random")

RootOption = Annotated[Path | None, typer.Option("--root", help="Data folder (default: see `data list`).")]


def _parse_value(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def parse_component(spec: str) -> tuple[str, str, dict[str, Any]]:
    """'lgbm:encoding=path,n_estimators=200' -> (label, 'lgbm', {...})."""
    name, _, options = spec.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, options.split(",")):
        key, eq, value = item.partition("=")
        if not eq:
            raise typer.BadParameter(f"expected key=value in {spec!r}, got {item!r}")
        params[key.strip()] = _parse_value(value.strip())
    return spec, name.strip(), params


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
        str, typer.Argument(help="analog-nasbench | nats-tss | nats-sss | nb201-pth | nb201-tables | table")
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

    convert = CONVERTERS.get(converter)
    started = time.perf_counter()
    with console.status(f"converting {converter} ..."):
        written = convert(source, root=root or data_root(), force=force)
    for path in written:
        console.print(f"[green]store[/green] {path}")
    console.print(f"done in {time.perf_counter() - started:.1f} s")


@data_app.command("info")
def data_info(name: str, root: RootOption = None) -> None:
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


def run_predictor_study(
    benchmark: str,
    predictor_specs: list[str],
    *,
    sizes: list[int],
    seeds: int,
    test_size: int,
    results: Path,
    report_dir: Path | None,
    root: Path | None,
    study_name: str,
) -> None:
    from predictbench.benchmarks import load
    from predictbench.predictors import make_predictor
    from predictbench.studies import PredictorStudy

    bench = load(benchmark, root=root)
    predictors = {
        label: make_predictor(name, **params) for label, name, params in map(parse_component, predictor_specs)
    }
    study = PredictorStudy(
        bench, predictors, results=results, train_sizes=sizes, seeds=seeds, test_size=test_size, name=study_name
    )
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task(f"{study_name} on {benchmark}", total=len(study.cells()), status="")

        def update(done: int, total: int, status: str) -> None:
            progress.update(task, completed=done, status=status)

        frame = study.run(progress=update)
    console.print(f"{len(frame)} records in {results} ({time.perf_counter() - started:.1f} s)")
    if report_dir is not None:
        from predictbench.report import predictor_leaderboard, predictor_report

        predictor_report(frame, report_dir, title=f"Predictor leaderboard: {benchmark}")
        board = predictor_leaderboard(frame)
        table = Table(title="leaderboard (mean Kendall τ)")
        for column in ["predictor", "rank", "AUC", *[c for c in board.columns if c.startswith("n=")][-3:]]:
            table.add_column(column)
        for name, row in board.iterrows():
            cols = [c for c in board.columns if c.startswith("n=")][-3:]
            table.add_row(str(name), str(int(row["rank"])), f"{row['AUC']:.3f}", *[f"{row[c]:.3f}" for c in cols])
        console.print(table)
        console.print(f"report: {report_dir / 'README.md'}")


def _sizes(text: str) -> list[int]:
    try:
        return [int(s) for s in text.split(",") if s.strip()]
    except ValueError as exc:
        raise typer.BadParameter(f"sizes must be comma-separated integers, got {text!r}") from exc


@app.command()
def predict(
    benchmark: Annotated[str, typer.Option("--benchmark", "-b", help="Benchmark name.")] = DEFAULT_BENCHMARK,
    predictor: Annotated[
        list[str] | None,
        typer.Option("--predictor", "-p", help="Predictor, e.g. lgbm or 'lgbm:encoding=path' (repeat)."),
    ] = None,
    sizes: Annotated[
        str, typer.Option(help="Training sizes, comma-separated.")
    ] = "5,8,14,24,42,71,121,205,347,589,1000",
    seeds: Annotated[int, typer.Option(help="Number of seeds (paired splits 0..seeds-1).")] = 20,
    test_size: Annotated[int, typer.Option(help="Held-out test cells per seed.")] = 200,
    results: Annotated[Path, typer.Option(help="Results file (JSON lines, appended, resumable).")] = Path(
        "results/predictors.jsonl"
    ),
    report: Annotated[Path | None, typer.Option(help="Write a report into this folder.")] = None,
    name: Annotated[str, typer.Option(help="Study name recorded with each result.")] = "predictor-study",
    root: RootOption = None,
) -> None:
    """Run a predictor study: predictors x training sizes x seeds, Kendall τ on held-out cells."""
    run_predictor_study(
        benchmark,
        predictor or ["lgbm"],
        sizes=_sizes(sizes),
        seeds=seeds,
        test_size=test_size,
        results=results,
        report_dir=report,
        root=root,
        study_name=name,
    )


@app.command()
def search(
    benchmark: Annotated[str, typer.Option("--benchmark", "-b", help="Benchmark name.")] = DEFAULT_BENCHMARK,
    searcher: Annotated[
        list[str] | None,
        typer.Option("--searcher", "-s", help="Searcher, e.g. random or 'evolution:population_size=20' (repeat)."),
    ] = None,
    budget: Annotated[int, typer.Option(help="Distinct architectures per run.")] = 100,
    seeds: Annotated[int, typer.Option(help="Runs per searcher (paired seeds 0..seeds-1).")] = 20,
    jobs: Annotated[int, typer.Option(help="Parallel local processes.")] = 1,
    results: Annotated[Path, typer.Option(help="Results file (JSON lines, appended, resumable).")] = Path(
        "results/search.jsonl"
    ),
    report: Annotated[Path | None, typer.Option(help="Write a report into this folder.")] = None,
    name: Annotated[str, typer.Option(help="Study name recorded with each result.")] = "search-study",
    root: RootOption = None,
) -> None:
    """Run a search study: searchers x seeds at a budget; the incumbent's reported value per query."""
    from predictbench.studies.search_study import SearchStudy

    specs = {label: (kind, params) for label, kind, params in map(parse_component, searcher or ["random"])}
    study = SearchStudy(benchmark, specs, results=results, budget=budget, seeds=seeds, name=name, jobs=jobs, root=root)
    started = time.perf_counter()
    with _progress() as progress:
        task = progress.add_task(f"{name} on {benchmark}", total=seeds * len(specs), status="")
        frame = study.run(progress=lambda done, total, status: progress.update(task, completed=done, status=status))
    console.print(f"{len(frame)} runs in {results} ({time.perf_counter() - started:.1f} s)")
    if report is not None:
        from predictbench.report import search_report

        search_report(frame, report, title=f"Search leaderboard: {benchmark}")
        console.print(f"report: {report / 'README.md'}")


@app.command("report")
def report_cmd(
    results: Annotated[list[Path], typer.Argument(help="Results file(s) written by a study.")],
    out: Annotated[Path, typer.Option("--out", "-o", help="Report folder.")] = Path("reports/predictors"),
) -> None:
    """Build a leaderboard report (Markdown + figure) from results files."""
    from predictbench.report import predictor_report
    from predictbench.studies import read_results

    frame = read_results(*results)
    if frame.empty:
        raise PredictBenchError(f"no records in {', '.join(map(str, results))}")
    if "searcher" in frame.columns:
        from predictbench.report import search_report

        search_report(frame, out)
    else:
        predictor_report(frame, out)
    console.print(f"report: {out / 'README.md'}")


@app.command()
def quickstart(
    out: Annotated[Path, typer.Option(help="Report folder.")] = Path("reports/quickstart"),
    seeds: Annotated[int, typer.Option(help="Seeds per training size.")] = 20,
    root: RootOption = None,
) -> None:
    """The main job: convert the embedded default (if needed) and run a predictor leaderboard on it."""
    from predictbench.benchmarks.catalog import converted_stores
    from predictbench.benchmarks.convert.analog import convert as convert_analog
    from predictbench.paths import data_root

    data = root or data_root()
    if DEFAULT_BENCHMARK not in converted_stores(data):
        with console.status("converting the embedded default (analog-nasbench) ..."):
            convert_analog(root=data)
        console.print(f"[green]converted[/green] {DEFAULT_BENCHMARK} into {data}")
    run_predictor_study(
        DEFAULT_BENCHMARK,
        list(QUICKSTART_PREDICTORS),
        sizes=[5, 8, 14, 24, 42, 71, 121, 205, 347, 589, 1000],
        seeds=seeds,
        test_size=200,
        results=out / "results.jsonl",
        report_dir=out,
        root=data,
        study_name="quickstart",
    )


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        app(standalone_mode=False)
    except KeyboardInterrupt:
        err_console.print("[yellow]interrupted[/yellow]: finished results are kept; rerun to resume")
        sys.exit(130)
    except (PredictBenchError, FileNotFoundError, ValueError) as exc:
        err_console.print(f"[red]error:[/red] {exc}", soft_wrap=True)
        sys.exit(2)
    except typer.Abort:
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except Exception as exc:
        # usage errors (typer ships its own click): they know how to show themselves and their exit code
        show, code = getattr(exc, "show", None), getattr(exc, "exit_code", None)
        if callable(show) and isinstance(code, int):
            show()
            sys.exit(code)
        raise


if __name__ == "__main__":
    main()
