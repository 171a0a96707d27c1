"""``gate wait`` and the top-level command: parse, build a provider, call the engine, render
the outcome.

Exit codes (a contract, see README): 0 succeeded, 1 failed (the deployment, or its bake), 2
usage or configuration error, 3 deadline passed, 4 status (or a bake's checks) could not be
read, 128+N interrupted by signal N (during a rollback too).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Mapping, Sequence
from typing import TextIO, cast

from gate import __version__
from gate.cli.common import Parser, say, settle, signals_interrupt, usable
from gate.cli.flags import given_of, repeated_flag
from gate.cli.parsers import provider_parser as _provider_parser  # by its old name too
from gate.core.errors import GateError, Interrupted
from gate.core.secret import remember, secrets_in
from gate.providers.registry import available_providers, load_plugin
from gate.render.runner import CommandFreeStream

__all__ = ["main"]


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
    stdin: TextIO | None = None,
) -> int:
    """Run the gate command; returns its exit code. Callable in-process (tests, the demo).

    Whatever happens to its streams (closed, a full disk, a reader that went away), it ends
    with the outcome's exit code, never a traceback; and so it does whatever signal comes once
    the outcome is decided. Without ``argv`` it is the process's own command (``gate``,
    ``python -m gate``): signals then stay ignored until the process exits. Called with
    ``argv``, it gives the caller its own signal handlers back.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    remember(*secrets_in(env))  # no secret the environment holds comes back through an answer
    out = usable(stdout, sys.stdout)
    err = usable(stderr, sys.stderr)
    if env.get("GITHUB_ACTIONS") == "true":  # the runner reads stderr too, in any output mode
        err = cast(TextIO, CommandFreeStream(err))  # a TextIOBase: typing's TextIO is nominal
    try:
        with signals_interrupt(until_exit=argv is None):
            try:
                return _dispatch(args, env, out, err, stdin or sys.stdin)
            except GateError as error:
                say(err, f"gate: error: {error}\n")
                if env.get("GITHUB_ACTIONS") == "true":
                    from gate.render.github import workflow_command

                    say(out, workflow_command("error", str(error), title="deploy-gate") + "\n")
                return error.exit_code
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Interrupted as interrupt:
        return 128 + interrupt.signum
    finally:
        settle(out, err)


def _dispatch(
    args: list[str], env: Mapping[str, str], out: TextIO, err: TextIO, stdin: TextIO
) -> int:
    if args[:1] == ["wait"] and (len(args) == 1 or args[1] in ("-h", "--help")):
        asked = len(args) > 1
        say(out if asked else err, _wait_usage())
        return 0 if asked else 2
    if args[:1] == ["action"]:  # the GitHub Action's step: its inputs become the command
        from gate.cli.action import from_inputs

        args, env = from_inputs(args[1:], env)
    if args[:1] == ["wait-all"]:  # its own parser, --help included
        from gate.cli.fleet import wait_all_command

        return wait_all_command(args[1:], env, out, err, stdin)
    top = _top_parser()
    parsed = top.parse_args(args)
    if parsed.command == "wait":
        return _wait_command(parsed.provider, parsed.rest, env, out, err)
    if parsed.command == "providers":
        say(out, "\n".join(available_providers()) + "\n")
        return 0
    if parsed.command == "schema":
        from gate.cli.targets_schema import targets_schema_text

        descriptions = [load_plugin(name).description for name in available_providers()]
        say(out, targets_schema_text(descriptions))
        return 0
    if parsed.command == "demo":
        from gate.cli.demo import run_demo

        return run_demo(out=out, err=err)
    top.print_help(err)
    return 2


def _top_parser() -> Parser:
    parser = Parser(
        prog="gate",
        description="Block until a deployment reaches a terminal status; explain a failure.",
    )
    parser.add_argument("--version", action="version", version=f"gate {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=Parser)
    waiter = commands.add_parser(
        "wait",
        help="wait on one deployment ('gate wait PROVIDER --help' for its flags)",
        add_help=False,
    )
    waiter.add_argument("provider", nargs="?")
    waiter.add_argument("rest", nargs=argparse.REMAINDER)
    commands.add_parser(  # listed for --help; _dispatch hands its arguments on whole
        "wait-all", help="wait on many deployments at once ('gate wait-all --help')"
    )
    commands.add_parser("providers", help="list the providers 'gate wait' accepts")
    schema = commands.add_parser(
        "schema", help="print the JSON Schema of a targets file ('gate wait-all FILE')"
    )
    schema.add_argument("what", nargs="?", choices=("targets",), default="targets")
    commands.add_parser(
        "demo", help="gate real deployments on a local emulator (no cloud account needed)"
    )
    return parser


def _wait_command(
    provider_name: str | None,
    rest: list[str],
    env: Mapping[str, str],
    out: TextIO,
    err: TextIO,
) -> int:
    if provider_name is None:
        say(err, _wait_usage())
        return 2
    plugin = load_plugin(provider_name)
    parser = _provider_parser(plugin)
    parsed = parser.parse_args(rest)
    # The engine, the plan's declarations and the renderers: once there is a gate to run.
    from gate.cli.fleet import TargetSpec, run_release
    from gate.cli.plan import plan_from
    from gate.waiting.plan import read_plan

    plan = plan_from(parsed, env)
    given = given_of(parsed, plugin.description)
    repeated = repeated_flag(plugin.description, rest)
    if repeated is None:  # a single gate: a release of one, its plan its target's own
        spec = TargetSpec(None, plugin, plan, "", given)
        return run_release([spec], plan, env, out, err, one=True)
    dest, values = repeated
    flag = "--" + dest.replace("_", "-")
    each = read_plan(plan.for_each_target(), env)
    specs = [
        TargetSpec(value, plugin, each, f"{flag} {value}", {**given, dest: value})
        for value in values
    ]
    return run_release(specs, plan, env, out, err)


def _wait_usage() -> str:
    lines = ["usage: gate wait PROVIDER [flags]   ('gate wait PROVIDER --help' for its flags)", ""]
    lines.append("providers:")
    for name in available_providers():
        try:
            summary = load_plugin(name).summary
        except GateError as broken:
            summary = f"(cannot be loaded: {broken})"
        lines.append(f"  {name:<12} {summary}")
    return "\n".join(lines) + "\n"
