"""What the command line's commands share: the parser, the waiting, fleet and report flags,
writing the report files, and how signals and broken streams are handled.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from types import FrameType
from typing import NoReturn, TextIO

from gate.cli.files import require_writable, write_atomically
from gate.core.description import cli_flag
from gate.core.errors import Interrupted, UsageError
from gate.render.runner import CommandFreeStream
from gate.waiting.engine import (
    WaitOptions,
)
from gate.waiting.options import MAX_RATE

__all__ = [
    "Parser",
    "Reports",
    "add_fleet_flags",
    "add_report_flags",
    "check_report_paths",
    "say",
    "settle",
    "signals_deferred",
    "signals_interrupt",
    "usable",
    "wait_options_of",
    "write_reports",
]


class Parser(argparse.ArgumentParser):
    """Turns argparse's complaints into one-line :class:`UsageError` s (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def wait_options_of(flags: argparse.Namespace) -> WaitOptions:
    """The waiting flags' options (each checked by its field as it was read)."""
    return WaitOptions(
        timeout=flags.timeout,
        interval=flags.interval,
        max_interval=flags.max_interval,
        not_found_grace=flags.not_found_grace,
    )


def check_report_paths(parsed: argparse.Namespace, env: Mapping[str, str], *, github: bool) -> None:
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


def write_reports(
    reports: Reports,
    parsed: argparse.Namespace,
    env: Mapping[str, str],
    *,
    github: bool,
    err: TextIO,
) -> None:
    """The files asked for: JUnit, the JSON outcome, and GitHub's step outputs and summary.
    A file that cannot be written is said on stderr; it does not change the exit code."""
    from gate.render.github import format_outputs

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
            say(
                err,
                f"gate: warning: {what} {path!r} was not written: {failed.strerror or failed}\n",
            )


def add_fleet_flags(parser: argparse.ArgumentParser, when: str) -> None:
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
        cli_flag(MAX_RATE.key),
        dest=MAX_RATE.key,
        type=MAX_RATE.number,
        default=MAX_RATE.default,
        metavar=MAX_RATE.metavar,
        help=f"{MAX_RATE.doc} (default: {MAX_RATE.default:g})",
    )


def add_report_flags(parser: argparse.ArgumentParser) -> None:
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


def usable(given: TextIO | None, standard: TextIO | None) -> TextIO:
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


def say(stream: TextIO, text: str, *, err: TextIO | None = None, what: str = "") -> None:
    """Write and flush; a stream that fails (a reader gone, a full disk) is given up on."""
    try:
        stream.write(text)
        stream.flush()
    except (OSError, ValueError) as failed:
        if err is not None and what:
            reason = getattr(failed, "strerror", None) or type(failed).__name__
            say(err, f"gate: warning: {what} could not be written to stdout: {reason}\n")


def settle(*streams: TextIO) -> None:
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
def signals_interrupt() -> Iterator[None]:
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
def signals_deferred() -> Iterator[None]:
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
