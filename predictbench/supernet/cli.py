"""``predictbench supernet ...``: the one-shot rank check and the supernet searches from the command line.

``rank-check`` runs :func:`~predictbench.supernet.study.rank_check` (reference supernet, few-shot, random-label
angle, GCN on supernet scores) and prints every estimator's Kendall tau and Spearman rho against the benchmark's
report metric; ``search`` runs first-order DARTS, the zero-order step, FBNet or ENAS once per seed and looks the
derived cells up in the benchmark. Every option is checked before anything trains (one line naming the option,
exit 2, nothing written); torch is imported only when a command runs.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console
from rich.logging import RichHandler
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

if TYPE_CHECKING:
    from predictbench.supernet.data import ImageData

supernet_app = typer.Typer(
    help="One-shot (weight-sharing) NAS on NB201 with torch: rank check and searches.", no_args_is_help=True
)
console = Console()

DATA = ("cifar10", "digits")
SEARCH_METHODS = ("darts", "zero-order", "fbnet", "enas")
PARAMETER_FREE = ("none", "skip_connect")
SHORT = {"none": "none", "skip_connect": "skip", "nor_conv_1x1": "c1", "nor_conv_3x3": "c3", "avg_pool_3x3": "pool"}
"""Operation names in the printed tables (the records keep NB201's keys)."""
FBNET_ANNEAL = 0.045 * 90  # FBNet's temperature decay (0.045 per epoch over 90 epochs), spread over the run

BenchmarkOption = Annotated[str, typer.Option("--benchmark", "-b", help="An NB201 store with a report metric.")]
DataOption = Annotated[
    str, typer.Option("--data", help="Image task: cifar10 (the shared real subset) or digits (scikit-learn).")
]
LimitOption = Annotated[
    int | None, typer.Option("--limit", help="Use only the first N images of the seeded split (default: all).")
]
ImagesOption = Annotated[
    Path | None, typer.Option("--images", help="cifar10_subset.npz (default: $PREDICTBENCH_IMAGES or the shared one).")
]
SizeOption = Annotated[int | None, typer.Option("--image-size", help="digits only: image side in pixels (16).")]
EpochsOption = Annotated[int, typer.Option("--epochs", help="Supernet training (search) epochs.")]
ChannelsOption = Annotated[int, typer.Option("--channels", help="Supernet width C.")]
CellsPerStageOption = Annotated[int, typer.Option("--cells-per-stage", help="Supernet depth N (cells per stage).")]
BatchOption = Annotated[int, typer.Option("--batch-size", help="Images per batch.")]
ThreadsOption = Annotated[int, typer.Option("--threads", help="torch intra-op threads.")]
TorchDeviceOption = Annotated[str, typer.Option("--torch-device", help="torch device (cpu, cuda, ...).")]
RootOption = Annotated[Path | None, typer.Option("--root", help="Data folder (default: see `data list`).")]


def _positive(option: str, value: int | None, *, minimum: int = 1) -> None:
    if value is not None and value < minimum:
        raise ValueError(f"{option} must be an int >= {minimum}, got {value}")


def _out_path(option: str, path: Path | None) -> None:
    """``path`` can be written: not a folder, its folder exists."""
    if path is None:
        return
    if path.is_dir():
        raise ValueError(f"{option} {path}: is a folder; give a file name")
    if not path.parent.is_dir():
        raise ValueError(f"{option} {path}: folder {path.parent} does not exist")


def parse_seeds(text: str) -> list[int]:
    """``"0,1,2"`` -> ``[0, 1, 2]``: distinct non-negative ints, at least one (ValueError naming ``--seeds``)."""
    try:
        seeds = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise ValueError(f"--seeds must be comma-separated non-negative ints, got {text!r}") from None
    if not seeds or min(seeds) < 0 or len(set(seeds)) != len(seeds):
        raise ValueError(f"--seeds must be distinct comma-separated non-negative ints, got {text!r}")
    return seeds


@dataclass(frozen=True)
class DataSpec:
    """Which image task to build per seed (checked before any training)."""

    name: str
    limit: int | None
    images: Path | None
    size: int | None

    def __post_init__(self) -> None:
        if self.name not in DATA:
            raise ValueError(f"--data must be one of {', '.join(DATA)}, got {self.name!r}")
        _positive("--limit", self.limit, minimum=4)
        _positive("--image-size", self.size)
        if self.name == "cifar10" and self.size is not None:
            raise ValueError("--image-size applies to --data digits only (CIFAR-10 images are 32x32)")
        if self.name == "digits" and self.images is not None:
            raise ValueError("--images applies to --data cifar10 only")

    def build(self, seed: int) -> ImageData:
        from predictbench.supernet.data import cifar10, digits

        if self.name == "cifar10":
            return cifar10(seed=seed, limit=self.limit, path=self.images)
        return digits(16 if self.size is None else self.size, seed=seed, limit=self.limit)


def _load_nb201(benchmark: str, root: Path | None) -> Any:
    """The NB201 store ``benchmark`` with a report metric (ValueError / FileNotFoundError naming it)."""
    import predictbench as pb
    from predictbench.spaces.nb201 import NB201Space

    bench = pb.load(benchmark, root=root)
    if not isinstance(bench.space, NB201Space):
        raise ValueError(f"--benchmark {benchmark}: needs an NB201 store (nb201/..., nb201-analog/...)")
    if bench.report_metric is None:
        raise ValueError(f"--benchmark {benchmark}: declares no report metric to judge cells by")
    return bench


@contextmanager
def _live(description: str, total: int | None = None) -> Iterator[Callable[[int, str], None]]:
    """A progress bar (or spinner when ``total`` is None) and the library's per-epoch log lines above it.

    Yields ``update(done, status)``.
    """
    columns: list[Any] = [SpinnerColumn(), TextColumn("[bold]{task.description}")]
    if total is not None:
        columns += [BarColumn(), MofNCompleteColumn()]
    columns += [TimeElapsedColumn(), TextColumn("{task.fields[status]}")]
    logger = logging.getLogger("predictbench.supernet")
    handler = RichHandler(console=console, show_path=False, show_time=False, level=logging.DEBUG)
    previous, propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    try:
        with Progress(*columns, console=console) as progress:
            task = progress.add_task(description, total=total, status="")

            def update(done: int, status: str) -> None:
                progress.update(task, completed=done, status=status)

            yield update
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        logger.propagate = propagate


def _torch_setup(threads: int, device: str) -> None:
    """One torch thread count for the run; ``device`` must name a torch device this machine has."""
    import torch

    try:
        kind = torch.device(device).type
    except RuntimeError:
        raise ValueError(f"--torch-device must name a torch device (cpu, cuda, cuda:0, ...), got {device!r}") from None
    if kind == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"--torch-device {device}: torch sees no CUDA device on this machine")
    torch.set_num_threads(threads)


