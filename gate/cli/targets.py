"""The targets of a gate of many, from a file (``gate wait-all FILE``) or from repeated ids.

A file is YAML or JSON: a list of targets, or ``{"defaults": {...}, "targets": [...]}`` (and
an editor's ``"$schema"``, :mod:`gate.cli.targets_schema`'s JSON Schema of such a file). Each
target names its ``provider``, optionally a ``name``, and the fields of the provider's
target description (``deploy-id: 0f3c`` or ``deploy_id: 0f3c``; ``latest: true``), plus the
waiting fields (``timeout: 20m``). A target's fields are checked by the same description
``gate wait PROVIDER``'s flags are made from, so a target in a file means what they mean.

The whole file is checked before the first read: a bad entry is a :class:`UsageError` naming
the entry and the field.
"""

from __future__ import annotations

import json
import os
import re
import select
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TextIO

from gate.core.description import FieldError
from gate.core.errors import GateError, UsageError
from gate.providers import ProviderPlugin
from gate.providers.registry import load_plugin

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_TARGETS",
    "TargetEntry",
    "as_text",
    "plugin_of",
    "read_entries",
]

MAX_FILE_BYTES = 1024 * 1024
MAX_TARGETS = 10_000
READ_SECONDS = 10.0
"""How long a targets file (a pipe, a FIFO, standard input) may take to arrive whole."""


@dataclass(frozen=True)
class TargetEntry:
    """One target as written: where it was, its provider, name and fields."""

    where: str
    """``release.yaml: target 3 (production)``: how errors name the entry."""
    provider: str
    name: str | None
    fields: Mapping[str, object]
    """Its fields (the defaults' too) by key as a file spells them (``deploy-id``)."""

    def explain(self, error: GateError) -> UsageError:
        """``error``, said of this entry (a field's problem naming the field as written)."""
        said = error.in_file() if isinstance(error, FieldError) else str(error)
        return UsageError(f"{self.where}: {said}")


def read_entries(source: str, stdin: TextIO) -> list[TargetEntry]:
    """The entries of the file ``source`` (``-``: standard input), checked for shape."""
    label = "stdin" if source == "-" else source
    text = _read(source, stdin, label)
    document = _parse(text, label)
    defaults: Mapping[str, Any] = {}
    if isinstance(document, dict):
        unknown = set(document) - {"defaults", "targets", "$schema"}
        if unknown:
            raise UsageError(
                f"{label}: unknown top-level field {sorted(map(str, unknown))[0]!r} "
                "(expected 'targets' and optionally 'defaults' and '$schema')"
            )
        if not isinstance(document.get("$schema", ""), str):
            raise UsageError(f"{label}: '$schema' must be the schema's URL or path")
        defaults = document.get("defaults") or {}
        if not isinstance(defaults, dict):
            raise UsageError(f"{label}: 'defaults' must be a mapping of fields")
        document = document.get("targets")
    if not isinstance(document, list) or not document:
        raise UsageError(f"{label}: expected a non-empty list of targets (or 'targets: [...]')")
    if len(document) > MAX_TARGETS:
        raise UsageError(f"{label}: {len(document)} targets; at most {MAX_TARGETS} are waited on")
    _check_fields(defaults, f"{label}: defaults")
    return [_entry(item, defaults, f"{label}: target {n}") for n, item in enumerate(document, 1)]


def _read(source: str, stdin: TextIO, label: str) -> str:
    try:
        if source == "-":
            raw = _read_stream(stdin, label)
        else:
            # O_NONBLOCK: opening a FIFO that nothing writes must not block for ever
            fd = os.open(source, os.O_RDONLY | os.O_NONBLOCK)
            try:
                raw = _read_bounded(fd, label)
            finally:
                os.close(fd)
        text = raw.decode("utf-8")
    except FileNotFoundError:
        raise UsageError(f"{label}: no such file") from None
    except UnicodeDecodeError:
        raise UsageError(f"{label}: not UTF-8 text") from None
    except OSError as unreadable:
        raise UsageError(f"{label}: cannot be read ({unreadable.strerror})") from None
    if len(text) > MAX_FILE_BYTES:
        raise UsageError(f"{label}: larger than {MAX_FILE_BYTES // 1024} KiB")
    return text


def _read_stream(stdin: TextIO, label: str) -> bytes:
    try:
        fd = stdin.fileno()
    except (AttributeError, OSError, ValueError):  # a stream in memory: it cannot block
        return stdin.read(MAX_FILE_BYTES + 1).encode("utf-8", "surrogateescape")
    return _read_bounded(fd, label)


