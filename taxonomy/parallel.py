"""Processes for the CPU-bound, per-item stages of ``taxonomy run`` (parsing files, finding topics).

Those stages are pure Python per row or per customer, so one process uses one core; the
embedding stage already uses them all through onnxruntime's threads. Workers come from
loky (joblib's executor): fresh interpreters (never ``fork``: forking a process that runs
onnxruntime or BLAS thread pools can deadlock) that, unlike ``multiprocessing``'s ``spawn``,
do not re-run the caller's script, so ``run()`` works from any script or notebook. They are
reused across stages and runs, and exit after a minute idle. With one worker, or few items,
everything runs in-process.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Executor
from typing import Any

# Below this many items a pool's start-up (a few seconds of imports per worker) is not worth it.
MIN_ITEMS = 8


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


def resolve_workers(workers: int | None) -> int:
    """``workers`` itself if given (at least 1), else the usable cores."""
    return max(1, int(workers)) if workers else usable_cores()


def pool(workers: int, items: int) -> Executor | None:
    """A process pool when it pays (several workers, enough items), else None (run in-process)."""
    workers = min(workers, items)
    if workers <= 1 or items < MIN_ITEMS:
        return None
    from joblib.externals.loky import get_reusable_executor

    # One BLAS/OpenMP thread per worker: the workers already fill the cores, and numpy's default
    # of a thread per core in every worker oversubscribes them.
    single = {name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")}
    return get_reusable_executor(max_workers=workers, timeout=60, env=single)


def ordered_map(executor: Executor | None, fn: Callable[..., Any], *iterables: Iterable[Any]) -> Iterator[Any]:
    """``map(fn, ...)`` in the pool if there is one, results in input order; errors raise at their item."""
    return executor.map(fn, *iterables) if executor is not None else map(fn, *iterables)
