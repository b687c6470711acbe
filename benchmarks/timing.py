"""Side-by-side timing: contenders run alternately in one process, medians over rounds.

Running A then B then A then B (and rotating who goes first) means a change in machine load
during the measurement hits every contender alike, which matters on a shared 2-core machine.
Each measurement repeats a call until it lasts at least ``min_seconds``, so calls of a few
microseconds are timed as precisely as calls of a second; the garbage collector is off
inside a measurement, as in :mod:`timeit`.

>>> times = measure({"sum": lambda: sum(range(100)), "len": lambda: len("abc")}, rounds=3)
>>> sorted(times), all(t.median_s > 0 for t in times.values())
(['len', 'sum'], True)
"""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timing:
    """Seconds per call: the median and the spread over the rounds, and the last result."""

    median_s: float
    low_s: float
    high_s: float
    rounds: int
    loops: int
    result: Any

    def ms(self) -> str:
        """The median in milliseconds, e.g. ``12.3 ms``."""
        return format_seconds(self.median_s)


_UNITS = (("s", 1.0), ("ms", 1e-3), ("µs", 1e-6), ("ns", 1e-9))


def format_seconds(seconds: float) -> str:
    """A duration with a unit that keeps three significant digits.

    >>> format_seconds(0.0123), format_seconds(2.5e-6), format_seconds(75.0)
    ('12.3 ms', '2.50 µs', '75.0 s')
    """
    unit, scale = next((pair for pair in _UNITS if seconds >= pair[1]), _UNITS[-1])
    value = seconds / scale
    digits = 0 if value >= 100 else 1 if value >= 10 else 2
    return f"{value:.{digits}f} {unit}"


def _run(call: Callable[[], Any], loops: int) -> tuple[float, Any]:
    result = None
    started = time.perf_counter()
    for _ in range(loops):
        result = call()
    return (time.perf_counter() - started) / loops, result


def _calibrate(call: Callable[[], Any], min_seconds: float) -> int:
    """How many calls make one measurement last at least ``min_seconds``.

    The first call also warms up; a call slower than ``min_seconds`` is timed one at a time.
    """
    loops = 1
    while True:
        seconds, _ = _run(call, loops)
        if seconds * loops >= min_seconds or loops >= 1 << 20:
            return loops
        loops *= max(2, min(10, int(min_seconds / max(seconds * loops, 1e-9)) + 1))


def measure(
    contenders: Mapping[str, Callable[[], Any]],
    *,
    rounds: int = 7,
    min_seconds: float = 0.05,
    warmup: int = 0,
) -> dict[str, Timing]:
    """Time each contender ``rounds`` times, alternating between them; per-call medians.

    Each contender is called at least once before the timed rounds (to count its loops),
    plus ``warmup`` more times (caches, lazily built workspaces, thread pools).
    """
    names = list(contenders)
    for name in names:
        for _ in range(warmup):
            contenders[name]()
    loops = {name: _calibrate(contenders[name], min_seconds) for name in names}
    samples: dict[str, list[float]] = {name: [] for name in names}
    results: dict[str, Any] = {}
    enabled = gc.isenabled()
    try:
        for round_index in range(rounds):
            shift = round_index % len(names)
            for name in names[shift:] + names[:shift]:  # rotate who goes first
                gc.collect()
                gc.disable()
                seconds, results[name] = _run(contenders[name], loops[name])
                if enabled:
                    gc.enable()
                samples[name].append(seconds)
    finally:
        if enabled:
            gc.enable()
    return {
        name: Timing(
            median_s=statistics.median(samples[name]),
            low_s=min(samples[name]),
            high_s=max(samples[name]),
            rounds=rounds,
            loops=loops[name],
            result=results[name],
        )
        for name in names
    }
