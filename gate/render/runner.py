"""Text for a GitHub Actions log that no runner can read as a command.

The runner parses every line of a step's output: ``::command::`` at the start of a line
(after leading whitespace), and the legacy ``##[command]`` anywhere in a line. The gate's own
commands are written by the GitHub reporter; everything else that reaches the log under
Actions (progress on stderr in any output mode, JSON on stdout) echoes API words, and passes
through here so it can form none.
"""

from __future__ import annotations

import io
import json
from typing import Any, TextIO

__all__ = ["CommandFreeStream", "command_free_json", "command_free_line"]

LEGACY = "##["


def command_free_line(line: str) -> str:
    """``line`` as it reads, but no command: ``##[`` becomes ``# #[``, and a line that starts
    with ``::`` starts with ``: :``."""
    line = line.replace(LEGACY, "# #[")
    body = line.lstrip()
    if body.startswith("::"):
        indent = line[: len(line) - len(body)]
        return f"{indent}: {body[1:]}"
    return line


def command_free_json(document: Any) -> str:
    """``document`` as one line of ASCII JSON that decodes to the same value: ``#`` in
    ``##[`` is written as the escape ``\\u0023``. (A line of JSON starts with ``{``, so it
    cannot start with ``::``.)"""
    return json.dumps(document, ensure_ascii=True).replace(LEGACY, "#\\u0023[")


class CommandFreeStream(io.TextIOBase):
    """A text stream that writes each line through :func:`command_free_line`."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self._stream = stream
        self._partial = ""

    @property
    def wrapped(self) -> TextIO:
        return self._stream

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        lines = (self._partial + text).split("\n")
        self._partial = lines.pop()
        for line in lines:
            self._stream.write(command_free_line(line) + "\n")
        return len(text)

    def flush(self) -> None:
        """Writes a line still without its end too: the gate writes whole lines, and a line
        held back could be lost at exit."""
        if self._partial:
            self._stream.write(command_free_line(self._partial))
            self._partial = ""
        self._stream.flush()
