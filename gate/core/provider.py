"""The provider interface: one small seam between the wait engine and a deployment API
(named in :mod:`gate.providers` too, where a provider's author looks).

A :class:`Provider` reads the current state of one deployment; a :class:`ProviderPlugin`
describes its target once and builds a provider from it. Third-party packages add plugins
through the ``gate.providers`` entry-point group (see :mod:`gate.providers.registry`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from gate.core.model import DeviceResult, ErrorDetail, RollbackPlan, Snapshot

if TYPE_CHECKING:
    from gate.core.description import TargetDescription, TargetValues
    from gate.core.secret import Secret

__all__ = [
    "DescribedPlugin",
    "ExplainsFailure",
    "HoldsReads",
    "KnowsHistory",
    "Provider",
    "ProviderPlugin",
    "ReadsAtDeadline",
    "ReportsDevices",
    "RollsBack",
]


@runtime_checkable
class Provider(Protocol):
    """Reads one deployment. Raises only :class:`gate.core.errors.GateError` subclasses."""

    @property
    def name(self) -> str:
        """The provider's registry name, such as ``humanitec``."""
        ...

    @property
    def target(self) -> Mapping[str, str]:
        """The ids that name the deployment (as resolved so far)."""
        ...

    def describe(self) -> str:
        """What is being waited on, for a person: ``Humanitec deployment 0f3c in acme/...``."""
        ...

    def fetch(self) -> Snapshot:
        """Read the deployment once; include its error details when the same answer has them
        (else implement :class:`ExplainsFailure`)."""
        ...

    def close(self) -> None:
        """Release connections. The provider is not used afterwards."""
        ...


@runtime_checkable
class KnowsHistory(Protocol):
    """A provider that can say how long the target's past deployments took (optional)."""

    def past_durations(self) -> Sequence[float]:
        """Seconds from creation to a terminal status, newest first; may raise GateError."""
        ...


@runtime_checkable
class ExplainsFailure(Protocol):
    """A provider whose failed deployment explains itself in a second read (optional).

    The engine calls it once a read said the deployment failed, with retries of its own: the
    failure stands whether or not the explanation can be read.
    """

    def failure_details(self) -> Sequence[ErrorDetail]:
        """Why the deployment last read as failed failed; may raise GateError."""
        ...


@runtime_checkable
class ReadsAtDeadline(Protocol):
    """A provider whose last read settles what is still unfinished by a policy (optional).

    The engine makes this read instead of :meth:`Provider.fetch` at the deadline, within the
    same budget. A fleet provider uses it to decide whether the devices that never finished
    count against the deployment or are left out, and to name them.
    """

    def fetch_at_deadline(self) -> Snapshot:
        """Like ``fetch``; a RUNNING answer here means the wait timed out."""
        ...


@runtime_checkable
class HoldsReads(Protocol):
    """A provider whose read waits at the server until the deployment ends or a window
    passes (a long-poll), so the engine needs no schedule of its own (optional).

    The engine starts each read at once after the last, but never sooner than ``--interval``
    after the last one started: a server that answers at once cannot make it spin.
    """

    def holds_reads(self) -> bool: ...


@runtime_checkable
class ReportsDevices(Protocol):
    """A provider whose deployment runs on many devices, and that says how each did."""

    def device_results(self) -> Sequence[DeviceResult]:
        """What the reads so far said of each device; makes no request."""
        ...


@runtime_checkable
class RollsBack(Protocol):
    """A provider that can undo the deployment it followed (optional): ``--on-failure
    rollback`` redeploys what ran before, then gates that deployment as it gated this one."""

    def plan_rollback(self) -> RollbackPlan:
        """What rolling back the deployment last read would do: reads, changes nothing.
        Raises :class:`~gate.core.errors.GateError` when there is nothing to roll back to
        (the target's first deployment) or it cannot be read."""
        ...

    def roll_back(self, plan: RollbackPlan, comment: str) -> Provider:
        """Start the rollback ``plan`` describes, with ``comment`` where the backend keeps
        one (why: the failed deployment and its reason); a provider that follows the new
        deployment, which the caller closes. Raises GateError if it could not be started."""
        ...


@runtime_checkable
class ProviderPlugin(Protocol):
    """Builds a provider from its target, as its :class:`~gate.core.description.TargetDescription`
    declares it: every face (the command line, a targets file, the action, Pulumi) is made
    from ``description``, and hands ``build`` the values it checked."""

    @property
    def name(self) -> str: ...

    @property
    def summary(self) -> str:
        """One line for ``gate wait --help``."""
        ...

    @property
    def description(self) -> TargetDescription: ...

    def build(
        self,
        target: TargetValues,
        env: Mapping[str, str],
        *,
        request_timeout: float,
        token: Secret | None = None,
    ) -> Provider:
        """``target`` checked by ``description``; ``env`` the process environment (for
        credentials); ``token`` a credential a face chose itself (Pulumi's secret config).
        Raises :class:`~gate.core.errors.UsageError` or :class:`~gate.core.errors.ConfigError`."""
        ...


class DescribedPlugin:
    """A plugin named and summed up by its target's description: a subclass sets
    ``description`` and writes ``build``."""

    description: TargetDescription

    @property
    def name(self) -> str:
        return self.description.provider

    @property
    def summary(self) -> str:
        return self.description.summary
