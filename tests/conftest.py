"""Shared test helpers: the location of ../shared/benchmarks_data and a fixture that skips without it.

Tests that read the shared data are marked ``@pytest.mark.shared_data`` (the marker is declared in
pyproject.toml) and take the ``shared_data_dir`` fixture; marked tests are also skipped, with the same
reason, when the folder is absent and they do not use the fixture.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

# no test may depend on wall-clock time: hypothesis' per-example deadline fails on a loaded 2-core machine
settings.register_profile("predictbench", deadline=None)
settings.load_profile("predictbench")

SHARED_DATA_DIR = Path(__file__).parents[1].parent / "shared" / "benchmarks_data"
SKIP_REASON = f"shared benchmark data not found at {SHARED_DATA_DIR} (present in CI; see DESIGN.md)"


TORCH_SKIP_REASON = "needs torch (the README's test command installs its CPU build: pip install torch==2.13.0)"


def torch_available() -> bool:
    """Whether torch can be imported (it is an install the README's test command makes, not a dependency)."""
    import importlib.util

    return importlib.util.find_spec("torch") is not None


def shared_data_available() -> bool:
    """Whether ../shared/benchmarks_data exists next to the repository."""
    return SHARED_DATA_DIR.is_dir()


@pytest.fixture(scope="session")
def shared_data_dir() -> Path:
    """Path of ../shared/benchmarks_data; skips the test with a clear reason when it is absent."""
    if not shared_data_available():
        pytest.skip(SKIP_REASON)
    return SHARED_DATA_DIR


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("shared_data") is not None and not shared_data_available():
        pytest.skip(SKIP_REASON)
    if item.get_closest_marker("torch") is not None and not torch_available():
        pytest.skip(TORCH_SKIP_REASON)


@pytest.fixture(scope="session")
def analog_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding the embedded default store ``nb201-analog/cifar10`` (converted once per session)."""
    from predictbench.benchmarks.convert.analog import convert

    root = tmp_path_factory.mktemp("data")
    convert(root=root)
    return root


@pytest.fixture(scope="session")
def nb201_tables_root(shared_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A data root holding ``nb201/{cifar10,cifar100,imagenet16-120}`` converted from the shared tables (once)."""
    from predictbench.benchmarks.convert.nb201_tables import convert

    root = tmp_path_factory.mktemp("nb201-tables")
    convert(shared_data_dir, root=root)
    return root


@pytest.fixture
def one_torch_thread() -> Iterator[None]:
    """One torch intra-op thread: small networks run much faster without OpenMP spinning (busy CI machines)."""
    from predictbench.predictors.gcn import torch_threads

    with torch_threads(1):
        yield


CliRun = Callable[..., tuple[int, str]]


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> CliRun:
    """The real ``predictbench`` entry point in-process: ``run_cli(*args)`` -> (exit code, stderr on one line, the
    rich error box's drawing characters removed)."""
    from predictbench.cli import main

    def run(*args: str) -> tuple[int, str]:
        with pytest.raises(SystemExit) as info:
            main(list(args))
        return int(info.value.code or 0), " ".join(re.sub(r"[│╭╮╰╯─]", " ", capsys.readouterr().err).split())

    return run


@pytest.fixture
def refused_on_analog(run_cli: CliRun, analog_root: Path, tmp_path: Path) -> Callable[[list[str], str], None]:
    """``check(args, message)``: ``predictbench *args`` on the embedded default store (budget 5, one seed) exits 2
    with ``message`` on its one error line and writes no results file."""

    def check(args: list[str], message: str) -> None:
        results = tmp_path / "refused.jsonl"
        common = ["-b", "nb201-analog/cifar10", "--budget", "5", "--seeds", "1", "--root", str(analog_root)]
        code, err = run_cli(*args, *common, "--results", str(results))
        assert code == 2 and message in err, err
        assert not results.exists()

    return check
