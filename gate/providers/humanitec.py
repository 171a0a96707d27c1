"""Humanitec Platform Orchestrator deployments, read over its REST API with httpx.

Contract: ``GET /orgs/{org}/apps/{app}/envs/{env}/deploys/{id}`` (status ``pending``,
``in progress``, ``succeeded``, ``failed``), ``GET .../deploys/{id}/errors`` on failure, and
``GET /orgs/{org}/apps/{app}/envs/{env}`` whose ``last_deploy`` names the latest deployment.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx

from gate.errors import (
    AuthError,
    ConfigError,
    GateError,
    NotFoundError,
    RequestRejected,
    TransientError,
    UsageError,
)
from gate.ids import require_id
from gate.model import ErrorDetail, Snapshot, State
from gate.retry_after import parse_retry_after
from gate.secret import Secret
from gate.text import one_line

__all__ = [
    "DEFAULT_API_URL",
    "STATUSES",
    "HumanitecDeployment",
    "connect",
    "plugin",
]

DEFAULT_API_URL = "https://api.humanitec.io"

STATUSES: Mapping[str, State] = {
    "pending": State.RUNNING,
    "in progress": State.RUNNING,
    "succeeded": State.SUCCEEDED,
    "failed": State.FAILED,
}

_ERROR_FIELDS = ("scope", "object_id", "code", "summary", "message")
HISTORY_LENGTH = 20


def connect(api_url: str, token: Secret, *, request_timeout: float) -> httpx.Client:
    """An HTTPS client for the API: bearer auth, TLS verified, every request time-bounded."""
    url = httpx.URL(api_url)
    if url.scheme not in ("https", "http") or not url.host:
        raise UsageError(f"--api-url {api_url!r} is not an http(s) URL")
    return httpx.Client(
        base_url=url,
        headers={
            "Authorization": f"Bearer {token.reveal()}",
            "Accept": "application/json",
            "User-Agent": "deploy-gate",
        },
        timeout=request_timeout,
        verify=True,
        follow_redirects=False,
    )


class HumanitecDeployment:
    """One deployment of an environment; ``deploy_id=None`` follows the environment's latest.

    The latest deployment is resolved once, on the first read, and then followed by id, so a
    deployment started later does not change what is waited on.
    """

    name = "humanitec"

    def __init__(
        self,
        client: httpx.Client,
        *,
        org: str,
        app: str,
        env: str,
        deploy_id: str | None = None,
        token: Secret | None = None,
    ) -> None:
        self._client = client
        self._org = require_id("--org", org)
        self._app = require_id("--app", app)
        self._env = require_id("--env", env)
        self._deploy_id = None if deploy_id is None else require_id("--deploy-id", deploy_id)
        self._follows_latest = deploy_id is None
        self._token = token

    def __repr__(self) -> str:
        return f"HumanitecDeployment({dict(self.target)!r})"

    @property
    def target(self) -> Mapping[str, str]:
        ids = {"org": self._org, "app": self._app, "env": self._env}
        if self._deploy_id is not None:
            ids["deploy_id"] = self._deploy_id
        elif self._follows_latest:
            ids["deploy_id"] = "latest"
        return ids

    def describe(self) -> str:
        where = f"{self._org}/{self._app}/{self._env}"
        if self._follows_latest and self._deploy_id is None:
            return f"the latest Humanitec deployment in {where}"
        return f"Humanitec deployment {self._deploy_id} in {where}"

    def close(self) -> None:
        self._client.close()

    def fetch(self) -> Snapshot:
        if self._deploy_id is None:
            deployment = self._latest_deployment()
            latest_id = _field(deployment, "id")
            try:
                self._deploy_id = require_id("last_deploy.id", latest_id)
            except UsageError as unusable:
                raise RequestRejected(f"the environment's {unusable}") from None
        else:
            deployment = self._get_object(self._deploy_path(), "deployment")
        raw_status = _field(deployment, "status")
        state = STATUSES.get(raw_status, State.UNKNOWN)
        errors = self._errors() if state is State.FAILED else ()
        return Snapshot(
            state=state,
            raw_status=raw_status,
            errors=errors,
            changed_at=_optional_text(deployment.get("status_changed_at")),
            created_at=_optional_text(deployment.get("created_at")),
        )

    def past_durations(self) -> list[float]:
        """How long the environment's recent finished deployments took, newest first."""
        body = self._get(f"{self._env_path()}/deploys", "deployment history")
        if not isinstance(body, list):
            return []
        durations = []
        for item in body[: HISTORY_LENGTH + 1]:
            if not isinstance(item, dict) or item.get("id") == self._deploy_id:
                continue
            if STATUSES.get(_text(item.get("status"))) not in (State.SUCCEEDED, State.FAILED):
                continue
            took = _seconds_between(item.get("created_at"), item.get("status_changed_at"))
            if took is not None:
                durations.append(took)
        return durations[:HISTORY_LENGTH]

    def _env_path(self) -> str:
        return "/" + "/".join(
            quote(part, safe="")
            for part in ("orgs", self._org, "apps", self._app, "envs", self._env)
        )

    def _deploy_path(self) -> str:
        assert self._deploy_id is not None
        return f"{self._env_path()}/deploys/{quote(self._deploy_id, safe='')}"

    def _latest_deployment(self) -> dict[str, Any]:
        environment = self._get_object(self._env_path(), "environment")
        latest = environment.get("last_deploy")
        if latest is None:
            raise NotFoundError(
                f"environment {self._org}/{self._app}/{self._env} has no deployment yet"
            )
        if not isinstance(latest, dict):
            raise TransientError("environment's last_deploy is not an object")
        return latest

    def _errors(self) -> tuple[ErrorDetail, ...]:
        """The deployment's error list; a permanent refusal to list it is itself reported."""
        try:
            body = self._get(f"{self._deploy_path()}/errors", "deployment errors")
        except TransientError:
            raise
        except GateError as refused:
            return (ErrorDetail(code="", message=f"error details could not be read: {refused}"),)
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise TransientError("deployment errors: the body is not a list of objects")
        return tuple(
            ErrorDetail(**{name: _text(item.get(name)) for name in _ERROR_FIELDS}) for item in body
        )

    def _get_object(self, path: str, what: str) -> dict[str, Any]:
        body = self._get(path, what)
        if not isinstance(body, dict):
            raise TransientError(f"{what}: the body is not a JSON object")
        return body

    def _get(self, path: str, what: str) -> object:
        """GET ``path``; translate every httpx fault and HTTP error into the gate's errors."""
        try:
            response = self._client.get(path)
        except httpx.TimeoutException as exc:
            raise TransientError(f"{what}: no answer within the request timeout") from exc
        except httpx.TransportError as exc:
            raise TransientError(f"{what}: connection failed ({type(exc).__name__})") from exc
        code = response.status_code
        if code == 429 or code >= 500:
            raise TransientError(
                f"{what}: HTTP {code}{self._api_message(response)}",
                retry_after=parse_retry_after(response.headers.get("Retry-After")),
            )
        if code in (401, 403):
            raise AuthError(
                f"Humanitec refused the token from HUMANITEC_TOKEN (HTTP {code}"
                f"{self._api_message(response)})"
            )
        if code == 404:
            raise NotFoundError(f"{self.describe()} was not found (HTTP 404)")
        if code != 200:
            raise RequestRejected(f"{what}: HTTP {code}{self._api_message(response)}")
        try:
            return response.json()
        except ValueError as exc:
            raise TransientError(f"{what}: HTTP 200 with a body that is not JSON") from exc

    def _api_message(self, response: httpx.Response) -> str:
        """``: API-000 Could not validate token`` from a HumanitecErrorResponse, if there is one."""
        try:
            body = response.json()
        except ValueError:
            return ""
        if not isinstance(body, dict):
            return ""
        words = " ".join(_text(body.get(key)) for key in ("error", "message")).strip()
        if self._token is not None:
            words = self._token.redact(words)
        return f": {one_line(words)}" if words else ""


