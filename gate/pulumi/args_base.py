"""What the generated input classes (:mod:`gate.pulumi.args`) share, written by hand: how a
target becomes the flat inputs of the dynamic provider, and the fields the component derives
itself instead of asking for them."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import fields
from typing import Any, ClassVar

__all__ = ["DERIVED", "PulumiTarget"]

DERIVED: Mapping[str, Mapping[str, Callable[[Mapping[str, Any]], object]]] = {
    "humanitec": {"latest": lambda given: given["deploy_id"] is None and given["run"] is None},
}
"""Per provider, the fields the component sets from the others rather than taking as inputs:
a Humanitec gate follows the latest deployment when it names neither a deployment nor a run
(so an id given as an Output that resolved to nothing is refused, never read as 'latest')."""


class PulumiTarget:
    """A target of the component: its fields are its provider's description's, typed for
    Python, less the ones it derives (:data:`DERIVED`)."""

    provider: ClassVar[str]

    def props(self) -> dict[str, Any]:
        given = {field.name: getattr(self, field.name) for field in fields(self)}  # type: ignore[arg-type]
        derived = {key: rule(given) for key, rule in DERIVED.get(self.provider, {}).items()}
        return {"provider": self.provider, **given, **derived}
