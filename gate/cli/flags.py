"""A target's command-line flags, made from its provider's description: ``--deploy-id``
for the field ``deploy_id``, with the field's help, choices and default, and one required
choice among ``exactly_one_of``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from gate.core.description import Field, TargetDescription, cli_flag
from gate.core.durations import compact_duration
from gate.core.errors import UsageError

__all__ = [
    "add_after_flags",
    "add_former_flags",
    "add_release_flags",
    "add_report_flags",
    "add_target_flags",
    "add_telling_flags",
    "add_waiting_flags",
    "given_of",
    "repeated_flag",
]


def add_target_flags(parser: argparse.ArgumentParser, description: TargetDescription) -> None:
    """The description's fields as flags (their ``dest`` is the field's key)."""
    one_of = (
        parser.add_mutually_exclusive_group(required=True) if description.exactly_one_of else None
    )
    for field in description.fields:
        where = one_of if one_of is not None and field.key in description.exactly_one_of else parser
        where.add_argument(cli_flag(field.key), dest=field.key, help=_help(field), **_kind(field))


def given_of(parsed: argparse.Namespace, description: TargetDescription) -> dict[str, object]:
    """The fields the command line gave (unset ones None, for the environment to fill)."""
    return {key: getattr(parsed, key, None) for key in description.keys}


def repeated_flag(
    description: TargetDescription, argv: Sequence[str]
) -> tuple[str, list[str]] | None:
    """The one target flag given more than once in ``argv`` (``--env a --env b``), as its
    field's key and values; None when none is. Only one flag may repeat: each value is a
    target."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    add_target_flags(parser, description)
    counter = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    taking_values = [
        action
        for action in parser._actions  # argparse keeps no public list of a parser's flags
        if action.option_strings and action.nargs != 0 and action.dest != "help"
    ]
    for action in taking_values:
        counter.add_argument(*action.option_strings, dest=action.dest, action="append")
    seen, _ = counter.parse_known_args(list(argv))
    repeated = {
        action.option_strings[-1]: (action.dest, getattr(seen, action.dest))
        for action in taking_values
        if len(getattr(seen, action.dest) or ()) > 1
    }
    if len(repeated) > 1:
        flags = " and ".join(sorted(repeated))
        raise UsageError(
            f"{flags} are both repeated: repeat one id to wait on each of its values, "
            "or list the targets in a file for 'gate wait-all FILE'"
        )
    return next(iter(repeated.values()), None)


def _help(field: Field) -> str:
    """The field's doc, and its default as the command line has it."""
    defaults = [f"${name}" for name in field.env[:1]]
    if field.kind == "flag":
        defaults += ["on"] if field.default is True else []
    elif field.default is not None and field.kind == "duration":
        defaults.append(compact_duration(float(field.default)))
    elif field.default is not None:
        shown = f"{field.default:g}" if isinstance(field.default, float) else field.default
        defaults.append(f"{shown}%" if field.kind == "percent" else str(shown))
    said = f"{field.doc} (default: {' or '.join(defaults)})" if defaults else field.doc
    said += "; repeatable" if field.kind == "list" else ""
    return said.replace("%", "%%")  # argparse formats help with %


def _kind(field: Field) -> dict[str, Any]:
    if field.kind == "flag":
        if field.default is True:
            return {"action": argparse.BooleanOptionalAction, "default": True}
        return {"action": "store_true", "default": None}
    if field.kind == "choice":
        return {"choices": field.choices, "default": None}
    if field.kind == "list":
        return {"action": "append", "default": None, "metavar": field.metavar}
    kind: dict[str, Any] = {"metavar": field.metavar} if field.metavar else {}
    if field.required and not field.env:  # argparse says so before anything else is read
        kind["required"] = True
    return kind


def add_waiting_flags(parser: argparse.ArgumentParser) -> None:
    """The waiting options as flags (read as seconds by their fields, in the plan:
    ``90``, ``90s``, ``15m``)."""
    from gate.waiting.options import WAITING

    _add_group(parser, "waiting", WAITING)


def add_after_flags(parser: argparse.ArgumentParser) -> None:
    """The bake's and the rollback's options as flags (read by their description later)."""
    from gate.bake.options import BAKING, ROLLING_BACK

    _add_group(parser, "bake", BAKING)
    _add_group(parser, "on failure", ROLLING_BACK)


def add_telling_flags(parser: argparse.ArgumentParser) -> None:
    """What the gate tells the platform, as flags (read by their description later)."""
    from gate.telling.options import TELLING_FIELDS

    _add_group(parser, "telling the platform", TELLING_FIELDS)


def add_release_flags(parser: argparse.ArgumentParser, when: str) -> None:
    """The release's options as flags: its shared request budget, fail-fast."""
    from gate.waiting.options import RELEASE

    _add_group(parser, f"many targets, {when}", RELEASE)


def add_former_flags(parser: argparse.ArgumentParser, description: TargetDescription) -> None:
    """The flags the description's renamed fields had (``formerly``), each refused naming
    its new flag; added last, so a spelling another flag now has stays that flag's."""
    taken = parser._option_string_actions  # argparse keeps no public list of a parser's flags
    for field in description.fields:
        for old in field.formerly:
            spellings = [(cli_flag(old), cli_flag(field.key))]
            if field.kind == "flag" and field.default is True:
                spellings.append((f"--no-{cli_flag(old)[2:]}", f"--no-{cli_flag(field.key)[2:]}"))
            for flag, now in spellings:
                if flag not in taken:
                    refusal = f"{flag} is now {now}: {field.doc}"
                    parser.add_argument(
                        flag, nargs=0, action=_Refused, help=argparse.SUPPRESS, default=refusal
                    )


class _Refused(argparse.Action):
    """A flag that no longer exists: its ``default`` says what to use instead."""

    def __call__(self, parser: Any, namespace: Any, values: Any, option: Any = None) -> None:
        raise UsageError(str(self.default))


def add_report_flags(parser: argparse.ArgumentParser) -> None:
    """How the outcome is reported, as flags (read by their description later)."""
    from gate.waiting.options import REPORTING

    _add_group(parser, "reporting", REPORTING)


def _add_group(parser: argparse.ArgumentParser, title: str, fields: Sequence[Field]) -> None:
    group = parser.add_argument_group(title)
    for field in fields:
        group.add_argument(cli_flag(field.key), dest=field.key, help=_help(field), **_kind(field))