def _field(body: Mapping[str, Any], name: str) -> str:
    value = body.get(name)
    if not isinstance(value, str):
        raise TransientError(f"the deployment has no {name!r} string in its body")
    return value


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def _optional_text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _seconds_between(start: object, end: object) -> float | None:
    try:
        began = datetime.fromisoformat(_text(start).replace("Z", "+00:00"))
        ended = datetime.fromisoformat(_text(end).replace("Z", "+00:00"))
    except ValueError:
        return None
    seconds = (ended - began).total_seconds()
    return seconds if seconds >= 0 else None


class _Plugin:
    name = "humanitec"
    summary = "a Humanitec Platform Orchestrator deployment (token in HUMANITEC_TOKEN)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--org", help="organization id (default: $HUMANITEC_ORG)")
        parser.add_argument("--app", help="application id (default: $HUMANITEC_APP)")
        parser.add_argument("--env", help="environment id (default: $HUMANITEC_ENV)")
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--deploy-id", help="the deployment to wait on")
        which.add_argument(
            "--latest",
            action="store_true",
            help="wait on the environment's latest deployment (resolved once, at the start)",
        )
        parser.add_argument(
            "--api-url",
            help=f"API base URL (default: $HUMANITEC_API_URL or {DEFAULT_API_URL})",
        )

    def build(
        self, args: argparse.Namespace, env: Mapping[str, str], *, request_timeout: float
    ) -> HumanitecDeployment:
        ids = {}
        for name in ("org", "app", "env"):
            value = getattr(args, name) or env.get(f"HUMANITEC_{name.upper()}")
            if not value:
                raise ConfigError(f"--{name} is required (or set HUMANITEC_{name.upper()})")
            ids[name] = value
        raw_token = env.get("HUMANITEC_TOKEN", "").strip()
        if not raw_token:
            raise ConfigError("HUMANITEC_TOKEN is not set: export the API token in it")
        token = Secret(raw_token)
        api_url = args.api_url or env.get("HUMANITEC_API_URL") or DEFAULT_API_URL
        deploy_id = None if args.latest else args.deploy_id
        client = connect(api_url, token, request_timeout=request_timeout)
        try:
            return HumanitecDeployment(client, deploy_id=deploy_id, token=token, **ids)
        except UsageError:
            client.close()
            raise


plugin = _Plugin()
