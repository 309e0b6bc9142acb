"""Statistics of the benches: nearest-rank percentiles, a latency summary, ratios."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import asdict, dataclass

NAN = float("nan")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (nan when empty)."""
    if not sorted_values:
        return NAN
    k = max(0, min(len(sorted_values) - 1, int(round(q / 100.0 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[k]


def ratio(a: float, b: float) -> float:
    """a / b, nan when b is 0 (or nan)."""
    return a / b if b and not math.isnan(b) else NAN


@dataclass(frozen=True)
class Latency:
    """Latencies in ms, taken in arrival order: the first and last tenth show growth with the count."""

    count: int
    mean_ms: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    first_tenth_mean_ms: float
    last_tenth_mean_ms: float

    @classmethod
    def of_ms(cls, ms: Sequence[float]) -> Latency:
        if not ms:
            return cls(0, NAN, NAN, NAN, NAN, NAN, NAN, NAN)
        s = sorted(ms)
        tenth = max(1, len(ms) // 10)
        return cls(
            count=len(ms),
            mean_ms=statistics.fmean(ms),
            p50_ms=percentile(s, 50),
            p95_ms=percentile(s, 95),
            p99_ms=percentile(s, 99),
            max_ms=s[-1],
            first_tenth_mean_ms=statistics.fmean(ms[:tenth]),
            last_tenth_mean_ms=statistics.fmean(ms[-tenth:]),
        )

    @classmethod
    def of_seconds(cls, seconds: Sequence[float]) -> Latency:
        return cls.of_ms([x * 1000 for x in seconds])

    def pick(self, *names: str) -> dict[str, float]:
        """The named figures, for a bench's JSON (each bench keeps the keys it always had)."""
        values = asdict(self)
        return {n: values[n] for n in names}
