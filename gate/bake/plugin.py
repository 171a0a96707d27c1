"""What a kind of bake check is to the gate: a plugin that declares its fields and builds its
checks, as a provider plugin declares its target and builds its provider.

Every face is made from the fields a plugin declares (``--alarm``, ``alarm:`` in a targets
file, the action's input, Pulumi's ``alarm``), in the one description of what the gate does
after a deployment (:data:`gate.bake.options.AFTER_SUCCESS`), which checks them and runs the
plugin's ``rules``. A bake builds every check whose ``enabled_by`` field was given.
Built-ins and third-party checks are found by :mod:`gate.bake.registry`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Protocol, runtime_checkable

from gate.bake.check import Check
from gate.core.description import Field, FieldError, TargetValues, named

__all__ = ["CheckPlugin", "Rule", "each_needs_the_other"]

Rule = Callable[[TargetValues], None]
"""A check of fields together: raises a :class:`~gate.core.description.FieldError`."""


@runtime_checkable
class CheckPlugin(Protocol):
    @property
    def name(self) -> str:
        """``cloudwatch``, ``prometheus``: how errors and the docs name the kind of check."""
        ...

    @property
    def fields(self) -> tuple[Field, ...]:
        """Its options, each with its bounds; keys no other check or bake option uses."""
        ...

    @property
    def enabled_by(self) -> str:
        """The field whose value turns the check on (``alarm``); the others shape it."""
        ...

    @property
    def rules(self) -> Sequence[Rule]:
        """Its fields' rules together (``--query`` needs ``--prometheus``)."""
        ...

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> Iterable[Check]:
        """The checks ``values`` (checked, its ``enabled_by`` given) ask for: one per watched
        thing where the outcome names each (a query, a probe URL). ``env``: the process
        environment (credentials); ``request_timeout``: the most one request may take.
        Imports its client library here, not when its module is imported, so ``gate wait
        PROVIDER --help`` stays quick."""
        ...


def each_needs_the_other(listed: str, server: str, *, server_needs: str) -> Rule:
    """The rule that ``listed`` (what is asked) and ``server`` (who is asked) come together;
    ``server_needs`` says what a server alone lacks (``a --query``)."""

    def rule(values: TargetValues) -> None:
        if values.given(listed) and not values.given(server):
            raise FieldError(listed, f"{named(listed)} needs {named(server)}")
        if values.given(server) and not values.given(listed):
            raise FieldError(server, f"{named(server)} needs {server_needs}")

    return rule
