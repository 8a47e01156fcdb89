"""The analysis notebooks run top to bottom at CI scale, and are committed without outputs.

Each notebook is executed with nbclient in a fresh kernel of THIS interpreter (a kernel spec written at test time
points at ``sys.executable``, so a clean clone needs no ``ipykernel install``), in a temporary working folder,
with ``PREDICTBENCH_NB_SCALE=ci`` (tiny sizes and seeds), ``PREDICTBENCH_DATA`` at a temporary data root and
``PREDICTBENCH_NB_RESULTS`` at a temporary results folder. A failing cell fails the test with its traceback.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra: pip install -e '.[test]'")
nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra: pip install -e '.[test]'")
pytest.importorskip("ipykernel", reason="ipykernel is in the test extra: pip install -e '.[test]'")

from predictbench.studies import read_results  # noqa: E402

NOTEBOOKS = Path(__file__).resolve().parents[2] / "notebooks"
EXPECTED = ("predictor_comparison", "pruning_analysis", "search_curves", "supernet_check", "zero_cost_analysis")
KERNEL = "predictbench-tests"
CELL_TIMEOUT = 300  # seconds per cell; the CI-scale cells take a few seconds, a loaded machine many more


@pytest.fixture(scope="module")
def kernel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Jupyter kernel spec running ipykernel under this interpreter, found through ``JUPYTER_PATH``."""
    folder = tmp_path_factory.mktemp("jupyter")
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": KERNEL, "language": "python"}))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("JUPYTER_PATH", str(folder))
        yield KERNEL


def execute(name: str, data_root: Path, workdir: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> object:
    """Run notebook ``name`` at CI scale in ``workdir``; returns the executed notebook."""
    monkeypatch.setenv("PREDICTBENCH_NB_SCALE", "ci")
    monkeypatch.setenv("PREDICTBENCH_DATA", str(data_root))
    monkeypatch.setenv("PREDICTBENCH_NB_RESULTS", str(workdir / "results"))
    for variable in ("PREDICTBENCH_NB_BENCHMARK", "PREDICTBENCH_NB_PROXY_SOURCE", "PREDICTBENCH_NB_JOBS"):
        monkeypatch.delenv(variable, raising=False)
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    client = nbclient.NotebookClient(
        notebook, kernel_name=kernel, timeout=CELL_TIMEOUT, resources={"metadata": {"path": str(workdir)}}
    )
    client.execute()
    return notebook


def outputs(notebook: object, mime: str) -> list[str]:
    """Every output of ``mime`` type (text/html tables, image/png figures, ...) in cell order."""
    found = []
    for cell in notebook.cells:  # type: ignore[attr-defined]
        for output in cell.get("outputs", []):
            if mime in output.get("data", {}):
                found.append(output["data"][mime])
    return found


def tables_with(notebook: object, *words: str) -> list[str]:
    """The HTML tables that contain every one of ``words``."""
    return [html for html in outputs(notebook, "text/html") if all(word in html for word in words)]


# ---- committed form ------------------------------------------------------------------------------------------


def test_the_five_notebooks_are_committed() -> None:
    assert tuple(sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))) == EXPECTED


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_without_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    dirty = [i for i, cell in enumerate(code) if cell.outputs or cell.execution_count is not None]
    assert not dirty, f"{name}.ipynb: code cells {dirty} hold outputs; clear them before committing"
    assert notebook.cells[0].cell_type == "markdown" and "PREDICTBENCH_NB_SCALE=ci" in notebook.cells[0].source
    assert "PREDICTBENCH_NB_SCALE" in code[0].source  # the parameters cell comes first


# ---- executed at CI scale ------------------------------------------------------------------------------------


