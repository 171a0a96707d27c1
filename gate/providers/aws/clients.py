"""boto3 clients for the AWS providers: configuration checked up front, requests on the wire.

:func:`make_clients` turns every way AWS configuration can be unusable (an unknown profile, no
or malformed region, an endpoint URL that is not http(s), missing or partial credentials)
into a :class:`~gate.core.errors.ConfigError` or :class:`~gate.core.errors.UsageError`
before the first request. Its client sends through
:class:`gate.wire.transport.BoundedTransport` rather than urllib3, by botocore's documented
``before-send`` hook, so an AWS request is bounded by the wait's deadline like any other;
botocore still builds, signs and parses every call, and its own
retries are off (the gate retries). boto3 is imported only when an AWS provider is built.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from gate.core.description import TargetValues
from gate.core.errors import ConfigError
from gate.core.secret import remember
from gate.core.urls import require_api_url
from gate.wire import sharing
from gate.wire.transport import BoundedTransport, proxy_for

__all__ = ["AwsClients", "clients_for_target", "make_clients"]


@dataclass(frozen=True)
class AwsClients:
    clients: Mapping[str, Any]
    """One client per service name, from one session (one credential chain)."""
    credential_source: Callable[[], str]
    close: Callable[[], None]


def clients_for_target(
    services: Sequence[str], target: TargetValues, *, request_timeout: float
) -> AwsClients:
    """Clients for ``services`` from the fields of :func:`aws_fields`."""
    return make_clients(
        services,
        region=target.text("region"),
        profile=target.text("profile"),
        endpoint_url=target.text("endpoint_url"),
        request_timeout=request_timeout,
        allow_plain_http=target.flag("allow_plain_http"),
    )


def make_clients(
    services: Sequence[str],
    *,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    request_timeout: float,
    allow_plain_http: bool = False,
) -> AwsClients:
    """Checked clients; in a gate of many targets, the same ones for the same settings."""
    settings = (tuple(services), region, profile, endpoint_url, request_timeout, allow_plain_http)

    return sharing.made_once(("aws clients", *settings), lambda: _make_clients(*settings))


def _make_clients(
    services: Sequence[str],
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    request_timeout: float,
    allow_plain_http: bool,
) -> AwsClients:
    import boto3
    import botocore.config
    import botocore.exceptions
    import botocore.session

    if endpoint_url:
        require_api_url("--endpoint-url", endpoint_url, allow_plain_http=allow_plain_http)
    core = botocore.session.get_session()
    try:
        session = boto3.Session(botocore_session=core, profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound as exc:
        raise ConfigError(f"AWS profile {profile!r} is not configured") from exc
    if not session.region_name:
        raise ConfigError("no AWS region: pass --region or set AWS_REGION")
    try:
        credentials = session.get_credentials()
        frozen = credentials.get_frozen_credentials() if credentials is not None else None
    except botocore.exceptions.BotoCoreError as exc:
        raise ConfigError(f"AWS credentials could not be loaded: {exc}") from exc
    if credentials is None or frozen is None or not frozen.access_key or not frozen.secret_key:
        raise ConfigError(
            "no usable AWS credentials: none in the environment, shared files, SSO or roles"
        )
    remember(frozen.secret_key, frozen.token or "")  # from a file, SSO or a role too
    ca_bundle = core.get_config_variable("ca_bundle") or None
    if ca_bundle is not None and not Path(ca_bundle).exists():
        raise ConfigError(f"the AWS CA bundle {ca_bundle!r} does not exist")
    config = botocore.config.Config(
        retries={"total_max_attempts": 1}, user_agent_extra="deploy-gate"
    )
    clients: dict[str, Any] = {}
    wires: list[httpx.Client] = []
    for service in services:
        try:
            client = session.client(service, endpoint_url=endpoint_url or None, config=config)
        except (botocore.exceptions.BotoCoreError, ValueError) as exc:
            raise ConfigError(f"AWS client could not be made: {exc}") from exc
        wire = httpx.Client(
            transport=BoundedTransport(
                request_timeout=request_timeout,
                ca_bundle=ca_bundle,
                proxy=proxy_for(httpx.URL(client.meta.endpoint_url)),
            ),
            follow_redirects=False,
            trust_env=False,
        )
        client.meta.events.register("before-send", _sender(wire))
        clients[service] = client
        wires.append(wire)
    source = str(credentials.method)

    def close() -> None:
        for client in clients.values():
            client.close()
        for wire in wires:
            wire.close()

    return AwsClients(clients, lambda: source, close)


def _sender(wire: httpx.Client) -> Callable[..., Any]:
    import botocore.awsrequest
    import botocore.exceptions

    def send(request: Any, **_: Any) -> Any:
        body = request.body
        if body is not None and not isinstance(body, (bytes, str)):
            body = body.read()
        try:
            answer = wire.request(
                request.method, request.url, headers=dict(request.headers), content=body
            )
        except httpx.HTTPError as exc:
            raise botocore.exceptions.HTTPClientError(error=exc) from exc
        return botocore.awsrequest.AWSResponse(
            request.url, answer.status_code, answer.headers, _Raw(answer.content)
        )

    return send


class _Raw:
    """The already-read body, in the shape ``AWSResponse.content`` reads."""

    def __init__(self, content: bytes) -> None:
        self._content = content

    def stream(self, **_: Any) -> list[bytes]:
        return [self._content]
