"""API base URLs from flags and environment: checked once, before the first request.

A URL that can never work (another scheme, no host, a port out of range) or that would leak
or override credentials (a user or password in it, plain ``http://`` to another machine) is
a :class:`~gate.core.errors.UsageError` at once, never a fault retried until the deadline.
"""

from __future__ import annotations

import ipaddress
import re
from typing import TYPE_CHECKING

from gate.core.errors import UsageError

if TYPE_CHECKING:
    import httpx

__all__ = ["PLAIN_HTTP_FLAG", "is_loopback", "require_api_url"]

PLAIN_HTTP_FLAG = "--allow-plain-http"
_HOSTNAME = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}))*\.?"
)


def is_loopback(host: str) -> bool:
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def require_api_url(
    flag: str,
    value: str,
    *,
    allow_plain_http: bool = False,
    plain_http_advice: str = f"pass {PLAIN_HTTP_FLAG}",
) -> httpx.URL:
    """``value`` as a URL the gate may send requests (and credentials) to; ``flag`` and
    ``plain_http_advice`` say it in the caller's words (a flag, or a Pulumi input)."""
    import httpx  # here, not above: `gate wait greengrass --help` should not pay for it

    shown = repr(value) if len(value) <= 200 else repr(value[:199] + "…")
    try:
        url = httpx.URL(value)
    except httpx.InvalidURL as bad:
        raise UsageError(f"{flag} {shown} is not a URL ({bad})") from None
    if url.scheme not in ("https", "http") or not url.host:
        raise UsageError(f"{flag} {shown} is not an http(s) URL with a host")
    if not _is_host(url.host):
        raise UsageError(f"{flag} {shown} has no valid host name")
    if url.port is not None and not 0 < url.port < 65536:
        raise UsageError(f"{flag} {shown} has a port out of range (1-65535)")
    if url.userinfo:
        raise UsageError(
            f"{flag} must not hold a user or password; credentials come from the environment"
        )
    if url.query or url.fragment:
        raise UsageError(f"{flag} {shown} must not have a query string or fragment")
    if url.scheme == "http" and not allow_plain_http and not is_loopback(url.host):
        raise UsageError(
            f"{flag} {shown} is plain http to another machine, which would send credentials "
            f"unencrypted: use https, or {plain_http_advice} if the network is trusted"
        )
    return url


def _is_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return len(host) <= 253 and _HOSTNAME.fullmatch(host) is not None
    return True
