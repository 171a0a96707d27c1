"""Every error the gate raises, rooted at :class:`GateError`.

::

    GateError                  a person can read str(error); exit_code says how the CLI ends
    ├── UsageError             bad flag, id or duration                       (exit 2)
    ├── ConfigError            missing token, org, region or credentials      (exit 2)
    └── ReadError              the deployment's status could not be read      (exit 4)
        ├── AuthError          the API refused the credentials (401/403, AWS auth codes)
        ├── NotFoundError      the deployment or environment does not exist (yet)
        ├── RequestRejected    any other permanent refusal (invalid parameters)
        │   └── Conflict       HTTP 409: the request conflicts with the target's state
        ├── StartUnclear       a request that starts something got an answer after which
        │                      the API may have acted on it (never sent again)
        └── TransientError     worth retrying: 429, 5xx, throttling, resets, timeouts,
            │                  bodies that are not what the API promises
            ├── Throttled      HTTP 429, throttling: the API did not act on the request
            └── RequestNotSent the gate never sent the request (no slot in its shared
                │              request budget in the time left, or it stopped first)
                └── OutOfRequestBudget  no slot for the read before the deadline, nor
                               ever (not worth retrying)

Providers translate their client library's exceptions into this tree at one place each;
nothing above a provider sees an ``httpx`` or ``botocore`` exception.
"""

from __future__ import annotations

__all__ = [
    "AuthError",
    "ConfigError",
    "Conflict",
    "GateError",
    "Interrupted",
    "NotFoundError",
    "OutOfRequestBudget",
    "ReadError",
    "RequestNotSent",
    "RequestRejected",
    "StartUnclear",
    "Stopped",
    "Throttled",
    "TransientError",
    "UsageError",
]


class GateError(Exception):
    """Root of the gate's errors. ``str(error)`` is one line meant for a person."""

    exit_code = 4


class UsageError(GateError):
    """The caller asked for something malformed: a bad flag, id or duration."""

    exit_code = 2


class ConfigError(GateError):
    """Something the gate needs is missing from the environment (a token, a region)."""

    exit_code = 2


class ReadError(GateError):
    """The deployment's status could not be read."""

    exit_code = 4


class AuthError(ReadError):
    """The API refused the credentials; retrying will not help."""


class NotFoundError(ReadError):
    """The deployment does not exist, or is not visible yet (eventual consistency)."""


class RequestRejected(ReadError):
    """The API refused the request for a reason other than auth or not-found."""


class Conflict(RequestRejected):
    """HTTP 409: the request conflicts with the state of its target (another deployment in
    flight; or, for a request sent with an idempotency key, the same key still in progress)."""


class StartUnclear(ReadError):
    """A request that starts something (a rollback) was sent, and what came back leaves open
    whether the API acted on it: no answer, a 5xx, a 409 to a request sent with a key, or a
    2xx the gate cannot use (no id, an id it will not put in a path). Never sent again, and
    never said as "not started"."""


class TransientError(ReadError):
    """A fault that may pass: retried within the deadline, never read as a status."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Throttled(TransientError):
    """The API answered 429 or throttled the request: it refused it before acting on it, so
    sending it again after the pause asked for is safe, even a request that starts something."""


class RequestNotSent(TransientError):
    """The gate never sent the request: the budget of requests a second that the targets on
    one API share (``--max-rate``) had no slot for it in the time it had, or the gate stopped
    first. The API saw nothing, so even a request that starts something is safe to send
    again."""


class OutOfRequestBudget(RequestNotSent):
    """The budget of requests a second that the targets on one API share (``--max-rate``)
    has no slot for this read before the deadline, and never will: slots only move later.
    The API said nothing, so nothing is retried and no earlier read is unsaid."""


class Interrupted(BaseException):
    """Raised by the CLI's SIGTERM/SIGHUP handler so that a wait ends like on Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Stopped(BaseException):
    """Raised inside a wait that its caller ended early: a gate of many targets stopping the
    rest once one failed (``--fail-fast``), or after a signal. The wait ends as cancelled with
    ``reason``; like :class:`Interrupted`, it passes through ``except Exception``."""

    def __init__(self, reason: str, *, signum: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.signum = signum