def _read_bounded(fd: int, label: str) -> bytes:
    """All of ``fd`` up to one byte past the size limit, within READ_SECONDS: a pipe or FIFO
    whose writer never comes or never closes it ends the read, not the gate's wait."""
    ends_at = time.monotonic() + READ_SECONDS
    chunks: list[bytes] = []
    size = 0
    while size <= MAX_FILE_BYTES:
        left = ends_at - time.monotonic()
        if left <= 0:
            raise UsageError(
                f"{label}: still open after {READ_SECONDS:g}s without an end "
                "(nothing writes to it, or its writer never closed it)"
            )
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 64 * 1024)
        except BlockingIOError:
            continue
        if not chunk:
            break
        chunks.append(chunk)
        size += len(chunk)
    return b"".join(chunks)


def _parse(text: str, label: str) -> object:
    try:
        return json.loads(text, object_pairs_hook=_unique_keys(label))
    except RecursionError:
        raise UsageError(f"{label}: nests too deeply to be a list of targets") from None
    except ValueError:
        pass
    import yaml

    try:
        return yaml.load(text, Loader=_unique_keys_loader(label))  # noqa: S506 - a SafeLoader
    except RecursionError:
        raise UsageError(f"{label}: nests too deeply to be a list of targets") from None
    except yaml.YAMLError as bad:
        mark = getattr(bad, "problem_mark", None)
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark else ""
        problem = getattr(bad, "problem", None) or "not valid YAML or JSON"
        raise UsageError(f"{label}: {problem}{where}") from None


def _unique_keys(label: str) -> Callable[[list[tuple[str, Any]]], dict[str, Any]]:
    """A JSON object hook that refuses a key given twice (JSON would keep the last)."""

    def pairs_to_dict(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        mapping: dict[str, Any] = {}
        for key, value in pairs:
            if key in mapping:
                raise UsageError(f"{label}: field {str(key)[:40]!r} is given twice")
            mapping[key] = value
        return mapping

    return pairs_to_dict


def _unique_keys_loader(label: str) -> type[Any]:
    """PyYAML's SafeLoader, refusing a key given twice in one mapping (YAML keeps the last)."""
    import yaml

    class UniqueKeys(yaml.SafeLoader):
        def construct_mapping(self, node: Any, deep: bool = False) -> dict[Any, Any]:
            seen = set()
            for key_node, _ in node.value:
                key = self.construct_object(key_node, deep=deep)
                if isinstance(key, str | int | float | bool) and key in seen:
                    line = key_node.start_mark.line + 1
                    raise UsageError(
                        f"{label}: field {str(key)[:40]!r} is given twice (line {line})"
                    )
                if isinstance(key, str | int | float | bool):
                    seen.add(key)
            return dict(super().construct_mapping(node, deep=deep))

    return UniqueKeys


def _check_fields(fields: Mapping[Any, Any], where: str) -> None:
    spelled: dict[str, str] = {}
    for key in fields:
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z][A-Za-z0-9_-]*", key):
            raise UsageError(f"{where}: {str(key)[:40]!r} is not a field name")
        # A value of the wrong kind (a list for a number) is refused by its field's
        # declaration, in the words every face says it with.
        flag = _flag_name(key)  # deploy-id and deploy_id (or Deploy-Id) are one field
        if flag in spelled:
            raise UsageError(f"{where}: fields {spelled[flag]!r} and {key!r} are the same field")
        spelled[flag] = key


def _entry(item: object, defaults: Mapping[str, Any], where: str) -> TargetEntry:
    if not isinstance(item, dict):
        raise UsageError(f"{where}: expected a mapping of fields, not a {type(item).__name__}")
    name = item.get("name")
    if name is not None:
        if not isinstance(name, str) or not name.strip():
            raise UsageError(f"{where}: field 'name' must be a non-empty string")
        where = f"{where} ({name[:60]})"
    _check_fields(item, where)
    fields = {_flag_name(key): value for key, value in {**defaults, **item}.items()}
    provider = fields.pop("provider", None)
    fields.pop("name", None)
    if not isinstance(provider, str) or not provider:
        raise UsageError(f"{where}: field 'provider' is missing (such as 'humanitec')")
    return TargetEntry(where, provider, name, fields)


def _flag_name(key: str) -> str:
    return key.replace("_", "-").lower()


def as_text(value: object) -> str:
    """A scalar as a file means it where text is wanted (``env: 2024`` is ``'2024'``)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def plugin_of(entry: TargetEntry) -> ProviderPlugin:
    try:
        return load_plugin(entry.provider)
    except GateError as unknown:
        raise UsageError(f"{entry.where}: field 'provider': {unknown}") from None
