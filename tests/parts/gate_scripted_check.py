"""A third-party bake check whose reads follow a script, installed by the tests as a
distribution of its own (entry point ``scripted`` in the ``gate.checks`` group), as
tests/parts/gate_health_file.py is: what a check may say, read by read, through the real
command. Its n-th read answers the n-th line of its file (the last line thereafter):

- ``healthy``
- ``breach WORDS``: a breach in those words
- ``unreadable WORDS``: a transient fault (the round could not read it)
- ``inconclusive WORDS``: read, but no verdict either way

Each read appends its line to ``PATH.reads``, so a test counts the reads made."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from pathlib import Path

from gate.bake.check import Breach, Reading
from gate.core.description import Field, TargetValues
from gate.core.errors import TransientError


class ScriptedCheck:
    kind = "scripted"

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self.script = self.path.read_text().splitlines()
        self.reads = 0

    def describe(self) -> str:
        return f"scripted check {self.path.name}"

    def prepare(self) -> None:
        pass

    def read(self, since: datetime, now: datetime) -> Reading:
        self.reads += 1
        line = self.script[min(self.reads, len(self.script)) - 1]
        with open(f"{self.path}.reads", "a") as reads:
            reads.write(line + "\n")
        word, _, words = line.partition(" ")
        if word == "breach":
            return Reading("scripted breached", (Breach(f"scripted {self.path.name}", words),))
        if word == "unreadable":
            raise TransientError(words)
        if word == "inconclusive":
            return Reading("scripted inconclusive", inconclusive=words)
        return Reading("scripted healthy")

    def close(self) -> None:
        pass


class ScriptedChecks:
    name = "scripted"
    enabled_by = "scripted_check"
    fields = (
        Field(
            "scripted_check",
            "a file whose n-th line is what the check's n-th read says",
            kind="list",
            metavar="PATH",
        ),
    )
    rules = ()

    def build(
        self, values: TargetValues, env: Mapping[str, str], *, request_timeout: float
    ) -> list[ScriptedCheck]:
        return [ScriptedCheck(path) for path in values.texts("scripted_check")]


plugin = ScriptedChecks()