@supernet_app.command("rank-check")
def rank_check_cmd(
    benchmark: BenchmarkOption = "nb201/cifar10",
    data: DataOption = "cifar10",
    cells: Annotated[
        int, typer.Option("--cells", help="NB201 cells drawn uniformly and scored by every method.")
    ] = 200,
    epochs: EpochsOption = 10,
    sub_epochs: Annotated[int, typer.Option("--sub-epochs", help="Few-shot fine-tuning epochs per sub-supernet.")] = 2,
    gcn_samples: Annotated[int, typer.Option("--gcn-samples", help="Cells whose supernet scores train the GCN.")] = 100,
    channels: ChannelsOption = 8,
    cells_per_stage: CellsPerStageOption = 1,
    seed: Annotated[int, typer.Option("--seed", help="Seeds the cells, the data split, supernets and GCN.")] = 0,
    calibration_images: Annotated[
        int, typer.Option("--calibration-images", help="Training images that recalibrate BatchNorm per cell.")
    ] = 128,
    score_images: Annotated[
        int, typer.Option("--score-images", help="Validation images a cell is scored on (at most all).")
    ] = 256,
    limit: LimitOption = None,
    images: ImagesOption = None,
    image_size: SizeOption = None,
    threads: ThreadsOption = 1,
    torch_device: TorchDeviceOption = "cpu",
    out: Annotated[Path | None, typer.Option("--out", help="Write the full result as JSON here.")] = None,
    root: RootOption = None,
) -> None:
    """Train the one-shot estimators and rank NB201 cells against the benchmark's report metric."""
    for option, value, minimum in (
        ("--epochs", epochs, 1), ("--sub-epochs", sub_epochs, 1), ("--gcn-samples", gcn_samples, 2),
        ("--channels", channels, 1), ("--cells-per-stage", cells_per_stage, 1), ("--seed", seed, 0),
        ("--threads", threads, 1), ("--calibration-images", calibration_images, 1), ("--score-images", score_images, 1),
    ):  # fmt: skip
        _positive(option, value, minimum=minimum)
    spec = DataSpec(data, limit, images, image_size)
    _out_path("--out", out)
    bench = _load_nb201(benchmark, root)
    if not 2 <= cells <= len(bench.space):
        raise ValueError(f"--cells must be an int in 2..{len(bench.space)}, got {cells}")
    _torch_setup(threads, torch_device)
    task = spec.build(seed)
    from predictbench.supernet.study import rank_check

    with _live(f"rank check on {task.name}, {cells} cells, {epochs} epochs") as update:
        result = rank_check(
            bench, task, n_cells=cells, epochs=epochs, sub_epochs=sub_epochs, gcn_samples=gcn_samples, seed=seed,
            channels=channels, cells_per_stage=cells_per_stage, calibration_images=calibration_images,
            score_images=score_images, device=torch_device,
        )  # fmt: skip
        update(1, "done")
    truth = result["truth"]
    seeds = f" (mean of table seeds {', '.join(map(str, truth['table_seeds']))})" if truth["table_seeds"] else ""
    table = Table(
        title=f"{bench.name}: {cells} cells vs {truth['metric']}@{truth['fidelity']}{seeds}; {result['data']}, "
        f"seed {seed}"
    )
    for column in ("method", "Kendall tau", "Spearman rho", "fit s", "score s"):
        table.add_column(column, justify="left" if column == "method" else "right")
    for name, row in result["methods"].items():
        table.add_row(
            name, f"{row['kendall_tau']:+.3f}", f"{row['spearman']:+.3f}", f"{row['fit_seconds']:.1f}",
            f"{row['score_seconds']:.1f}",
        )  # fmt: skip
    console.print(table)
    if out is not None:
        from predictbench.jsonl import strict_json
        from predictbench.paths import atomic_write_text

        atomic_write_text(out, json.dumps(strict_json(result), indent=1, allow_nan=False) + "\n")
        console.print(f"[green]wrote[/green] {out}")


