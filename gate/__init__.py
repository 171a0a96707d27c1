"""gate: block until a deployment reaches a terminal status, and say why it failed.

from gate import wait, WaitOptions
from gate.providers.humanitec import HumanitecDeployment, connect

outcome = wait(HumanitecDeployment(connect(url, token, request_timeout=10), org=..., ...))
if not outcome.succeeded:
    print(outcome.reason, outcome.errors)
"""

from gate.core.description import Field, FieldError, TargetDescription, TargetValues
from gate.core.errors import (
    AuthError,
    ConfigError,
    GateError,
    NotFoundError,
    ReadError,
    RequestRejected,
    TransientError,
    UsageError,
)
from gate.core.model import ErrorDetail, Outcome, OutcomeStatus, Snapshot, State
from gate.providers import Provider, ProviderPlugin
from gate.waiting.engine import WaitOptions, wait
from gate.waiting.fleet import FleetOutcome, Target, wait_all
from gate.wire.sharing import Sharing

__version__ = "0.1.0"

__all__ = [
    "AuthError",
    "ConfigError",
    "ErrorDetail",
    "Field",
    "FieldError",
    "FleetOutcome",
    "GateError",
    "NotFoundError",
    "Outcome",
    "OutcomeStatus",
    "Provider",
    "ProviderPlugin",
    "ReadError",
    "RequestRejected",
    "Sharing",
    "Snapshot",
    "State",
    "Target",
    "TargetDescription",
    "TargetValues",
    "TransientError",
    "UsageError",
    "WaitOptions",
    "__version__",
    "wait",
    "wait_all",
]
