"""The ``gate`` command: parse, build a provider, call the engine, render the outcome.

Exit codes (a contract, see README): 0 succeeded, 1 failed, 2 usage or configuration error,
3 deadline passed, 4 status could not be read, 128+N interrupted by signal N.
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from datetime import datetime, timezone
from types import FrameType
from typing import NoReturn, TextIO, cast

from gate import __version__
from gate.cli_flags import add_target_flags, given_of, repeated_flag
from gate.durations import parse_duration
from gate.engine import (
    DEFAULT_NOT_FOUND_GRACE,
    DEFAULT_REQUEST_TIMEOUT,
    DEFAULT_TIMEOUT,
    WaitOptions,
    wait,
)
from gate.errors import GateError, Interrupted, UsageError
from gate.files import require_writable, write_atomically
from gate.model import Outcome, OutcomeStatus
from gate.providers import ProviderPlugin
from gate.registry import available_providers, load_plugin
from gate.render.github import GitHubReporter, format_outputs, step_outputs, workflow_command
from gate.render.json import outcome_to_json
from gate.render.junit import junit_xml
from gate.render.runner import CommandFreeStream
from gate.render.summary import summary_markdown
from gate.render.text import TextReporter
from gate.reporter import Reporter
from gate.schedule import DEFAULT_INTERVAL
from gate.sharing import DEFAULT_MAX_RATE
from gate.timestamps import iso_utc

__all__ = ["main"]

MAX_RATE = 1000.0
DURATION_FLAGS = (
    ("--timeout", DEFAULT_TIMEOUT, "overall deadline, such as 90, 90s, 15m, 1h (default: 30m)"),
    (
        "--interval",
        DEFAULT_INTERVAL,
        "first gap between reads; later gaps follow the "
        "deployment's history or grow with the time waited (default: 2s)",
    ),
    (
        "--max-interval",
        None,
        "longest gap between reads (default: 15s, and up to 1m while the deployment's "
        "history says it is far from done; when given, never longer)",
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
    stdin: TextIO | None = None,
) -> int:
    """Run the gate command; returns its exit code. Callable in-process (tests, the demo).

    Whatever happens to its streams (closed, a full disk, a reader that went away), it ends
    with the outcome's exit code, never a traceback.
    """
    args = list(sys.argv[1:] if argv is None else argv)
    env = os.environ if env is None else env
    out = _usable(stdout, sys.stdout)
    err = _usable(stderr, sys.stderr)
    if env.get("GITHUB_ACTIONS") == "true":  # the runner reads stderr too, in any output mode
        err = cast(TextIO, CommandFreeStream(err))  # a TextIOBase: typing's TextIO is nominal
    try:
        with _signals_interrupt():
            try:
                return _dispatch(args, env, out, err, stdin or sys.stdin)
            except GateError as error:
                _say(err, f"gate: error: {error}\n")
                if env.get("GITHUB_ACTIONS") == "true":
                    _say(out, workflow_command("error", str(error), title="deploy-gate") + "\n")
                return error.exit_code
    except KeyboardInterrupt:
        return 128 + signal.SIGINT
    except Interrupted as interrupt:
        return 128 + interrupt.signum
    finally:
        _settle(out, err)


def _dispatch(
    args: list[str], env: Mapping[str, str], out: TextIO, err: TextIO, stdin: TextIO
) -> int:
    if args[:1] == ["wait"] and (len(args) == 1 or args[1] in ("-h", "--help")):
        asked = len(args) > 1
        _say(out if asked else err, _wait_usage())
        return 0 if asked else 2
    if args[:1] == ["wait-all"]:  # its own parser, --help included
        from gate.cli_fleet import wait_all_command

        return wait_all_command(args[1:], env, out, err, stdin)
    top = _top_parser()
    parsed = top.parse_args(args)
    if parsed.command == "wait":
        return _wait_command(parsed.provider, parsed.rest, env, out, err)
    if parsed.command == "providers":
        _say(out, "\n".join(available_providers()) + "\n")
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
    commands.add_parser(  # listed for --help; _dispatch hands its arguments on whole
        "wait-all", help="wait on many deployments at once ('gate wait-all --help')"
    )
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
        _say(err, _wait_usage())
        return 2
    plugin = load_plugin(provider_name)
    parser = _provider_parser(plugin)
    parsed = parser.parse_args(rest)
    given = given_of(parsed, plugin.description)
    repeated = repeated_flag(plugin.description, rest)
    if repeated is not None:
        from gate.cli_fleet import TargetSpec, run_fleet

        dest, values = repeated
        flag = "--" + dest.replace("_", "-")
        specs = [
            TargetSpec(value, plugin, parsed, f"{flag} {value}", {**given, dest: value})
            for value in values
        ]
        return run_fleet(specs, parsed, env, out, err)
    options = wait_options_of(parsed)
    output = parsed.output or ("github" if env.get("GITHUB_ACTIONS") == "true" else "text")
    github = output == "github"
    _check_report_paths(parsed, env, github=github)
    reporter: Reporter = GitHubReporter(out) if github else TextReporter(err)
    began = time.monotonic(), datetime.now(timezone.utc)
    try:
        target = plugin.description.read(given, env=env)
        provider = plugin.build(target, env, request_timeout=parsed.request_timeout)
    except (Interrupted, KeyboardInterrupt) as interrupt:
        signum = interrupt.signum if isinstance(interrupt, Interrupted) else signal.SIGINT
        outcome = _cancelled_before_waiting(plugin.name, signum, *began)
        _say(err, f"gate: {outcome.reason}\n")
    else:
        try:
            outcome = wait(provider, options=options, reporter=reporter)
        finally:
            provider.close()
    with _signals_deferred():
        if output == "json":
            _say(out, outcome_to_json(outcome) + "\n", err=err, what="the JSON outcome")
        _write_reports(_reports_of(outcome), parsed, env, github=github, err=err)
    return outcome.exit_code


def wait_options_of(flags: argparse.Namespace) -> WaitOptions:
    """The waiting flags' options; a request timeout that cannot work is a usage error."""
    if flags.request_timeout <= 0:
        raise UsageError("--request-timeout must be more than 0")
    return WaitOptions(
        timeout=flags.timeout,
        interval=flags.interval,
        max_interval=flags.max_interval,
        not_found_grace=flags.not_found_grace,
    )


