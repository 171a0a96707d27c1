"""One Humanitec API session: bounded requests, and every fault translated into gate errors.

Shared by the deployment, pipeline-run, runtime and v2 readers. Refusals come as
``HumanitecErrorResponse`` (``error``, ``message``, ``details``), kept whole in one line.
Pages follow the contract's ``Link: <...>; rel="next"`` header, of which only the ``page``
token is used: the API never chooses which path the gate requests next.
"""

from __future__ import annotations

import json
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx

from gate.core.description import TargetValues
from gate.core.errors import (
    AuthError,
    Conflict,
    NotFoundError,
    RequestRejected,
    Throttled,
    TransientError,
)
from gate.core.ids import path_of
from gate.core.secret import Secret
from gate.core.text import from_api, one_line
from gate.core.urls import require_api_url
from gate.wire import deadline, sharing
from gate.wire.answers import json_body
from gate.wire.retry_after import parse_retry_after

__all__ = [
    "MESSAGE_LIMIT",
    "HumanitecApi",
    "connect",
    "connect_to_target",
    "path_of",
]

MESSAGE_LIMIT = 2000
"""How much of an error body's message and details a reason keeps (one line)."""


def connect(
    api_url: str, token: Secret, *, request_timeout: float, allow_plain_http: bool = False
) -> httpx.Client:
    """A client for the API: bearer auth, TLS verified, no redirects, and every request
    bounded in total time and size (:class:`gate.wire.transport.BoundedTransport`). In a gate
    of many targets, the same client for the same API, token and timeout."""
    url = require_api_url("--api-url", api_url, allow_plain_http=allow_plain_http)
    key = ("humanitec client", str(url), token.fingerprint(), request_timeout)
    return sharing.made_once(key, lambda: _client(url, token, request_timeout))


def _client(url: httpx.URL, token: Secret, request_timeout: float) -> httpx.Client:
    from gate.wire.transport import BoundedTransport, proxy_for  # with httpcore: not for --help

    transport = BoundedTransport(request_timeout=request_timeout, proxy=proxy_for(url))
    return httpx.Client(
        base_url=url,
        headers={
            "Authorization": f"Bearer {token.reveal()}",
            "Accept": "application/json",
            "User-Agent": "deploy-gate",
        },
        transport=transport,
        follow_redirects=False,
        trust_env=False,  # proxies come from proxy_for; a ~/.netrc must not replace the token
    )


def connect_to_target(
    target: TargetValues, token: Secret, *, default_url: str, request_timeout: float
) -> httpx.Client:
    """:func:`connect` to the target's ``api_url`` (else ``default_url``)."""
    return connect(
        target.text("api_url") or default_url,
        token,
        request_timeout=request_timeout,
        allow_plain_http=target.flag("allow_plain_http"),
    )


