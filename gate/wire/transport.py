"""The HTTP wire under both providers: every request bounded in total time and in size.

httpx, like botocore, times each socket operation rather than the request, so a server that
sends one byte a second, one header line a second, or a chunked body that never ends holds a
request as long as it likes (encode/httpx#1450). :class:`BoundedTransport` fixes an end for
each request when it starts, ``min(request timeout, deadline.seconds_left())``, and bounds
every connect, TLS handshake, read and write by the time left to it, through httpcore's
network-backend seam. It reads the whole answer before returning it and refuses one larger
than ``max_answer_bytes``, or one compressed although it asked for none (a small gzip body
can unpack to gigabytes).

Inside a :class:`gate.wire.sharing.Sharing` scope (a gate of many targets) the transport takes its
connection pool from the scope, and each request first takes a slot from its origin's request
budget; a 429 answer holds that budget back for every wait on the API.

Faults are raised as httpx's own exceptions, so a caller translates them as it would for any
httpx client; :func:`describe_fault` words them the same way for every provider.
"""

from __future__ import annotations

import math
import ssl
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import httpcore
import httpx

from gate.core.errors import OutOfRequestBudget, RequestNotSent, TransientError
from gate.core.urls import is_loopback
from gate.wire import deadline, sharing
from gate.wire.rate import NoSlotInTime, explains
from gate.wire.retry_after import parse_retry_after

__all__ = [
    "MAX_ANSWER_BYTES",
    "SHARED_MAX_CONNECTIONS",
    "AnswerNotReadable",
    "BoundedTransport",
    "NoRequestSlot",
    "describe_fault",
    "proxy_for",
    "transient_fault",
]

MAX_ANSWER_BYTES = 8 * 1024 * 1024
"""A status, an error list or a deployment history is far smaller; more is not an answer."""
MIN_REQUEST_SECONDS = 0.05
"""A slot later than this before the read's deadline leaves no time for the request."""
SHARED_MAX_CONNECTIONS = 256
"""Connections of a shared pool: requests start at the budget's rate, but long-polls hold one
each for as long as the server holds the answer."""

_CORE_TO_HTTPX: dict[type[Exception], type[httpx.TransportError]] = {
    httpcore.ConnectTimeout: httpx.ConnectTimeout,
    httpcore.ReadTimeout: httpx.ReadTimeout,
    httpcore.WriteTimeout: httpx.WriteTimeout,
    httpcore.PoolTimeout: httpx.PoolTimeout,
    httpcore.ConnectError: httpx.ConnectError,
    httpcore.ReadError: httpx.ReadError,
    httpcore.WriteError: httpx.WriteError,
    httpcore.RemoteProtocolError: httpx.RemoteProtocolError,
    httpcore.LocalProtocolError: httpx.LocalProtocolError,
    httpcore.ProxyError: httpx.ProxyError,
    httpcore.UnsupportedProtocol: httpx.UnsupportedProtocol,
}

_request_ends: ContextVar[float | None] = ContextVar("gate_request_ends", default=None)
STOP_CHECK_SECONDS = 0.25
"""How often a read waiting on its answer looks whether its wait was stopped."""


class AnswerNotReadable(httpx.TransportError):
    """The answer is larger than the wire reads, or compressed although it asked for none."""


class NoRequestSlot(httpx.TransportError):
    """The API's shared request budget had no slot in the time left, or the gate stopped."""

    def __init__(self, message: str, *, request: httpx.Request, final: bool = False) -> None:
        super().__init__(message, request=request)
        self.final = final
        """No slot will come before the deadline (slots only move later)."""


def transient_fault(what: str, fault: httpx.HTTPError) -> TransientError:
    """The error a provider raises for a fault of the wire: :class:`OutOfRequestBudget` when
    the shared budget has no slot before the deadline, :class:`RequestNotSent` when it had
    none in the request's shorter time (or the gate stopped), else :class:`TransientError`."""
    said = f"{what}: {describe_fault(fault)}" if what else describe_fault(fault)
    if isinstance(fault, NoRequestSlot):
        return (OutOfRequestBudget if fault.final else RequestNotSent)(said)
    return TransientError(said)


def describe_fault(fault: BaseException) -> str:
    """A transport fault in a few plain words, the same for every provider."""
    if isinstance(fault, (AnswerNotReadable, NoRequestSlot)):
        return str(fault)
    if isinstance(fault, httpx.TimeoutException):
        return "no answer within the request timeout"
    return f"connection failed ({type(fault).__name__})"


