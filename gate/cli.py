"""The ``gate`` command: parse, build a provider, call the engine, render the outcome.

Exit codes (a contract, see README): 0 succeeded, 1 failed, 2 usage or configuration error,
3 deadline passed, 4 status could not be read, 128+N interrupted by signal N.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import NoReturn, TextIO

from gate import __version__
from gate.durations import parse_duration
from gate.engine import (
    DEFAULT_NOT_FOUND_GRACE,
    DEFAULT_TIMEOUT,
    WaitOptions,
    wait,
)
from gate.errors import GateError, Interrupted, UsageError
from gate.model import Outcome
from gate.providers import ProviderPlugin
from gate.registry import available_providers, load_plugin
from gate.render.github import GitHubReporter, format_outputs, step_outputs, workflow_command
from gate.render.json import outcome_to_json
from gate.render.junit import junit_xml
from gate.render.summary import summary_markdown
from gate.render.text import TextReporter
from gate.reporter import Reporter
from gate.schedule import DEFAULT_INTERVAL, DEFAULT_MAX_INTERVAL

__all__ = ["main"]

DEFAULT_REQUEST_TIMEOUT = 10.0
_DURATION_FLAGS = (
    ("--timeout", DEFAULT_TIMEOUT, "overall deadline, such as 90, 90s, 15m, 1h (default: 30m)"),
    (
        "--interval",
        DEFAULT_INTERVAL,
        "first gap between reads; later gaps follow the "
        "deployment's history or grow with the time waited (default: 2s)",
    ),
    (
        "--max-interval",
        DEFAULT_MAX_INTERVAL,
        "longest gap between reads without history (default: 15s)",
    ),
    (
        "--request-timeout",
        DEFAULT_REQUEST_TIMEOUT,
        "longest wait for one API answer (default: 10s)",
    ),
    (
        "--not-found-grace",
        DEFAULT_NOT_FOUND_GRACE,
        "how long 'not found' means 'not visible yet' (default: 30s)",
    ),
)


class _Parser(argparse.ArgumentParser):
    """Turns argparse's complaints into one-line :class:`UsageError` s (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def main(
    argv: Sequence[str] | None = None,
    *,
    env: Mapping[str, str] | None = None,
    stdout: TextIO | None = None,
    stderr: TextIO | None = None,
) -> int:
    """Run the gate command; returns its exit code. Callable in-process (tests, the demo)."""
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    out = stdout or sys.stdout
    err = stderr or sys.stderr
    try:
        return _dispatch(args, env, out, err)
    except GateError as error:
        err.write(f"gate: error: {error}\n")
        if env.get("GITHUB_ACTIONS") == "true":
            out.write(workflow_command("error", str(error), title="deploy-gate") + "\n")
        return error.exit_code
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Interrupted as interrupt:
        return 128 + interrupt.signum


def _dispatch(args: list[str], env: Mapping[str, str], out: TextIO, err: TextIO) -> int:
    if args[:1] == ["wait"] and (len(args) == 1 or args[1] in ("-h", "--help")):
        asked = len(args) > 1
        (out if asked else err).write(_wait_usage())
        return 0 if asked else 2
    top = _top_parser()
    parsed = top.parse_args(args)
    if parsed.command == "wait":
        return _wait_command(parsed.provider, parsed.rest, env, out, err)
    if parsed.command == "providers":
        out.write("\n".join(available_providers()) + "\n")
        return 0
    if parsed.command == "demo":
        from gate.demo import run_demo

        return run_demo(out=out, err=err)
    top.print_help(err)
    return 2


def _top_parser() -> _Parser:
    parser = _Parser(
        prog="gate",
        description="Block until a deployment reaches a terminal status; explain a failure.",
    )
    parser.add_argument("--version", action="version", version=f"gate {__version__}")
    commands = parser.add_subparsers(dest="command", parser_class=_Parser)
    waiter = commands.add_parser(
        "wait",
        help="wait on one deployment ('gate wait PROVIDER --help' for its flags)",
        add_help=False,
    )
    waiter.add_argument("provider", nargs="?")
    waiter.add_argument("rest", nargs=argparse.REMAINDER)
    commands.add_parser("providers", help="list the providers 'gate wait' accepts")
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
        err.write(_wait_usage())
        return 2
    plugin = load_plugin(provider_name)
    parsed = _provider_parser(plugin).parse_args(rest)
    options = WaitOptions(
        timeout=parsed.timeout,
        interval=parsed.interval,
        max_interval=parsed.max_interval,
        not_found_grace=parsed.not_found_grace,
    )
    output = parsed.output or ("github" if env.get("GITHUB_ACTIONS") == "true" else "text")
    reporter: Reporter = GitHubReporter(out) if output == "github" else TextReporter(err)
    provider = plugin.build(parsed, env, request_timeout=parsed.request_timeout)
    try:
        with _signals_interrupt():
            outcome = wait(provider, options=options, reporter=reporter)
    finally:
        provider.close()
    if output == "json":
        out.write(outcome_to_json(outcome) + "\n")
        out.flush()
    _write_reports(outcome, parsed, env, github=output == "github")
    return outcome.exit_code


def _write_reports(
    outcome: Outcome, parsed: argparse.Namespace, env: Mapping[str, str], *, github: bool
) -> None:
    """The files asked for: JUnit, the JSON outcome, and GitHub's step outputs and summary."""
    reports: dict[str, str] = {}
    if parsed.junit:
        Path(parsed.junit).write_bytes(junit_xml([outcome]))
        reports["junit-report"] = parsed.junit
    if parsed.json_report:
        Path(parsed.json_report).write_text(outcome_to_json(outcome) + "\n", encoding="utf-8")
        reports["json-report"] = parsed.json_report
    if not github:
        return
    if env.get("GITHUB_OUTPUT"):
        with open(env["GITHUB_OUTPUT"], "a", encoding="utf-8") as outputs:
            outputs.write(format_outputs(step_outputs(outcome, reports)))
    if env.get("GITHUB_STEP_SUMMARY"):
        with open(env["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
            summary.write(summary_markdown(outcome))


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


def _provider_parser(plugin: ProviderPlugin) -> _Parser:
    parser = _Parser(prog=f"gate wait {plugin.name}", description=plugin.summary)
    plugin.add_arguments(parser)
    timing = parser.add_argument_group("waiting")
    for flag, default, meaning in _DURATION_FLAGS:
        timing.add_argument(flag, type=_duration_of(flag), default=default, help=meaning)
    reports = parser.add_argument_group("reporting")
    reports.add_argument(
        "--output",
        choices=("text", "json", "github"),
        help="text: progress on stderr; json: also one JSON object on stdout at the end; "
        "github: workflow commands, step outputs and job summary "
        "(default: github under GitHub Actions, else text)",
    )
    reports.add_argument("--junit", metavar="FILE", help="write a JUnit XML report to FILE")
    reports.add_argument("--json-report", metavar="FILE", help="write the JSON outcome to FILE")
    return parser


def _duration_of(flag: str) -> Callable[[str], float]:
    return lambda text: parse_duration(text, flag=flag)


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """While waiting, SIGTERM and SIGHUP end the wait like Ctrl-C does (CI runners send them)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    caught = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {signum: signal.signal(signum, interrupt) for signum in caught}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