def describe_cell(bench: Any, method: str, seed: int, arch: Any, ops: tuple[str, ...]) -> dict[str, Any]:
    """The record of a derived cell: NB201 index, report metric (e.g. test accuracy at 200 epochs), free edges."""
    report = bench.report_metric
    return {
        "method": method,
        "seed": seed,
        "benchmark": bench.name,
        "arch": arch.key,
        "index": int(bench.space.index(arch)),
        "ops": list(ops),
        "metric": report.metric,
        "fidelity": report.fidelity,
        "value": float(bench.lookup([arch], report.metric, fidelity=report.fidelity)[0]),
        "parameter_free_edges": sum(op in PARAMETER_FREE for op in ops),
    }


@supernet_app.command("search")
def search_cmd(
    method: Annotated[str, typer.Option("--method", help=f"One of {', '.join(SEARCH_METHODS)}.")],
    benchmark: BenchmarkOption = "nb201/cifar10",
    seeds: Annotated[str, typer.Option("--seeds", help="Comma-separated search seeds (one search each).")] = "0",
    epochs: EpochsOption = 4,
    data: DataOption = "cifar10",
    limit: LimitOption = None,
    images: ImagesOption = None,
    image_size: SizeOption = None,
    channels: ChannelsOption = 8,
    cells_per_stage: CellsPerStageOption = 1,
    batch_size: BatchOption = 64,
    arch_lr: Annotated[
        float | None, typer.Option("--arch-lr", help="darts / zero-order: architecture lr (default 0.01).")
    ] = None,
    device: Annotated[
        str | None, typer.Option("--device", help="fbnet: the HW-NAS-Bench device of the latency table (edgegpu).")
    ] = None,
    alpha: Annotated[float | None, typer.Option("--alpha", help="fbnet: latency loss alpha (0.2).")] = None,
    beta: Annotated[float | None, typer.Option("--beta", help="fbnet: latency loss beta (0.6; 0: none).")] = None,
    threads: ThreadsOption = 1,
    torch_device: TorchDeviceOption = "cpu",
    out: Annotated[Path | None, typer.Option("--out", help="JSON lines of the derived cells (one per seed).")] = None,
    root: RootOption = None,
) -> None:
    """Search the NB201 supernet once per seed; print each derived cell, its benchmark value and free edges."""
    if method not in SEARCH_METHODS:
        raise ValueError(f"--method must be one of {', '.join(SEARCH_METHODS)}, got {method!r}")
    fbnet_only = {"--device": device, "--alpha": alpha, "--beta": beta}
    given = [name for name, value in fbnet_only.items() if value is not None]
    if method != "fbnet" and given:
        raise ValueError(f"{', '.join(given)} applies to --method fbnet only")
    if method in ("fbnet", "enas") and arch_lr is not None:
        raise ValueError("--arch-lr applies to --method darts and zero-order only")
    seed_list = parse_seeds(seeds)
    for option, value in (
        ("--epochs", epochs), ("--channels", channels), ("--cells-per-stage", cells_per_stage),
        ("--batch-size", batch_size), ("--threads", threads),
    ):  # fmt: skip
        _positive(option, value)
    spec = DataSpec(data, limit, images, image_size)
    _out_path("--out", out)
    bench = _load_nb201(benchmark, root)
    run = _searcher(method, bench, epochs, channels, cells_per_stage, batch_size, arch_lr, device, alpha, beta,
                    threads, torch_device)  # fmt: skip
    _torch_setup(threads, torch_device)
    tasks = {seed: spec.build(seed) for seed in seed_list}  # a missing image file fails before any search
    records: list[dict[str, Any]] = []
    report = bench.report_metric
    table = Table(
        title=f"{method} on {tasks[seed_list[0]].name}, {epochs} epochs; cells looked up in {bench.name} "
        f"({report.metric} at {report.fidelity}); cell: ops of edges 1<-0, 2<-0, 2<-1, 3<-0, 3<-1, 3<-2"
    )
    for column in ("method", "seed", "index", report.metric, "free edges",
                   *([f"{device or 'edgegpu'} latency"] if method == "fbnet" else []), "wall s", "cell"):  # fmt: skip
        table.add_column(column, justify="left" if column in ("method", "cell") else "right", no_wrap=column != "cell")
    with _live(f"{method} search", total=len(seed_list)) as update:
        for done, seed in enumerate(seed_list):
            update(done, f"seed {seed}")
            started = time.perf_counter()
            rows = run(tasks[seed], seed)
            wall = time.perf_counter() - started
            for row in rows:
                record = {
                    **row, "seconds": wall, "epochs": epochs, "channels": channels,
                    "cells_per_stage": cells_per_stage, "batch_size": batch_size, "data": repr(tasks[seed]),
                }  # fmt: skip
                records.append(record)
                latency = [f"{record['latency']:.3f}"] if method == "fbnet" else []
                cell = " ".join(SHORT[o] for o in record["ops"])
                table.add_row(
                    record["method"], str(seed), str(record["index"]), f"{record['value']:.2f}",
                    str(record["parameter_free_edges"]), *latency, f"{wall:.1f}", cell,
                )  # fmt: skip
                console.print(
                    f"{record['method']} seed {seed}: {record['arch']} -> {record['metric']} {record['value']:.2f}, "
                    f"{record['parameter_free_edges']} parameter-free edges"
                    + (f", {record['latency_metric']} {record['latency']:.3f}" if method == "fbnet" else "")
                )
            if out is not None:  # rewritten whole after every seed: finished seeds survive an interruption
                from predictbench.jsonl import dumps_record
                from predictbench.paths import atomic_write_text

                atomic_write_text(out, "".join(dumps_record(r) + "\n" for r in records))
            update(done + 1, f"seed {seed} done")
    console.print(table)
    if out is not None:
        console.print(f"[green]wrote[/green] {len(records)} records to {out}")


