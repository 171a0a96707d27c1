"""Which environment a gated deployment went to, as the tellings name it.

:func:`environment_of` is its bare id: a Humanitec ``env``, a Greengrass group, a Greengrass v2
thing group (or thing). :func:`environment_name` is the name a record that outlives the
release is kept under (a GitHub environment): the bare id where no other target of the
release is in another environment of that id, else qualified as far as needed
(``shop/production``, then ``acme/shop/production``). Never a deployment id: that changes
every release, and the record would be a new one each time.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

__all__ = ["environment_name", "environment_of"]


def _arn_parts(arn: str) -> tuple[str, str, str]:
    """``(region, account, NAME)`` of ``arn:aws:iot:region:account:thinggroup/NAME`` (or
    ``thing/NAME``); empty strings for any other text."""
    parts = arn.split(":", 5) if arn.startswith("arn:") else []
    if len(parts) != 6:
        return "", "", ""
    kind, _, name = parts[5].partition("/")
    return (parts[3], parts[4], name) if kind in ("thinggroup", "thing") and name else ("", "", "")


def environment_of(target: Mapping[str, str]) -> str:
    """Where the deployment went, as its target's ids name it ("" when they name none: a
    Humanitec v2 deployment, a pipeline run)."""
    return (
        target.get("env") or target.get("group_id") or _arn_parts(target.get("target_arn", ""))[2]
    )


def _forms(target: Mapping[str, str]) -> list[str]:
    """The environment's names, shortest first: ``production``, ``shop/production``,
    ``acme/shop/production`` (a thing group: ``Edge``, ``eu-west-1/Edge``, then its
    account's)."""
    bare = environment_of(target)
    if not bare:
        return []
    if target.get("env"):
        outer = [target.get("app", ""), target.get("org", "")]
    elif not target.get("group_id"):
        region, account, _ = _arn_parts(target.get("target_arn", ""))
        outer = [region, account]
    else:
        outer = []
    forms = [bare]
    for part in outer:
        if part:
            forms.append(f"{part}/{forms[-1]}")
    return forms


def environment_name(target: Mapping[str, str], among: Sequence[Mapping[str, str]]) -> str | None:
    """``target``'s environment, named as short as tells it from every other environment
    that the targets ``among`` (the release's, ``target`` among them) went to; None when its
    ids name none. Two targets in one environment share its name."""
    forms = _forms(target)
    if not forms:
        return None
    taken = {
        form
        for other in among
        if (theirs := _forms(other)) and theirs[-1] != forms[-1]
        for form in theirs
    }
    return next((form for form in forms if form not in taken), forms[-1])
