"""What a report was made from: benchmark stores and their hashes, seeds, versions, commands, configurations.

Everything comes from the study records (see :mod:`predictbench.studies.results` for the provenance fields a
record carries); fields that older records lack are reported as "not recorded" rather than guessed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime, timezone
from typing import Any

import pandas as pd

from predictbench import __version__
from predictbench.report.document import Block, Facts, Heading, Table

NOT_RECORDED = "not recorded"
MAX_COMMANDS = 5


def seed_summary(seeds: pd.Series) -> str:
    """'0..99 (100 seeds)' for a contiguous range, else the sorted list."""
    values = sorted(int(s) for s in seeds.unique())
    if len(values) > 3 and values == list(range(values[0], values[-1] + 1)):
        return f"{values[0]}..{values[-1]} ({len(values)} seeds)"
    return str(values)


def listed(records: pd.DataFrame, column: str) -> str:
    """The distinct values of ``column`` in sorted order, comma-separated ("not recorded" without the column)."""
    if column not in records:
        return NOT_RECORDED
    return ", ".join(str(v) for v in sorted(records[column].dropna().unique()))


def _distinct(records: pd.DataFrame, column: str) -> list[str]:
    if column not in records:
        return []
    return sorted({str(v) for v in records[column].dropna() if str(v)})


def component_configs(records: pd.DataFrame, entry: str, params: str) -> pd.DataFrame:
    """Per entry (e.g. each predictor): its component, the parameters shared by all its records, and those that
    vary per cell.

    The component (the class or registered name behind a label such as ``rea``) is shown when the records carry
    one. Parameters that vary (such as a fit seed derived per cell) are named, not shown with one arbitrary value.
    Values a fit resolved on its store (the records' ``<params>_used``, e.g. omni's ``proxies`` on a store without
    any) are shown in place of the configured ones.
    """
    rows = []
    for name, group in records.groupby(entry):
        configs = [p if isinstance(p, Mapping) else {} for p in group[params]] if params in group else [{}]
        if f"{params}_used" in group:  # what a fit actually used where the store decided (e.g. no proxies)
            used = group[f"{params}_used"]
            configs = [{**c, **u} if isinstance(u, Mapping) else c for c, u in zip(configs, used, strict=True)]
        fixed: dict[str, Any] = {}
        varying = []
        for key in sorted(set().union(*configs)):
            if len({json.dumps(c.get(key), sort_keys=True) for c in configs}) == 1:
                fixed[key] = configs[0].get(key)
            else:
                varying.append(key)
        row = {entry: name}
        if "component" in group:
            row["component"] = ", ".join(_distinct(group, "component"))
        row.update({"parameters": json.dumps(fixed, sort_keys=True), "varies per cell": ", ".join(varying)})
        rows.append(row)
    return pd.DataFrame(rows).set_index(entry)


def provenance_facts(records: pd.DataFrame, study: Mapping[str, str]) -> Facts:
    """Provenance of a report as labelled facts; ``study`` adds study-specific ones (targets, budgets, ...)."""
    benchmarks = _distinct(records, "benchmark")
    items: list[tuple[str, str]] = [("benchmarks", ", ".join(benchmarks))]
    code = set()
    for bench in benchmarks:
        rows = records[records["benchmark"] == bench]
        hashes = _distinct(rows, "store_sha256")
        label = f"store sha256 ({bench})"
        items.append((label, ", ".join(hashes) if hashes else NOT_RECORDED))
        if hashes:
            code.add(label)
        created = _distinct(rows, "store_created")
        if created:
            items.append((f"store converted ({bench})", ", ".join(created)))
    items.extend(study.items())
    items.append(("seeds", seed_summary(records["seed"])))
    items.append(("studies", ", ".join(_distinct(records, "study")) or NOT_RECORDED))
    items.append(("predictbench versions of the runs", ", ".join(_distinct(records, "version")) or NOT_RECORDED))
    recorded = _distinct(records, "recorded_at")
    items.append(("runs recorded", f"{recorded[0]} .. {recorded[-1]}" if recorded else NOT_RECORDED))
    commands = _distinct(records, "command")
    if not commands:
        items.append(("command", NOT_RECORDED))
    for number, command in enumerate(commands[:MAX_COMMANDS], 1):
        label = "command" if len(commands) == 1 else f"command {number}"
        items.append((label, command))
        code.add(label)
    if len(commands) > MAX_COMMANDS:
        items.append(("further commands", f"{len(commands) - MAX_COMMANDS} not shown"))
    items.append(("records", str(len(records))))
    written = datetime.now(timezone.utc).isoformat(timespec="seconds")
    items.append(("report written", f"{written} by predictbench {__version__}"))
    return Facts(tuple(items), frozenset(code))


def provenance_blocks(
    records: pd.DataFrame, study: Mapping[str, str], *, entry: str, params: str, heading: str
) -> list[Block]:
    """The closing section of a study report: its provenance facts, then each entry's parameters under ``heading``.

    ``study`` as in :func:`provenance_facts`; ``entry`` and ``params`` as in :func:`component_configs`.
    """
    return [
        Heading("Provenance"),
        provenance_facts(records, study),
        Heading(heading),
        Table(component_configs(records, entry, params)),
    ]
