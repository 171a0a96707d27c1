"""When to poll next: a short first gap that grows with the time already waited.

A deployment that has run for ten minutes will rarely end in the next two seconds, so the gap
grows in proportion to the elapsed time (10% of it), between ``interval`` and
``max_interval``. With the defaults (2 s, 15 s) a 10-minute deployment costs about 60 reads
instead of the 300 of a fixed 2 s loop, and is seen at most ~15 s after it ends.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["DEFAULT_INTERVAL", "DEFAULT_MAX_INTERVAL", "GrowingSchedule", "Schedule"]

DEFAULT_INTERVAL = 2.0
DEFAULT_MAX_INTERVAL = 15.0


class Schedule(Protocol):
    def next_delay(self, elapsed: float) -> float:
        """Seconds to sleep before the next read, ``elapsed`` seconds into the wait."""
        ...


@dataclass(frozen=True)
class GrowingSchedule:
    interval: float = DEFAULT_INTERVAL
    max_interval: float = DEFAULT_MAX_INTERVAL
    growth: float = 0.1
    """Fraction of the elapsed time to wait, once that exceeds ``interval``."""
    jitter: float = 0.1
    """Each gap is moved by up to this fraction either way, so parallel gates drift apart."""
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def next_delay(self, elapsed: float) -> float:
        base = min(max(elapsed * self.growth, self.interval), self.max_interval)
        spread = self.rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)
        return min(base * spread, self.max_interval)
