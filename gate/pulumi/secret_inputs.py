"""Inputs a Pulumi program marked secret: never shown in a message, a log line or a resource id.

Both faces collect the texts of a gate's secret inputs, then show each as ``***`` in every
check failure, failure message and progress line (:func:`hidden`), and make a secret part of
the resource id its digest (:func:`resource_id`), which still tells two gates apart.

How a face learns which inputs are secret differs. The native provider accepts secrets, so the
engine sends them marked. Pulumi's dynamic provider host tells the engine it does not
(``acceptSecrets: False`` in ``pulumi/dynamic/__main__.py``), so the engine sends every input
unwrapped: the dynamic provider cannot tell a secret ``deploy_id`` from a plain one. The
program can, so the component sends the provider the places of its secret inputs, never their
values, as the input ``secret_inputs`` (:func:`secret_places`, read back by :func:`texts_at`).
An output that holds a secret text is returned as a secret (:func:`secret_outputs`): the engine
would only keep secret an output named like a secret input, never ``target``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import pulumi
from pulumi.runtime import rpc

__all__ = [
    "SECRET_INPUTS",
    "hidden",
    "longest_first",
    "resource_id",
    "secret_outputs",
    "secret_places",
    "texts_at",
]

SECRET_INPUTS = "secret_inputs"  # noqa: S105 - the name of an input that holds no secret
"""The input naming the places of the others that are secret: ``deploy_id``,
``targets.1.api_url``."""
CUT = "…"
"""How a message ends a long value it cuts short (:func:`gate.core.text.one_line`, a URL
refused)."""
SHORTEST_CUT = 4
"""A secret's first characters before :data:`CUT` are hidden from this many on."""


def longest_first(texts: Iterable[str]) -> tuple[str, ...]:
    """Non-empty ``texts`` once each, longest first: a secret inside another hides with it."""
    return tuple(sorted({text for text in texts if text}, key=len, reverse=True))


def hidden(text: str, secrets: tuple[str, ...]) -> str:
    """``text`` with every secret in it shown as ``***``: as it is, as ``repr`` escapes it
    (``'a\\\\b'``), and its start where a long value was cut short (``https://api...…``)."""
    forms = longest_first(form for secret in secrets for form in (secret, repr(secret)[1:-1]))
    for form in forms:
        text = text.replace(form, "***")
    if CUT in text:
        pieces = text.split(CUT)
        pieces[:-1] = [_start_hidden(piece, forms) for piece in pieces[:-1]]
        text = CUT.join(pieces)
    return text


def _start_hidden(piece: str, forms: tuple[str, ...]) -> str:
    """``piece`` (the text before a cut) with a secret's start that it ends with hidden."""
    for form in forms:
        for length in range(min(len(form) - 1, len(piece)), SHORTEST_CUT - 1, -1):
            if piece.endswith(form[:length]):
                return piece[:-length] + "***"
    return piece


def resource_id(parts: Iterable[str], secrets: tuple[str, ...]) -> str:
    """``humanitec/acme/shop/production/0f3c``; a part holding a secret as its digest
    (``secret-<12 hex>``), which tells two gates apart without showing it."""
    return "/".join(
        f"secret-{hashlib.sha256(part.encode()).hexdigest()[:12]}"
        if any(secret in part for secret in secrets)
        else part
        for part in parts
    )


def secret_places(props: Mapping[str, Any]) -> pulumi.Output[list[str]]:
    """In a Pulumi program: the places in ``props`` (a dynamic resource's inputs) whose value
    the program marked secret, such as ``deploy_id`` or ``targets.1.api_url``; the names only,
    so the list itself is no secret."""

    leaves = list(_leaves(props, ""))  # now: the list joins ``props`` before it is awaited

    async def places() -> list[str]:
        return [
            place for place, value in leaves if await pulumi.Output.from_input(value).is_secret()
        ]

    return pulumi.Output.from_input(places())


def _leaves(value: Any, place: str) -> Iterator[tuple[str, Any]]:
    """Each input below ``value`` with its place; a dict or list the program built is walked
    into (a key with a dot is not: its whole dict is one place)."""
    if isinstance(value, Mapping) and all("." not in str(key) for key in value):
        for key, item in value.items():
            yield from _leaves(item, f"{place}.{key}" if place else str(key))
    elif isinstance(value, (list, tuple)) and place:
        for index, item in enumerate(value):
            yield from _leaves(item, f"{place}.{index}")
    elif place:
        yield place, value


def texts_at(props: Mapping[str, Any]) -> tuple[str, ...]:
    """In the dynamic provider: every text at (or inside) a place ``secret_inputs`` names,
    longest first; none when the inputs do not say (a gate recorded before they did)."""
    places = props.get(SECRET_INPUTS)
    if not isinstance(places, list):
        return ()
    found: list[str] = []
    for place in places:
        if isinstance(place, str) and place:
            found += _texts(_at(props, place.split(".")))
    return longest_first(found)


def _at(value: Any, steps: list[str]) -> Any:
    for step in steps:
        if isinstance(value, Mapping):
            value = value.get(step)
        elif isinstance(value, list) and step.isdigit() and int(step) < len(value):
            value = value[int(step)]
        else:
            return None
    return value


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, Mapping):
        return [text for item in value.values() for text in _texts(item)]
    if isinstance(value, (list, tuple)):
        return [text for item in value for text in _texts(item)]
    return []


def secret_outputs(outs: Mapping[str, Any], secrets: tuple[str, ...]) -> dict[str, Any]:
    """A dynamic provider's outputs with each one that holds a secret text marked secret,
    as the wire marks one (the engine keeps a provider's secret outputs)."""
    return {
        key: rpc.wrap_rpc_secret(value)
        if any(secret in text for text in _texts(value) for secret in secrets)
        else value
        for key, value in outs.items()
    }
