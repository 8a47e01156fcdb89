"""Convert the official NAS-Bench-101 files into the store ``nb101/cifar10``, without TensorFlow.

Source files (https://github.com/google-research/nasbench): ``nasbench_full.tfrecord`` (4, 12, 36 and
108 epochs) and ``nasbench_only108.tfrecord`` (108 epochs only); 3 training runs per cell and budget.

TFRecord framing
----------------
A TFRecord file is a sequence of records, each::

    uint64 length (little-endian) | uint32 masked_crc32c(length bytes) | data | uint32 masked_crc32c(data)

where ``masked_crc32c(x) = ((c >> 15) | (c << 17)) + 0xA282EAD8 (mod 2**32)`` and ``c`` is the CRC-32C
(Castagnoli) of ``x``. Both checksums are verified (``check_crc=False`` skips the data checksums); a
mismatch or a file that ends inside a record raises :class:`~predictbench.types.DataFormatError` naming
the file and the record number. CRC-32C is computed with numpy, vectorised over records; when the
``google-crc32c`` or ``crc32c`` package is installed it is used instead (faster).

Records
-------
Each record's data is the JSON list ``[hash, epochs, adjacency, ops, metrics]``: the module hash, the
training budget in epochs, the row-major 0/1 adjacency string of the (pruned) spec, the comma-separated
ops and a base64 protobuf ``nasbench.ModelMetrics`` (``nasbench/lib/model_metrics.proto``)::

    message ModelMetrics {
      repeated EvaluationData evaluation_data = 1;
      optional int32 trainable_parameters = 2;
      optional double total_time = 3;
    }
    message EvaluationData {
      optional double current_epoch = 1;
      optional double training_time = 2;      // seconds, without evaluation time
      optional double train_accuracy = 3;     // fractions 0..1
      optional double validation_accuracy = 4;
      optional double test_accuracy = 5;
      optional string checkpoint_path = 6;
    }

The protobuf wire format (varints, 64-bit fixed doubles, length-delimited fields) is decoded here with
numpy over whole batches of records; unknown fields are skipped. As in the official API, evaluation 0
is the initialisation, evaluation 1 the halfway point (``epochs / 2``) and the last one the end of
training.

Store
-----
``nb101/cifar10`` (space ``nb101``): one row per cell in ``archs.parquet`` (``key`` = hash,
``num_vertices``, ``num_edges``); in ``results.parquet`` one row per training run (``seed`` = 0, 1, 2 in
file order for each cell and budget, ``fidelity`` = epochs) plus the mean over the runs
(``seed == -1``, the default value). Metrics (accuracies converted from NB101's fractions to %):

- ``train_acc``, ``valid_acc``, ``test_acc`` (%): at the end of training;
- ``train_time`` (s, cost): training time of the run (without evaluation);
- ``halfway_train_acc``, ``halfway_valid_acc``, ``halfway_test_acc`` (%), ``halfway_train_time`` (s): at
  ``epochs / 2`` of that run (NB101's ``stop_halfway`` values; NaN when the record has no halfway point);
- ``params`` (count, cost): trainable parameters; ``total_time`` (s, cost): training plus evaluation time.

Search metric ``valid_acc`` at 108 epochs, report metric ``test_acc`` at 108 epochs. :func:`write_tfrecord`
writes files in the official format (used by the tests and by ``benchmarks/bench_nb101.py``).

Examples
--------
>>> from predictbench.benchmarks.convert.nb101_tfrecord import convert
>>> convert("~/data/nasbench_only108.tfrecord", root="benchmarks_data")  # doctest: +SKIP
"""

from __future__ import annotations

import base64
import binascii
import functools
import json
import logging
import mmap
import struct
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from predictbench.benchmarks.convert.base import hash_inputs, is_current
from predictbench.benchmarks.store import MetricRef, StoreMeta, provenance, write_store
from predictbench.paths import atomic_path, data_root
from predictbench.types import DataFormatError, Metric

log = logging.getLogger(__name__)

CONVERTER = "nb101-tfrecord"
VERSION = "1"
STORE_NAME = "nb101/cifar10"
FILES = ("nasbench_full.tfrecord", "nasbench_only108.tfrecord")
"""Official file names, in order of preference when ``source`` is a folder."""
CITATION = (
    "Ying, Klein, Real, Christiansen, Murphy, Hutter. NAS-Bench-101: Towards Reproducible Neural Architecture "
    "Search. ICML 2019. https://github.com/google-research/nasbench"
)
Verify = Literal["keys", "spec", "none"]

_MASK_DELTA = 0xA282EAD8
_POLY = 0x82F63B78
_HEADER = 12  # uint64 length + uint32 crc
_CHUNK_RECORDS = 200_000


# --------------------------------------------------------------------------------------------------
# CRC-32C
# --------------------------------------------------------------------------------------------------


