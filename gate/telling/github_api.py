"""One GitHub REST API session for the telling: bounded requests, GitHub's rate limits kept,
and every ending either an answer or a :class:`GitHubRefused` in a person's words.

Every request carries ``Accept: application/vnd.github+json`` and ``X-GitHub-Api-Version``
(:data:`API_VERSION`), goes through the gate's bounded wire (no redirects, no ``~/.netrc``,
proxies from the environment) and ends within :data:`CALL_SECONDS`, retries included.

Retried, at most :data:`ATTEMPTS` times in all and never waiting longer than
:data:`LONGEST_WAIT` at once: a 5xx answer and a fault of the wire (backing off 1 s, then
2 s, or as ``Retry-After`` says), and GitHub's rate limits: a 429, or a 403 with
``Retry-After`` or ``x-ratelimit-remaining: 0`` (waiting as ``Retry-After`` says, else until
``x-ratelimit-reset``). A limit that asks for longer, or a secondary limit that names no
time (GitHub then asks for a minute at least), is given up on: what is told is a courtesy,
never worth holding a pipeline for.

A 401, a 403 that is not a rate limit, a 404 (the repository, as the token sees it) and a
wire that stays down are :class:`GitHubRefused` with ``whole=True``: no later request can
do better. Any other refusal (a 422) concerns that request only.

The token is sent in one header and never said: GitHub's messages are kept with it (and every
other secret the run knows of) cut out, as all text from outside (:func:`gate.core.text.from_api`).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping

import httpx

from gate.core.errors import TransientError
from gate.core.ids import path_of
from gate.core.secret import Secret
from gate.core.text import from_api, one_line
from gate.wire import deadline
from gate.wire.answers import json_body
from gate.wire.retry_after import parse_retry_after
from gate.wire.transport import describe_fault

__all__ = [
    "API_VERSION",
    "ATTEMPTS",
    "CALL_SECONDS",
    "LONGEST_WAIT",
    "GitHubApi",
    "GitHubRefused",
    "github_client",
    "path_of",
]

API_VERSION = "2022-11-28"
ATTEMPTS = 3
"""Requests for one call at most, the first included."""
LONGEST_WAIT = 10.0
"""The longest wait before a retry; a rate limit that asks for more is given up on."""
CALL_SECONDS = 30.0
"""All of one call, its retries and their waits included."""
MESSAGE_LIMIT = 300
_BACKOFF = (1.0, 2.0)


class GitHubRefused(Exception):
    """A call that did not get its answer, in a person's words (never the token).
    ``whole``: every later call would end the same (the token, the repository, the wire)."""

    def __init__(self, message: str, *, whole: bool = False) -> None:
        super().__init__(message)
        self.whole = whole


def github_client(url: httpx.URL, token: Secret, *, request_timeout: float) -> httpx.Client:
    """A client for the API at ``url`` (checked by the caller): bearer auth, GitHub's media
    type and API version, TLS verified, no redirects, every request bounded."""
    from gate.wire.transport import BoundedTransport, proxy_for

    return httpx.Client(
        base_url=url,
        headers={
            "Authorization": f"Bearer {token.reveal()}",
            "Accept": "application/vnd.github+json",
            "X-GitHub-Api-Version": API_VERSION,
            "User-Agent": "deploy-gate",
        },
        transport=BoundedTransport(request_timeout=request_timeout, proxy=proxy_for(url)),
        follow_redirects=False,
        trust_env=False,  # proxies come from proxy_for; a ~/.netrc must not replace the token
    )


class GitHubApi:
    """Calls to one GitHub API with one token; answers are parsed JSON. ``sleep`` waits
    before a retry; ``now`` is the wall clock, for ``x-ratelimit-reset``."""

    def __init__(
        self,
        client: httpx.Client,
        token: Secret,
        *,
        sleep: Callable[[float], None],
        now: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self._token = token
        self._sleep = sleep
        self._now = now

    def call(
        self,
        method: str,
        path: str,
        what: str,
        *,
        params: Mapping[str, str | int] | None = None,
        body: Mapping[str, object] | None = None,
        expect: tuple[int, ...] = (200,),
    ) -> object:
        """The JSON of an ``expect``-ed answer to ``method path``; else :class:`GitHubRefused`."""
        with deadline.within(CALL_SECONDS):
            for attempt in range(1, ATTEMPTS + 1):
                last = attempt == ATTEMPTS
                try:
                    response = self.client.request(method, path, params=params, json=body)
                except httpx.HTTPError as fault:
                    said = f"{what}: {describe_fault(fault)}"
                    if last:
                        raise GitHubRefused(said, whole=True) from None
                    self._wait(_backoff(attempt), said, whole=True)
                    continue
                code = response.status_code
                if code in expect:
                    return _json(response, what)
                said = f"{what}: HTTP {code}{self._message(response)}"
                wait = self._retry_in(response, attempt)
                if wait is None:
                    raise self._refusal(code, said)
                if last:
                    raise GitHubRefused(f"{said} (after {ATTEMPTS} attempts)")
                # A rate limit is the whole API's: no other deployment gets through it either.
                self._wait(wait, said, whole=code in (403, 429))
        raise AssertionError("unreachable")  # pragma: no cover

    def _retry_in(self, response: httpx.Response, attempt: int) -> float | None:
        """Seconds to wait before trying again (``math.inf``: too long to wait), or None
        when the answer is final."""
        code = response.status_code
        headers = response.headers
        retry_after = parse_retry_after(headers.get("Retry-After"))
        if code >= 500:
            return retry_after if retry_after is not None else _backoff(attempt)
        limited = code == 429 or (
            code == 403 and (retry_after is not None or headers.get("x-ratelimit-remaining") == "0")
        )
        if not limited:
            return None
        if retry_after is not None:
            return retry_after
        if headers.get("x-ratelimit-remaining") == "0":
            try:
                return max(float(headers.get("x-ratelimit-reset", "")) - self._now(), 0.0)
            except ValueError:
                return math.inf
        return math.inf  # a secondary limit naming no time: GitHub asks for a minute at least

    def _wait(self, seconds: float, said: str, *, whole: bool) -> None:
        if seconds > LONGEST_WAIT or seconds >= deadline.seconds_left(math.inf):
            asked = "" if math.isinf(seconds) else f" {seconds:g}s"
            raise GitHubRefused(
                f"{said}; GitHub asks to wait{asked or ' a minute or more'}, longer than the "
                "gate waits for it",
                whole=whole,
            )
        self._sleep(seconds)

    def _refusal(self, code: int, said: str) -> GitHubRefused:
        if code in (401, 403):
            source = self._token.source or "the token"
            need = " (the job needs `permissions: deployments: write`)" if code == 403 else ""
            return GitHubRefused(f"GitHub refused {source}{need}: {said}", whole=True)
        if code == 404:
            return GitHubRefused(
                f"{said} (no such repository, or the token cannot see it)", whole=True
            )
        return GitHubRefused(said)

    def _message(self, response: httpx.Response) -> str:
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        message = one_line(from_api(body.get("message")), limit=MESSAGE_LIMIT)
        errors = body.get("errors")
        if isinstance(errors, list) and errors:
            # what GitHub's 422 says of each field
            detail = one_line(from_api(str(errors)), limit=MESSAGE_LIMIT)
            message = f"{message} {detail}".strip()
        return f": {message}" if message else ""


def _backoff(attempt: int) -> float:
    return _BACKOFF[min(attempt, len(_BACKOFF)) - 1]


def _json(response: httpx.Response, what: str) -> object:
    try:
        return json_body(response, what)
    except TransientError as unreadable:  # for GitHub's worker: a refusal of this call
        raise GitHubRefused(str(unreadable)) from None
