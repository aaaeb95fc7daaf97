"""Medians with their spread, and ratios measured in the same run."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Figure:
    """A median of repeated runs, with the lowest and highest run and how many there were."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Sequence[float]) -> Figure:
        if not values:
            raise ValueError("a figure needs at least one run")
        return cls(statistics.median(values), min(values), max(values), len(values))

    def show(self, unit: str = "", digits: int = 2, scale: float = 1.0) -> str:
        """``1.23 ms (1.10..1.40, n=5)``: the median, then the spread."""
        m, lo, hi = (v * scale for v in (self.median, self.low, self.high))
        return f"{_num(m, digits)}{unit} ({_num(lo, digits)}..{_num(hi, digits)}, n={self.runs})"

    def as_dict(self) -> dict[str, float]:
        return {"median": self.median, "low": self.low, "high": self.high, "runs": self.runs}


def _num(value: float, digits: int) -> str:
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.{digits}f}"


def timed(call: Callable[[], object], repeats: int, inner: int = 1) -> Figure:
    """Seconds per call of ``call``: ``repeats`` runs, each the mean of ``inner`` back-to-back calls."""
    runs: list[float] = []
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(inner):
            call()
        runs.append((time.perf_counter() - started) / inner)
    return Figure.of(runs)


def ratios(numerators: Sequence[float], denominators: Sequence[float]) -> Figure:
    """Round-by-round ratios (each pair measured in the same round), summarised as one figure."""
    if len(numerators) != len(denominators):
        raise ValueError("ratios need one denominator per numerator")
    return Figure.of([n / d for n, d in zip(numerators, denominators, strict=True) if d])
