"""Humanitec Platform Orchestrator deployments, read over its REST API with httpx.

Contract: ``GET /orgs/{org}/apps/{app}/envs/{env}/deploys/{id}`` (status ``pending``,
``in progress``, ``succeeded``, ``failed``), ``GET .../deploys/{id}/errors`` on failure, and
``GET /orgs/{org}/apps/{app}/envs/{env}`` whose ``last_deploy`` names the latest deployment.
Refusals come as ``HumanitecErrorResponse`` (``error``, ``message``, ``details``), kept whole.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import httpx

from gate.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    RequestRejected,
    TransientError,
    UsageError,
)
from gate.ids import require_id
from gate.model import ErrorDetail, Snapshot, State
from gate.retry_after import parse_retry_after
from gate.secret import Secret, header_token
from gate.text import from_api, one_line
from gate.timestamps import parse_timestamp
from gate.urls import PLAIN_HTTP_FLAG, require_api_url

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

_ERROR_FIELDS = ("scope", "object_id", "code", "summary", "message", "error_type")
HISTORY_LENGTH = 20
MESSAGE_LIMIT = 2000
"""How much of an error body's message and details a reason keeps (one line)."""


def connect(
    api_url: str, token: Secret, *, request_timeout: float, allow_plain_http: bool = False
) -> httpx.Client:
    """A client for the API: bearer auth, TLS verified, no redirects, and every request
    bounded in total time and size (:class:`gate.wire.BoundedTransport`)."""
    from gate.wire import BoundedTransport, proxy_for  # with httpcore: not for --help

    url = require_api_url("--api-url", api_url, allow_plain_http=allow_plain_http)
    transport = BoundedTransport(request_timeout=request_timeout, proxy=proxy_for(url))
    return httpx.Client(
        base_url=url,
        headers={
            "Authorization": f"Bearer {token.reveal()}",
            "Accept": "application/json",
            "User-Agent": "deploy-gate",
        },
        transport=transport,
        follow_redirects=False,
        trust_env=False,  # proxies come from proxy_for; a ~/.netrc must not replace the token
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
            try:
                self._deploy_id = require_id("last_deploy.id", self._said(deployment.get("id")))
            except UsageError as unusable:
                raise RequestRejected(f"the environment's {unusable}") from None
        else:
            deployment = self._get_object(self._deploy_path(), "deployment")
            answered_id = self._said(deployment.get("id"))
            if answered_id != self._deploy_id:
                raise TransientError(
                    f"deployment: asked for {self._deploy_id!r}, the API answered with "
                    f"{one_line(answered_id, limit=80)!r}"
                )
        raw_status = self._said(deployment.get("status"))
        if not raw_status:
            raise TransientError("deployment: the answer has no 'status' string")
        return Snapshot(
            state=STATUSES.get(raw_status, State.UNKNOWN),
            raw_status=raw_status,
            changed_at=self._said(deployment.get("status_changed_at")) or None,
            created_at=self._said(deployment.get("created_at")) or None,
        )

    def failure_details(self) -> tuple[ErrorDetail, ...]:
        """The failed deployment's error list, every field in the API's words."""
        body = self._get(f"{self._deploy_path()}/errors", "deployment errors", missing="list")
        if not isinstance(body, list) or not all(isinstance(item, dict) for item in body):
            raise TransientError("deployment errors: the answer is not a list of objects")
        return tuple(
            ErrorDetail(**{name: self._said(item.get(name)) for name in _ERROR_FIELDS})
            for item in body
        )

    def past_durations(self) -> list[float]:
        """How long the environment's recent finished deployments took, newest first."""
        body = self._get(f"{self._env_path()}/deploys", "deployment history", missing="list")
        if not isinstance(body, list):
            return []
        durations = []
        for item in body[: HISTORY_LENGTH + 1]:
            if not isinstance(item, dict) or item.get("id") == self._deploy_id:
                continue
            if STATUSES.get(from_api(item.get("status"))) not in (State.SUCCEEDED, State.FAILED):
                continue
            began = parse_timestamp(item.get("created_at"))
            ended = parse_timestamp(item.get("status_changed_at"))
            if began is not None and ended is not None and ended >= began:
                durations.append((ended - began).total_seconds())
        return durations[:HISTORY_LENGTH]

    def _said(self, value: object) -> str:
        """A string the API sent, cleaned and with the token redacted (see gate.text)."""
        return from_api(value, secret=self._token)

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
            raise TransientError("environment: last_deploy is not an object")
        return latest

    def _get_object(self, path: str, what: str) -> dict[str, Any]:
        body = self._get(path, what)
        if not isinstance(body, dict):
            raise TransientError(f"{what}: the answer is not a JSON object")
        return body

    def _get(self, path: str, what: str, *, missing: str = "target") -> object:
        """GET ``path``; translate every httpx fault and HTTP refusal into the gate's errors.

        ``missing`` says what a 404 means: the deployment (or environment) waited on is not
        there, or only the ``list`` read for it (its errors, its history) is not.
        """
        try:
            response = self._client.get(path)
        except httpx.LocalProtocolError as exc:
            raise RequestRejected(f"{what}: the request could not be sent ({exc})") from exc
        except httpx.TransportError as exc:
            from gate.wire import describe_fault

            raise TransientError(f"{what}: {describe_fault(exc)}") from exc
        code = response.status_code
        said = f"HTTP {code}{self._refusal(response)}"
        if code == 429 or code >= 500:
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            raise TransientError(f"{what}: {said}", retry_after=retry_after)
        if code in (401, 403):
            raise AuthError(f"Humanitec refused the token ({said})")
        if code == 404 and missing == "target":
            raise NotFoundError(f"{self.describe()} was not found ({said})")
        if code != 200:
            raise RequestRejected(f"{what}: {said}")
        return _json(response, what)

    def _refusal(self, response: httpx.Response) -> str:
        """``: API-404 Deployment not found. {"id": "0f3c"}`` from a HumanitecErrorResponse."""
        try:
            body = _json(response, "")
        except TransientError:
            return ""
        if not isinstance(body, dict):
            return ""
        parts = [self._said(body.get("error")), self._said(body.get("message"))]
        details = body.get("details")
        if details not in (None, "", {}, []):
            parts.append(self._said(_compact(details)))
        words = one_line(" ".join(part for part in parts if part), limit=MESSAGE_LIMIT)
        return f": {words}" if words else ""


def _json(response: httpx.Response, what: str) -> object:
    try:
        return response.json()
    except RecursionError as exc:
        raise TransientError(f"{what}: the answer nests too deeply to be read") from exc
    except ValueError as exc:
        raise TransientError(
            f"{what}: HTTP {response.status_code} with a body that is not JSON"
        ) from exc


def _compact(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))[:MESSAGE_LIMIT]
    except (ValueError, RecursionError):
        return ""


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
        parser.add_argument(
            PLAIN_HTTP_FLAG,
            action="store_true",
            help="allow an http:// API URL on another machine (the token travels unencrypted)",
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
        api_url = args.api_url or env.get("HUMANITEC_API_URL") or DEFAULT_API_URL
        token = header_token("HUMANITEC_TOKEN", env.get("HUMANITEC_TOKEN", ""))
        deploy_id = None if args.latest else args.deploy_id
        client = connect(
            api_url,
            token,
            request_timeout=request_timeout,
            allow_plain_http=bool(getattr(args, "allow_plain_http", False)),
        )
        try:
            return HumanitecDeployment(client, deploy_id=deploy_id, token=token, **ids)
        except UsageError:
            client.close()
            raise


plugin = _Plugin()
