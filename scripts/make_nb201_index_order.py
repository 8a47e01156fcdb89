"""Generate ``predictbench/spaces/data/nb201_index_order.npy`` from the official NATS-tss meta file.

Usage::

    PYTHONPATH=. python3 scripts/make_nb201_index_order.py \\
        ../shared/benchmarks_data/nb201/official_nats_tss_samples/meta.pickle.pbz2

The meta file (``NATS-tss-v1_0-3ffb9-simple/meta.pickle.pbz2``, a bz2-compressed pickle of a dict whose
``meta_archs`` lists the 15,625 arch strings in official index order) is read with an unpickler that
refuses every global, so no code from the file can run. The output is a uint16 array whose element i is
the product code (``sum(op_e * 5 ** (5 - e))``, official op ids, first edge most significant) of the
cell with official index i. It is written atomically (temporary file in the target folder, then
``os.replace``).
"""

from __future__ import annotations

import argparse
import bz2
import hashlib
import io
import os
import pickle
import sys
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parents[1] / "predictbench" / "spaces" / "data" / "nb201_index_order.npy"
NUM_CELLS = 15625


class _NoGlobalsUnpickler(pickle.Unpickler):
    def find_class(self, module: str, name: str) -> Any:
        raise pickle.UnpicklingError(f"refusing to load global {module}.{name} from the meta file")


def read_meta_archs(path: Path) -> list[str]:
    with bz2.open(path, "rb") as fh:
        meta = _NoGlobalsUnpickler(io.BytesIO(fh.read())).load()
    if not isinstance(meta, dict) or "meta_archs" not in meta:
        raise SystemExit(f"{path}: expected a dict with 'meta_archs', got {type(meta).__name__}")
    archs = meta["meta_archs"]
    if not isinstance(archs, list) or len(archs) != NUM_CELLS or not all(isinstance(a, str) for a in archs):
        raise SystemExit(f"{path}: 'meta_archs' must be a list of {NUM_CELLS} strings")
    return archs


def index_order(archs: list[str]) -> np.ndarray:
    from predictbench.spaces.nb201 import product_codes

    codes = product_codes(archs)
    if not np.array_equal(np.sort(codes), np.arange(NUM_CELLS)):
        raise SystemExit("meta_archs is not a permutation of the 15,625 NB201 cells")
    return codes.astype(np.uint16)


def write_atomic(array: np.ndarray, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, array, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o644)  # mkstemp creates 0600
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("meta", type=Path, help="path to the official NATS-tss meta.pickle.pbz2")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output .npy (default: {DEFAULT_OUT})")
    args = parser.parse_args(argv)
    order = index_order(read_meta_archs(args.meta))
    write_atomic(order, args.out)
    digest = hashlib.sha256(args.out.read_bytes()).hexdigest()
    print(f"wrote {args.out} ({order.dtype}, {order.shape[0]} cells, sha256 {digest})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
