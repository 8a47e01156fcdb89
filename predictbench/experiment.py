"""Experiment files: a small TOML schema naming benchmarks and the studies to run on them (predictors, search,
multi-objective search).

An experiment file is what ``predictbench run`` executes. Every key is checked when the file is read: an unknown
key, a wrong type or an unknown predictor, searcher, benchmark or converter name is ONE :class:`ExperimentError`
naming the file, the key and what was expected (with "did you mean" from the registries). Relative ``results``,
``report`` and ``[data] source`` paths are relative to the working directory, like command-line paths.

Schema (every section optional except that at least one of ``[predictors]``, ``[search]`` and
``[multiobjective]`` is required)::

    name = "quickstart"                       # letters, digits, '.', '_', '-'; names the studies
    description = "one line shown by `predictbench run --list`"
    benchmarks = ["nb201-analog/cifar10"]     # each study runs on every benchmark
    results = "results/quickstart"            # folder: predictors.jsonl, search.jsonl, multiobjective.jsonl
                                              # (default results/<name>)
    report = "reports/quickstart"             # folder (default reports/<name>)

    [data]                                    # how to convert a benchmark that is not converted yet
    converter = "analog-nasbench"             # a `predictbench data convert` converter
    source = ""                               # its raw input (file or folder), if it needs one

    [predictors]
    models = ["lgbm", "lgbm:encoding=path"]   # command-line specs, or a table (below)
    sizes = [14, 42, 121, 347, 1000]          # training-set sizes: counts or "0.5%" of the store's cells
                                              # (default: 5 .. 1000, 11 sizes)
    seeds = 20                                # a count (seeds 0..n-1) or a list of seeds
    protocol = "sample"                       # test set: "sample", "rest" or "all-including-train"
    twin_free = false                         # keep functional twins of test cells out of training
    test_size = 200                           # protocol "sample" only
    target = "test_acc@200"                   # metric[@fidelity]; default: the store's report metric
    jobs = 1                                  # local processes

    [search]
    budget = 100                              # distinct architectures per run
    seeds = 100
    jobs = 1
    search_metric = "valid_acc@12"            # optional; default: the store's search metric
    report_metric = "test_acc@200"            # optional; default: the store's report metric

    [search.searchers]                        # label = options; `name` picks the registered searcher
    random = {}
    "guided-fast" = { name = "guided", batch_size = 5 }
    "guided-bananas" = { name = "guided", predictor = "bananas", requires = "torch" }

    [multiobjective]                          # Pareto search (registry MO_SEARCHERS), hypervolume per query
    objectives = ["valid_acc@12", "edgegpu_latency"]  # >= 2 distinct 'metric[@fidelity]'; directions are the
                                              # store's; default: its search metric and a hardware metric
    budget = 100
    seeds = 20
    jobs = 1
    searchers = ["random", "nsga2", "parego:predictor=lgbm"]  # specs or a table, as in [search]

``models`` / ``searchers`` are either a list of command-line specs (``"name:key=value,key=value"``, the label is
the spec) or a table of label -> options, where the reserved keys ``name`` (the registered component; default
the label) and ``requires`` (module names; the component is skipped with a note when one is not installed) are
not passed to the component. ``seed`` is never an option: the studies seed every cell.

Examples
--------
>>> exp = load_experiment("quickstart")
>>> exp.name, exp.benchmarks
('quickstart', ('nb201-analog/cifar10',))
"""

from __future__ import annotations

import ast
import difflib
import functools
import re
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, NoReturn, TypeVar

from predictbench.registry import Registry, unknown_name
from predictbench.types import PredictBenchError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

SHIPPED_DIR = Path(__file__).parent / "experiments"
_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_STUDIES = ("predictors", "search", "multiobjective")
MAX_SEEDS = 100_000  # seeds of one study (a count, or the length of a list)
MAX_SEED = 2**32 - 1  # a seed value
MAX_COUNT = 10_000_000  # training/test sizes and budgets: more than any tabular benchmark has cells
MAX_JOBS = 1_024
T = TypeVar("T")