class HumanitecApi:
    """Requests to one Humanitec API with one token; answers are parsed JSON."""

    def __init__(self, client: httpx.Client, *, token: Secret | None = None) -> None:
        self.client = client
        self._token = token

    def said(self, value: object) -> str:
        """A string the API sent, cleaned and with every known credential cut (see
        gate.core.text)."""
        return from_api(value)

    def get(
        self,
        path: str,
        what: str,
        *,
        not_found: str | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> object:
        """The JSON of a 200 answer to ``GET path``; every other ending as a gate error.

        A 404 means the thing waited on is gone (``not_found`` names it: NotFoundError, which
        the engine reads as "not visible yet" for a while) or, without it, that a read made
        only to explain is refused.
        """
        return self.answer(path, what, not_found=not_found, params=params, headers=headers)[1]

    def get_object(self, path: str, what: str, **kwargs: Any) -> dict[str, Any]:
        body = self.get(path, what, **kwargs)
        if not isinstance(body, dict):
            raise TransientError(f"{what}: the answer is not a JSON object")
        return body

    def answer(
        self,
        path: str,
        what: str,
        *,
        not_found: str | None = None,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        also: tuple[int, ...] = (),
        held_seconds: float = 0.0,
    ) -> tuple[int, object]:
        """Status and JSON body of a 200 (or an ``also`` status) answer to ``GET path``."""
        response = self._send(path, what, params=params, headers=headers, held=held_seconds)
        return self._check(response, what, not_found=not_found, also=also)

    def post(
        self,
        path: str,
        what: str,
        body: Mapping[str, object],
        *,
        headers: Mapping[str, str] | None = None,
        created: tuple[int, ...] = (201,),
    ) -> tuple[int, object]:
        """Status and JSON body of a 200 (or a ``created`` status) answer to ``POST path``
        with ``body`` as JSON; every other ending as a gate error. Never retried here: a
        fault after sending leaves unknown whether the API acted on it."""
        response = self._send(path, what, params=None, headers=headers, held=0.0, body=body)
        return self._check(response, what, also=created)

    def pages(
        self,
        path: str,
        what: str,
        *,
        params: Mapping[str, str | int] | None = None,
        limit: int,
        keep: Callable[[dict[str, Any]], bool] = lambda _: True,
        keep_last: int | None = None,
    ) -> tuple[list[dict[str, Any]], bool, int]:
        """The objects of a paginated list that ``keep`` accepts, the last ``keep_last`` of
        them at most, read up to ``limit`` pages; whether pages were left; how many were
        accepted. Each page is let go once read: a long list costs one page of memory."""
        kept: deque[dict[str, Any]] = deque(maxlen=keep_last)
        accepted = 0
        query = dict(params or {})
        for _ in range(limit):
            response = self._send(path, what, params=query, headers=None, held=0.0)
            _, body = self._check(response, what)
            if not isinstance(body, list):
                raise TransientError(f"{what}: the answer is not a list")
            for item in body:
                if isinstance(item, dict) and keep(item):
                    kept.append(item)
                    accepted += 1
            token = _next_page(response)
            del body, response  # let the page go before the next one is read
            if token is None:
                return list(kept), False, accepted
            query["page"] = token
        return list(kept), True, accepted

    def _check(
        self,
        response: httpx.Response,
        what: str,
        *,
        not_found: str | None = None,
        also: tuple[int, ...] = (),
    ) -> tuple[int, object]:
        code = response.status_code
        if code == 200 or code in also:
            return code, json_body(response, what)
        if 200 <= code < 300:  # not what the API promises, but not a refusal either
            raise TransientError(f"{what}: HTTP {code}, not an answer the API gives")
        said = f"HTTP {code}{self._refusal(response)}"
        if code == 429 or code >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            fault = Throttled if code == 429 else TransientError
            raise fault(f"{what}: {said}", retry_after=retry_after)
        if code in (401, 403):
            source = f" from {self._token.source}" if self._token and self._token.source else ""
            raise AuthError(f"Humanitec refused the token{source} ({said})")
        if code == 404 and not_found is not None:
            raise NotFoundError(f"{not_found} was not found ({said})")
        raise (Conflict if code == 409 else RequestRejected)(f"{what}: {said}")

    def _send(
        self,
        path: str,
        what: str,
        *,
        params: Mapping[str, str | int] | None,
        headers: Mapping[str, str] | None,
        held: float,
        body: Mapping[str, object] | None = None,
    ) -> httpx.Response:
        try:
            return self.client.request(
                "GET" if body is None else "POST",
                path,
                params=dict(params) if params else None,
                json=dict(body) if body is not None else None,
                headers=dict(headers) if headers else None,
                extensions={deadline.HELD_SECONDS: held} if held else None,
            )
        except httpx.LocalProtocolError as exc:
            raise RequestRejected(f"{what}: the request could not be sent ({exc})") from exc
        except httpx.TransportError as exc:
            from gate.wire.transport import transient_fault

            raise transient_fault(what, exc) from exc

    def _refusal(self, response: httpx.Response) -> str:
        """``: API-404 Deployment not found. {"id": "0f3c"}`` from a HumanitecErrorResponse."""
        try:
            body = json_body(response, "")
        except TransientError:
            return ""
        if not isinstance(body, dict):
            return ""
        parts = [self.said(body.get("error")), self.said(body.get("message"))]
        details = body.get("details")
        if details not in (None, "", {}, []):
            parts.append(self.said(_compact(details)))
        words = one_line(" ".join(part for part in parts if part), limit=MESSAGE_LIMIT)
        return f": {words}" if words else ""


def _next_page(response: httpx.Response) -> str | None:
    link = response.links.get("next", {}).get("url")
    if not link:
        return None
    tokens = parse_qs(urlsplit(link).query).get("page")
    return tokens[-1] if tokens and tokens[-1] else None


def _compact(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))[:MESSAGE_LIMIT]
    except (ValueError, RecursionError):
        return ""