def _searcher(
    method: str,
    bench: Any,
    epochs: int,
    channels: int,
    cells_per_stage: int,
    batch_size: int,
    arch_lr: float | None,
    device: str | None,
    alpha: float | None,
    beta: float | None,
    threads: int,
    torch_device: str,
) -> Callable[[ImageData, int], list[dict[str, Any]]]:
    """``run(data, seed) -> records`` of ``method``, its settings checked now (ValueError naming the option)."""
    from predictbench.supernet.differentiable import SearchConfig

    size: dict[str, Any] = {
        "channels": channels,
        "cells_per_stage": cells_per_stage,
        "batch_size": batch_size,
        "threads": threads,
    }
    if method == "enas":
        from predictbench.supernet.enas import ENASNB201, enas_search

        settings: dict[str, Any] = {**size, "device": torch_device}
        ENASNB201(**settings)._check_params()

        def run_enas(task: ImageData, seed: int) -> list[dict[str, Any]]:
            result = enas_search(task, epochs=epochs, seed=seed, **settings)
            return [
                describe_cell(bench, "enas", seed, result.arch, result.ops),
                describe_cell(bench, "enas-greedy", seed, result.greedy_arch, result.greedy_ops),
            ]

        return run_enas
    if method == "fbnet":
        from predictbench.supernet.fbnet import FBNET_CONFIG, GumbelLatencyStep, fbnet_search
        from predictbench.supernet.latency_table import fit_latency_table

        loss = {"alpha": 0.2 if alpha is None else alpha, "beta": 0.6 if beta is None else beta}
        for name, value in loss.items():
            if value < 0 or (name == "alpha" and value == 0):
                raise ValueError(f"--{name} must be {'> 0' if name == 'alpha' else '>= 0'}, got {value}")
        try:
            table = fit_latency_table(bench, device or "edgegpu")
        except ValueError as err:
            raise ValueError(f"--device: {err}") from None
        anneal = FBNET_ANNEAL / epochs
        GumbelLatencyStep(table, anneal=anneal, **loss)
        config = replace(FBNET_CONFIG, **size, device=torch_device)
        latency = bench.column(table.metric)

        def run_fbnet(task: ImageData, seed: int) -> list[dict[str, Any]]:
            result = fbnet_search(task, table, epochs=epochs, seed=seed, anneal=anneal, config=config, **loss)
            record = describe_cell(bench, "fbnet", seed, result.arch, result.ops)
            measured = float(latency[bench.codes([result.arch])[0]])
            return [{**record, "latency_metric": table.metric, "latency": measured, **loss}]

        return run_fbnet
    if arch_lr is not None and not arch_lr > 0:
        raise ValueError(f"--arch-lr must be > 0, got {arch_lr}")
    config = SearchConfig(**size, arch_lr=1e-2 if arch_lr is None else arch_lr, device=torch_device)
    if method == "darts":
        from predictbench.supernet.darts import darts_search

        def run_darts(task: ImageData, seed: int) -> list[dict[str, Any]]:
            result = darts_search(task, epochs=epochs, seed=seed, config=config)
            return [describe_cell(bench, "darts", seed, result.arch, result.ops)]

        return run_darts
    from predictbench.supernet.zero_order import zero_order_search

    def run_zero_order(task: ImageData, seed: int) -> list[dict[str, Any]]:
        result = zero_order_search(task, epochs=epochs, seed=seed, config=config)
        return [describe_cell(bench, "zero-order", seed, result.arch, result.ops)]

    return run_zero_order
