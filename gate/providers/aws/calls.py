"""One AWS call, with botocore's exceptions turned into the gate's: shared by the AWS providers.

botocore raises a dozen exception families; the engine understands four (transient, auth,
not found, refused). :func:`call_aws` is the one place where the one becomes the other, so
Greengrass v1, Greengrass v2 and IoT answers are classified alike, with the service's own
words kept in the message.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gate.core.errors import (
    AuthError,
    Conflict,
    GateError,
    NotFoundError,
    RequestRejected,
    Throttled,
    TransientError,
)
from gate.core.model import ErrorDetail
from gate.core.text import from_api, one_line
from gate.wire.retry_after import parse_retry_after

__all__ = ["AUTH_CODES", "NOT_FOUND_CODES", "SERVER_FAULT_CODES", "THROTTLING_CODES", "call_aws"]

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
        "LimitExceededException",
    }
)
SERVER_FAULT_CODES = frozenset(
    {
        "InternalServerErrorException",
        "InternalServerException",
        "InternalFailure",
        "InternalError",
        "InternalFailureException",
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

ErrorDetailsOf = Callable[[Mapping[str, Any]], Sequence[ErrorDetail]]


def call_aws(
    operation: Callable[..., Any],
    *,
    service: str,
    missing: Callable[[], str],
    credential_source: Callable[[], str],
    details_of: ErrorDetailsOf = lambda _: (),
    **params: Any,
) -> Mapping[str, Any]:
    """``operation(**params)``; raises only :class:`~gate.core.errors.GateError` subclasses.

    ``missing`` names what a not-found answer means (``Greengrass deployment d-1``);
    ``details_of`` reads error details an error answer may carry (Greengrass v1 does).
    """
    import botocore.exceptions
    import botocore.parsers

    try:
        response: Mapping[str, Any] = operation(**params)
    except botocore.exceptions.ClientError as exc:
        raise _translate(exc.response, service, missing, credential_source, details_of) from exc
    except botocore.exceptions.HTTPClientError as exc:
        import httpx

        from gate.wire.transport import transient_fault

        cause = exc.kwargs.get("error")
        if isinstance(cause, httpx.HTTPError):
            raise transient_fault(service, cause) from exc
        raise TransientError(f"{service}: connection failed ({type(exc).__name__})") from exc
    except botocore.exceptions.ConnectionError as exc:
        raise TransientError(f"connection to {service} failed ({type(exc).__name__})") from exc
    except botocore.parsers.ResponseParserError as exc:
        raise TransientError(f"{service} answered with a body that could not be read") from exc
    except _credential_faults() as exc:
        raise AuthError(
            f"AWS credentials could not be used ({type(exc).__name__}: "
            f"{one_line(str(exc), limit=300)}); they came from: {credential_source()}"
        ) from exc
    except botocore.exceptions.BotoCoreError as exc:
        raise RequestRejected(f"{service}: {one_line(str(exc), limit=300)}") from exc
    except GateError:
        raise
    except (
        ValueError,
        TypeError,
        KeyError,
        AttributeError,
        RecursionError,
        OverflowError,
    ) as exc:
        # botocore parses an answer as the service model says it is shaped; a body that
        # is not (invalid UTF-8, a string where a list belongs, nesting past the
        # recursion limit, 1e400 where an integer belongs) breaks the parser with a plain
        # Python error.
        raise TransientError(
            f"{service} answered with a body that could not be read ({type(exc).__name__})"
        ) from exc
    if not isinstance(response, Mapping):
        raise TransientError(f"{service} answered with a body that is not an object")
    return response


def _translate(
    response: Mapping[str, Any],
    service: str,
    missing: Callable[[], str],
    credential_source: Callable[[], str],
    details_of: ErrorDetailsOf,
) -> GateError:
    error = response.get("Error", {})
    meta = response.get("ResponseMetadata", {})
    code = from_api(error.get("Code"))
    message = one_line(from_api(error.get("Message")), limit=2000)
    http_status = meta.get("HTTPStatusCode")
    http_status = http_status if isinstance(http_status, int) else 0
    label = code if code != str(http_status) else ""
    said = " ".join(part for part in (f"HTTP {http_status}", label) if part)
    said += f": {message}" if message else ""
    details = details_of(response)
    if details:
        said += "; " + "; ".join(
            one_line(f"{d.code} {d.message}".strip(), limit=300) for d in details[:5]
        )
    if (
        code in THROTTLING_CODES
        or code in SERVER_FAULT_CODES
        or http_status >= 500
        or (http_status == 429)
    ):
        headers = meta.get("HTTPHeaders") or {}
        throttled = code in THROTTLING_CODES or http_status == 429
        return (Throttled if throttled else TransientError)(
            f"{service}: {said}", retry_after=parse_retry_after(headers.get("retry-after"))
        )
    if code in AUTH_CODES or http_status in (401, 403):
        return AuthError(
            f"AWS refused the credentials ({said}); they came from: {credential_source()}"
        )
    if (code in NOT_FOUND_CODES and _NOT_FOUND_WORDS.search(message)) or http_status == 404:
        return NotFoundError(f"{missing()} was not found ({said})")
    conflict = code == "ConflictException" or http_status == 409
    return (Conflict if conflict else RequestRejected)(f"{service} refused the request ({said})")


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
