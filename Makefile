# predictbench developer targets. `make test` is what CI runs (see .ci/run and README.md).
PY ?= python3

.PHONY: test lint typecheck unit test-slow bench format quickstart

test: lint typecheck unit

lint:
	$(PY) -m ruff check predictbench tests benchmarks scripts notebooks
	$(PY) -m ruff format --check predictbench tests benchmarks scripts notebooks

typecheck:
	$(PY) -m mypy predictbench

# pytest exits 5 when it collected no test: that must fail, not pass silently
unit:
	$(PY) -m pytest -q; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests" >&2; exit 1; fi; exit $$rc

test-slow:
	$(PY) -m pytest -q -m slow; rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no slow tests" >&2; exit 1; fi; exit $$rc

bench:
	$(PY) benchmarks/bench_load.py

format:
	$(PY) -m ruff check --fix predictbench tests benchmarks scripts notebooks
	$(PY) -m ruff format predictbench tests benchmarks scripts notebooks

quickstart:
	predictbench quickstart