def _check_report_paths(
    parsed: argparse.Namespace, env: Mapping[str, str], *, github: bool
) -> None:
    """Every report file can be written: checked before waiting, not after the deployment."""
    if parsed.junit:
        require_writable("--junit", parsed.junit)
    if parsed.json_report:
        require_writable("--json-report", parsed.json_report)
    if github:
        for name in ("GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"):
            if env.get(name):
                require_writable(name, env[name])


@dataclass(frozen=True)
class Reports:
    """How an ending is written to each report file: one gate's outcome, or many."""

    junit: Callable[[], str]
    json: Callable[[], str]
    outputs: Callable[[Mapping[str, str]], Mapping[str, str]]
    summary: Callable[[], str]


def _reports_of(outcome: Outcome) -> Reports:
    return Reports(
        junit=lambda: junit_xml([outcome]).decode(),
        json=lambda: outcome_to_json(outcome),
        outputs=lambda reports: step_outputs(outcome, reports),
        summary=lambda: summary_markdown(outcome),
    )


def _write_reports(
    reports: Reports,
    parsed: argparse.Namespace,
    env: Mapping[str, str],
    *,
    github: bool,
    err: TextIO,
) -> None:
    """The files asked for: JUnit, the JSON outcome, and GitHub's step outputs and summary.
    A file that cannot be written is said on stderr; it does not change the exit code."""
    paths: dict[str, str] = {}
    writes: list[tuple[str, str, Callable[[], str], bool]] = []
    if parsed.junit:
        paths["junit-report"] = parsed.junit
        writes.append(("--junit", parsed.junit, reports.junit, False))
    if parsed.json_report:
        paths["json-report"] = parsed.json_report
        writes.append(("--json-report", parsed.json_report, lambda: reports.json() + "\n", False))
    if github and env.get("GITHUB_OUTPUT"):
        writes.append(
            (
                "GITHUB_OUTPUT",
                env["GITHUB_OUTPUT"],
                lambda: format_outputs(reports.outputs(paths)),
                True,
            )
        )
    if github and env.get("GITHUB_STEP_SUMMARY"):
        writes.append(("GITHUB_STEP_SUMMARY", env["GITHUB_STEP_SUMMARY"], reports.summary, True))
    for what, path, render, append in writes:
        try:
            write_atomically(path, render(), append=append)
        except OSError as failed:
            _say(
                err,
                f"gate: warning: {what} {path!r} was not written: {failed.strerror or failed}\n",
            )


