"""AWS IoT Greengrass v1 group deployments, read with boto3's ``get_deployment_status``.

Statuses ``Building`` and ``InProgress`` are running, ``Success`` succeeded, ``Failure``
failed; a failure explains itself in ``ErrorMessage`` and ``ErrorDetails``. Credentials and
region come from the standard AWS chain. boto3 is imported only when this provider is built.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from typing import Any

from gate.errors import (
    AuthError,
    ConfigError,
    NotFoundError,
    RequestRejected,
    TransientError,
)
from gate.ids import require_id
from gate.model import ErrorDetail, Snapshot, State
from gate.retry_after import parse_retry_after
from gate.text import one_line

__all__ = ["STATUSES", "GreengrassDeployment", "make_client", "plugin"]

STATUSES: Mapping[str, State] = {
    "Building": State.RUNNING,
    "InProgress": State.RUNNING,
    "Success": State.SUCCEEDED,
    "Failure": State.FAILED,
}

THROTTLING_CODES = frozenset(
    {
        "Throttling",
        "ThrottlingException",
        "ThrottledException",
        "RequestThrottledException",
        "TooManyRequestsException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "SlowDown",
    }
)
SERVER_FAULT_CODES = frozenset(
    {
        "InternalServerErrorException",
        "InternalFailure",
        "InternalError",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "RequestTimeout",
        "RequestTimeoutException",
        "PriorRequestNotComplete",
    }
)
AUTH_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnrecognizedClientException",
        "InvalidClientTokenId",
        "InvalidSignatureException",
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "MissingAuthenticationTokenException",
        "ExpiredToken",
        "ExpiredTokenException",
        "UnauthorizedException",
        "AuthFailure",
    }
)
NOT_FOUND_CODES = frozenset(
    {
        "BadRequestException",
        "InvalidInputException",
        "ResourceNotFoundException",
        "NotFoundException",
    }
)
_NOT_FOUND_WORDS = re.compile(r"not found|does not exist|doesn't exist|cannot be found", re.I)


def make_client(
    *,
    region: str | None,
    profile: str | None,
    endpoint_url: str | None,
    request_timeout: float,
) -> tuple[Any, Callable[[], str]]:
    """A ``greengrass`` client with botocore's own retries off (the gate retries), and a
    function naming where its credentials came from (never their value)."""
    import boto3
    import botocore.config
    import botocore.exceptions

    try:
        session = boto3.Session(profile_name=profile, region_name=region)
    except botocore.exceptions.ProfileNotFound as exc:
        raise ConfigError(f"AWS profile {profile!r} is not configured") from exc
    if not session.region_name:
        raise ConfigError("no AWS region: pass --region or set AWS_REGION")
    config = botocore.config.Config(
        retries={"total_max_attempts": 1},
        connect_timeout=request_timeout,
        read_timeout=request_timeout,
        user_agent_extra="deploy-gate",
    )
    credentials = session.get_credentials()
    if credentials is None:
        raise ConfigError(
            "no usable AWS credentials: none in the environment, shared files, SSO or roles"
        )
    client = session.client("greengrass", endpoint_url=endpoint_url or None, config=config)
    source = str(credentials.method)
    return client, lambda: source


class GreengrassDeployment:
    """One deployment of one Greengrass v1 group."""

    name = "greengrass"

    def __init__(
        self,
        client: Any,
        *,
        group_id: str,
        deployment_id: str,
        credential_source: Callable[[], str] = lambda: "the AWS default chain",
    ) -> None:
        self._client = client
        self._group_id = require_id("--group-id", group_id)
        self._deployment_id = require_id("--deployment-id", deployment_id)
        self._credential_source = credential_source

    def __repr__(self) -> str:
        return f"GreengrassDeployment({dict(self.target)!r})"

    @property
    def target(self) -> Mapping[str, str]:
        return {"group_id": self._group_id, "deployment_id": self._deployment_id}

    def describe(self) -> str:
        return f"Greengrass deployment {self._deployment_id} of group {self._group_id}"

    def close(self) -> None:
        self._client.close()

    def fetch(self) -> Snapshot:
        response = self._call()
        raw_status = response.get("DeploymentStatus")
        if not isinstance(raw_status, str) or not raw_status:
            raise TransientError("GetDeploymentStatus answered without a DeploymentStatus")
        state = STATUSES.get(raw_status, State.UNKNOWN)
        return Snapshot(
            state=state,
            raw_status=raw_status,
            errors=_error_details(response),
            changed_at=_text(response.get("UpdatedAt")) or None,
        )

    def _call(self) -> Mapping[str, Any]:
        """The one boundary where botocore's exceptions become the gate's."""
        import botocore.exceptions
        import botocore.parsers

        try:
            response: Mapping[str, Any] = self._client.get_deployment_status(
                GroupId=self._group_id, DeploymentId=self._deployment_id
            )
        except botocore.exceptions.ClientError as exc:
            raise self._translate(exc) from exc
        except (botocore.exceptions.ConnectionError, botocore.exceptions.HTTPClientError) as exc:
            raise TransientError(f"connection to Greengrass failed ({type(exc).__name__})") from exc
        except botocore.parsers.ResponseParserError as exc:
            raise TransientError("Greengrass answered with a body that could not be read") from exc
        except (
            botocore.exceptions.NoCredentialsError,
            botocore.exceptions.PartialCredentialsError,
        ) as exc:
            raise ConfigError(f"no usable AWS credentials: {exc}") from exc
        return response

    def _translate(self, exc: Any) -> Exception:
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = _text(error.get("Code"))
        message = one_line(_text(error.get("Message")))
        http_status = int(meta.get("HTTPStatusCode") or 0)
        label = code if code != str(http_status) else ""
        said = " ".join(part for part in (f"HTTP {http_status}", label) if part)
        said += f": {message}" if message else ""
        if (
            code in THROTTLING_CODES
            or code in SERVER_FAULT_CODES
            or http_status in (429,)
            or (http_status >= 500)
        ):
            headers = meta.get("HTTPHeaders") or {}
            return TransientError(
                f"Greengrass: {said}", retry_after=parse_retry_after(headers.get("retry-after"))
            )
        if code in AUTH_CODES or http_status in (401, 403):
            return AuthError(
                f"AWS refused the credentials ({said}); they came from: {self._credential_source()}"
            )
        if (code in NOT_FOUND_CODES and _NOT_FOUND_WORDS.search(message)) or http_status == 404:
            return NotFoundError(f"{self.describe()} was not found ({said})")
        return RequestRejected(f"Greengrass refused the request ({said})")


def _error_details(response: Mapping[str, Any]) -> tuple[ErrorDetail, ...]:
    details: list[ErrorDetail] = []
    message = _text(response.get("ErrorMessage"))
    if message:
        details.append(ErrorDetail(code="", message=message, scope="deployment"))
    for item in response.get("ErrorDetails") or ():
        if isinstance(item, Mapping):
            details.append(
                ErrorDetail(
                    code=_text(item.get("DetailedErrorCode")),
                    message=_text(item.get("DetailedErrorMessage")),
                )
            )
    return tuple(details)


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


class _Plugin:
    name = "greengrass"
    summary = "an AWS IoT Greengrass v1 group deployment (credentials from the AWS chain)"

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--group-id", required=True, help="the Greengrass group id")
        parser.add_argument("--deployment-id", required=True, help="the deployment to wait on")
        parser.add_argument("--region", help="AWS region (default: the AWS chain, AWS_REGION)")
        parser.add_argument("--profile", help="AWS profile (default: the AWS chain)")
        parser.add_argument(
            "--endpoint-url", help="Greengrass endpoint (default: $AWS_ENDPOINT_URL or AWS)"
        )

    def build(
        self, args: argparse.Namespace, env: Mapping[str, str], *, request_timeout: float
    ) -> GreengrassDeployment:
        group_id = require_id("--group-id", args.group_id)
        deployment_id = require_id("--deployment-id", args.deployment_id)
        client, credential_source = make_client(
            region=args.region or env.get("AWS_REGION") or None,
            profile=args.profile,
            endpoint_url=args.endpoint_url,
            request_timeout=request_timeout,
        )
        return GreengrassDeployment(
            client,
            group_id=group_id,
            deployment_id=deployment_id,
            credential_source=credential_source,
        )


plugin = _Plugin()
