"""Converters: one file per raw source, each ``convert(source, *, root, force=False, **options)``.

A converter reads raw files once (``predictbench data convert NAME [SOURCE]``) and writes canonical stores;
``load()`` never converts or downloads. Converters are idempotent: a store whose provenance records the same
converter version and input hashes is left as it is unless ``force=True``.
"""

from __future__ import annotations

from predictbench.registry import Registry

CONVERTERS = Registry("converter")
CONVERTERS.register("analog-nasbench", "predictbench.benchmarks.convert.analog:convert")
CONVERTERS.register("nats-tss", "predictbench.benchmarks.convert.nats:convert_tss")
CONVERTERS.register("nats-sss", "predictbench.benchmarks.convert.nats:convert_sss")
CONVERTERS.register("nb201-pth", "predictbench.benchmarks.convert.nb201_pth:convert")
CONVERTERS.register("table", "predictbench.benchmarks.convert.table:convert")
CONVERTERS.register("nb201-tables", "predictbench.benchmarks.convert.nb201_tables:convert")
CONVERTERS.register("nb101-tfrecord", "predictbench.benchmarks.convert.nb101_tfrecord:convert")
CONVERTERS.register("nas-bench-graph", "predictbench.benchmarks.convert.nbgraph:convert")

__all__ = ["CONVERTERS"]