def proxy_for(url: httpx.URL) -> httpcore.Proxy | None:
    """The proxy the environment (``HTTPS_PROXY``, ``NO_PROXY``...) names for ``url``, if any;
    never one for loopback (the demo, a local emulator)."""
    if is_loopback(url.host):
        return None
    import urllib.request  # here: reading proxies is the only use, after a URL is known

    proxies = urllib.request.getproxies()
    address = proxies.get(url.scheme)
    if not address or urllib.request.proxy_bypass(url.host):
        return None
    proxy_url = httpx.URL(address if "://" in address else f"http://{address}")
    auth = None
    if proxy_url.username:
        auth = (proxy_url.username, proxy_url.password or "")
        proxy_url = proxy_url.copy_with(username=None, password=None)
    return httpcore.Proxy(url=str(proxy_url), auth=auth)


class BoundedTransport(httpx.BaseTransport):
    """An httpx transport whose every request ends within its time, whatever the server does."""

    def __init__(
        self,
        *,
        request_timeout: float,
        ca_bundle: str | None = None,
        proxy: httpcore.Proxy | None = None,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        max_connections: int = 10,
    ) -> None:
        self._request_timeout = request_timeout
        self._max_answer_bytes = max_answer_bytes
        self._sharing = sharing.current()

        def make_pool(connections: int) -> httpcore.ConnectionPool:
            return httpcore.ConnectionPool(
                ssl_context=_verifying_context(ca_bundle),
                proxy=proxy,
                max_connections=connections,
                keepalive_expiry=30.0,
                network_backend=_BoundedBackend(),
            )

        if self._sharing is None:
            self._pool = make_pool(max_connections)
        else:
            proxy_key = None if proxy is None else (bytes(proxy.url), tuple(proxy.headers))
            self._pool = self._sharing.once(
                ("connection pool", ca_bundle, proxy_key),
                lambda: make_pool(SHARED_MAX_CONNECTIONS),
            )

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        held = request.extensions.get(deadline.HELD_SECONDS, 0.0)
        seconds = deadline.seconds_left(self._request_timeout + held)
        if seconds <= 0:
            raise httpx.PoolTimeout("no time was left for the request", request=request)
        if self._sharing is not None:
            seconds = self._take_slot(request, seconds)
        token = _request_ends.set(time.monotonic() + seconds)
        try:
            with _as_httpx_errors(request):
                answer = self._pool.handle_request(_core_request(request, seconds))
                try:
                    body = self._read(answer, request)
                finally:
                    answer.close()
        finally:
            _request_ends.reset(token)
        if answer.status == 429 and self._sharing is not None:
            retry_after = parse_retry_after(_header(answer, b"retry-after"))
            self._sharing.limiter(_origin(request.url)).throttle(retry_after)
        return httpx.Response(
            status_code=answer.status,
            headers=answer.headers,
            content=body,
            request=request,
        )

    def _take_slot(self, request: httpx.Request, seconds: float) -> float:
        """Wait for the origin's next request slot, as long as the read's budget allows (the
        deadline, not the request timeout: a release larger than the rate waits in line);
        what is left of ``seconds`` after it."""
        assert self._sharing is not None
        origin = _origin(request.url)
        limiter = self._sharing.limiter(origin)
        budget = deadline.seconds_left(math.inf)
        began = time.monotonic()
        try:
            in_line = budget if math.isfinite(budget) else seconds
            if not limiter.acquire(within=in_line - MIN_REQUEST_SECONDS, first=explains()):
                raise NoRequestSlot("the gate stopped before the request was sent", request=request)
        except NoSlotInTime as busy:
            # Final only for a read whose budget is the wait's own: a shorter one (history,
            # an error list) may miss a slot the status reads still get.
            final = deadline.to_the_deadline() and not busy.throttled
            if final:
                self._sharing.ran_short(origin)
            said = (
                "the API's 429 answers pushed its request slot past the time left"
                if busy.throttled
                else f"the request budget the targets on this API share ({limiter.rate:g}/s, "
                "--max-rate) has no slot for it in the time left"
            )
            raise NoRequestSlot(said, request=request, final=final) from None
        waited = time.monotonic() - began
        return min(seconds, budget - waited)

    def close(self) -> None:
        if self._sharing is None:  # a shared pool outlives each client
            self._pool.close()

    def _read(self, answer: httpcore.Response, request: httpx.Request) -> bytes:
        encoding = next(
            (value for name, value in answer.headers if name.lower() == b"content-encoding"), b""
        )
        if encoding.strip().lower() not in (b"", b"identity"):
            raise AnswerNotReadable(
                f"the answer is compressed ({encoding.decode('latin-1')!r}) "
                "although the gate asked for none",
                request=request,
            )
        chunks: list[bytes] = []
        size = 0
        assert isinstance(answer.stream, Iterable)
        for chunk in answer.stream:
            size += len(chunk)
            if size > self._max_answer_bytes:
                mib = self._max_answer_bytes / (1024 * 1024)
                raise AnswerNotReadable(
                    f"the answer is larger than {mib:g} MiB, more than any status needs",
                    request=request,
                )
            chunks.append(chunk)
        return b"".join(chunks)


