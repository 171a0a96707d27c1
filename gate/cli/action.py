"""The GitHub Action's inputs, made from the command line's own parsers, and ``gate action``:
the action's step, which turns the inputs it was given into a ``gate wait`` or ``gate
wait-all`` command line.

Every flag of ``gate wait PROVIDER`` (each built-in provider) and of ``gate wait-all`` is an
input of the same name (``--deploy-id``: ``deploy-id``), with the flag's help and default;
:data:`OWN_INPUTS` adds what only the action has (``provider``, ``targets``, the tokens) and
what it spells its own way (``github-deployment: auto``). ``action.yml`` hands each input to
the step in an environment variable (:func:`input_variable`) and runs ``gate action``, so
an input is always a value: ``--org=VALUE`` (a value starting with ``-`` stays the flag's
value), never an option of its own. Tokens go to the environment the gate reads, never to
its arguments. ``gate action`` runs the gate in-process, so the gate is the step's top
process and hears the runner's signal on cancel.
"""

from __future__ import annotations

import argparse
import os
import re
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cache
from typing import Literal

from gate.cli.parsers import provider_parser, wait_all_parser
from gate.core.description import Field
from gate.core.durations import compact_duration
from gate.core.errors import UsageError

__all__ = [
    "OWN_INPUTS",
    "ActionInput",
    "action_inputs",
    "commands",
    "field_of",
    "from_inputs",
    "input_variable",
]

InputKind = Literal["value", "flag", "list", "choice"]
"""``flag``: true or false (empty: the gate's default); ``list``: one value a line, each
given as the flag once; ``choice``: one of :attr:`ActionInput.choices`."""

INTERNAL_FLAGS = ("--help", "--output", "--json-report")
"""Flags the action sets itself, not inputs."""


@dataclass(frozen=True)
class ActionInput:
    name: str
    doc: str
    kind: InputKind = "value"
    default: str = ""
    """As ``action.yml`` has it; an input left at its default is not passed on, so the
    gate's own default (the same value) applies."""
    choices: tuple[str, ...] = ()
    flag: bool = True
    """Passed on as ``--NAME``; False: the action itself uses it."""
    step: bool = True
    """Handed to the gate's step (False: only the install step reads it)."""


OWN_INPUTS = (
    ActionInput(
        "provider",
        "Which system ran the deployment: {built_in} (built in), or an installed provider's "
        "name. Not with 'targets'.",
        flag=False,
    ),
    ActionInput(
        "targets",
        "Instead of 'provider': a YAML or JSON file listing many targets, all waited on at "
        "once ('gate wait-all'). The other inputs are every target's defaults.",
        flag=False,
    ),
    ActionInput(
        "humanitec-token",
        "Humanitec API token; pass secrets.HUMANITEC_TOKEN. If empty, HUMANITEC_TOKEN from "
        "the step's env is used.",
        flag=False,
    ),
    ActionInput(
        "github-deployment",
        "Record each gate as a GitHub deployment of this commit: true, false, or auto (on "
        "when github-environment is given).",
        kind="choice",
        choices=("true", "false", "auto"),
        default="auto",
        flag=False,
    ),
    ActionInput(
        "github-token",
        "The token that posts GitHub deployments (needs deployments: write).",
        default="${{ github.token }}",
        flag=False,
    ),
    ActionInput(
        "junit",
        "Where to write the JUnit XML report (default: a file under RUNNER_TEMP).",
        flag=False,
    ),
    ActionInput(
        "extra-args",
        "More flags for 'gate wait PROVIDER', one per line (for installed providers).",
        flag=False,
    ),
    ActionInput(
        "python",
        "The Python interpreter that builds the gate's isolated environment.",
        default="python3",
        flag=False,
        step=False,
    ),
)
"""Inputs only the action has, or spells its own way (they replace the flag's input)."""

OWN_DEFAULTS = {"github-ref": "${{ github.event.pull_request.head.sha || github.sha }}"}
"""A pull request's head commit, not the merge commit $GITHUB_SHA names there."""

GITHUB_DEPLOYMENT_ONLY = ("github-environment", "github-ref", "environment-url")
"""Passed on only when a GitHub deployment is recorded (``github-ref`` always has a value)."""

_PREFIX = "GATE_INPUT_"


def input_variable(name: str) -> str:
    """The step's environment variable holding the input ``name``."""
    return _PREFIX + name.upper().replace("-", "_")


