"""An HTTP answer's JSON body, read as the gate reads every API's: a body that is not JSON,
or nests too deeply to read, is a transient fault (a proxy's error page, a truncated
answer), never a status."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gate.core.errors import TransientError

if TYPE_CHECKING:
    import httpx

__all__ = ["json_body"]


def json_body(response: httpx.Response, what: str) -> object:
    try:
        return response.json()
    except RecursionError as exc:
        raise TransientError(f"{what}: the answer nests too deeply to be read") from exc
    except ValueError as exc:
        raise TransientError(
            f"{what}: HTTP {response.status_code} with a body that is not JSON"
        ) from exc
