"""An HTTP GET as a bake check: ``failures_in_a_row`` failed answers in a row are a breach.

Each read sends one GET through the gate's bounded wire (TLS verified, no redirects followed,
nothing taken from the environment but a proxy). A 2xx answer is a success and resets the
count; any other status, or no answer at all (refused, reset, timed out, larger than the wire
reads), is a failure. The probe's failures are what it measures, so they are returned as a
:class:`~gate.bake.check.Reading`, never raised. A user and password in the URL are sent as
basic auth and shown nowhere; the query is never shown either, and neither comes back
through the answer's body (``Cannot GET /healthz?token=...``, a 401 page that echoes the
``Authorization`` header). The password, the basic-auth header, the query whole and the
values of keys named for a credential (``token``, ``api_key``, ``X-Amz-Signature``...) are
remembered as secrets of the run (:func:`gate.core.secret.remember`), cut from every text
from outside when 8 characters or more; the probe's own answers are cut of its password and
credential values whatever their length, and of its other query values as any secret (a
``?service=checkout`` is no secret, and ``checkout`` is in many a name the gate decides on).
"""

from __future__ import annotations

import base64
import re
from datetime import datetime
from urllib.parse import unquote

import httpx

from gate.bake.check import Breach, Reading
from gate.core.errors import TransientError, UsageError
from gate.core.secret import Scrubber, remember
from gate.core.text import from_api, quoted
from gate.core.urls import is_loopback
from gate.wire import deadline

__all__ = ["EXCERPT_LIMIT", "HttpProbe"]

EXCERPT_LIMIT = 200
"""Characters of a failed answer's body kept in a breach."""
_USERINFO = re.compile(r"//.*@")
_CREDENTIAL_KEY = re.compile(
    r"(?:^|[_.-])(?:token|secret|password|passwd|pass|pwd|key|apikey|auth|authorization|"
    r"sig|signature|credentials?|session|jwt)$"
)
"""Query keys whose values are credentials, by their last word (``access_token``,
``apiKey``, ``X-Amz-Signature``; not ``passive`` or ``monkey``)."""
_WORD_START = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


class HttpProbe:
    """GET ``url``; ``failures_in_a_row`` non-2xx answers or faults in a row breach."""

    kind = "probe"

    def __init__(self, url: str, *, failures_in_a_row: int = 3, request_timeout: float) -> None:
        self._url = _checked_url(url)
        self._shown = _shown(self._url)
        credentials = _credentials_of(self._url)
        remember(*credentials)
        self._own = Scrubber(self._url.params.values(), anywhere=credentials)
        if isinstance(failures_in_a_row, bool) or failures_in_a_row < 1:
            raise UsageError(f"failures_in_a_row must be 1 or more, not {failures_in_a_row!r}")
        if not request_timeout > 0:
            raise UsageError(f"the probe's request timeout must be positive, not {request_timeout}")
        self._limit = failures_in_a_row
        self._request_timeout = request_timeout
        self._failures = 0
        self._client: httpx.Client | None = None

    def __repr__(self) -> str:
        return f"HttpProbe({self._shown!r})"

    def describe(self) -> str:
        return f"HTTP probe {self._shown}"

    def prepare(self) -> None:
        """Nothing to check before the deployment: the service may not answer yet."""

    def read(self, since: datetime, now: datetime) -> Reading:
        status, said = self._get()
        if status is not None and 200 <= status < 300:
            self._failures = 0
            return Reading(f"probe {status}")
        self._failures += 1
        word = str(status) if status is not None else said
        summary = f"probe {word} ({self._failures} of {self._limit} in a row)"
        if self._failures < self._limit:
            return Reading(summary, unsettled=f"the probe is failing ({summary})")
        in_a_row = "" if self._limit == 1 else f"{self._failures} failures in a row, the last: "
        return Reading(
            summary, (Breach(f"probe {self._shown}", in_a_row + said, now, ongoing=True),)
        )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _get(self) -> tuple[int | None, str]:
        """The answer's status and what to say of it; no status when there was no answer."""
        if deadline.seconds_left(self._request_timeout) <= 0:
            # The bake's own time ran out: no fault of the service's.
            raise TransientError(f"no time was left to probe {self._shown}")
        from gate.wire.transport import NoRequestSlot, describe_fault, transient_fault

        try:
            answer = self._wire().get(self._url)
        except NoRequestSlot as fault:  # the gate's shared request budget, not the service
            raise transient_fault(f"probe {self._shown}", fault) from fault
        except httpx.HTTPError as fault:
            return None, describe_fault(fault)
        said = f"HTTP {answer.status_code}"
        if 300 <= answer.status_code < 400:
            said += " (redirects are not followed)"
        return answer.status_code, f"{said}, {self._excerpt(answer.content)}"

    def _excerpt(self, body: bytes) -> str:
        # Scrubbed whole before it is cut: a secret cut in two would keep its half.
        text = self._own.text(" ".join(from_api(body.decode("utf-8", "replace")).split()))
        text = text[: 2 * EXCERPT_LIMIT]
        if not text:
            return "empty body"
        return f"body {quoted(text, limit=EXCERPT_LIMIT)}"

    def _wire(self) -> httpx.Client:
        if self._client is None:
            from gate.wire.transport import BoundedTransport, proxy_for

            self._client = httpx.Client(
                transport=BoundedTransport(
                    request_timeout=self._request_timeout, proxy=proxy_for(self._url)
                ),
                headers={"User-Agent": "deploy-gate", "Accept": "*/*"},
                follow_redirects=False,
                trust_env=False,  # proxies come from proxy_for; no ~/.netrc credentials
            )
        return self._client


def _checked_url(url: str) -> httpx.URL:
    shown = repr(_USERINFO.sub("//***@", url)[:200]) if isinstance(url, str) else repr(url)
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError):
        raise UsageError(f"the probe URL {shown} is not a URL") from None
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UsageError(f"the probe URL {shown} is not an http(s) URL with a host")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UsageError(f"the probe URL {shown} has a port out of range (1-65535)")
    if parsed.userinfo and parsed.scheme == "http" and not is_loopback(parsed.host):
        raise UsageError(
            f"the probe URL {shown} would send its user and password unencrypted: use https"
        )
    return parsed


def _shown(url: httpx.URL) -> str:
    """The URL without its user, password and query (``?token=...`` is a secret as often
    as not), for every message."""
    shown = str(url.copy_with(username=None, password=None, query=None, fragment=None))
    return f"{shown}?…" if url.query else shown


def _credentials_of(url: httpx.URL) -> list[str]:
    """The credentials in the URL a server may echo: the password and the basic-auth header
    it is sent in, the query whole (as the request's target, ``/healthz?token=...``, too) and
    the values of credential keys."""
    found = []
    if url.password:
        pair = f"{url.username}:{url.password}".encode()  # as httpx sends it
        header = base64.b64encode(pair).decode("ascii")
        found += [url.password, header, f"Basic {header}"]
    if url.query:
        query, target = url.query.decode("ascii"), url.raw_path.decode("ascii")
        found += [target, unquote(target), query]
        found += [value for key, value in url.params.multi_items() if _names_a_credential(key)]
    return found


def _names_a_credential(key: str) -> bool:
    return bool(_CREDENTIAL_KEY.search(_WORD_START.sub("_", key).lower()))