class ExperimentError(PredictBenchError, ValueError):
    """An experiment file (or its name) is not valid."""


@dataclass(frozen=True)
class Component:
    """One predictor or searcher of a study: its label in results, registered name, options and requirements."""

    label: str
    name: str
    params: Mapping[str, Any]
    requires: tuple[str, ...] = ()


@dataclass(frozen=True)
class DataHint:
    """How to convert the experiment's benchmarks when they are not converted yet."""

    converter: str
    source: str | None = None


@dataclass(frozen=True)
class PredictorSection:
    """A predictor study: models x training sizes x seeds, Kendall τ on ``test_size`` held-out cells."""

    models: tuple[Component, ...]
    sizes: tuple[int | str, ...]
    seeds: tuple[int, ...] = tuple(range(20))
    test_size: int | None = 200  # None: protocols without a test sample
    target: str | None = None
    jobs: int = 1
    protocol: str = "sample"
    twin_free: bool = False

    def protocol_text(self) -> str:
        """E.g. ``'protocol sample, test size 200'`` or ``'protocol rest, twin-free'``."""
        twin = ", twin-free" if self.twin_free else ""
        size = f", test size {self.test_size}" if self.test_size is not None else ""
        return f"protocol {self.protocol}{twin}{size}"


@dataclass(frozen=True)
class SearchSection:
    """A search study: searchers x seeds at a budget of distinct architectures."""

    searchers: tuple[Component, ...]
    budget: int = 100
    seeds: tuple[int, ...] = tuple(range(20))
    jobs: int = 1
    search_metric: str | None = None
    report_metric: str | None = None


@dataclass(frozen=True)
class MultiObjectiveSection:
    """A multi-objective search study: searchers x seeds at a budget; hypervolume of each run's Pareto front.

    ``objectives`` are ``'metric'`` or ``'metric@fidelity'`` texts checked against each benchmark when its study
    is built; None means the store's default pair.
    """

    searchers: tuple[Component, ...]
    objectives: tuple[str, ...] | None = None
    budget: int = 100
    seeds: tuple[int, ...] = tuple(range(20))
    jobs: int = 1


@dataclass(frozen=True)
class Experiment:
    """A validated experiment file (see the module docstring for the schema)."""

    name: str
    description: str
    benchmarks: tuple[str, ...]
    results: Path
    report: Path
    predictors: PredictorSection | None = None
    search: SearchSection | None = None
    data: DataHint | None = None
    source: str = "<memory>"
    multiobjective: MultiObjectiveSection | None = None

    @property
    def predictor_results(self) -> Path:
        return self.results / "predictors.jsonl"

    @property
    def search_results(self) -> Path:
        return self.results / "search.jsonl"

    @property
    def multiobjective_results(self) -> Path:
        return self.results / "multiobjective.jsonl"

    def with_overrides(
        self,
        *,
        seeds: int | None = None,
        jobs: int | None = None,
        results: Path | None = None,
        report: Path | None = None,
    ) -> Experiment:
        """A copy with the command line's overrides applied (seeds 0..seeds-1 and jobs for every study)."""
        exp = self
        for value, key, maximum in ((seeds, "--seeds", MAX_SEEDS), (jobs, "--jobs", MAX_JOBS)):
            if value is not None and not _int_in(value, 1, maximum):
                raise ExperimentError(f"{key} must be an integer in 1..{maximum}, got {value!r}")
        changes: dict[str, Any] = {}
        if seeds is not None:
            changes["seeds"] = tuple(range(seeds))
        if jobs is not None:
            changes["jobs"] = jobs
        if changes and exp.predictors is not None:
            exp = replace(exp, predictors=replace(exp.predictors, **changes))
        if changes and exp.search is not None:
            exp = replace(exp, search=replace(exp.search, **changes))
        if changes and exp.multiobjective is not None:
            exp = replace(exp, multiobjective=replace(exp.multiobjective, **changes))
        if results is not None:
            exp = replace(exp, results=Path(results))
        if report is not None:
            exp = replace(exp, report=Path(report))
        return exp


