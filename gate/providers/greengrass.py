"""AWS IoT Greengrass v1 group deployments, read with boto3's ``get_deployment_status``.

Statuses ``Building`` and ``InProgress`` are running, ``Success`` succeeded, ``Failure``
failed; a failure explains itself in ``ErrorMessage`` and ``ErrorDetails``. Credentials and
region come from the standard AWS chain. boto3 and the wire are imported only when this
provider is built, so ``gate wait greengrass --help`` starts as fast as Python does.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable, Mapping
from typing import Any

from gate.errors import (
    AuthError,
    GateError,
    NotFoundError,
    RequestRejected,
    TransientError,
)
from gate.ids import require_id
from gate.model import ErrorDetail, Snapshot, State
from gate.retry_after import parse_retry_after
from gate.text import from_api, one_line
from gate.timestamps import iso_utc, parse_timestamp
from gate.urls import PLAIN_HTTP_FLAG

__all__ = ["STATUSES", "GreengrassDeployment", "plugin"]

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
        close: Callable[[], None] | None = None,
    ) -> None:
        self._client = client
        self._group_id = require_id("--group-id", group_id)
        self._deployment_id = require_id("--deployment-id", deployment_id)
        self._credential_source = credential_source
        self._close = close or client.close

    def __repr__(self) -> str:
        return f"GreengrassDeployment({dict(self.target)!r})"

    @property
    def target(self) -> Mapping[str, str]:
        return {"group_id": self._group_id, "deployment_id": self._deployment_id}

    def describe(self) -> str:
        return f"Greengrass deployment {self._deployment_id} of group {self._group_id}"

    def close(self) -> None:
        self._close()

    def fetch(self) -> Snapshot:
        response = self._call()
        raw_status = from_api(response.get("DeploymentStatus"))
        if not raw_status:
            raise TransientError("GetDeploymentStatus answered without a DeploymentStatus")
        return Snapshot(
            state=STATUSES.get(raw_status, State.UNKNOWN),
            raw_status=raw_status,
            errors=_error_details(response),
            changed_at=_updated_at(response.get("UpdatedAt")),
            deployment_type=from_api(response.get("DeploymentType")) or None,
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
        except botocore.exceptions.HTTPClientError as exc:
            import httpx

            from gate.wire import describe_fault

            cause = exc.kwargs.get("error")
            said = describe_fault(cause) if isinstance(cause, httpx.HTTPError) else None
            raise TransientError(
                f"Greengrass: {said or f'connection failed ({type(exc).__name__})'}"
            ) from exc
        except botocore.exceptions.ConnectionError as exc:
            raise TransientError(f"connection to Greengrass failed ({type(exc).__name__})") from exc
        except botocore.parsers.ResponseParserError as exc:
            raise TransientError("Greengrass answered with a body that could not be read") from exc
        except _credential_faults() as exc:
            raise AuthError(
                f"AWS credentials could not be used ({type(exc).__name__}: "
                f"{one_line(str(exc), limit=300)}); they came from: {self._credential_source()}"
            ) from exc
        except botocore.exceptions.BotoCoreError as exc:
            raise RequestRejected(f"Greengrass: {one_line(str(exc), limit=300)}") from exc
        except GateError:
            raise
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            # botocore parses an answer as the service model says it is shaped; a body that
            # is not (invalid UTF-8, a string where a list belongs, nesting past the
            # recursion limit) breaks the parser with a plain Python error.
            raise TransientError(
                f"Greengrass answered with a body that could not be read ({type(exc).__name__})"
            ) from exc
        if not isinstance(response, Mapping):
            raise TransientError("Greengrass answered with a body that is not an object")
        return response

    def _translate(self, exc: Any) -> GateError:
        error = exc.response.get("Error", {})
        meta = exc.response.get("ResponseMetadata", {})
        code = from_api(error.get("Code"))
        message = one_line(from_api(error.get("Message")), limit=2000)
        http_status = meta.get("HTTPStatusCode")
        http_status = http_status if isinstance(http_status, int) else 0
        label = code if code != str(http_status) else ""
        said = " ".join(part for part in (f"HTTP {http_status}", label) if part)
        said += f": {message}" if message else ""
        details = _error_details(exc.response)
        if details:
            said += "; " + "; ".join(
                one_line(f"{d.code} {d.message}".strip(), limit=300) for d in details[:5]
            )
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


def _credential_faults() -> tuple[type[Exception], ...]:
    import botocore.exceptions as aws

    names = (
        "NoCredentialsError",
        "PartialCredentialsError",
        "CredentialRetrievalError",
        "RefreshWithMFAUnsupportedError",
        "TokenRetrievalError",
        "SSOTokenLoadError",
        "UnauthorizedSSOTokenError",
    )
    return tuple(getattr(aws, name) for name in names if hasattr(aws, name))


def _error_details(response: Mapping[str, Any]) -> tuple[ErrorDetail, ...]:
    """``ErrorMessage`` and every ``ErrorDetails`` entry, from a status or an error answer."""
    details: list[ErrorDetail] = []
    message = from_api(response.get("ErrorMessage"))
    if message:
        details.append(ErrorDetail(code="", message=message, scope="deployment"))
    listed = response.get("ErrorDetails")
    for item in listed if isinstance(listed, list) else ():
        if isinstance(item, Mapping):
            details.append(
                ErrorDetail(
                    code=from_api(item.get("DetailedErrorCode")),
                    message=from_api(item.get("DetailedErrorMessage")),
                )
            )
    return tuple(details)


def _updated_at(value: object) -> str | None:
    """``UpdatedAt`` (epoch milliseconds, as the model documents it) as ISO 8601."""
    moment = parse_timestamp(value)
    return iso_utc(moment) if moment is not None else None


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
        parser.add_argument(
            PLAIN_HTTP_FLAG,
            action="store_true",
            help="allow an http:// endpoint URL on another machine",
        )

    def build(
        self, args: argparse.Namespace, env: Mapping[str, str], *, request_timeout: float
    ) -> GreengrassDeployment:
        from gate.providers.aws import make_client

        group_id = require_id("--group-id", args.group_id)
        deployment_id = require_id("--deployment-id", args.deployment_id)
        aws = make_client(
            "greengrass",
            region=args.region or env.get("AWS_REGION") or None,
            profile=args.profile,
            endpoint_url=args.endpoint_url or env.get("AWS_ENDPOINT_URL") or None,
            request_timeout=request_timeout,
            allow_plain_http=bool(getattr(args, "allow_plain_http", False)),
        )
        return GreengrassDeployment(
            aws.client,
            group_id=group_id,
            deployment_id=deployment_id,
            credential_source=aws.credential_source,
            close=aws.close,
        )


plugin = _Plugin()
