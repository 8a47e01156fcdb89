"""The shared skeleton of searcher studies: which runs are left, recording them, progress."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from predictbench.studies.search_runs import ID_FIELDS, RunGrid, RunId, grid_runs, recorded, searcher_spec


def _worker(run: RunId) -> tuple[RunId, dict[str, Any]]:
    return run, {"final": float(run.seed)}


def test_grid_skips_recorded_runs_and_stamps_id_fields(tmp_path: Path) -> None:
    results = tmp_path / "runs.jsonl"
    runs = grid_runs("s", "bench", ["random", "rea"], 10, [0, 1])
    assert [(r.searcher, r.seed) for r in runs] == [("random", 0), ("rea", 0), ("random", 1), ("rea", 1)]
    messages: list[str] = []

    def progress(done: int, total: int, text: str) -> None:
        messages.append(f"{done}/{total} {text}")

    first = RunGrid(results, runs[:2], summary=lambda r: f"final={r['final']:.1f}", progress=progress, extra={"x": 1})
    first.run_here(lambda run: {"final": float(run.seed)})
    assert messages == ["1/2 random seed=0 final=0.0", "2/2 rea seed=0 final=0.0"]
    again = RunGrid(results, runs, summary=str, progress=progress)
    assert again.todo == runs[2:] and again.finished == 2 and again.total == 4
    assert messages[-1] == "2/4 2 recorded before"  # a resumed bar starts at what is done
    with ThreadPoolExecutor(2) as pool:
        again.run_in_workers(_worker, lambda run: run, engine=pool, jobs=1, address=None)
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    assert sorted(tuple(line[f] for f in ID_FIELDS) for line in lines) == sorted(runs)
    assert [line.get("x") for line in lines] == [1, 1, None, None]
    assert len(recorded(results, "s", "bench")) == 4 and recorded(results, "other", "bench").empty


def test_searcher_spec_reads_both_forms() -> None:
    specs: dict[str, Any] = {"random": {}, "rea": ("evolution", {"population_size": 10})}
    assert searcher_spec(specs, "random") == ("random", {})
    assert searcher_spec(specs, "rea") == ("evolution", {"population_size": 10})