def parse_spec(spec: str) -> Component:
    """A command-line component spec ``'lgbm:encoding=path,n_estimators=200'`` (label = the spec).

    Values are Python literals when they parse as one (``200``, ``0.1``, ``True``, ``(64, 64)``), else strings;
    commas inside brackets or quotes do not separate options.
    """
    name, _, options = spec.partition(":")
    params: dict[str, Any] = {}
    for item in filter(None, _top_level_split(options)):
        key, eq, value = item.partition("=")
        if not eq or not key.strip():
            raise ExperimentError(f"expected key=value in {spec!r}, got {item!r}")
        params[key.strip()] = _literal(value.strip())
    if not name.strip():
        raise ExperimentError(f"component spec {spec!r} has no name before ':'")
    return Component(label=spec, name=name.strip(), params=params)


def _top_level_split(text: str) -> list[str]:
    """Split on commas outside brackets and quotes: ``"a=(1, 2),b=x"`` -> ``["a=(1, 2)", "b=x"]``."""
    parts: list[str] = []
    current: list[str] = []
    depth, quote = 0, ""
    for char in text:
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char in "([{":
            depth += 1
        elif char in ")]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append("".join(current))
            current = []
            continue
        current.append(char)
    parts.append("".join(current))
    return parts


def _literal(text: str) -> Any:
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError):
        return text


def shipped_experiments() -> dict[str, Path]:
    """The experiment files shipped with the package, by name (the file stem)."""
    return {path.stem: path for path in sorted(SHIPPED_DIR.glob("*.toml"))}


def resolve_experiment(name_or_path: str | Path) -> Path:
    """The file of a shipped experiment name, or ``name_or_path`` itself when it is a file."""
    path = Path(name_or_path)
    if path.is_file():
        return path
    shipped = shipped_experiments()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    if path.suffix == ".toml" or len(path.parts) > 1:
        raise ExperimentError(f"experiment file not found: {path}")
    close = difflib.get_close_matches(str(name_or_path), list(shipped), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(repr(c) for c in close)}?" if close else ""
    raise ExperimentError(
        f"unknown experiment {str(name_or_path)!r}: not a file and not a shipped experiment.{hint} "
        f"Shipped: {', '.join(shipped) or '(none)'} (see `predictbench run --list`)"
    )


