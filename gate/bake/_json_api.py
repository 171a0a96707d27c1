"""GETs against one monitoring API (Prometheus, Alertmanager) through the bounded wire.

Faults are translated here, once for both checks: a fault of the wire, 429 and 5xx are a
:class:`~gate.core.errors.TransientError`, as is a 200 whose body is not JSON; 401/403 an
:class:`~gate.core.errors.AuthError`; any other status a
:class:`~gate.core.errors.RequestRejected`, unless the caller says what a 400 means (a query
or matcher the server cannot parse is the user's to mend: a UsageError). The server's own
error text is kept, on one line and bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import httpx

from gate.core.errors import AuthError, GateError, RequestRejected, TransientError, UsageError
from gate.core.text import from_api, one_line
from gate.core.urls import require_api_url
from gate.wire.answers import json_body
from gate.wire.retry_after import parse_retry_after

__all__ = ["MESSAGE_LIMIT", "JsonApi"]

MESSAGE_LIMIT = 500
"""How much of a server's error text a message keeps."""


class JsonApi:
    """One API (``name``: ``Prometheus``) at ``url``; no credentials are ever sent."""

    def __init__(
        self,
        name: str,
        flag: str,
        url: str,
        *,
        request_timeout: float,
        allow_plain_http: bool = False,
    ) -> None:
        self.name = name
        self.url = _checked_url(flag, url, allow_plain_http=allow_plain_http)
        self._client = _client(self.url, request_timeout)

    def get(
        self,
        path: str,
        what: str,
        *,
        params: Sequence[tuple[str, str]] = (),
        on_bad_request: Callable[[str], GateError] | None = None,
    ) -> object:
        """The JSON of a 200 answer to ``GET path``; every other ending as a gate error.
        ``on_bad_request`` makes the error for a 400 from the server's words."""
        try:
            response = self._client.get(path.lstrip("/"), params=list(params))
        except httpx.LocalProtocolError as exc:
            raise RequestRejected(f"{what}: the request could not be sent ({exc})") from exc
        except httpx.TransportError as exc:
            from gate.wire.transport import transient_fault

            raise transient_fault(what, exc) from exc
        code = response.status_code
        if code == 200:
            return json_body(response, what)
        words = refusal(response)
        said = f"HTTP {code}: {words}" if words else f"HTTP {code}"
        if code in (422, 429) or code >= 500:  # 422: Prometheus could not run it this time
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise TransientError(f"{what}: {said}", retry_after=retry_after)
        if code in (401, 403):
            raise AuthError(f"{what}: {self.name} refused the request ({said})")
        if code == 400 and on_bad_request is not None:
            raise on_bad_request(words or said)
        if code == 404:
            said += f" (is {self.url} the {self.name} API?)"
        raise RequestRejected(f"{what}: {said}")

    def close(self) -> None:
        self._client.close()


def refusal(response: httpx.Response) -> str:
    """The server's reason on one line: Prometheus' ``error``, go-swagger's ``message``, a
    JSON string (Alertmanager's 400s) or the text itself."""
    try:
        body: object = response.json()
    except (ValueError, RecursionError):
        body = response.text
    if isinstance(body, dict):
        body = body.get("error") or body.get("message") or ""
    return one_line(from_api(body), limit=MESSAGE_LIMIT)


def _checked_url(flag: str, url: str, *, allow_plain_http: bool) -> httpx.URL:
    # Before require_api_url, which quotes a URL it cannot use: this one may hold a password.
    authority = url.partition("://")[2].split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if "@" in authority:
        raise UsageError(f"{flag} must not hold a user or password")
    return require_api_url(flag, url, allow_plain_http=allow_plain_http)


def _client(url: httpx.URL, request_timeout: float) -> httpx.Client:
    from gate.wire.transport import BoundedTransport, proxy_for  # with httpcore: not for --help

    base = url.copy_with(path=url.path.rstrip("/") + "/")
    return httpx.Client(
        base_url=base,
        headers={"Accept": "application/json", "User-Agent": "deploy-gate"},
        transport=BoundedTransport(request_timeout=request_timeout, proxy=proxy_for(url)),
        follow_redirects=False,
        trust_env=False,  # proxies come from proxy_for; a ~/.netrc adds no credentials
    )
