"""The report of results files (``predictbench report``): one report per study, benchmark and budget or target.

Records of one kind only (predictor, search or multi-objective search study) go into one call. When the files
hold several studies, benchmarks, budgets (search) or targets and test sizes (predictors), each gets its own report
folder under the output folder, listed by an index there (``README.md``, ``index.html``); records of different
groups are never pooled. Each grid cell counts once and a component label must hold one setting
(:func:`~predictbench.studies.results.check_one_setting`).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from predictbench.jsonl import read_records
from predictbench.report.document import Document, Paragraph, Table
from predictbench.report.output import report_folder, write_report
from predictbench.studies.results import check_one_setting, read_results
from predictbench.types import DataFormatError

PREDICTOR, SEARCH, MULTIOBJECTIVE, PRUNING = "predictor study", "search study", "multi-objective study", "pruning study"
#: What separates one report from another, per kind (fields of the records).
SECTION_FIELDS = {
    PREDICTOR: ("study", "benchmark", "target", "protocol", "split", "test_size"),
    SEARCH: ("study", "benchmark", "budget"),
    MULTIOBJECTIVE: ("study", "benchmark", "budget"),
}


def record_kind(record: dict[str, Any]) -> str | None:
    """The kind of study that wrote ``record`` (None: not a study record)."""
    if "study" not in record or "benchmark" not in record:
        return None
    if "searcher" in record:
        return MULTIOBJECTIVE if "hv_normalised" in record else SEARCH
    if "predictor" in record:
        return PREDICTOR
    return PRUNING if "config" in record else None


def results_kind(paths: Sequence[str | Path]) -> str:
    """The one kind of study records ``paths`` hold; DataFormatError naming the file for anything else."""
    kinds: dict[str, str] = {}
    for path in map(Path, paths):
        if not path.exists():
            raise FileNotFoundError(f"results file not found: {path}")
        for number, record in enumerate(read_records(path), 1):
            kind = record_kind(record)
            if kind is None:
                raise DataFormatError(
                    f"{path}: record {number} is not a study record (it lacks 'study', 'benchmark' or a "
                    "'predictor'/'searcher' field); expected a results file of predictbench predict, search or mosearch"
                )
            kinds.setdefault(kind, str(path))
    if not kinds:
        raise DataFormatError(f"no records in {', '.join(map(str, paths))}")
    if len(kinds) > 1:
        found = ", ".join(f"{kind} ({path})" for kind, path in kinds.items())
        raise DataFormatError(f"the results hold records of different kinds: {found}; report each kind on its own")
    (kind,) = kinds
    if kind == PRUNING:
        raise DataFormatError(f"{kinds[kind]}: `report` does not draw pruning studies; see predictbench.report.pruning")
    return kind


def sections(records: pd.DataFrame, kind: str) -> list[tuple[dict[str, Any], pd.DataFrame]]:
    """The records split by :data:`SECTION_FIELDS` of ``kind``: ``(the group's field values, its records)``."""
    if kind == PREDICTOR and "protocol" in records:  # records older than protocols used the uniform sample
        records = records.fillna({"protocol": "sample", "split": "uniform"})
    fields = [f for f in SECTION_FIELDS[kind] if f in records]
    return [
        (_shown(dict(zip(fields, key, strict=True))), group.reset_index(drop=True))
        for key, group in records.groupby(fields, sort=True, dropna=False)
    ]


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """A group's values as shown: without missing ones (protocol "rest" has no test size), whole numbers as ints."""
    return {f: int(v) if isinstance(v, float) and v.is_integer() else v for f, v in values.items() if not pd.isna(v)}


def _folder(values: dict[str, Any]) -> str:
    parts = [str(v) if f != "budget" else f"T{v}" for f, v in values.items() if f != "test_size"]
    if "test_size" in values:
        parts.append(f"test{values['test_size']}")
    return re.sub(r"[^A-Za-z0-9._=-]+", "-", "_".join(parts))


def _write(kind: str, records: pd.DataFrame, out: Path, title: str | None) -> None:
    """The report of one group; ``title=None``: the report's default title."""
    titled: dict[str, Any] = {} if title is None else {"title": title}
    if kind == MULTIOBJECTIVE:
        from predictbench.multiobjective.report import multiobjective_report

        multiobjective_report(records, out, **titled)  # without the space's cloud: the study command draws it
    elif kind == SEARCH:
        from predictbench.report.searchers import search_report

        search_report(records, out, **titled)
    else:
        from predictbench.report.predictors import predictor_report

        predictor_report(records, out, **titled)


def results_report(paths: Sequence[str | Path], out_dir: str | Path) -> list[Path]:
    """Write the report(s) of the results files ``paths`` into ``out_dir``; returns the report folders written.

    One group (:func:`sections`) is reported in ``out_dir`` itself; several each in a subfolder, with an index in
    ``out_dir``. Raises DataFormatError (naming the file) for records of several kinds or of no study, an empty
    input, or a label recorded under several settings; nothing is written then.
    """
    kind = results_kind(paths)
    records = read_results(*paths)
    groups = sections(records, kind)
    source = ", ".join(map(str, paths))
    for _, group in groups:
        check_one_setting(group, source)
    out = Path(out_dir)
    if len(groups) == 1:
        _write(kind, groups[0][1], out, None)
        return [out]
    folders = []
    rows = []
    for values, group in groups:
        folder = out / _folder(values)
        _write(kind, group, folder, _title(kind, values))
        folders.append(folder)
        rows.append({**values, "records": len(group), "report": f"{folder.name}/README.md"})
    index = Document(
        f"Reports: {source}",
        (
            Paragraph(
                f"The {kind} records of {source} fall into {len(groups)} groups ("
                f"{', '.join(SECTION_FIELDS[kind])}); each has its own report, never pooled with the others."
            ),
            Table(pd.DataFrame(rows)),
        ),
    )
    write_report(index, report_folder(out))
    return folders


def _title(kind: str, values: dict[str, Any]) -> str:
    head = {PREDICTOR: "Predictor leaderboard", SEARCH: "Search leaderboard", MULTIOBJECTIVE: "Multi-objective search"}
    details = ", ".join(f"{field} {value}" for field, value in values.items() if field != "benchmark")
    return f"{head[kind]}: {values.get('benchmark', '')} ({details})"
