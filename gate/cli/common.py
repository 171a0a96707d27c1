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
    "signals_end_once",
    "signals_interrupt",
    "signals_latch",
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
_EVERY = (signal.SIGINT, *_CAUGHT)


def _in_charge() -> bool:
    """Whether this thread may change the process's signal handlers: the main thread only (the
    library and the Pulumi faces run the gate on threads of a host's process)."""
    return threading.current_thread() is threading.main_thread()


@contextmanager
def signals_interrupt(*, until_exit: bool = False) -> Iterator[None]:
    """SIGTERM and SIGHUP end what is under way like Ctrl-C does (CI runners send them).
    Installed first thing, so a signal during a slow start (imports, AWS credential lookup)
    is an orderly ending too.

    At the end, the caller's own handlers are given back; but with ``until_exit`` (the gate is
    the process, which exits as this ends) signals are ignored from then on, as they are once
    the outcome is decided (:func:`signals_latch`): none changes how the process exits."""
    if not _in_charge():
        yield
        return

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise Interrupted(signum)

    previous = {signum: signal.getsignal(signum) for signum in _EVERY}
    for signum in _CAUGHT:
        signal.signal(signum, interrupt)
    try:
        yield
    finally:
        for signum, handler in previous.items():
            if until_exit:
                signal.signal(signum, signal.SIG_IGN)
            elif handler is not None:  # None: not a Python handler, and not ours to give back
                signal.signal(signum, handler)


def signals_latch() -> None:
    """The outcome is decided: from here no signal changes the exit code. Every signal is
    ignored (no report is left half written) but the first under :func:`signals_end_once`,
    which ends only what is under way there. When :func:`signals_interrupt` ends, the caller
    gets its handlers back, or, in the gate's own process, they stay ignored until it exits."""
    if _in_charge():
        for signum in _EVERY:
            signal.signal(signum, signal.SIG_IGN)


@contextmanager
def signals_end_once() -> Iterator[None]:
    """Once the outcome is decided (:func:`signals_latch`): the first signal ends what is under
    way here (:class:`Interrupted` raised), and every signal after it is ignored, so that the
    caller's words on being cut short are said whole, and the gate still exits with the
    outcome's code."""
    if not _in_charge():
        yield
        return

    def end_once(signum: int, frame: FrameType | None) -> None:
        for each in _EVERY:
            signal.signal(each, signal.SIG_IGN)
        raise Interrupted(signum)

    for signum in _EVERY:
        signal.signal(signum, end_once)
    try:
        yield
    finally:
        for signum in _EVERY:
            signal.signal(signum, signal.SIG_IGN)
