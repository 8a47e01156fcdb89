"""``predictbench proxies ...``: compute zero-cost proxies live and write them into a store (typer + rich)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

proxies_app = typer.Typer(help="Compute training-free (zero-cost) proxies with torch.", no_args_is_help=True)
console = Console()


@proxies_app.command("list")
def proxies_list() -> None:
    """Registered proxies, their direction and meaning."""
    from predictbench.proxies import ALIASES, DATA_FREE, NEEDS_LABELS, PROXY_METRICS, REAL_IMAGES

    def data_of(name: str) -> str:
        if name in DATA_FREE:
            return "shape only"
        source = "real images" if name in REAL_IMAGES else "inputs"
        return f"{source}+labels" if name in NEEDS_LABELS else f"{source}, no labels"

    table = Table(title="proxies (higher = predicted better for all; see each description)")
    for column in ("name", "unit", "data", "description"):
        table.add_column(column, overflow="fold")
    for name, metric in PROXY_METRICS.items():
        table.add_row(name, metric.unit, data_of(name), metric.description)
    console.print(table)
    console.print("aliases: " + ", ".join(f"{a} -> {n}" for a, n in ALIASES.items()))


@proxies_app.command("compute")
def proxies_compute(
    benchmark: Annotated[str, typer.Argument(help="Converted store, e.g. nb201-analog/cifar10.")],
    proxies: Annotated[
        str | None, typer.Option("--proxies", "-p", help="Comma-separated proxy names (default: all 13).")
    ] = None,
    limit: Annotated[int | None, typer.Option(help="Only the first N architectures of the store.")] = None,
    jobs: Annotated[int, typer.Option("--jobs", "-j", help="Worker processes.")] = 1,
    batch_size: Annotated[int, typer.Option(help="Images per batch (synthetic Gaussian data).")] = 64,
    seed: Annotated[int, typer.Option(help="Seeds weights, synthetic batch and zen's draws.")] = 0,
    channels: Annotated[
        int | None, typer.Option(help="Network width: NB201 C (default 16), NB101 stem channels (128).")
    ] = None,
    cells: Annotated[
        int | None, typer.Option(help="NB201 cells per stage N (default 5), NB101 cells per stack (3).")
    ] = None,
    num_classes: Annotated[int | None, typer.Option(help="Classifier outputs (default from the task).")] = None,
    resolution: Annotated[int | None, typer.Option(help="Input side in pixels (default from the task).")] = None,
    suffix: Annotated[str, typer.Option(help="Column name = proxy name + suffix.")] = "_live",
    force: Annotated[bool, typer.Option("--force", help="Replace existing columns of the same names.")] = False,
    threads: Annotated[int | None, typer.Option(help="torch threads per process (1 is often fastest).")] = None,
    root: Annotated[Path | None, typer.Option("--root", help="Data folder (default: see `data list`).")] = None,
    sample: Annotated[
        int | None, typer.Option(help="A uniform random sample of N cells (seeded by --sample-seed), in random order.")
    ] = None,
    sample_seed: Annotated[int, typer.Option(help="Seed of --sample.")] = 0,
    swap_repeats: Annotated[int, typer.Option(help="SWAP's Gaussian weight draws per cell (paper: 32).")] = 32,
    per_class: Annotated[
        str | None,
        typer.Option(help="NB201: compute once per 'function' (or 'nb201') class and fill to its members."),
    ] = None,
) -> None:
    """Compute proxies for a store's architectures into its proxies table (resumable: rerun to continue)."""
    from predictbench.proxies.compute import compute_store_proxies

    names = [p.strip() for p in proxies.split(",") if p.strip()] if proxies else None
    started = time.perf_counter()
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("ETA"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[status]}"),
        console=console,
    )
    with progress:
        task = progress.add_task(f"proxies {benchmark}", total=None, status="")

        def update(done: int, total: int, status: str) -> None:
            progress.update(task, completed=done, total=total, status=status)

        report = compute_store_proxies(
            benchmark,
            names,
            root=root,
            limit=limit,
            jobs=jobs,
            batch_size=batch_size,
            seed=seed,
            channels=channels,
            cells_per_stage=cells,
            num_classes=num_classes,
            resolution=resolution,
            suffix=suffix,
            force=force,
            threads=threads,
            progress=update,
            sample=sample,
            sample_seed=sample_seed,
            swap_repeats=swap_repeats,
            per_class=per_class,
        )
    console.print(
        f"[green]wrote[/green] {', '.join(report.columns)} into {report.store / 'proxies.parquet'}: "
        f"{report.computed} computed, {report.skipped} done before ({time.perf_counter() - started:.1f} s)"
        + (f"; filled to {report.filled} cells of their classes" if report.filled else "")
    )
    if report.seconds_per_proxy:
        table = Table(title=f"mean seconds per architecture: {report.seconds_per_arch:.2f}")
        table.add_column("proxy")
        table.add_column("s / arch", justify="right")
        for name, seconds in report.seconds_per_proxy.items():
            table.add_row(name, f"{seconds:.3f}")
        console.print(table)
