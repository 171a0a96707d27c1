"""The emulated AWS IoT Greengrass v1: ``GetDeploymentStatus`` of a group's deployment and
``ListDeployments`` of a group (one page), shaped by botocore's service model."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from gate.emulator.core import SEGMENT, EmulatorCore, Request, Route
from gate.emulator.http import Answer
from gate.emulator.scenario import GreengrassScript, Timeline

__all__ = ["GreengrassV1"]


class GreengrassV1(EmulatorCore):
    """Greengrass v1's endpoint, for :class:`gate.emulator.Emulator`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._greengrass: dict[tuple[str, str], GreengrassScript] = {}

    def _routes(self) -> list[Route]:
        status = f"^/greengrass/groups/{SEGMENT}/deployments/{SEGMENT}/status$"
        listed = f"^/greengrass/groups/{SEGMENT}/deployments$"
        answer = self._greengrass_v1
        return [
            *super()._routes(),
            Route(status, "greengrass", answer),
            Route(listed, "greengrass-list", self._greengrass_v1_list),
        ]

    def _greengrass_v1(self, request: Request) -> Answer:
        return self._greengrass_answer(request.ids, request.headers)

    def add_greengrass(
        self,
        timeline: Timeline,
        *,
        group_id: str | None = None,
        deployment_id: str | None = None,
        error_message: str = "",
        error_details: Iterable[Mapping[str, str]] = (),
        deployment_type: str = "NewDeployment",
        started_ago: float = 0.0,
    ) -> tuple[str, str]:
        """Start a deployment now (or ``started_ago`` seconds ago, for a group's history);
        returns ``(group_id, deployment_id)``."""
        group_id = group_id or str(uuid.uuid4())
        deployment_id = deployment_id or str(uuid.uuid4())
        script = GreengrassScript(
            group_id,
            deployment_id,
            timeline,
            error_message,
            list(error_details),
            self.clock() - started_ago,
            deployment_type,
        )
        with self._lock:
            self._greengrass[(group_id, deployment_id)] = script
        return group_id, deployment_id

    def _greengrass_v1_list(self, request: Request) -> Answer:
        """ListDeployments of a group: its deployments, newest first, in one page."""
        if not request.headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            return self._greengrass_answer([], request.headers)
        with self._lock:
            scripts = [s for (group, _), s in self._greengrass.items() if group == request.ids[0]]
        arn = "arn:aws:greengrass:eu-west-1:123456789012:/greengrass/groups"
        listed = [
            {
                "CreatedAt": self._iso(script.created),
                "DeploymentArn": f"{arn}/{script.group_id}/deployments/{script.deployment_id}",
                "DeploymentId": script.deployment_id,
                "DeploymentType": script.deployment_type,
                "GroupArn": f"{arn}/{script.group_id}/versions/1",
            }
            for script in sorted(scripts, key=lambda s: s.created, reverse=True)
        ]
        return 200, {"Deployments": listed}, {}

    def _greengrass_answer(
        self, ids: list[str], headers: Mapping[str, str]
    ) -> tuple[int, Any, dict[str, str]]:
        if not headers.get("authorization", "").startswith("AWS4-HMAC-SHA256"):
            message = "Missing Authentication Token"
            error_type = {"x-amzn-ErrorType": "MissingAuthenticationTokenException"}
            return 403, {"Message": message}, error_type
        with self._lock:
            script = self._greengrass.get((ids[0], ids[1]))
        if script is None:
            message = f"Deployment '{ids[1]}' does not exist."
            return 400, {"Message": message}, {"x-amzn-ErrorType": "BadRequestException"}
        status, since = script.timeline.at(self._read(script))
        body: dict[str, Any] = {
            "DeploymentStatus": status,
            "DeploymentType": script.deployment_type,
            "UpdatedAt": self._epoch_ms(script.created + since),
        }
        if status == "Failure":
            body["ErrorMessage"] = script.error_message
            body["ErrorDetails"] = list(script.error_details)
        return 200, body, {}
