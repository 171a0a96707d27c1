"""What the gate tells the platform, declared once as fields: every face is made from them
(``--otel``, the action's ``otel-endpoint``, Pulumi's ``otelEndpoint``). Credentials are
never fields: the OTLP headers come from ``OTEL_EXPORTER_OTLP_HEADERS``, GitHub's token from
``GITHUB_TOKEN``, as every tool of theirs reads them."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

from gate.core.description import Field, FieldError, TargetDescription, TargetValues, named
from gate.waiting.telling import Telling

__all__ = ["TELLING", "TELLING_FIELDS", "tellings_of"]

TELLING_FIELDS = (
    Field(
        "otel",
        "send a trace and metrics of each gate over OTLP/HTTP, to $OTEL_EXPORTER_OTLP_ENDPOINT "
        "as every OpenTelemetry SDK reads it (install deploy-gate[otel])",
        kind="flag",
    ),
    Field(
        "otel_endpoint",
        "the OTLP/HTTP collector to send to (implies --otel); http:// is fine, a collector "
        "is often in the same network",
        metavar="URL",
    ),
    Field(
        "github_deployment",
        "record each gate as a GitHub deployment of this commit, with its statuses "
        "(needs $GITHUB_TOKEN and $GITHUB_REPOSITORY, as a workflow has them)",
        kind="flag",
    ),
    Field(
        "github_environment",
        "the GitHub environment of the deployment (default: the target's name, else "
        "its environment id)",
        metavar="NAME",
    ),
    Field(
        "github_ref",
        "the commit (or branch, tag) the GitHub deployment is of (default: $GITHUB_SHA, "
        "which on a pull request is a merge commit: the action passes the head commit)",
        metavar="REF",
    ),
    Field(
        "environment_url",
        "where the deployed environment is reached, for GitHub's deployment status",
        metavar="URL",
    ),
)


def _a_web_address(values: TargetValues) -> None:
    """The environment's URL is shown to people on GitHub: any http(s) address, with no
    user or password in it."""
    url = values.text("environment_url")
    if url is None:
        return
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise FieldError("environment_url", f"{named('environment_url')} must be an http(s) URL")
    if "@" in parts.netloc:
        raise FieldError(
            "environment_url", f"{named('environment_url')} must not hold a user or password"
        )


def _github_needs_a_token(values: TargetValues) -> None:
    given = [
        key for key in ("github_environment", "github_ref", "environment_url") if values.given(key)
    ]
    if given and not values.flag("github_deployment"):
        raise FieldError(
            given[0],
            f"{named(given[0])} is for a GitHub deployment: give {named('github_deployment')}",
        )


TELLING = TargetDescription(
    "gate",
    "what the gate tells the platform",
    TELLING_FIELDS,
    rules=(_github_needs_a_token, _a_web_address),
)


def tellings_of(
    values: TargetValues,
    env: Mapping[str, str],
    *,
    request_timeout: float,
    humanitec_api_url: str | None = None,
) -> list[Telling]:
    """The tellings ``values`` (checked by :data:`TELLING`) ask for; none costs nothing.
    ``humanitec_api_url``: the target's own, when given (a GitHub deployment links the
    Humanitec console's page of the environment only for the public API)."""
    tellings: list[Telling] = []
    if values.flag("otel") or values.given("otel_endpoint"):
        from gate.telling.otel import otel_telling

        tellings.append(otel_telling(env, endpoint=values.text("otel_endpoint")))
    if values.flag("github_deployment"):
        from gate.telling.github_deployments import github_deployments

        tellings.append(
            github_deployments(
                env,
                environment=values.text("github_environment"),
                environment_url=values.text("environment_url"),
                request_timeout=request_timeout,
                humanitec_api_url=humanitec_api_url,
                ref=values.text("github_ref"),
            )
        )
    return tellings
