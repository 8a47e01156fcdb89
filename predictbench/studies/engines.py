"""Where a study's independent runs execute: in this process, in local processes, or on a Dask cluster.

A study hands each run to a :class:`concurrent.futures.Executor`; an engine is how that executor is made:

- ``"local"``: a :class:`~concurrent.futures.ProcessPoolExecutor` with ``jobs`` processes (the default), started
  by a fork server (spawn where there is none), so a script using it needs the usual
  ``if __name__ == "__main__":`` guard;
- ``"dask"``: a ``dask.distributed`` client's executor, connected to ``address`` (a running scheduler, e.g.
  ``tcp://10.0.0.5:8786``) or, without an address, to a new ``LocalCluster`` of ``jobs`` single-threaded worker
  processes that is closed afterwards. Workers load the benchmark by name from the same data root, so on a real
  cluster that folder must be visible to every worker (a shared file system) or ``PREDICTBENCH_DATA`` set there;
- an :class:`~concurrent.futures.Executor` instance the caller owns (e.g. ``client.get_executor()``), used as
  given and not shut down.

Results come back to the calling process, which alone appends them to the results file. Local workers exit when
the process that started them dies, even by ``kill -9`` (:func:`die_with_parent`), instead of running on.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager
from typing import Any

from predictbench.registry import unknown_name

ENGINES = ("local", "dask")
PR_SET_PDEATHSIG = 1  # linux/prctl.h
WATCH_SECONDS = 1.0

log = logging.getLogger(__name__)


def die_with_parent(parent: int) -> None:
    """Pool initializer: end this worker when process ``parent`` (the study) dies.

    On Linux the kernel kills it when its parent process exits (``prctl(PR_SET_PDEATHSIG)``; with a fork server
    the parent is the server, which exits with the study). Everywhere, a daemon thread also checks every
    :data:`WATCH_SECONDS` that ``parent`` is still alive and still this worker's parent or grandparent.
    """
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        except (OSError, AttributeError) as exc:  # no usable libc: the watchdog alone
            log.debug("prctl(PR_SET_PDEATHSIG) unavailable: %s", exc)
    first_parent = os.getppid()
    if not _alive(parent) or first_parent == 1:  # the study died before this worker got here
        os._exit(1)
    threading.Thread(target=_watch, args=(parent, first_parent), name="predictbench-watchdog", daemon=True).start()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch(parent: int, first_parent: int) -> None:
    while os.getppid() == first_parent and _alive(parent):
        time.sleep(WATCH_SECONDS)
    os._exit(1)  # orphaned: nobody will read this worker's results


def local_pool(jobs: int) -> ProcessPoolExecutor:
    """A pool of ``jobs`` local worker processes (at most one per CPU) that end when this process dies.

    Workers start from a fork server (spawn where there is none), never by a plain fork: a worker forked after
    the parent trained LightGBM (OpenMP) can deadlock.
    """
    context = multiprocessing.get_context(
        "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"
    )
    return ProcessPoolExecutor(
        max_workers=min(jobs, os.cpu_count() or 1),
        mp_context=context,
        initializer=die_with_parent,
        initargs=(os.getpid(),),
    )


@contextmanager
def open_executor(engine: str | Executor, jobs: int, address: str | None = None) -> Iterator[Executor]:
    """An executor for ``engine`` with ``jobs`` workers, shut down on exit unless the caller passed it in."""
    if isinstance(engine, Executor):
        yield engine
        return
    if jobs < 1:
        raise ValueError(f"jobs must be >= 1, got {jobs}")
    if engine == "local":
        if address is not None:
            raise ValueError("address is for engine='dask'; the local engine runs processes on this machine")
        pool = local_pool(jobs)
        try:
            yield pool
        except BaseException:  # Ctrl-C or a failed run: drop queued runs instead of finishing them for nothing
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
    elif engine == "dask":
        with _dask_client(jobs, address) as client:
            yield client.get_executor()
    else:
        raise unknown_name("study engine", engine, list(ENGINES))


@contextmanager
def _dask_client(jobs: int, address: str | None) -> Iterator[Any]:
    try:
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ImportError("engine='dask' needs dask.distributed: pip install 'predictbench[dask]'") from exc
    if address is not None:
        with Client(address) as client:
            yield client
        return
    with (
        LocalCluster(n_workers=jobs, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        yield client
