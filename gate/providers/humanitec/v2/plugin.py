"""The ``humanitec-v2`` provider's target, described once, and its plugin. The provider itself
(:mod:`gate.providers.humanitec.v2.reader`, with httpx) is imported only when one is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gate.core.description import Field, TargetDescription, TargetValues
from gate.core.errors import UsageError
from gate.core.provider import DescribedPlugin
from gate.core.secret import Secret, header_token
from gate.providers.humanitec.fields import V2_API_URL as DEFAULT_API_URL
from gate.providers.humanitec.fields import connection_fields

if TYPE_CHECKING:
    from gate.providers.humanitec.v2.reader import HumanitecV2Deployment

__all__ = ["DEFAULT_API_URL", "description", "plugin"]


description = TargetDescription(
    provider="humanitec-v2",
    summary=(
        "a Humanitec Platform Orchestrator v2 deployment, waited on at the server "
        "(token in HUMANITEC_AUTH_TOKEN)"
    ),
    fields=(
        Field(
            "org",
            "organization id",
            kind="id",
            env=("HUMANITEC_ORG_ID", "HUMANITEC_ORG"),
            required=True,
        ),
        Field("deployment_id", "the deployment to wait on", kind="id", required=True),
        *connection_fields(DEFAULT_API_URL),
    ),
)


class _Plugin(DescribedPlugin):
    description = description

    def build(
        self,
        target: TargetValues,
        env: Mapping[str, str],
        *,
        request_timeout: float,
        token: Secret | None = None,
    ) -> HumanitecV2Deployment:
        from gate.providers.humanitec.api import connect_to_target
        from gate.providers.humanitec.v2.reader import HumanitecV2Deployment

        if token is None:
            source = (
                "HUMANITEC_AUTH_TOKEN" if env.get("HUMANITEC_AUTH_TOKEN") else "HUMANITEC_TOKEN"
            )
            token = header_token(source, env.get(source, ""))
        client = connect_to_target(
            target, token, default_url=DEFAULT_API_URL, request_timeout=request_timeout
        )
        try:
            return HumanitecV2Deployment(
                client,
                org=target.text("org") or "",
                deployment_id=target.text("deployment_id") or "",
                token=token,
            )
        except UsageError:
            client.close()
            raise


plugin = _Plugin()
