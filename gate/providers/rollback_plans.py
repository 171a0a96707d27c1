"""What every provider's rollback shares: reading a plan back, and the comment it carries.

A plan's ``request`` is what ``roll_back`` sends. It comes back from the caller, so it is read
back strictly: the operation and the target it names must be the provider's own, or nothing
is sent (:func:`planned_request`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gate.core.errors import UsageError
from gate.core.model import RollbackPlan
from gate.core.text import one_line

__all__ = ["COMMENT_LIMIT", "body_of", "comment_of", "planned_request", "short"]

COMMENT_LIMIT = 500
"""Characters of a rollback's comment kept: the failed deployment and why, on one line."""


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
