"""What the command line's commands share: the parser, writing the report files, and how
signals and broken streams are handled."""

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
from typing import TYPE_CHECKING, NoReturn, TextIO

from gate.cli.files import require_writable, write_atomically
from gate.core.errors import Interrupted, UsageError
from gate.render.runner import CommandFreeStream

if TYPE_CHECKING:
    from gate.waiting.plan import GatePlan

__all__ = [
    "Parser",
    "Reports",
    "check_report_paths",
    "say",
    "settle",
    "signals_deferred",
    "signals_interrupt",
    "usable",
    "write_reports",
]


class Parser(argparse.ArgumentParser):
    """Turns argparse's complaints into one-line :class:`UsageError` s (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see '{self.prog} --help')")


def check_report_paths(plan: GatePlan, env: Mapping[str, str]) -> None:
    """Every report file can be written: checked before waiting, not after the deployment."""
    if plan.junit:
        require_writable("--junit", plan.junit)
    if plan.json_report:
        require_writable("--json-report", plan.json_report)
    if plan.output == "github":
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


def write_reports(reports: Reports, plan: GatePlan, env: Mapping[str, str], *, err: TextIO) -> None:
    """The files asked for: JUnit, the JSON outcome, and GitHub's step outputs and summary.
    A file that cannot be written is said on stderr; it does not change the exit code."""
    from gate.render.github import format_outputs

    paths: dict[str, str] = {}
    writes: list[tuple[str, str, Callable[[], str], bool]] = []
    github = plan.output == "github"
    if plan.junit:
        paths["junit-report"] = plan.junit
        writes.append(("--junit", plan.junit, reports.junit, False))
    if plan.json_report:
        paths["json-report"] = plan.json_report
        writes.append(("--json-report", plan.json_report, lambda: reports.json() + "\n", False))
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