def commands() -> list[tuple[str, argparse.ArgumentParser]]:
    """Each command the action runs, by the input that selects it, and its parser: ``gate
    wait PROVIDER`` for each built-in provider, and ``gate wait-all`` (``targets``)."""
    from gate.providers.registry import BUILT_IN, load_plugin

    found: list[tuple[str, argparse.ArgumentParser]] = [
        (name, provider_parser(load_plugin(name))) for name in BUILT_IN
    ]
    return [*found, ("targets", wait_all_parser())]


def field_of(dest: str, label: str) -> Field | None:
    """The declaration behind the flag whose ``dest`` is ``dest`` in the command ``label``
    names (a provider's, or ``targets``), if it has one."""
    return _fields(label).get(dest)


@cache
def _fields(label: str) -> dict[str, Field]:
    from gate.bake.options import AFTER_SUCCESS
    from gate.providers.registry import BUILT_IN, load_plugin
    from gate.telling.options import TELLING_FIELDS
    from gate.waiting.options import RELEASE, REPORTING, WAITING

    declared = [*WAITING, *AFTER_SUCCESS.fields, *TELLING_FIELDS, *RELEASE, *REPORTING]
    if label in BUILT_IN:
        declared += load_plugin(label).description.fields
    return {field.key: field for field in declared}


def long_flag(action: argparse.Action) -> str | None:
    """The flag an input is named after (``--device-fail-fast``, not ``--no-device-fail-fast``)."""
    names = [
        option
        for option in action.option_strings
        if option.startswith("--") and not option.startswith("--no-")
    ]
    return names[0] if names and names[0] not in INTERNAL_FLAGS else None


def flag_actions(parser: argparse.ArgumentParser) -> Iterator[tuple[str, argparse.Action]]:
    """The parser's flags with their group's title, target flags first, as --help lists
    them."""
    for group in parser._action_groups:  # argparse keeps no public list of its groups
        for action in group._group_actions:
            if long_flag(action) is not None and action.help != argparse.SUPPRESS:
                yield group.title or "", action


def shown_default(field: Field | None, action: argparse.Action) -> str:
    """A flag's default as an input's text (empty when it has none)."""
    if field is not None:
        default = field.default
        if default is None or default is False:
            return "false" if field.kind == "flag" else ""
        if default is True:
            return "true"
        if field.kind == "duration":
            return compact_duration(float(default))
        return f"{default:g}" if isinstance(default, float) else str(default)
    if action.nargs == 0:
        return "true" if action.default is True else "false"
    return action.default if isinstance(action.default, str) else ""


@cache
def action_inputs() -> tuple[ActionInput, ...]:
    """Every input of the action, in the order ``action.yml`` lists them."""
    own = {given.name: given for given in OWN_INPUTS}
    seen: dict[str, list[tuple[str, argparse.Action]]] = {}
    order: list[tuple[int, str]] = []
    made_by = commands()
    for label, parser in made_by:
        for title, action in flag_actions(parser):
            name = (long_flag(action) or "")[2:]
            if name not in seen:
                seen[name] = []
                order.append((0 if title == "options" else 1, name))
            seen[name].append((label, action))
    every = [label for label, _ in made_by]
    built_in = ", ".join(label for label in every if label != "targets")
    provider = replace(own["provider"], doc=own["provider"].doc.format(built_in=built_in))
    made = [provider, own["targets"], own["humanitec-token"]]
    for _, name in sorted(order, key=lambda rank_name: rank_name[0]):
        made.append(own.get(name) or _input_of(name, seen[name], every))
    named = {each.name for each in made}
    made += [given for given in OWN_INPUTS if given.name not in named]
    return tuple(made)


def _input_of(name: str, where: list[tuple[str, argparse.Action]], every: list[str]) -> ActionInput:
    """One flag's input: its help (each command's, where they differ) and default."""
    helps: dict[str, list[str]] = {}
    defaults = set()
    for label, action in where:
        helps.setdefault(_said(action.help or ""), []).append(label)
        defaults.add(shown_default(field_of(action.dest, label), action))
    action = where[0][1]
    if len(helps) == 1 and len(where) == len(every):
        doc = _sentence(next(iter(helps)))
    else:
        doc = " ".join(f"{', '.join(labels)}: {_period(help)}" for help, labels in helps.items())
    kind: InputKind = "value"
    if action.nargs == 0:
        kind = "flag"
    elif isinstance(action, argparse._AppendAction):  # argparse names no public type for it
        kind = "list"
        doc += " One per line."
    default = defaults.pop() if len(defaults) == 1 else ""
    return ActionInput(name, doc, kind, OWN_DEFAULTS.get(name, default))