def load_experiment(name_or_path: str | Path, *, root: Path | None = None) -> Experiment:
    """Read and validate an experiment file (a path, or the name of a shipped experiment).

    ``root`` is the data folder whose converted stores count as known benchmarks besides the catalog.
    """
    path = resolve_experiment(name_or_path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ExperimentError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ExperimentError(f"{path}: not a UTF-8 text file ({exc.reason})") from exc
    return parse_experiment(data, source=str(path), root=root)


def parse_experiment(data: Mapping[str, Any], *, source: str = "<memory>", root: Path | None = None) -> Experiment:
    """Validate a parsed TOML mapping into an :class:`Experiment`.

    Every problem of the file is reported at once: one :class:`ExperimentError` naming ``source`` and, for each
    key with a problem, the key and what was expected.
    """
    top = _Table(data, source, "")
    name = top.attempt(lambda: top.string("name", required=True, pattern=_NAME_PATTERN), "")
    description = top.attempt(lambda: top.string("description", required=True), "")
    benchmarks: list[str] = top.attempt(lambda: top.string_list("benchmarks", required=True), [])
    if "benchmarks" in data:
        top.attempt(lambda: _check_benchmarks(top, benchmarks, root), None)
    results = Path(top.attempt(lambda: top.string("results", default=f"results/{name}"), ""))
    report = Path(top.attempt(lambda: top.string("report", default=f"reports/{name}"), ""))
    data_table, predictor_table, search_table, mo_table = (
        top.attempt(functools.partial(top.table, key), None) for key in ("data", *_STUDIES)
    )
    top.attempt(top.finish, None)
    data_hint = _data_hint(data_table) if data_table else None
    predictors = _predictor_section(predictor_table) if predictor_table else None
    search = _search_section(search_table) if search_table else None
    multiobjective = _multiobjective_section(mo_table) if mo_table else None
    if not any(key in data for key in _STUDIES):
        top.problems.append(
            "an experiment needs at least one study section: [predictors], [search] or [multiobjective]"
        )
    if top.problems:
        problems = top.problems
        listed = problems[0] if len(problems) == 1 else f"{len(problems)} problems: " + "; ".join(problems)
        schema = " (the schema: docs/experiments.md)" if any(p.startswith("missing") for p in problems) else ""
        raise ExperimentError(f"{source}: {listed}{schema}")
    return Experiment(
        name=name,
        description=description,
        benchmarks=tuple(benchmarks),
        results=results,
        report=report,
        predictors=predictors,
        search=search,
        data=data_hint,
        source=source,
        multiobjective=multiobjective,
    )


def _check_benchmarks(top: _Table, names: list[str], root: Path | None) -> None:
    from predictbench.benchmarks.catalog import CATALOG, converted_stores

    if not names:
        top.fail("benchmarks", "at least one benchmark name", [])
    known = sorted(set(CATALOG) | set(converted_stores(root)))
    for name in names:
        if name not in known:
            top.fail_unknown("benchmarks", "benchmark", name, known)


def _data_hint(table: _Table) -> DataHint:
    from predictbench.benchmarks.convert import CONVERTERS

    def converter() -> str:
        name = table.string("converter", required=True)
        if name not in CONVERTERS:
            table.fail_unknown("converter", "converter", name, CONVERTERS.names())
        return name

    hint = DataHint(
        converter=table.attempt(converter, ""),
        source=table.attempt(lambda: table.string("source", default=""), "") or None,
    )
    table.attempt(table.finish, None)
    return hint


def _predictor_section(table: _Table) -> PredictorSection:
    from predictbench.predictors import PREDICTORS
    from predictbench.studies.predictor_study import DEFAULT_TRAIN_SIZES
    from predictbench.studies.splits import DEFAULT_TEST_SIZE

    section = PredictorSection(
        models=table.attempt(lambda: _components(table, "models", PREDICTORS), ()),
        sizes=tuple(table.attempt(lambda: _train_sizes(table, DEFAULT_TRAIN_SIZES), [])),
        seeds=table.attempt(lambda: table.seeds("seeds"), ()),
        test_size=table.attempt(lambda: _test_size(table), None),
        target=table.attempt(lambda: table.metric("target"), None),
        jobs=table.attempt(lambda: table.integer("jobs", default=1, minimum=1, maximum=MAX_JOBS), 1),
        protocol=table.attempt(lambda: _protocol(table), "sample"),
        twin_free=table.attempt(lambda: table.boolean("twin_free", default=False), False),
    )
    if section.protocol != "sample" and section.test_size is not None:
        table.attempt(lambda: table.fail("test_size", "no test_size with protocol " + repr(section.protocol)
                                         + " (it tests on every cell not used for training, or every cell)",
                                         section.test_size), None)  # fmt: skip
    if section.protocol == "sample" and section.test_size is None:
        section = replace(section, test_size=DEFAULT_TEST_SIZE)
    if section.twin_free and section.protocol == "all-including-train":
        table.attempt(lambda: table.fail("twin_free", "false with protocol 'all-including-train' (its test set "
                                         "includes the training cells)", True), None)  # fmt: skip
    table.attempt(table.finish, None)
    return section


def _train_sizes(table: _Table, default: tuple[int, ...]) -> list[int | str]:
    """``sizes``: distinct counts in 2..MAX_COUNT or percentages of the store's cells such as ``"0.5%"``."""
    from predictbench.studies.splits import TrainSize

    value = table.raw("sizes", default=list(default))
    expected = f'a non-empty list of integers in 2..{MAX_COUNT} or percentages such as "0.5%"'
    if not isinstance(value, list) or not value:
        table.fail("sizes", expected, value)
    for item in value:
        try:
            size = TrainSize.parse(item)
        except ValueError as exc:
            table.fail("sizes", f"{expected} ({exc})", value)
        if size.count is not None and not 2 <= size.count <= MAX_COUNT:
            table.fail("sizes", expected, value)
    if len({str(v) for v in value}) != len(value):
        table.fail("sizes", "distinct values", value)
    return list(value)


def _test_size(table: _Table) -> int | None:
    if "test_size" not in table.data:
        table.allowed.append("test_size")
        return None
    return table.integer("test_size", default=0, minimum=20, maximum=MAX_COUNT)


def _protocol(table: _Table) -> str:
    from predictbench.studies.splits import PROTOCOLS

    name = table.string("protocol", default="sample")
    if name not in PROTOCOLS:
        table.fail_unknown("protocol", "test protocol", name, list(PROTOCOLS))
    return name


def _search_section(table: _Table) -> SearchSection:
    from predictbench.search import SEARCHERS

    section = SearchSection(
        searchers=table.attempt(lambda: _components(table, "searchers", SEARCHERS, extra_fixed=("space",)), ()),
        budget=table.attempt(lambda: table.integer("budget", default=100, minimum=1, maximum=MAX_COUNT), 0),
        seeds=table.attempt(lambda: table.seeds("seeds"), ()),
        jobs=table.attempt(lambda: table.integer("jobs", default=1, minimum=1, maximum=MAX_JOBS), 1),
        search_metric=table.attempt(lambda: table.metric("search_metric"), None),
        report_metric=table.attempt(lambda: table.metric("report_metric"), None),
    )
    table.attempt(table.finish, None)
    return section


def _multiobjective_section(table: _Table) -> MultiObjectiveSection:
    from predictbench.multiobjective import MO_SEARCHERS

    objectives = table.attempt(lambda: table.metric_list("objectives", minimum=2), None)
    section = MultiObjectiveSection(
        searchers=table.attempt(lambda: _components(table, "searchers", MO_SEARCHERS, extra_fixed=("space",)), ()),
        objectives=None if objectives is None else tuple(objectives),
        budget=table.attempt(lambda: table.integer("budget", default=100, minimum=1, maximum=MAX_COUNT), 0),
        seeds=table.attempt(lambda: table.seeds("seeds"), ()),
        jobs=table.attempt(lambda: table.integer("jobs", default=1, minimum=1, maximum=MAX_JOBS), 1),
    )
    table.attempt(table.finish, None)
    return section


def _components(
    table: _Table, key: str, registry: Registry, extra_fixed: tuple[str, ...] = ()
) -> tuple[Component, ...]:
    raw = table.raw(key, required=True)
    components: list[Component] = []
    if isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        for item in raw:
            try:
                components.append(parse_spec(item))
            except ExperimentError as exc:
                raise ExperimentError(f"{table.source}: key '{table.where(key)}': {exc}") from None
    elif isinstance(raw, dict) and raw:
        for label, options in raw.items():
            if not isinstance(options, dict):
                table.fail(f"{key}.{label}", "a table of options (e.g. {} or { name = ..., option = ... })", options)
            components.append(_component_from_table(table, f"{key}.{label}", label, dict(options)))
    else:
        table.fail(key, 'a non-empty list of specs like "name:option=value", or a table of label = { ... }', raw)
    labels = [c.label for c in components]
    if len(set(labels)) != len(labels):
        table.fail(key, "distinct labels", sorted({x for x in labels if labels.count(x) > 1}))
    for component in components:
        check_component(component, registry, f"{table.source}: key '{table.where(key)}.{component.label}'", extra_fixed)
    return tuple(components)


def _component_from_table(table: _Table, key: str, label: str, options: dict[str, Any]) -> Component:
    name = options.pop("name", label)
    if not isinstance(name, str):
        table.fail(f"{key}.name", "a registered name (string)", name)
    requires = options.pop("requires", [])
    if isinstance(requires, str):
        requires = [requires]
    if not isinstance(requires, list) or not all(isinstance(r, str) and r for r in requires):
        table.fail(f"{key}.requires", "a module name or a list of module names", requires)
    return Component(label=label, name=name, params=options, requires=tuple(requires))


def check_component(component: Component, registry: Registry, where: str, extra_fixed: tuple[str, ...] = ()) -> None:
    """Check a component's name against ``registry`` and its options' names, types and limits against the
    component's signature (:func:`~predictbench.validation.check_options`), before anything is built or run.

    ``where`` starts the message (e.g. ``"exp.toml: key 'search.searchers.guided'"``); ``seed`` and
    ``extra_fixed`` are set by the studies and rejected as options. Values the signature cannot describe are
    checked when the component is built.
    """
    from predictbench.validation import check_options

    if component.name not in registry:
        raise ExperimentError(f"{where}: {unknown_name(registry.kind, component.name, registry.names())}")
    target = registry.get(component.name)
    who = f"{registry.kind} {component.name!r}"
    try:
        check_options(target, component.params, who=who, fixed=("seed", *extra_fixed))
    except ValueError as exc:
        raise ExperimentError(f"{where}: {exc}") from None


class _Table:
    """Typed reads from one TOML table; every read key is consumed and :meth:`finish` rejects the rest."""

    def __init__(self, data: Mapping[str, Any], source: str, prefix: str, problems: list[str] | None = None) -> None:
        if not isinstance(data, Mapping):
            raise ExperimentError(f"{source}: key '{prefix}': expected a table, got {type(data).__name__}")
        self.data = dict(data)
        self.source = source
        self.prefix = prefix
        self.allowed: list[str] = []
        self.problems: list[str] = [] if problems is None else problems  # shared with the sub-tables

    def attempt(self, read: Callable[[], T], default: T) -> T:
        """``read()``, or ``default`` after recording its problem, so that a file's problems are reported at once."""
        try:
            return read()
        except ExperimentError as exc:
            self.problems.append(str(exc).removeprefix(f"{self.source}: "))
            return default

    def where(self, key: str) -> str:
        return f"{self.prefix}.{key}" if self.prefix else key

    def fail(self, key: str, expected: str, got: Any) -> NoReturn:
        shown = f"{got!r} ({type(got).__name__})" if not isinstance(got, (list, dict)) else repr(got)
        raise ExperimentError(f"{self.source}: key '{self.where(key)}': expected {expected}, got {shown}")

    def fail_unknown(self, key: str, kind: str, name: str, known: list[str]) -> NoReturn:
        raise ExperimentError(f"{self.source}: key '{self.where(key)}': {unknown_name(kind, name, known)}")

    def raw(self, key: str, *, required: bool = False, default: Any = None) -> Any:
        self.allowed.append(key)
        if key not in self.data:
            if required:
                raise ExperimentError(f"{self.source}: missing required key '{self.where(key)}'")
            return default
        return self.data.pop(key)

    def table(self, key: str) -> _Table | None:
        """The sub-table ``key``, or None when it is absent."""
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, dict):
            self.fail(key, "a table ([section])", value)
        return _Table(value, self.source, self.where(key), self.problems)

    def string(
        self, key: str, *, required: bool = False, default: str = "", pattern: re.Pattern[str] | None = None
    ) -> str:
        value = self.raw(key, required=required, default=default)
        if not isinstance(value, str):
            self.fail(key, "a string", value)
        if pattern is not None and not pattern.fullmatch(value):
            self.fail(key, "letters, digits, '.', '_' or '-' (starting with a letter or digit)", value)
        return str(value)

    def string_list(self, key: str, *, required: bool = False) -> list[str]:
        value = self.raw(key, required=required, default=[])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            self.fail(key, "a list of strings", value)
        return list(value)

    def integer(self, key: str, *, default: int, minimum: int, maximum: int) -> int:
        value = self.raw(key, default=default)
        if not _int_in(value, minimum, maximum):
            self.fail(key, f"an integer in {minimum}..{maximum}", value)
        return int(value)

    def int_list(self, key: str, *, default: list[int], minimum: int, maximum: int) -> list[int]:
        value = self.raw(key, default=default)
        if not isinstance(value, list) or not value or not all(_int_in(v, minimum, maximum) for v in value):
            self.fail(key, f"a non-empty list of integers in {minimum}..{maximum}", value)
        if len(set(value)) != len(value):
            self.fail(key, "distinct values", value)
        return [int(v) for v in value]

    def boolean(self, key: str, *, default: bool) -> bool:
        value = self.raw(key, default=default)
        if not isinstance(value, bool):
            self.fail(key, "true or false", value)
        return value

    def seeds(self, key: str) -> tuple[int, ...]:
        value = self.raw(key, default=20)
        if _int_in(value, 1, MAX_SEEDS):
            return tuple(range(value))
        if (
            isinstance(value, list)
            and 0 < len(value) <= MAX_SEEDS
            and all(_int_in(v, 0, MAX_SEED) for v in value)
            and len(set(value)) == len(value)
        ):
            return tuple(int(v) for v in value)
        self.fail(
            key,
            f"a count in 1..{MAX_SEEDS} (seeds 0..count-1) or a list of at most {MAX_SEEDS} distinct seeds "
            f"in 0..{MAX_SEED}",
            value if not isinstance(value, list) or len(value) <= 10 else f"a list of {len(value)}",
        )

    def metric(self, key: str) -> str | None:
        value = self.raw(key)
        if value is None:
            return None
        if not isinstance(value, str) or not re.fullmatch(r"[^@\s]+(@\d+)?", value):
            self.fail(key, "'metric' or 'metric@fidelity' (e.g. 'test_acc@200')", value)
        return str(value)

    def metric_list(self, key: str, *, minimum: int) -> list[str] | None:
        value = self.raw(key)
        if value is None:
            return None
        if (
            not isinstance(value, list)
            or len(value) < minimum
            or not all(isinstance(v, str) and re.fullmatch(r"[^@\s]+(@\d+)?", v) for v in value)
        ):
            self.fail(key, f"a list of at least {minimum} 'metric' or 'metric@fidelity' strings", value)
        if len(set(value)) != len(value):
            self.fail(key, "distinct values", value)
        return [str(v) for v in value]

    def finish(self) -> None:
        if self.data:
            key = next(iter(self.data))
            close = difflib.get_close_matches(key, self.allowed, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ExperimentError(
                f"{self.source}: unknown key '{self.where(key)}'.{hint} Expected one of: {', '.join(self.allowed)}"
            )


def _int_in(value: Any, minimum: int, maximum: int) -> bool:
    """Whether ``value`` is an int (not a bool) in ``minimum..maximum``."""
    return isinstance(value, int) and not isinstance(value, bool) and minimum <= value <= maximum


def metric_ref(text: str | None) -> tuple[str, int | None] | None:
    """``'test_acc@200'`` -> ``('test_acc', 200)``; ``'test_acc'`` -> ``('test_acc', None)``."""
    if text is None:
        return None
    metric, _, fidelity = text.partition("@")
    return metric, int(fidelity) if fidelity else None