def test_predictor_comparison(analog_root: Path, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = execute("predictor_comparison", analog_root, tmp_path, kernel, monkeypatch)
    records = read_results(tmp_path / "results" / "predictor_comparison.jsonl")
    expected = {"random", "lgbm", "omni"} | ({"gcn"} if _has("torch") else set())  # no proxies in this root
    assert set(records["predictor"]) == expected
    assert len(records) == len(expected) * 2 * 2  # 2 training sizes x 2 seeds, each recorded once
    assert tables_with(notebook, "AUC", "n=14", "n=42", *sorted(expected))  # the leaderboard
    assert len(outputs(notebook, "image/png")) >= 2
    assert (tmp_path / "results" / "predictor_comparison_report" / "index.html").is_file()


def test_search_curves(analog_root: Path, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = execute("search_curves", analog_root, tmp_path, kernel, monkeypatch)
    records = read_results(tmp_path / "results" / "search_curves.jsonl")
    searchers = ("random", "evolution", "local", "guided")
    assert sorted(records["searcher"]) == sorted(searchers * 3) and set(records["budget"]) == {30}
    assert tables_with(notebook, "T=30", *searchers)  # the curve table
    assert tables_with(notebook, "median_queries", "x vs random", *searchers)
    assert len(outputs(notebook, "image/png")) == 2


def test_pruning_analysis(analog_root: Path, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    notebook = execute("pruning_analysis", analog_root, tmp_path, kernel, monkeypatch)
    records = read_results(tmp_path / "results" / "pruning_analysis.jsonl")
    assert len(records) == 4 and all(len(rounds) >= 1 for rounds in records["rounds"])
    assert tables_with(notebook, "report optimum kept", "literal rule")
    assert tables_with(notebook, "fraction of runs", "op_")  # the pruned choices
    assert len(outputs(notebook, "image/png")) == 2


@pytest.mark.shared_data
def test_zero_cost_analysis(
    nb201_tables_root: Path, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    notebook = execute("zero_cost_analysis", nb201_tables_root, tmp_path, kernel, monkeypatch)
    assert tables_with(notebook, "kendall_tau", "top100_overlap", "synflow", "rank ensemble (jacov+nwot+synflow)")
    from predictbench.proxies.shipped import read_shipped

    if read_shipped("nb201", "cifar10") is not None:  # the shipped 2023-25 proxies and the zero-shot ensemble
        assert tables_with(notebook, "kendall_tau", "az_expressivity", "AZ-NAS aggregate", "zero-shot ensemble")
    records = read_results(tmp_path / "results" / "zero_cost_analysis.jsonl")
    assert set(records["predictor"]) == {
        "proxy:jacov", "proxy:nwot", "proxy:synflow", "proxy-rank-ensemble", "proxy-learned-ensemble"
    }  # fmt: skip
    assert len(records) == 5 * 2 * 2
    assert len(outputs(notebook, "image/png")) == 3


def test_zero_cost_analysis_names_the_missing_store(
    analog_root: Path, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="predictbench data convert nb201-tables"):
        execute("zero_cost_analysis", analog_root, tmp_path, kernel, monkeypatch)


@pytest.mark.torch
@pytest.mark.shared_data
def test_supernet_check(nb201_tables_root: Path, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("torch", reason="the rank check trains supernets with torch")
    notebook = execute("supernet_check", nb201_tables_root, tmp_path, kernel, monkeypatch)
    result = json.loads((tmp_path / "results" / "supernet_check.json").read_text())
    assert result["benchmark"] == "nb201/cifar10" and len(result["cells"]) == 30
    from predictbench.supernet.study import METHODS

    assert tables_with(notebook, "kendall_tau", "spearman", "fit_seconds", *METHODS)
    assert len(outputs(notebook, "image/png")) == 1
    assert (tmp_path / "results" / "figures" / "supernet_check.png").is_file()


def test_supernet_check_names_the_missing_store(
    analog_root: Path, tmp_path: Path, kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(nbclient.exceptions.CellExecutionError, match="predictbench data convert nb201-tables"):
        execute("supernet_check", analog_root, tmp_path, kernel, monkeypatch)


def _has(module: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(module) is not None