def _cancelled_before_waiting(
    provider: str, signum: int, began: float, began_at: datetime
) -> Outcome:
    return Outcome(
        status=OutcomeStatus.CANCELLED,
        provider=provider,
        target={},
        raw_status=None,
        errors=(),
        reason=f"interrupted by signal {signum} before the wait started",
        elapsed_seconds=round(time.monotonic() - began, 3),
        polls=0,
        started_at=iso_utc(began_at),
        finished_at=iso_utc(datetime.now(timezone.utc)),
        signal=signum,
    )


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
    add_target_flags(parser, plugin.description)
    _add_waiting_flags(parser)
    _add_fleet_flags(parser, "with one id repeated (--env a --env b)")
    _add_report_flags(parser)
    return parser


def _add_waiting_flags(parser: argparse.ArgumentParser) -> None:
    timing = parser.add_argument_group("waiting")
    for flag, default, meaning in DURATION_FLAGS:
        timing.add_argument(flag, type=_duration_of(flag), default=default, help=meaning)


def _add_fleet_flags(parser: argparse.ArgumentParser, when: str) -> None:
    fleet = parser.add_argument_group(f"many targets, {when}")
    if "--fail-fast" not in parser._option_string_actions:  # greengrass-v2's means devices
        fleet.add_argument(
            "--fail-fast",
            dest="stop_at_first_failure",
            action="store_true",
            help="stop waiting once one target has not succeeded; the rest end as cancelled "
            "(default: wait for all, so every failure is reported together)",
        )
    fleet.add_argument(
        "--max-rate",
        type=_rate,
        default=DEFAULT_MAX_RATE,
        metavar="N",
        help=f"requests a second to each API, shared by all targets (default: "
        f"{DEFAULT_MAX_RATE:g})",
    )


def _add_report_flags(parser: argparse.ArgumentParser) -> None:
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


def _rate(text: str) -> float:
    try:
        rate = float(text)
    except ValueError:
        rate = math.nan
    if not 0 < rate <= MAX_RATE:
        raise argparse.ArgumentTypeError(f"must be a number above 0 and at most {MAX_RATE:g}")
    return rate


def _duration_of(flag: str) -> Callable[[str], float]:
    return lambda text: parse_duration(text, flag=flag)


def _usable(given: TextIO | None, standard: TextIO | None) -> TextIO:
    """``given``, else the standard stream made unable to fail on an odd character; a stream
    closed before the gate started (``>&-``) becomes the null device."""
    if given is not None:
        return given
    if standard is None:
        return open(os.devnull, "w", encoding="utf-8")
    reconfigure = getattr(standard, "reconfigure", None)
    if reconfigure is not None:
        with suppress(OSError, ValueError):
            reconfigure(errors="backslashreplace")
    return standard


def _say(stream: TextIO, text: str, *, err: TextIO | None = None, what: str = "") -> None:
    """Write and flush; a stream that fails (a reader gone, a full disk) is given up on."""
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError) as failed:
        if err is not None and what:
            reason = getattr(failed, "strerror", None) or type(failed).__name__
            _say(err, f"gate: warning: {what} could not be written to stdout: {reason}\n")


def _settle(*streams: TextIO) -> None:
    """Flush once more, and point a standard stream that cannot take it at the null device,
    so the interpreter's own flush at exit cannot fail and change the exit code to 120."""
    for stream in streams:
        standard = stream.wrapped if isinstance(stream, CommandFreeStream) else stream
        try:
            stream.flush()
        except (OSError, ValueError):
            if standard in (sys.stdout, sys.stderr):
                with suppress(OSError, ValueError):
                    os.dup2(os.open(os.devnull, os.O_WRONLY), standard.fileno())


_CAUGHT = (signal.SIGTERM, *((signal.SIGHUP,) if hasattr(signal, "SIGHUP") else ()))


@contextmanager
def _signals_interrupt() -> Iterator[None]:
    """SIGTERM and SIGHUP end what is under way like Ctrl-C does (CI runners send them).
    Installed first thing, so a signal during a slow start (imports, AWS credential lookup)
    is an orderly ending too."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {signum: signal.signal(signum, interrupt) for signum in _CAUGHT}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


@contextmanager
def _signals_deferred() -> Iterator[None]:
    """While the outcome is written out, further signals are ignored, so no report is left
    half done; the gate exits right after with the outcome's code (the files say what it was)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught = (signal.SIGINT, *_CAUGHT)
    previous = {signum: signal.signal(signum, signal.SIG_IGN) for signum in caught}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
