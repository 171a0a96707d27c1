"""One API's request budget, shared by every wait that reads it: a rate in requests a second.

Requests are spaced, not burst: each takes the next free slot (``1 / rate`` after the one
before), in the order they asked, so a thousand waits share the budget fairly and the API
never sees more than the rate in any window. A throttled answer (429) pushes every later slot
back by the pause the API asked for, so one target's 429 slows all the others on that API.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["NoSlotInTime", "RateLimiter", "explaining", "explains"]

_EXPLAINING: ContextVar[bool] = ContextVar("gate_explaining", default=False)


@contextmanager
def explaining() -> Iterator[None]:
    """Requests made inside explain a failure (its error list, pipeline steps, failed
    devices): they take the budget's next slot ahead of the status reads queued on it, so a
    release under a tight budget never loses a cause for want of a slot."""
    token = _EXPLAINING.set(True)
    try:
        yield
    finally:
        _EXPLAINING.reset(token)


def explains() -> bool:
    """Whether the request under way explains a failure (see :func:`explaining`)."""
    return _EXPLAINING.get()


THROTTLED_PAUSE = 1.0
"""How long the API is left alone after a 429 that does not say (a ``Retry-After``)."""


class NoSlotInTime(Exception):
    """The next free slot comes later than the caller can wait."""

    def __init__(self, wait: float, *, throttled: bool = False) -> None:
        super().__init__(f"the next request slot is {wait:.1f}s away")
        self.wait = wait
        self.throttled = throttled
        """The slot taken was pushed that far by the API's 429 answers."""


class RateLimiter:
    """At most ``rate`` requests a second, spaced ``1 / rate`` apart, first come first served.

    A request reserves the next free slot however far away it is (within what the caller can
    wait), so a thousand waits line up once instead of asking again and again; a 429 pushes
    every reserved slot back. ``pause`` is how a waiter sleeps: it returns True to give up
    (the caller was stopped).
    """

    def __init__(
        self,
        rate: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        pause: Callable[[float], bool] | None = None,
    ) -> None:
        if not rate > 0:
            raise ValueError("rate must be more than 0")
        self.rate = rate
        self._spacing = 1.0 / rate
        self._clock = clock
        self._pause = pause or _sleep
        self._lock = threading.Lock()
        self._next_free = 0.0
        self._next_first = 0.0
        """The next slot for a request that goes first (explaining a failure)."""
        self._paused_until = 0.0
        self._pushed = 0.0
        """How far 429s have pushed the reserved slots back, in all."""
        self.throttled = 0
        """How many throttled answers were reported (for reports and the benchmark)."""

    def acquire(self, *, within: float, first: bool = False) -> bool:
        """Wait for a slot no more than ``within`` seconds away; False if told to stop.

        ``first``: the request goes ahead of those queued (it explains a failure); the queue
        behind it pays its slot back, so the rate holds on average and is exceeded by at most
        the requests that went first in any one second. Raises :class:`NoSlotInTime` when the
        next slot is further than ``within`` (without taking it), or when 429s push the slot
        taken that far.
        """
        with self._lock:
            asked = self._clock()
            if first:
                slot = max(asked, self._next_first, self._paused_until)
            else:
                slot = max(asked, self._next_free)
            if slot - asked > within:
                raise NoSlotInTime(slot - asked)
            if first:
                self._next_first = slot + self._spacing
                self._next_free = max(self._next_free, slot) + self._spacing
            else:
                self._next_free = slot + self._spacing
            pushed = self._pushed
        while True:
            delay = slot - self._clock()
            if delay > 0 and self._pause(delay):
                return False
            with self._lock:
                moved, pushed = self._pushed - pushed, self._pushed
            if not moved:
                return True
            slot += moved
            if slot - asked > within:
                raise NoSlotInTime(slot - self._clock(), throttled=True)

    def throttle(self, retry_after: float | None) -> None:
        """The API answered 429: no slot before the pause it asked for (or
        :data:`THROTTLED_PAUSE`); slots already reserved move back with it, spacing kept."""
        pause = THROTTLED_PAUSE if retry_after is None else max(retry_after, self._spacing)
        with self._lock:
            self.throttled += 1
            now = self._clock()
            until = now + pause
            if self._next_free - self._spacing > now:  # slots reserved and not yet come
                push = max(0.0, until - max(now, self._paused_until))
                self._pushed += push
                self._next_free += push
                self._next_first += push
            self._paused_until = max(self._paused_until, until)
            self._next_free = max(self._next_free, self._paused_until)


def _sleep(seconds: float) -> bool:
    time.sleep(seconds)
    return False
