"""A sampling profiler for long benchmark runs: where the main thread spends its time.

cProfile slows pure-Python code several-fold, which would distort the very ratios a scale
benchmark measures. This samples the main thread's Python stack every ``interval`` seconds
from a background thread instead (overhead well under 1%). A sample taken while native
code runs (onnxruntime, polars, BLAS) counts for the Python function that called it.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any


def _name(frame: Any) -> str:
    code = frame.f_code
    path = Path(code.co_filename)
    where = f"{path.parent.name}/{path.name}" if path.parent.name else path.name
    return f"{where}:{code.co_name}"


class Sampler:
    """Counts, per function, the samples where it is running (own) or on the stack (inclusive)."""

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.own: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()
        self.samples = 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._target = threading.main_thread().ident

    def __enter__(self) -> Sampler:
        self._thread = threading.Thread(target=self._run, name="sampler", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            frame = sys._current_frames().get(self._target)
            if frame is None:
                continue
            self.samples += 1
            self.own[_name(frame)] += 1
            seen = set()
            while frame is not None:
                seen.add(_name(frame))
                frame = frame.f_back
            self.inclusive.update(seen)

    def top(self, n: int = 15, seconds: float | None = None, within: str | None = None) -> list[dict[str, Any]]:
        """The ``n`` functions with the most own samples (only those whose name contains ``within``
        if given, ranked by inclusive samples then), with shares of all samples and, given the
        run's wall ``seconds``, the estimated seconds."""
        counts = self.own if within is None else Counter({k: v for k, v in self.inclusive.items() if within in k})
        rows = []
        for name, count in counts.most_common(n):
            share = count / max(self.samples, 1)
            row = {"function": name, "share": round(share, 4), "inclusive_share": round(self.inclusive[name] / max(self.samples, 1), 4)}
            if seconds is not None:
                row["seconds"] = round(share * seconds, 1)
            rows.append(row)
        return rows


def timed(fn: Any, *args: Any, **kwargs: Any) -> tuple[Any, float, Sampler]:
    """``fn(*args, **kwargs)`` under a :class:`Sampler`: its result, wall seconds and the sampler."""
    with Sampler() as sampler:
        started = time.perf_counter()
        result = fn(*args, **kwargs)
        seconds = time.perf_counter() - started
    return result, seconds, sampler
