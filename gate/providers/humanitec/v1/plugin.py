"""The ``humanitec`` provider's target, described once, and its plugin: a deployment
(``deploy_id`` or ``latest`` in ``env``) or a pipeline run. The provider itself
(:mod:`gate.providers.humanitec.v1.reader`, with httpx) is imported only when one is built.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from gate.core.description import Field, FieldError, TargetDescription, TargetValues, named
from gate.core.errors import UsageError
from gate.core.provider import DescribedPlugin
from gate.core.secret import Secret, header_token
from gate.providers.humanitec.fields import V1_API_URL as DEFAULT_API_URL
from gate.providers.humanitec.fields import connection_fields

if TYPE_CHECKING:
    from gate.providers.humanitec.v1.pipelines import HumanitecPipelineRun
    from gate.providers.humanitec.v1.reader import HumanitecDeployment

__all__ = ["DEFAULT_API_URL", "description", "plugin"]


def _one_kind_of_wait(target: TargetValues) -> None:
    """A deployment (``deploy_id`` or ``latest`` in ``env``) or a pipeline run (``run`` of
    ``pipeline``): each with its own fields."""
    if target.given("run"):
        if not target.given("pipeline"):
            raise FieldError(
                "pipeline",
                f"{named('run')} needs {named('pipeline')} (the pipeline the run belongs to)",
            )
        if "env" in target.written:
            raise FieldError(
                "env",
                f"{named('env')} goes with {named('deploy_id')} or {named('latest')}; "
                "a run names its own",
            )
        if target.flag("require_ready"):
            raise FieldError(
                "require_ready", f"{named('require_ready')} gates a deployment, not a pipeline run"
            )
        return
    if target.given("pipeline"):
        raise FieldError("pipeline", f"{named('pipeline')} goes with {named('run')}")
    target.require("env")


description = TargetDescription(
    provider="humanitec",
    summary="a Humanitec Platform Orchestrator deployment or pipeline run (token in "
    "HUMANITEC_TOKEN)",
    fields=(
        Field(
            "org",
            "organization id",
            kind="id",
            env=("HUMANITEC_ORG",),
            required=True,
        ),
        Field(
            "app",
            "application id",
            kind="id",
            env=("HUMANITEC_APP",),
            required=True,
        ),
        Field(
            "env",
            "environment id (not with a pipeline run)",
            kind="id",
            env=("HUMANITEC_ENV",),
            env_unless=("run",),
        ),
        Field("deploy_id", "the deployment to wait on", kind="id"),
        Field(
            "latest",
            "wait on the environment's latest deployment (resolved once, at the start)",
            kind="flag",
        ),
        Field("run", "a pipeline run to wait on (with the pipeline)", kind="id"),
        Field("pipeline", "the pipeline of the run", kind="id"),
        Field(
            "require_ready",
            "after the deployment succeeds, wait until the environment's workloads are ready; "
            "workloads still failing at the deadline fail the gate",
            kind="flag",
        ),
        *connection_fields(DEFAULT_API_URL),
    ),
    exactly_one_of=("deploy_id", "latest", "run"),
    rules=(_one_kind_of_wait,),
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
    ) -> HumanitecDeployment | HumanitecPipelineRun:
        from gate.providers.humanitec.api import HumanitecApi, connect_to_target
        from gate.providers.humanitec.v1.pipelines import HumanitecPipelineRun
        from gate.providers.humanitec.v1.reader import HumanitecDeployment

        token = token or header_token("HUMANITEC_TOKEN", env.get("HUMANITEC_TOKEN", ""))
        client = connect_to_target(
            target, token, default_url=DEFAULT_API_URL, request_timeout=request_timeout
        )
        ids = {"org": target.text("org") or "", "app": target.text("app") or ""}
        try:
            if target.given("run"):
                return HumanitecPipelineRun(
                    HumanitecApi(client, token=token),
                    pipeline_id=target.text("pipeline") or "",
                    run_id=target.text("run") or "",
                    **ids,
                )
            return HumanitecDeployment(
                client,
                env=target.text("env") or "",
                deploy_id=target.text("deploy_id"),
                token=token,
                require_ready=target.flag("require_ready"),
                org=ids["org"],
                app=ids["app"],
            )
        except UsageError:
            client.close()
            raise


plugin = _Plugin()