def _origin(url: httpx.URL) -> str:
    return f"{url.scheme}://{url.host}:{url.port or (443 if url.scheme == 'https' else 80)}"


def _header(answer: httpcore.Response, name: bytes) -> str | None:
    value = next((v for k, v in answer.headers if k.lower() == name), None)
    return None if value is None else value.decode("latin-1")


def _verifying_context(ca_bundle: str | None) -> ssl.SSLContext:
    """Certificates are always verified: against ``ca_bundle`` (a file or a directory) when
    given, else httpx's default (certifi, or ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``)."""
    if ca_bundle is None:
        return httpx.create_ssl_context(verify=True, trust_env=True)
    if Path(ca_bundle).is_dir():
        return ssl.create_default_context(capath=ca_bundle)
    return ssl.create_default_context(cafile=ca_bundle)


def _core_request(request: httpx.Request, seconds: float) -> httpcore.Request:
    headers = [
        (name, value) for name, value in request.headers.raw if name.lower() != b"accept-encoding"
    ]
    headers.append((b"Accept-Encoding", b"identity"))
    return httpcore.Request(
        method=request.method,
        url=httpcore.URL(
            scheme=request.url.raw_scheme,
            host=request.url.raw_host,
            port=request.url.port,
            target=request.url.raw_path,
        ),
        headers=headers,
        content=request.stream,
        extensions={"timeout": dict.fromkeys(("connect", "read", "write", "pool"), seconds)},
    )


@contextmanager
def _as_httpx_errors(request: httpx.Request) -> Iterator[None]:
    try:
        yield
    except Exception as exc:
        for kind in type(exc).__mro__:
            if kind in _CORE_TO_HTTPX:
                raise _CORE_TO_HTTPX[kind](str(exc), request=request) from exc
        raise


def _bounded(timeout: float | None, timed_out: type[Exception]) -> float | None:
    """``timeout`` for one socket operation, cut to what is left of the request's time."""
    ends = _request_ends.get()
    if ends is None:
        return timeout
    left = ends - time.monotonic()
    if left <= 0:
        raise timed_out("the request's time ran out")
    return left if timeout is None else min(timeout, left)


class _BoundedStream(httpcore.NetworkStream):
    def __init__(self, stream: httpcore.NetworkStream) -> None:
        self._stream = stream

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        stop = deadline.stop_event()
        if stop is None:
            return self._stream.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))
        ends = None if timeout is None else time.monotonic() + timeout
        while True:  # in slices, looking for a stop between them
            if stop.is_set():
                why = stop.stopped() if isinstance(stop, deadline.Stop) else None
                if why is not None:
                    raise why  # a signal: as if it had come to this thread
                raise httpcore.ReadError("the gate stopped while the answer was awaited")
            left = None if ends is None else ends - time.monotonic()
            bounded = _bounded(left, httpcore.ReadTimeout)
            if bounded is not None and bounded <= 0:
                raise httpcore.ReadTimeout("timed out")
            piece = STOP_CHECK_SECONDS if bounded is None else min(bounded, STOP_CHECK_SECONDS)
            try:
                return self._stream.read(max_bytes, piece)
            except httpcore.ReadTimeout:
                if bounded is not None and bounded <= STOP_CHECK_SECONDS:
                    raise

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._stream.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._stream.close()

    def start_tls(
        self,
        ssl_context: Any,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._stream.start_tls(ssl_context, server_hostname, bounded))

    def get_extra_info(self, info: str) -> Any:
        return self._stream.get_extra_info(info)


class _BoundedBackend(httpcore.NetworkBackend):
    def __init__(self) -> None:
        self._backend = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        stream = self._backend.connect_tcp(host, port, bounded, local_address, socket_options)
        return _BoundedStream(stream)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        bounded = _bounded(timeout, httpcore.ConnectTimeout)
        return _BoundedStream(self._backend.connect_unix_socket(path, bounded, socket_options))

    def sleep(self, seconds: float) -> None:
        self._backend.sleep(seconds)
