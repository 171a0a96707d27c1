"""Report files: checked before the wait starts, written whole or not at all.

A report is written to a temporary file beside it and renamed into place, so a reader (or a
second signal) never sees half of one; an append (GitHub's step outputs and summary) copies
what the file held first. A symbolic link is followed, never replaced: its target is the
file written. A character device (``/dev/null``, a terminal) is written in place; a FIFO, a
socket or a block device is refused before the wait starts. Text that no encoder can write
has been cleaned before it gets here (:func:`gate.core.text.from_api`); ``errors="replace"`` is
the last line of defence.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from gate.core.errors import UsageError

__all__ = ["require_writable", "write_atomically"]


def require_writable(what: str, path: str) -> None:
    """A :class:`UsageError` now, rather than a lost report after the deployment ended."""
    target = Path(os.path.realpath(path))
    folder = target.parent
    if target.is_dir():
        raise UsageError(f"{what} {path!r} is a directory, not a file")
    kind = _special_kind(target)
    if kind == "device":
        if not os.access(target, os.W_OK):
            raise UsageError(f"{what} {path!r} cannot be written (permission denied)")
        return
    if kind:
        raise UsageError(
            f"{what} {path!r} is a {kind}, not a file: reports are written whole to a regular "
            "file (or a character device such as /dev/null)"
        )
    if not folder.is_dir():
        raise UsageError(f"{what} {path!r}: the directory {str(folder)!r} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK) or (
        target.exists() and not os.access(target, os.W_OK)
    ):
        raise UsageError(f"{what} {path!r} cannot be written (permission denied)")


def write_atomically(path: str, text: str, *, append: bool = False) -> None:
    """Put ``text`` in ``path`` (after what it held, with ``append``) in one rename; through
    a symbolic link into its target; into a character device as it is."""
    target = Path(os.path.realpath(path))
    data = text.encode("utf-8", errors="replace")
    kind = _special_kind(target)
    if kind == "device":
        with open(target, "ab" if append else "wb", buffering=0) as device:
            device.write(data)
        return
    if kind:
        raise OSError(f"{path} is a {kind}, not a file")
    if append and target.exists():
        data = target.read_bytes() + data
    descriptor, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(data)
            file.flush()
            os.fsync(file.fileno())
        if target.exists():
            os.chmod(temporary, target.stat().st_mode & 0o777)
        else:
            os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, target)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _special_kind(path: Path) -> str:
    """What ``path`` is when it is not a regular file: ``device`` for a character device,
    else a FIFO, a socket or a block device; empty for a regular file or nothing."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return ""
    if stat.S_ISREG(mode) or stat.S_ISDIR(mode):
        return ""
    if stat.S_ISCHR(mode):
        return "device"
    if stat.S_ISFIFO(mode):
        return "FIFO"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "block device" if stat.S_ISBLK(mode) else "special file"


def _umask() -> int:
    current = os.umask(0)
    os.umask(current)
    return current
