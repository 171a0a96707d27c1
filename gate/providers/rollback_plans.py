"""What every provider's rollback shares: reading a plan back, the comment it carries, and
the rules of starting one.

A plan's ``request`` is what ``roll_back`` sends (save values a plan must not show, such as a
Greengrass v2 component's configuration, read again at the start). It comes back from the
caller, so it is read back strictly: the operation and the target it names must be the
provider's own, or nothing is sent (:func:`planned_request`).

A rollback is planned only while the failed deployment is still its target's latest: one
started since (by someone else, or an earlier rollback) would be undone by it
(:func:`started_since`). Where a backend promises no order of a target's history (Humanitec
v2, Greengrass), a plan reads all of it or refuses (:func:`unread_history`): the version to
restore may be on the page left unread.

The rules of a start live in :func:`unclear_start`, around the request, and
:func:`started_id`, on its answer. A 429 (throttling) means the backend did not act on it, so
it stays a TransientError that the caller sends again after the pause asked for, within its
deadline. Any answer after which the backend may have acted is a :class:`StartUnclear`, said
as "may have started", never as "not started", and never sent again: any other transient
fault (a 5xx, a timeout, a reset), a 409 to a request sent with an idempotency key (that key
usually still being processed), and a 2xx the gate cannot use (no id, or an id it will not
put in a path). Only a clear refusal (a 4xx, a 409 to an unkeyed request) or a request never
sent (throttled to the end, out of the gate's request budget) leaves it "not started". Where
the backend takes one, a key made from the failed deployment's id (:func:`client_token`)
makes a second request for the same rollback start nothing new.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from gate.core.errors import (
    Conflict,
    ReadError,
    RequestNotSent,
    RequestRejected,
    StartUnclear,
    Throttled,
    TransientError,
    UsageError,
)
from gate.core.ids import api_id
from gate.core.model import COMMENT_LIMIT, RollbackPlan
from gate.core.text import from_api, one_line

__all__ = [
    "COMMENT_LIMIT",
    "AwsCall",
    "aws_page",
    "aws_pages",
    "body_of",
    "client_token",
    "comment_of",
    "planned_request",
    "short",
    "started_id",
    "started_since",
    "unclear_start",
    "unread_history",
]

_TOKEN_CHARACTERS = re.compile(r"[^A-Za-z0-9-]")

AwsCall = Callable[..., Mapping[str, Any]]
"""``call(operation, **params)``: one AWS call, its faults already gate errors."""


def planned_request(plan: RollbackPlan, **expected: object) -> dict[str, Any]:
    """``plan.request``, whose ``expected`` keys hold exactly the values given (the method and
    path, the operation); a UsageError for a plan made for another target or backend."""
    return _expect(dict(plan.request), "", expected)


def body_of(request: Mapping[str, Any], key: str = "body", **expected: object) -> dict[str, Any]:
    """The mapping under ``key`` of a planned request, whose ``expected`` keys hold exactly
    the values given (the group it deploys to)."""
    body = request.get(key)
    if not isinstance(body, Mapping):
        raise UsageError(f"the rollback plan has no {key} to send")
    return _expect(dict(body), f"{key} ", expected)


def _expect(found: dict[str, Any], where: str, expected: Mapping[str, object]) -> dict[str, Any]:
    for key, value in expected.items():
        if found.get(key) != value:
            raise UsageError(
                f"the rollback plan is not for this target: its {where}{key} is "
                f"{one_line(str(found.get(key)), limit=200)!r}, not {value!r}"
            )
    return found


def comment_of(comment: str, default: str) -> str:
    """``comment`` (else ``default``) on one line, at most COMMENT_LIMIT characters."""
    return one_line(comment.strip() or default, limit=COMMENT_LIMIT)


def short(identifier: str, *, keep: int = 12) -> str:
    """A long id (a 40-digit set id) shortened for a person: ``3f2a9c01b2e4…``."""
    return identifier if len(identifier) <= keep else identifier[:keep] + "…"


def started_since(failed: str, where: str, newer: str = "") -> RequestRejected:
    """The refusal to roll back ``failed`` once ``newer`` (a deployment started ``where``
    after it; unnamed if the backend only said one was) is the target's latest."""
    which = f"deployment {newer}" if newer else "a newer deployment"
    return RequestRejected(
        f"{which} was started {where} after {failed} failed, and a rollback would undo it"
    )