def _said(help: str) -> str:
    """A flag's help as an input's: ``--query`` is the input ``'query'``."""
    help = help.replace("%%", "%").replace("; repeatable", "")
    return re.sub(r"--([a-z][a-z0-9-]*)", r"'\1'", help)


def _sentence(text: str) -> str:
    return _period(text[:1].upper() + text[1:])


def _period(text: str) -> str:
    return text if text.endswith(".") else text + "."


# --- the step ------------------------------------------------------------------------------


def from_inputs(args: Sequence[str], env: Mapping[str, str]) -> tuple[list[str], dict[str, str]]:
    """The command line and environment for the gate, from the action's inputs in ``env``
    (:func:`input_variable`); a :class:`UsageError` for an input that cannot work."""
    if args:
        raise UsageError("'gate action' takes no arguments: it reads the action's inputs")
    inputs = action_inputs()
    given = {each.name: env.get(input_variable(each.name), "") for each in inputs}
    rest = {name: value for name, value in env.items() if not name.startswith(_PREFIX)}
    provider, targets = given["provider"], given["targets"]
    parser = _chosen(provider, targets, rest)
    argv = ["wait-all", targets] if targets else ["wait", provider]
    argv += ["--output", "github"]
    if given["humanitec-token"]:
        rest["HUMANITEC_TOKEN"] = given["humanitec-token"]
    github = _github_deployment(given)
    if github:
        rest["GITHUB_TOKEN"] = given["github-token"]
    for each in inputs:
        value = given[each.name]
        if not each.flag or value in ("", each.default):
            continue
        if each.name in GITHUB_DEPLOYMENT_ONLY and not github:
            continue
        argv += _flags(each, value, parser)
    if github:
        argv.append("--github-deployment")
    runner_temp = rest.get("RUNNER_TEMP") or tempfile.gettempdir()
    junit = given["junit"] or _temporary(runner_temp, "deploy-gate-junit-", ".xml")
    argv += ["--junit", junit, "--json-report", _temporary(runner_temp, "deploy-gate-", ".json")]
    argv += [line for line in given["extra-args"].splitlines() if line.strip()]
    return argv, rest


def _chosen(provider: str, targets: str, env: Mapping[str, str]) -> argparse.ArgumentParser:
    """The parser of the command the inputs select."""
    from gate.providers.registry import available_providers, load_plugin

    names = ", ".join(available_providers())
    if not provider and not targets:
        raise UsageError(
            f"the 'provider' input is required (one of: {names}), or 'targets' (a file of many)"
        )
    if provider and targets:
        raise UsageError(
            "give either 'provider' (one deployment) or 'targets' (a file of many), not both"
        )
    if targets.startswith("-"):
        raise UsageError(
            "the 'targets' input must be a file's path, not an option (write ./-name for a "
            "file whose name starts with '-')"
        )
    if targets:
        return wait_all_parser()
    # An input is a value, never an option: 'provider: --help' would pass the step unwaited.
    if provider.startswith("-") or not re.fullmatch(r"[a-z0-9._-]+", provider):
        raise UsageError(
            f"the 'provider' input must be a provider's name (one of: {names}), not an option"
        )
    return provider_parser(load_plugin(provider))


def _github_deployment(given: Mapping[str, str]) -> bool:
    chosen = given["github-deployment"].strip()
    if not chosen:
        return False
    if chosen == "auto":
        return bool(given["github-environment"] and given["github-token"])
    return _flag_value("github-deployment", chosen, ("true", "false", "auto"))


def _flags(each: ActionInput, value: str, parser: argparse.ArgumentParser) -> list[str]:
    flag = f"--{each.name}"
    if each.kind == "flag":
        if _flag_value(each.name, value, ("true", "false")):
            return [flag]
        # off: the command's --no- flag where it is on by default, else nothing to say
        negative = f"--no-{each.name}"
        return [negative] if negative in parser._option_string_actions else []
    if each.kind == "list":
        return [f"{flag}={line.strip()}" for line in value.splitlines() if line.strip()]
    return [f"{flag}={value}"]  # --flag=value: a value that starts with '-' stays a value


def _flag_value(name: str, value: str, words: tuple[str, ...]) -> bool:
    if value.strip() not in words:
        said = " or ".join((", ".join(words[:-1]), words[-1])) if len(words) > 1 else words[0]
        raise UsageError(f"the '{name}' input must be {said}, not {value.strip()[:40]!r}")
    return value.strip() == "true"


def _temporary(directory: str, prefix: str, suffix: str) -> str:
    handle, path = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    os.close(handle)
    return path
