"""One client closed by the last of the providers that share it.

A rollback's provider follows the new deployment on the client of the provider that started
it; the caller closes each when done with it, in either order. :class:`SharedClose` closes
the client once, when both (or all) have let go.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["SharedClose", "shared"]


class SharedClose:
    """Counts the holders of one ``close``; the last :meth:`release` calls it."""

    def __init__(self, close: Callable[[], None]) -> None:
        self._close = close
        self._holders = 0
        self._lock = threading.Lock()

    def hold(self) -> Callable[[], None]:
        """A new holder's close: calling it more than once lets go only once."""
        with self._lock:
            self._holders += 1
        held = [True]

        def release() -> None:
            with self._lock:
                if not held[0]:
                    return
                held[0] = False
                self._holders -= 1
                last = self._holders == 0
            if last:
                self._close()

        return release


def shared(close: Callable[[], None]) -> tuple[Callable[[], None], Callable[[], None]]:
    """Two closes for one: the present holder's and a new one's."""
    holders = SharedClose(close)
    return holders.hold(), holders.hold()