@contextmanager
def unclear_start(check: str, *, keyed: bool) -> Iterator[None]:
    """Around the request that starts a rollback (``keyed``: sent with an idempotency key or
    client token). A throttled answer (:class:`Throttled`: not acted on) and a request the
    gate never sent (:class:`RequestNotSent`: no slot in its request budget, or it stopped)
    are left as they are, for the caller to send again or give up. Any other transient fault
    may have come after the backend acted on the request, and so may a 409 to a keyed one
    (the key still in progress): each becomes a :class:`StartUnclear` that names ``check``,
    where a person can see."""
    try:
        yield
    except (Throttled, RequestNotSent):
        raise
    except TransientError as fault:
        raise _unclear(str(fault), check) from fault
    except Conflict as conflict:
        if not keyed:
            raise
        said = f"{conflict}; a request with the same key may still be in progress"
        raise _unclear(said, check) from conflict


def started_id(said: str, answer: str, check: str) -> str:
    """The id of the deployment a start made, ``said`` in its ``answer`` (``HTTP 201``,
    ``CreateDeployment``), an answer of success: the backend acted. One that names no
    deployment, or one the gate will not put in a path, is a :class:`StartUnclear` naming
    ``check``: the rollback may well be running, unseen."""
    if not said:
        raise _unclear(f"{answer} names no deployment", check)
    try:
        return api_id("deployment id", said)
    except ReadError as odd:
        raise _unclear(f"{answer}: {odd}", check) from odd


def _unclear(said: str, check: str) -> StartUnclear:
    return StartUnclear(
        f"the rollback request got no clear answer ({said}): it may have started; "
        f"check {check} before retrying"
    )


def unread_history(where: str, read: int) -> RequestRejected:
    """The refusal to plan from part of a history: ``where`` lists more than the ``read``
    deployments the gate reads, in no promised order, so the one to restore (or a newer one
    a rollback would undo) may be among those left unread."""
    return RequestRejected(
        f"the deployment history of {where} is longer than the {read:,} deployments the gate "
        "reads (listed in no promised order): what to roll back to cannot be known"
    )


def client_token(failed: str) -> str:
    """The idempotency key of the rollback of ``failed``: the same for every request to roll
    it back, at most 64 letters, digits and dashes (what AWS's ``clientToken`` allows)."""
    return _TOKEN_CHARACTERS.sub("-", f"deploy-gate-rollback-{failed}")[:64]


def aws_pages(
    call: AwsCall,
    operation: Callable[..., Any],
    *,
    items: str,
    next_key: str,
    pages: int,
    per_page: int,
    where: str,
    **params: Any,
) -> Iterator[Mapping[str, Any]]:
    """Every object listed under ``items`` by an AWS list ``operation`` of ``where``'s
    history, each page asked for (``per_page`` at most) with the ``next_key``
    (``NextToken``) the last gave; :func:`unread_history` after ``pages`` pages."""
    following = ""
    for _ in range(pages):
        page = call(operation, **params, **({next_key: following} if following else {}))
        yield from aws_page(page, items=items)
        following = from_api(page.get(next_key))
        if not following:
            return
    raise unread_history(where, pages * per_page)


def aws_page(page: Mapping[str, Any], *, items: str) -> list[Mapping[str, Any]]:
    """The objects listed under ``items`` in one page an AWS list operation answered."""
    listed = page.get(items)
    if not isinstance(listed, list):
        return []
    return [item for item in listed if isinstance(item, Mapping)]
