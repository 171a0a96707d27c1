"""What every emulated API shares: the clock its timelines run on, the lock, the faults
waiting to be played, the rate limit, and the routing of a request to the API that answers it.

Each API (:mod:`gate.emulator.humanitec_v1`, :mod:`~gate.emulator.humanitec_v2`,
:mod:`~gate.emulator.greengrass_v1`, :mod:`~gate.emulator.greengrass_v2`) is a subclass that
adds its state, its :class:`Route` s and its answers; :class:`gate.emulator.Emulator` is all
of them on one server.
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TypeVar
from urllib.parse import unquote

from gate.emulator.http import Answer, Server, handler_for
from gate.emulator.scenario import (
    Fault,
    GreengrassScript,
    GreengrassV2Script,
    HumanitecScript,
    HumanitecV2Script,
    PipelineRunScript,
)

__all__ = ["SEGMENT", "EmulatorCore", "Request", "Route"]

SEGMENT = "([^/]+)"
"""One segment of a path, an id of the route."""
_Emulator = TypeVar("_Emulator", bound="EmulatorCore")
_Script = (
    HumanitecScript | HumanitecV2Script | PipelineRunScript | GreengrassScript | GreengrassV2Script
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    name: str
    """The route's name."""
    ids: list[str]
    """The path's segments the route names, unquoted."""
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: object


@dataclass(frozen=True)
class Route:
    pattern: str
    name: str
    answer: Callable[[Request], Answer]
    starts: bool = False
    """A POST here starts a deployment (the only POSTs served)."""


class EmulatorCore:
    """The server and what the APIs share; see :class:`gate.emulator.Emulator`."""

    def __init__(
        self,
        *,
        token: str | None = None,
        clock: Callable[[], float] = time.monotonic,
        host: str = "127.0.0.1",
        port: int = 0,
        rate_limit: float | None = None,
        seconds_per_read: float | None = None,
    ) -> None:
        """``rate_limit``: more requests than this in any second (real time) are answered
        429 with ``Retry-After: 1``, as a throttling API does; :attr:`throttled` counts them."""
        self.token = token if token is not None else secrets.token_urlsafe(24)
        self.seconds_per_read = seconds_per_read
        self.rate_limit = rate_limit
        self.throttled = 0
        self._recent: deque[float] = deque()
        self.clock = clock
        self._origin = (clock(), datetime.now(timezone.utc))
        self._lock = threading.Lock()
        self._faults: list[tuple[str, str, Fault]] = []
        self._released = threading.Event()
        self.requests: list[str] = []
        self.posted: list[tuple[str, object, dict[str, str]]] = []
        """Each POST: its path, its JSON body and its headers (``authorization`` left out)."""
        self.request_times: list[float] = []
        """When (``time.monotonic``) each of :attr:`requests` arrived."""
        self._table = [(re.compile(route.pattern), route) for route in self._routes()]
        self._server = Server((host, port), handler_for(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self: _Emulator) -> _Emulator:
        self._thread.start()
        return self

    @property
    def stopped(self) -> threading.Event:
        """Set once :meth:`stop` is called."""
        return self._released

    def stop(self) -> None:
        self._released.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self: _Emulator) -> _Emulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def inject(
        self, fault: Fault, *, times: int = 1, path_contains: str = "", method: str = ""
    ) -> None:
        """Answer the next ``times`` requests whose path holds ``path_contains`` (made with
        ``method``, if given: ``POST`` for the starts) with ``fault``."""
        with self._lock:
            self._faults.extend([(path_contains, method, fault)] * times)

    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def _over_rate(self) -> bool:
        """Whether this request is one too many for the last second (and counted if so)."""
        if self.rate_limit is None:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and self._recent[0] <= now - 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                self.throttled += 1
                return True
            self._recent.append(now)
            return False

    def _take_fault(self, method: str, path: str) -> Fault | None:
        with self._lock:
            for index, (needle, only, fault) in enumerate(self._faults):
                if needle in path and only in ("", method):
                    del self._faults[index]
                    return fault
        return None

    def _iso(self, moment: float) -> str:
        origin_clock, origin_wall = self._origin
        wall = origin_wall + timedelta(seconds=moment - origin_clock)
        return wall.strftime("%Y-%m-%dT%H:%M:%S.") + f"{wall.microsecond // 1000:03d}Z"

    def _epoch_ms(self, moment: float) -> str:
        """Greengrass v1 ``UpdatedAt``: milliseconds since the epoch, as text (the model)."""
        origin_clock, origin_wall = self._origin
        wall = origin_wall + timedelta(seconds=moment - origin_clock)
        return str(int(wall.timestamp() * 1000))

    def _epoch(self, moment: float) -> float:
        """A rest-json timestamp: seconds since the epoch."""
        origin_clock, origin_wall = self._origin
        return round((origin_wall + timedelta(seconds=moment - origin_clock)).timestamp(), 3)

    def _elapsed(self, script: _Script) -> float:
        """How far ``script`` has run, as the current read sees it."""
        if self.seconds_per_read is None:
            return self.clock() - script.created
        return max(script.reads - 1, 0) * self.seconds_per_read

    def _read(self, script: _Script) -> float:
        """A read of ``script``'s status: moves a paced emulator's script on, then
        returns how far it has run."""
        with self._lock:
            script.reads += 1
        return self._elapsed(script)

    def _answer(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str],
        query: Mapping[str, str],
        body: object = None,
    ) -> Answer:
        """Status, JSON body and extra headers for one request: the API whose route it is
        answers (a POST only where a deployment is started)."""
        for pattern, route in self._table:
            match = pattern.match(path)
            if match and (method == "GET" or route.starts):
                ids = [unquote(part) for part in match.groups()]
                return route.answer(Request(method, path, route.name, ids, headers, query, body))
        return 404, {"error": "API-404", "message": f"no route for {method} {path}"}, {}

    def _routes(self) -> list[Route]:
        """Every API's routes: each API adds its own to those of the APIs before it."""
        return []