@functools.cache
def _crc_tables() -> np.ndarray:
    """(4, 256) uint32 slicing-by-4 tables of the reflected Castagnoli polynomial."""
    t0 = np.zeros(256, dtype=np.uint32)
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ (_POLY if c & 1 else 0)
        t0[i] = c
    tables = [t0]
    for _ in range(3):
        prev = tables[-1]
        tables.append((prev >> np.uint32(8)) ^ t0[prev & np.uint32(0xFF)])
    return np.stack(tables)


@functools.cache
def _native_crc32c() -> Any:
    """A C implementation of CRC-32C (``google_crc32c.value`` or ``crc32c.crc32c``) when installed."""
    try:
        import google_crc32c

        if getattr(google_crc32c, "implementation", "c") == "c":
            return google_crc32c.value
    except ImportError:
        pass
    try:
        import crc32c

        return crc32c.crc32c
    except ImportError:
        return None


def crc32c_batch(buffer: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """CRC-32C (uint32) of the byte ranges ``buffer[start:start + length]``, vectorised over ranges.

    Examples
    --------
    >>> hex(int(crc32c_batch(np.frombuffer(b"123456789", np.uint8), np.array([0]), np.array([9]))[0]))
    '0xe3069283'
    """
    buf = np.asarray(buffer, dtype=np.uint8)
    starts = np.asarray(starts, dtype=np.int64)
    lengths = np.asarray(lengths, dtype=np.int64)
    n = len(starts)
    native = _native_crc32c()
    if native is not None:
        raw = memoryview(buf.data)
        return np.fromiter(
            (native(raw[s : s + n_]) for s, n_ in zip(starts.tolist(), lengths.tolist(), strict=True)),
            dtype=np.uint32,
            count=n,
        )
    t0, t1, t2, t3 = _crc_tables()
    order = np.argsort(-lengths, kind="stable")
    s = starts[order]
    words = lengths[order] // 4
    crc = np.full(n, 0xFFFFFFFF, dtype=np.uint32)
    neg_words = -words
    mask = np.uint32(0xFF)
    for j in range(int(words.max()) if n else 0):
        k = int(np.searchsorted(neg_words, -j, side="left"))  # ranges with more than j words
        pos = s[:k] + 4 * j
        c = crc[:k] ^ (
            buf[pos].astype(np.uint32)
            | (buf[pos + 1].astype(np.uint32) << np.uint32(8))
            | (buf[pos + 2].astype(np.uint32) << np.uint32(16))
            | (buf[pos + 3].astype(np.uint32) << np.uint32(24))
        )
        crc[:k] = (
            t3[c & mask] ^ t2[(c >> np.uint32(8)) & mask] ^ t1[(c >> np.uint32(16)) & mask] ^ t0[c >> np.uint32(24)]
        )
    tail = lengths[order] % 4
    for t in range(3):
        rows = np.flatnonzero(tail > t)
        if len(rows):
            b = buf[s[rows] + 4 * words[rows] + t].astype(np.uint32)
            c = crc[rows]
            crc[rows] = t0[(c ^ b) & mask] ^ (c >> np.uint32(8))
    out = np.empty(n, dtype=np.uint32)
    out[order] = ~crc
    return out


def _mask(crc: np.ndarray) -> np.ndarray:
    c = crc.astype(np.uint64)
    return ((((c >> np.uint64(15)) | (c << np.uint64(17))) + np.uint64(_MASK_DELTA)) & np.uint64(0xFFFFFFFF)).astype(
        np.uint32
    )


def masked_crc32c(data: bytes) -> int:
    """TFRecord's masked CRC-32C of ``data``."""
    arr = np.frombuffer(data, dtype=np.uint8)
    return int(_mask(crc32c_batch(arr, np.array([0]), np.array([len(arr)])))[0])


# --------------------------------------------------------------------------------------------------
# TFRecord framing
# --------------------------------------------------------------------------------------------------


def _open_buffer(path: Path) -> tuple[np.ndarray, Any]:
    """The file as a read-only uint8 array (memory-mapped) and the object to close."""
    handle = path.open("rb")
    try:
        if path.stat().st_size == 0:
            return np.zeros(0, dtype=np.uint8), handle
        mapped = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
    except OSError:
        handle.close()
        raise
    handle.close()
    return np.frombuffer(mapped, dtype=np.uint8), mapped


def _close(closer: Any) -> None:
    try:
        closer.close()
    except BufferError:  # views still referenced (e.g. by an exception's traceback): closed when collected
        pass


def _scan(buf: np.ndarray, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Start of each record's data and its length; raises on a truncated record."""
    size = len(buf)
    raw = memoryview(buf.data)
    unpack = struct.Struct("<Q").unpack_from
    starts: list[int] = []
    lengths: list[int] = []
    pos = 0
    while pos < size:
        record = len(starts)
        if size - pos < _HEADER:
            raise DataFormatError(
                f"{path}: record {record} is truncated: {size - pos} bytes left of its {_HEADER}-byte header "
                f"(file size {size})"
            )
        (length,) = unpack(raw, pos)
        end = pos + _HEADER + length + 4
        if end > size:
            raise DataFormatError(
                f"{path}: record {record} is truncated: it declares {length} data bytes + 4 checksum bytes, "
                f"{max(0, size - pos - _HEADER)} remain (file size {size})"
            )
        starts.append(pos + _HEADER)
        lengths.append(length)
        pos = end
    return np.array(starts, dtype=np.int64), np.array(lengths, dtype=np.int64)


def _stored_u32(buf: np.ndarray, positions: np.ndarray) -> np.ndarray:
    b = [buf[positions + k].astype(np.uint32) << np.uint32(8 * k) for k in range(4)]
    return b[0] | b[1] | b[2] | b[3]


def _check_crcs(buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, path: Path, *, data: bool) -> None:
    header = starts - _HEADER
    computed = _mask(crc32c_batch(buf, header, np.full(len(header), 8, dtype=np.int64)))
    stored = _stored_u32(buf, header + 8)
    _raise_mismatch(computed, stored, path, "length", first=0)
    if not data:
        return
    for lo in range(0, len(starts), _CHUNK_RECORDS):
        hi = lo + _CHUNK_RECORDS
        computed = _mask(crc32c_batch(buf, starts[lo:hi], lengths[lo:hi]))
        stored = _stored_u32(buf, starts[lo:hi] + lengths[lo:hi])
        _raise_mismatch(computed, stored, path, "data", first=lo)


def _raise_mismatch(computed: np.ndarray, stored: np.ndarray, path: Path, what: str, first: int) -> None:
    bad = np.flatnonzero(computed != stored)
    if len(bad):
        i = int(bad[0])
        raise DataFormatError(
            f"{path}: record {first + i}: {what} checksum mismatch (stored 0x{int(stored[i]):08x}, computed "
            f"0x{int(computed[i]):08x}; {len(bad)} bad record(s) in this batch): the file is corrupt"
        )


def iter_tfrecord(path: str | Path, *, check_crc: bool = True) -> Iterator[bytes]:
    """The data of every record of a TFRecord file, checksums verified first.

    Raises ``DataFormatError`` (naming the file and the record number) on truncation or a checksum
    mismatch, before yielding anything.
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"TFRecord file not found: {path}")
    buf, closer = _open_buffer(path)
    try:
        starts, lengths = _scan(buf, path)
        _check_crcs(buf, starts, lengths, path, data=check_crc)
        for s, n in zip(starts.tolist(), lengths.tolist(), strict=True):
            yield buf[s : s + n].tobytes()
    finally:
        del buf
        _close(closer)


# --------------------------------------------------------------------------------------------------
# records and the protobuf wire format
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evaluation:
    """One ``EvaluationData`` message (accuracies as fractions 0..1, times in seconds)."""

    current_epoch: float
    training_time: float
    train_accuracy: float
    validation_accuracy: float
    test_accuracy: float
    checkpoint_path: str = ""


@dataclass(frozen=True)
class Record:
    """One record of an official NB101 file: a training run of one cell at one budget.

    Examples
    --------
    >>> ev = [Evaluation(0.0, 0.0, 0.1, 0.1, 0.1), Evaluation(2.0, 5.0, 0.5, 0.4, 0.4),
    ...       Evaluation(4.0, 10.0, 0.6, 0.5, 0.5)]
    >>> rec = Record("0" * 32, 4, "0100", "input,output", ev, trainable_parameters=1000, total_time=12.0)
    >>> Record.from_bytes(rec.to_bytes()) == rec
    True
    """

    hash: str
    epochs: int
    adjacency: str
    ops: str
    evaluations: Sequence[Evaluation] = field(default_factory=tuple)
    trainable_parameters: int = 0
    total_time: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "evaluations", tuple(self.evaluations))

    def metrics_bytes(self) -> bytes:
        """The serialised ``ModelMetrics`` protobuf."""
        out = bytearray()
        for ev in self.evaluations:
            body = bytearray()
            for number, value in enumerate(
                (ev.current_epoch, ev.training_time, ev.train_accuracy, ev.validation_accuracy, ev.test_accuracy),
                start=1,
            ):
                body += _varint(number << 3 | 1) + struct.pack("<d", float(value))
            if ev.checkpoint_path:
                text = ev.checkpoint_path.encode("utf-8")
                body += _varint(6 << 3 | 2) + _varint(len(text)) + text
            out += _varint(1 << 3 | 2) + _varint(len(body)) + body
        out += _varint(2 << 3 | 0) + _varint(int(self.trainable_parameters) & 0xFFFFFFFFFFFFFFFF)
        out += _varint(3 << 3 | 1) + struct.pack("<d", float(self.total_time))
        return bytes(out)

    def to_bytes(self) -> bytes:
        """The record's data: the JSON list the official files hold."""
        metrics = base64.b64encode(self.metrics_bytes()).decode("ascii")
        return json.dumps([self.hash, int(self.epochs), self.adjacency, self.ops, metrics]).encode("utf-8")

    @classmethod
    def from_bytes(cls, data: bytes, where: str = "record") -> Record:
        """Parse one record's data (the inverse of :meth:`to_bytes`)."""
        key, epochs, adjacency, ops, metrics = _split_record(data, where)
        params, total, evaluations = _decode_metrics_scalar(metrics, where)
        return cls(key, epochs, adjacency, ops, evaluations, params, total)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _split_record(data: bytes, where: str) -> tuple[str, int, str, str, bytes]:
    """(hash, epochs, adjacency, ops, metrics protobuf bytes) of one record's JSON."""
    parts = data.split(b'"')
    try:
        plain = len(parts) == 9 and parts[0] == b"[" and parts[8] == b"]" and parts[4] == parts[6] == b", "
        if plain and b"\\" not in data:
            # json.dumps of [str, int, str, str, str] without escapes: read it without the json module
            key, adjacency, ops = parts[1].decode("ascii"), parts[3].decode("ascii"), parts[5].decode("ascii")
            epochs = int(parts[2].strip(b", "))
            b64 = parts[7]
        else:
            value = json.loads(data)
            if not (isinstance(value, list) and len(value) == 5):
                raise ValueError("expected a JSON list of 5 items")
            key, epochs, adjacency, ops, text = value
            if not all(isinstance(x, str) for x in (key, adjacency, ops, text)) or isinstance(epochs, bool):
                raise ValueError("expected [hash, epochs, adjacency, ops, metrics] with 4 strings")
            epochs = int(epochs)
            b64 = text.encode("ascii")
        metrics = binascii.a2b_base64(b64)
    except (ValueError, UnicodeDecodeError, binascii.Error, TypeError) as exc:
        raise DataFormatError(
            f"{where}: not an NB101 record (JSON [hash, epochs, adjacency, ops, base64 metrics]): "
            f"{' '.join(str(exc).split())} (data starts {data[:60]!r})"
        ) from None
    return key, epochs, adjacency, ops, metrics


def _read_varint(data: bytes, pos: int, where: str) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 63:
            raise DataFormatError(f"{where}: truncated or overlong varint in the ModelMetrics protobuf")
        byte = data[pos]
        value |= (byte & 0x7F) << shift
        pos += 1
        shift += 7
        if not byte & 0x80:
            return value, pos


def _fields(data: bytes, where: str) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) of a protobuf message; LEN values as bytes, fixed64 as float."""
    pos = 0
    while pos < len(data):
        tag, pos = _read_varint(data, pos, where)
        number, wire = tag >> 3, tag & 7
        value: Any
        if wire == 0:
            value, pos = _read_varint(data, pos, where)
        elif wire == 1:
            if pos + 8 > len(data):
                raise DataFormatError(f"{where}: truncated 64-bit field {number} in the ModelMetrics protobuf")
            value = struct.unpack_from("<d", data, pos)[0]
            pos += 8
        elif wire == 2:
            length, pos = _read_varint(data, pos, where)
            if pos + length > len(data):
                raise DataFormatError(
                    f"{where}: truncated length-delimited field {number} in the ModelMetrics protobuf"
                )
            value = data[pos : pos + length]
            pos += length
        elif wire == 5:
            if pos + 4 > len(data):
                raise DataFormatError(f"{where}: truncated 32-bit field {number} in the ModelMetrics protobuf")
            value = struct.unpack_from("<f", data, pos)[0]
            pos += 4
        else:
            raise DataFormatError(f"{where}: unsupported protobuf wire type {wire} (field {number})")
        yield number, wire, value


def _decode_metrics_scalar(data: bytes, where: str) -> tuple[int, float, list[Evaluation]]:
    """(trainable_parameters, total_time, evaluations) of a ModelMetrics message (pure Python)."""
    params, total = 0, 0.0
    evaluations: list[Evaluation] = []
    for number, wire, value in _fields(data, where):
        if number == 1 and wire == 2:
            values = [0.0] * 5
            path = ""
            for sub, sub_wire, sub_value in _fields(value, where):
                if 1 <= sub <= 5 and sub_wire == 1:
                    values[sub - 1] = sub_value
                elif sub == 6 and sub_wire == 2:
                    path = sub_value.decode("utf-8", "replace")
            evaluations.append(Evaluation(values[0], values[1], values[2], values[3], values[4], path))
        elif number == 2 and wire == 0:
            params = value - (1 << 64) if value >= 1 << 63 else value
        elif number == 3 and wire == 1:
            total = value
    return params, total, evaluations


class _Walk:
    """Fields of a batch of protobuf messages decoded with numpy (all messages step together)."""

    def __init__(self, buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, where: Sequence[str]) -> None:
        self.buf = buf
        self.where = where
        msgs: list[np.ndarray] = []
        numbers: list[np.ndarray] = []
        wires: list[np.ndarray] = []
        values: list[np.ndarray] = []
        positions: list[np.ndarray] = []
        lengths: list[np.ndarray] = []
        pos = starts.astype(np.int64).copy()
        msg = np.arange(len(starts))
        active = pos < ends
        while active.any():
            msg, pos = msg[active], pos[active]
            end = ends[msg]
            tag, pos = self._varint(pos, end, msg)
            number, wire = tag >> 3, tag & 7
            value = np.zeros(len(pos), dtype=np.int64)
            length = np.zeros(len(pos), dtype=np.int64)
            start = pos.copy()
            is_var = wire == 0
            if is_var.any():
                value[is_var], pos[is_var] = self._varint(pos[is_var], end[is_var], msg[is_var])
                start[is_var] = pos[is_var]
            is_len = wire == 2
            if is_len.any():
                length[is_len], pos[is_len] = self._varint(pos[is_len], end[is_len], msg[is_len])
                start[is_len] = pos[is_len]
            width = np.select([wire == 1, wire == 5], [8, 4], 0)
            length = np.where(is_len, length, width)
            bad = ~np.isin(wire, (0, 1, 2, 5))
            if bad.any():
                i = int(np.flatnonzero(bad)[0])
                raise DataFormatError(
                    f"{where[msg[i]]}: unsupported protobuf wire type {int(wire[i])} (field {int(number[i])})"
                )
            pos = np.where(is_var, pos, start + length)
            over = pos > end
            if over.any():
                i = int(np.flatnonzero(over)[0])
                raise DataFormatError(f"{where[msg[i]]}: truncated field {int(number[i])} in the ModelMetrics protobuf")
            for out, part in zip(
                (msgs, numbers, wires, values, positions, lengths),
                (msg, number, wire, value, start, length),
                strict=True,
            ):
                out.append(part)
            active = pos < end
        empty = np.zeros(0, dtype=np.int64)
        self.msg, self.number, self.wire, self.value, self.pos, self.length = (
            np.concatenate(parts) if parts else empty for parts in (msgs, numbers, wires, values, positions, lengths)
        )
        # stable order: by message, then position (the order of fields in each message)
        order = np.lexsort((self.pos, self.msg))
        for name in ("msg", "number", "wire", "value", "pos", "length"):
            setattr(self, name, getattr(self, name)[order])

    def _varint(self, pos: np.ndarray, end: np.ndarray, msg: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        value = np.zeros(len(pos), dtype=np.uint64)
        going = np.ones(len(pos), dtype=bool)
        pos = pos.copy()
        for k in range(10):
            if not going.any():
                break
            rows = np.flatnonzero(going)
            short = pos[rows] >= end[rows]
            if short.any():
                i = int(rows[np.flatnonzero(short)[0]])
                raise DataFormatError(f"{self.where[msg[i]]}: truncated varint in the ModelMetrics protobuf")
            byte = self.buf[pos[rows]].astype(np.uint64)
            value[rows] |= (byte & np.uint64(0x7F)) << np.uint64(7 * k)
            pos[rows] += 1
            going[rows] = (byte & np.uint64(0x80)) != 0
        if going.any():
            i = int(np.flatnonzero(going)[0])
            raise DataFormatError(f"{self.where[msg[i]]}: overlong varint in the ModelMetrics protobuf")
        return value.view(np.int64), pos

    def doubles(self, rows: np.ndarray) -> np.ndarray:
        """fixed64 values of the given field rows as float64."""
        idx = self.pos[rows][:, None] + np.arange(8)
        return self.buf[idx].copy().view("<f8").reshape(-1)


_EVAL_FIELDS = ("current_epoch", "training_time", "train_accuracy", "validation_accuracy", "test_accuracy")


def decode_model_metrics(
    buffer: np.ndarray, starts: np.ndarray, ends: np.ndarray, where: Sequence[str]
) -> dict[str, Any]:
    """Decode a batch of ``ModelMetrics`` messages ``buffer[starts[i]:ends[i]]`` with numpy.

    Returns ``params`` (n,), ``total_time`` (n,), ``n_evaluations`` (n,) and, for the final and the
    halfway evaluation (official API positions: last and 1), arrays ``final_<field>`` and
    ``halfway_<field>`` (n,) of the five EvaluationData doubles (NaN where absent).
    """
    n = len(starts)
    top = _Walk(buffer, starts, ends, where)
    out: dict[str, Any] = {"params": np.zeros(n), "total_time": np.full(n, np.nan)}
    rows = np.flatnonzero((top.number == 2) & (top.wire == 0))
    out["params"][top.msg[rows]] = top.value[rows]
    rows = np.flatnonzero((top.number == 3) & (top.wire == 1))
    out["total_time"][top.msg[rows]] = top.doubles(rows)
    ev = np.flatnonzero((top.number == 1) & (top.wire == 2))
    ev_msg = top.msg[ev]
    counts = np.bincount(ev_msg, minlength=n)
    out["n_evaluations"] = counts
    first_of = np.concatenate([[0], np.cumsum(counts)[:-1]])
    rank = np.arange(len(ev)) - first_of[ev_msg]
    sub = _Walk(buffer, top.pos[ev], top.pos[ev] + top.length[ev], [where[m] for m in ev_msg.tolist()])
    values = np.full((len(ev), len(_EVAL_FIELDS)), np.nan)
    for k in range(len(_EVAL_FIELDS)):
        rows = np.flatnonzero((sub.number == k + 1) & (sub.wire == 1))
        values[sub.msg[rows], k] = sub.doubles(rows)
    final = rank == counts[ev_msg] - 1
    halfway = (rank == 1) & (counts[ev_msg] >= 3)
    for label, chosen in (("final", final), ("halfway", halfway)):
        for k, name in enumerate(_EVAL_FIELDS):
            column = np.full(n, np.nan)
            column[ev_msg[chosen]] = values[chosen, k]
            out[f"{label}_{name}"] = column
    return out


# --------------------------------------------------------------------------------------------------
# writing
# --------------------------------------------------------------------------------------------------


def write_tfrecord(path: str | Path, records: Iterable[Record | bytes]) -> Path:
    """Write records (``Record`` values or raw record data) as a TFRecord file in the official format.

    The file is written atomically. Returns its path.

    Examples
    --------
    >>> write_tfrecord("/tmp/tiny.tfrecord", [b'{"a": 1}'])  # doctest: +SKIP
    """
    path = Path(path).expanduser()
    payloads = [r.to_bytes() if isinstance(r, Record) else bytes(r) for r in records]
    lengths = np.array([len(p) for p in payloads], dtype=np.int64)
    headers = lengths.astype("<u8").tobytes()
    header_buf = np.frombuffer(headers, dtype=np.uint8)
    header_crc = _mask(
        crc32c_batch(header_buf, np.arange(len(payloads), dtype=np.int64) * 8, np.full(len(payloads), 8))
    )
    data_buf = np.frombuffer(b"".join(payloads), dtype=np.uint8)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64) if payloads else lengths
    data_crc = _mask(crc32c_batch(data_buf, offsets, lengths))
    with atomic_path(path) as tmp, tmp.open("wb") as handle:
        for i, payload in enumerate(payloads):
            handle.write(headers[8 * i : 8 * i + 8])
            handle.write(struct.pack("<I", int(header_crc[i])))
            handle.write(payload)
            handle.write(struct.pack("<I", int(data_crc[i])))
    return path


def read_records(path: str | Path, *, check_crc: bool = True) -> Iterator[Record]:
    """The records of an official NB101 file as :class:`Record` values (pure Python; for small files)."""
    path = Path(path).expanduser()
    for i, data in enumerate(iter_tfrecord(path, check_crc=check_crc)):
        yield Record.from_bytes(data, where=f"{path}: record {i}")


# --------------------------------------------------------------------------------------------------
# conversion
# --------------------------------------------------------------------------------------------------


def _acc(name: str, description: str) -> Metric:
    return Metric(name, True, "%", "objective", 0.0, 100.0, description, "test" if "test" in name else None)


def _time(name: str, description: str) -> Metric:
    return Metric(name, False, "s", "cost", 0.0, None, description)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _acc("train_acc", "accuracy on 10,000 training images at the end of training"),
        _acc("valid_acc", "accuracy on the 10,000-image validation split at the end of training"),
        _acc("test_acc", "accuracy on the CIFAR-10 test set (10,000 images) at the end of training"),
        _time("train_time", "training time of the run, without evaluation time"),
        _acc("halfway_train_acc", "train_acc at epochs/2 of this run"),
        _acc("halfway_valid_acc", "valid_acc at epochs/2 of this run"),
        _acc("halfway_test_acc", "test_acc at epochs/2 of this run"),
        _time("halfway_train_time", "training time up to epochs/2 of this run"),
        Metric("params", False, "count", "cost", 0.0, None, "trainable parameters"),
        _time("total_time", "training plus evaluation time of the run"),
    )
}
"""Metric declarations of the ``nb101/cifar10`` store."""
_FROM = {
    "train_acc": "final_train_accuracy",
    "valid_acc": "final_validation_accuracy",
    "test_acc": "final_test_accuracy",
    "train_time": "final_training_time",
    "halfway_train_acc": "halfway_train_accuracy",
    "halfway_valid_acc": "halfway_validation_accuracy",
    "halfway_test_acc": "halfway_test_accuracy",
    "halfway_train_time": "halfway_training_time",
}


def resolve_source(source: str | Path) -> Path:
    """The tfrecord file of ``source`` (a file, or a folder holding one of :data:`FILES`)."""
    path = Path(source).expanduser()
    if path.is_dir():
        for name in FILES:
            if (path / name).is_file():
                return path / name
        raise FileNotFoundError(f"no NB101 file ({' or '.join(FILES)}) in {path}")
    if not path.is_file():
        raise FileNotFoundError(f"NB101 tfrecord file not found: {path}")
    return path


@dataclass
class _Parsed:
    keys: list[str] = field(default_factory=list)  # per record
    epochs: list[np.ndarray] = field(default_factory=list)
    values: list[dict[str, np.ndarray]] = field(default_factory=list)
    specs: dict[str, tuple[str, str, int]] = field(default_factory=dict)  # hash -> (adjacency, ops, first record)
    interned: dict[str, str] = field(default_factory=dict)


def _parse_chunk(
    buf: np.ndarray, starts: np.ndarray, lengths: np.ndarray, first: int, path: Path, parsed: _Parsed
) -> None:
    n = len(starts)
    epochs = np.empty(n, dtype=np.int64)
    blobs: list[bytes] = []
    specs = parsed.specs
    for i, (s, length) in enumerate(zip(starts.tolist(), lengths.tolist(), strict=True)):
        where = f"{path}: record {first + i}"
        key, epoch, adjacency, ops, metrics = _split_record(buf[s : s + length].tobytes(), where)
        seen = specs.get(key)
        if seen is None:
            specs[key] = (adjacency, ops, first + i)
            parsed.interned[key] = key
        else:
            if seen[0] != adjacency or seen[1] != ops:
                raise DataFormatError(
                    f"{where}: cell {key} has spec ({adjacency}, {ops}) but record {seen[2]} gave "
                    f"({seen[0]}, {seen[1]})"
                )
            key = parsed.interned[key]  # one str object per cell, however many records it has
        parsed.keys.append(key)
        epochs[i] = epoch
        blobs.append(metrics)
    metric_lengths = np.fromiter((len(b) for b in blobs), dtype=np.int64, count=n)
    ends = np.cumsum(metric_lengths)
    metric_buf = np.frombuffer(b"".join(blobs), dtype=np.uint8)
    places = [f"{path}: record {first + i}" for i in range(n)]
    decoded = decode_model_metrics(metric_buf, ends - metric_lengths, ends, places)
    short = np.flatnonzero(decoded["n_evaluations"] < 2)
    if len(short):
        i = int(short[0])
        raise DataFormatError(
            f"{places[i]}: ModelMetrics has {int(decoded['n_evaluations'][i])} evaluation(s); expected the start, "
            f"(halfway) and the end of training"
        )
    bad = np.flatnonzero(epochs < 1)
    if len(bad):
        raise DataFormatError(f"{places[int(bad[0])]}: epochs must be positive, got {int(epochs[bad[0]])}")
    parsed.epochs.append(epochs)
    parsed.values.append(decoded)


def read_tables(
    path: str | Path, *, check_crc: bool = True, verify: Verify = "keys"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``archs`` and per-run ``results`` tables of an official NB101 file (vectorised reader).

    ``verify="keys"`` checks that every hash is a cell of the nb101 space; ``"spec"`` also re-computes
    the hash of every cell's spec (about 0.1 ms per cell); ``"none"`` skips both.
    """
    from predictbench.spaces import get_space

    path = resolve_source(path)
    if verify not in ("keys", "spec", "none"):
        raise ValueError(f"verify must be 'keys', 'spec' or 'none', got {verify!r}")
    buf, closer = _open_buffer(path)
    try:
        starts, lengths = _scan(buf, path)
        if not len(starts):
            raise DataFormatError(f"{path}: no records (empty file)")
        _check_crcs(buf, starts, lengths, path, data=check_crc)
        parsed = _Parsed()
        for lo in range(0, len(starts), _CHUNK_RECORDS):
            hi = lo + _CHUNK_RECORDS
            _parse_chunk(buf, starts[lo:hi], lengths[lo:hi], lo, path, parsed)
    finally:
        del buf
        _close(closer)
    space: Any = get_space("nb101")
    cells = list(parsed.specs)
    if verify != "none":
        valid = space.keys_valid(cells)
        if not valid.all():
            key = cells[int(np.flatnonzero(~valid)[0])]
            raise DataFormatError(f"{path}: record {parsed.specs[key][2]}: {key!r} is not the hash of an nb101 cell")
    if verify == "spec":
        for key, (adjacency, ops, record) in parsed.specs.items():
            got = space.from_spec(adjacency, ops).key
            if got != key:
                raise DataFormatError(f"{path}: record {record}: the spec of cell {key} hashes to {got}")
    specs = parsed.specs
    matrices = [specs[k][0] for k in cells]
    sizes = np.array([round(len(m) ** 0.5) for m in matrices], dtype=np.int8)
    archs = pd.DataFrame(
        {
            "key": np.asarray(cells, dtype=object),
            "num_vertices": sizes,
            "num_edges": np.array([m.count("1") for m in matrices], dtype=np.int8),
        }
    )
    decoded = {k: np.concatenate([v[k] for v in parsed.values]) for k in parsed.values[0]}
    epochs = np.concatenate(parsed.epochs)
    # the key column is categorical over the archs order: stored dictionary-encoded, it loads fast
    keys = pd.Categorical(parsed.keys, categories=pd.Index(cells, dtype=object))
    frame = pd.DataFrame({"key": keys, "fidelity": epochs})
    seed = frame.groupby(["key", "fidelity"], sort=False, observed=True).cumcount().to_numpy()
    results = pd.DataFrame({"key": keys, "seed": seed.astype(np.int32), "fidelity": epochs.astype(np.int32)})
    for name, source in _FROM.items():
        values = decoded[source]
        results[name] = values * 100.0 if METRICS[name].unit == "%" else values
    results["params"] = decoded["params"].astype(float)
    results["total_time"] = decoded["total_time"]
    return archs, results


def convert(
    source: str | Path | None = None,
    *,
    root: str | Path | None = None,
    force: bool = False,
    check_crc: bool = True,
    verify: Verify = "keys",
    name: str = STORE_NAME,
) -> list[Path]:
    """Convert ``nasbench_full.tfrecord`` or ``nasbench_only108.tfrecord`` into the store ``nb101/cifar10``.

    Parameters
    ----------
    source
        The tfrecord file, or a folder holding one (``nasbench_full.tfrecord`` is preferred).
    root
        Data folder (default :func:`predictbench.paths.data_root`).
    force
        Rewrite the store even when it was made by this converter version from the same file.
    check_crc
        Verify the data checksum of every record (length checksums are always verified).
    verify
        ``"keys"``: every hash must be an nb101 cell (uses the cell table); ``"spec"``: also re-hash every
        cell's spec; ``"none"``.
    name
        Store name.

    Returns
    -------
    list of Path
        The store folder.

    Raises
    ------
    FileNotFoundError
        No such file, or no official file in the folder.
    DataFormatError
        Truncated file, checksum mismatch, malformed record (the message names the file and record).
    """
    if source is None:
        raise FileNotFoundError(
            "give the NB101 file: predictbench data convert nb101-tfrecord PATH/nasbench_only108.tfrecord "
            "(or nasbench_full.tfrecord)"
        )
    path = resolve_source(source)
    root = Path(root).expanduser() if root is not None else data_root()
    dest = root / name
    inputs = hash_inputs([path])
    if not force and is_current(dest, CONVERTER, VERSION, inputs):
        log.info("%s is current (same converter version and input), skipping", dest)
        return [dest]
    log.info("reading %s", path)
    archs, results = read_tables(path, check_crc=check_crc, verify=verify)
    fidelities = tuple(sorted(int(f) for f in results["fidelity"].unique()))
    default = 108 if 108 in fidelities else fidelities[-1]
    metrics = {m: METRICS[m] for m in results.columns[3:] if results[m].notna().any()}
    results = results[["key", "seed", "fidelity", *metrics]]
    meta = StoreMeta(
        name=name,
        space="nb101",
        task="cifar10",
        metrics=metrics,
        fidelities=fidelities,
        default_fidelity=default,
        seeds=tuple(sorted(int(s) for s in results["seed"].unique())),
        search=MetricRef("valid_acc", default),
        report=MetricRef("test_acc", default),
        fidelity_unit="epochs",
        provenance=provenance(CONVERTER, VERSION, inputs, source=str(path), format="NAS-Bench-101 TFRecord"),
        citation=CITATION,
        description=(
            f"NAS-Bench-101 on CIFAR-10 from {path.name}: {len(archs)} cells, budgets {list(fidelities)} epochs, "
            f"{results['seed'].nunique()} runs each (default value: mean over runs); accuracies in % "
            f"(NB101 stores fractions)"
        ),
    )
    return [write_store(root, meta, archs, results)]
