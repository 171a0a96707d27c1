"""Judging a Greengrass v1 deployment from its recorded status answer: no call.

``GetDeploymentStatus`` answers a status word (``Building`` and ``InProgress`` are running,
``Success`` succeeded, ``Failure`` failed; any other is unknown, reported and waited on) and,
on failure, ``ErrorMessage`` and ``ErrorDetails``; :func:`judge` turns that answer into a
snapshot. The reader (:mod:`gate.providers.greengrass.v1.reader`) makes the call.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gate.core.errors import TransientError
from gate.core.model import ErrorDetail, Snapshot, State
from gate.core.text import from_api
from gate.core.timestamps import as_iso_utc

__all__ = ["STATUSES", "error_details", "judge"]

STATUSES: Mapping[str, State] = {
    "Building": State.RUNNING,
    "InProgress": State.RUNNING,
    "Success": State.SUCCEEDED,
    "Failure": State.FAILED,
}


def judge(answer: Mapping[str, Any]) -> Snapshot:
    """The snapshot a ``GetDeploymentStatus`` answer says."""
    raw_status = from_api(answer.get("DeploymentStatus"))
    if not raw_status:
        raise TransientError("GetDeploymentStatus answered without a DeploymentStatus")
    return Snapshot(
        state=STATUSES.get(raw_status, State.UNKNOWN),
        raw_status=raw_status,
        errors=error_details(answer),
        changed_at=as_iso_utc(answer.get("UpdatedAt")),
        deployment_type=from_api(answer.get("DeploymentType")) or None,
    )


def error_details(answer: Mapping[str, Any]) -> tuple[ErrorDetail, ...]:
    """``ErrorMessage`` and every ``ErrorDetails`` entry, from a status or an error answer."""
    details: list[ErrorDetail] = []
    message = from_api(answer.get("ErrorMessage"))
    if message:
        details.append(ErrorDetail(code="", message=message, scope="deployment"))
    listed = answer.get("ErrorDetails")
    for item in listed if isinstance(listed, list) else ():
        if isinstance(item, Mapping):
            details.append(
                ErrorDetail(
                    code=from_api(item.get("DetailedErrorCode")),
                    message=from_api(item.get("DetailedErrorMessage")),
                )
            )
    return tuple(details)
