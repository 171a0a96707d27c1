"""``python -m gate ARGS`` without paying for a fresh interpreter each time: a fork server.

Most of a short gate run's CPU is the interpreter starting, importing the gate, httpx and
boto3, and ending (a Humanitec wait that reads once: 0.34 s of CPU started afresh, 0.08 s
forked), and the suite runs the command some four hundred times on two CPUs. So each
pytest-xdist worker starts this file once as a server, in the environment every run starts
from (:func:`tests.support.clean_env`); it imports the gate's command and providers and then
forks a process for each run. That process is a real one: its own pid, the caller's pipes as
its standard streams, the run's environment, directory and ``sys.argv``, and
``gate.__main__`` run as ``python -m`` runs it, so its exit code, its output and an uncaught
exception are what a fresh start gives. Its ending runs the garbage collector, the exit
functions and the flush of the standard streams, but skips tearing down the server's modules
(:func:`_end_without_teardown`).

What a fork cannot give is decided at start: the interpreter's flags, its hash seed, the
locale of its standard streams and time zone, ``sys.path`` beyond the working directory. A
run whose environment changes any of those (``PYTHON*``, ``LANG``, ``LC_*``, ``TZ``) starts a
fresh interpreter instead (:func:`needs_a_fresh_interpreter`), as does every test about
signals, a terminal's standard input or which modules a run imports: those use
``subprocess`` themselves. What the server imported it imported in its own order, so a
module that works only because another imported what it forgot is seen by those fresh
starts (the action's, the signal tests', the Pulumi hosts'), not by forked runs.

The server ends when its worker does (its standard input, the worker's pipe, closes).
"""

from __future__ import annotations

import atexit
import contextlib
import gc
import json
import os
import selectors
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import BinaryIO

__all__ = ["GateForks", "needs_a_fresh_interpreter"]

_STARTUP_KEYS = ("PYTHON", "LANG", "LC_", "TZ")
_HEADER = struct.Struct("!I")


def needs_a_fresh_interpreter(env: dict[str, str], base: dict[str, str]) -> bool:
    """Whether ``env`` differs from ``base`` in a variable that acts when Python starts."""
    keys = {key for key in (*env, *base) if key.startswith(_STARTUP_KEYS)}
    return any(env.get(key) != base.get(key) for key in keys)


class GateForks:
    """A worker's fork server, started on the first run; :meth:`run` is ``subprocess.run``
    of ``python -m gate ARGS`` with ``capture_output=True, text=True``."""

    def __init__(self, base_env: dict[str, str]) -> None:
        self._base_env = base_env
        self._lock = threading.Lock()
        self._server: subprocess.Popen[bytes] | None = None
        self._socket_path = ""

    def run(
        self, args: list[str], env: dict[str, str], timeout: float
    ) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "gate", *args]
        if needs_a_fresh_interpreter(env, self._base_env):
            return subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=timeout, check=False
            )
        deadline = time.monotonic() + timeout
        out_read, out_write = os.pipe()
        err_read, err_write = os.pipe()
        stdin = _standard_input()
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
            connection.settimeout(timeout)
            try:
                try:
                    connection.connect(self._started())
                    request = json.dumps({"argv": args, "env": env, "cwd": os.getcwd()})
                    message = _HEADER.pack(len(request.encode())) + request.encode()
                    socket.send_fds(connection, [message], [stdin, out_write, err_write])
                finally:  # the run holds its own copies now
                    for fd in (out_write, err_write, *(() if stdin == 0 else (stdin,))):
                        os.close(fd)
                with connection.makefile("rb") as answers:
                    pid = self._answer(answers, "pid")
                    stdout, stderr, ended = _read_until_closed((out_read, err_read), deadline)
                    if not ended:
                        with contextlib.suppress(ProcessLookupError):  # it ended meanwhile
                            os.kill(pid, signal.SIGKILL)
                        raise subprocess.TimeoutExpired(command, timeout, stdout, stderr)
                    returncode = self._answer(answers, "returncode")
            finally:
                os.close(out_read)
                os.close(err_read)
        return subprocess.CompletedProcess(command, returncode, _text(stdout), _text(stderr))

    def _started(self) -> str:
        with self._lock:
            if self._server is not None and self._server.poll() is not None:
                raise RuntimeError(f"the gate's fork server has ended; its log: {self._log}")
            if self._server is None:
                directory = tempfile.mkdtemp(prefix="gate-forks-")
                self._socket_path = os.path.join(directory, "socket")
                log = self._log
                with log.open("wb") as log_file:
                    self._server = subprocess.Popen(
                        [sys.executable, __file__, self._socket_path],
                        env=self._base_env,
                        stdin=subprocess.PIPE,
                        stdout=subprocess.PIPE,
                        stderr=log_file,
                    )
                atexit.register(self._stop)
                assert self._server.stdout is not None
                if self._server.stdout.readline() != b"ready\n":
                    raise RuntimeError(
                        "the gate's fork server did not start: "
                        + log.read_text(errors="replace")[-2000:]
                    )
            return self._socket_path

    @property
    def _log(self) -> Path:
        return Path(self._socket_path).with_name("server.log")

    def _answer(self, answers: BinaryIO, name: str) -> int:
        line = answers.readline()
        if not line:
            raise RuntimeError(f"the gate's fork server gave no {name}; its log: {self._log}")
        value = json.loads(line)[name]
        assert isinstance(value, int)
        return value

    def _stop(self) -> None:
        assert self._server is not None
        with self._server:  # closes its standard input: the server ends, and is waited for
            pass
        if not self._log.stat().st_size:  # a log with something in it is kept to be read
            shutil.rmtree(self._log.parent, ignore_errors=True)


def _standard_input() -> int:
    """The caller's standard input, which ``subprocess.run`` hands on when not told otherwise."""
    try:
        os.fstat(0)
    except OSError:
        return os.open(os.devnull, os.O_RDONLY)  # closed: the run's reads end at once
    return 0


def _read_until_closed(fds: tuple[int, int], deadline: float) -> tuple[bytes, bytes, bool]:
    """Both pipes to their end (every writer closed), as ``communicate`` reads them, or what
    came before the deadline; and whether they ended."""
    chunks: dict[int, list[bytes]] = {fd: [] for fd in fds}
    with selectors.DefaultSelector() as selector:
        for fd in fds:
            selector.register(fd, selectors.EVENT_READ)
        while selector.get_map():
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for key, _ in selector.select(left):
                chunk = os.read(key.fd, 65536)
                if chunk:
                    chunks[key.fd].append(chunk)
                else:
                    selector.unregister(key.fd)
        ended = not selector.get_map()
    return b"".join(chunks[fds[0]]), b"".join(chunks[fds[1]]), ended


def _text(data: bytes) -> str:
    """What ``subprocess.run(text=True)`` makes of a stream: the locale's encoding, universal
    newlines."""
    import locale

    decoded = data.decode(locale.getpreferredencoding(False))
    return decoded.replace("\r\n", "\n").replace("\r", "\n")


# The server. Nothing above is imported by it but the standard library.


def _serve(socket_path: str) -> dict[str, object]:
    """Fork a run per connection until the worker goes; returns only in a forked run, with
    that run's request, its streams already in place."""
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(socket_path)
    listener.listen(64)
    assert threading.active_count() == 1, "forking with threads running is unsafe"
    os.write(1, b"ready\n")
    selector = selectors.DefaultSelector()
    selector.register(listener, selectors.EVENT_READ)
    selector.register(0, selectors.EVENT_READ)
    while True:
        readable = {key.fd for key, _ in selector.select(1.0)}
        _reap()
        if 0 in readable and not os.read(0, 1):
            sys.exit(0)  # the worker is gone
        if listener.fileno() not in readable:
            continue
        connection, _ = listener.accept()
        if os.fork() == 0:
            selector.close()
            listener.close()
            return _run_for(connection)
        connection.close()


def _run_for(connection: socket.socket) -> dict[str, object]:
    """In a process of its own: receive the request, fork the run, tell its pid and then how
    it ended. Returns only in the run; this process itself never leaves."""
    ended = 1
    try:
        message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
        if len(fds) != 3:
            raise ConnectionError(f"a request came with {len(fds)} streams, not 3")
        (length,) = _HEADER.unpack_from(message)
        body = message[_HEADER.size :]
        while len(body) < length:
            more = connection.recv(length - len(body))
            if not more:
                raise ConnectionError("the caller left in the middle of its request")
            body += more
        request: dict[str, object] = json.loads(body)
        pid = os.fork()
        if pid == 0:
            connection.close()
            for target, fd in enumerate(fds):
                os.dup2(fd, target)
                os.close(fd)
            return request
        for fd in fds:
            os.close(fd)
        connection.sendall(json.dumps({"pid": pid}).encode() + b"\n")
        _, status = os.waitpid(pid, 0)
        code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(BrokenPipeError):  # a caller past its timeout has gone
            connection.sendall(json.dumps({"returncode": code}).encode() + b"\n")
        ended = 0
    except BaseException:
        import traceback

        traceback.print_exc()  # into the server's log; the caller sees its connection end
    os._exit(ended)


def _reap() -> None:
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return


def _import_the_gate() -> None:
    """What runs import, once: every module of the gate's command and providers, with httpx,
    httpcore and boto3 behind them. Not the Pulumi faces, the emulator, or the tellings,
    which a run imports only when asked (tests/test_telling_cost.py checks that on runs of
    their own)."""
    import importlib
    import pkgutil

    import gate

    left_out = {"gate.pulumi", "gate.emulator", "gate.telling", "gate.__main__"}
    for top in pkgutil.iter_modules(gate.__path__, "gate."):
        if top.name in left_out:
            continue  # walking a package imports it: these are not even walked
        package = importlib.import_module(top.name)
        for module in pkgutil.walk_packages(getattr(package, "__path__", []), f"{top.name}."):
            importlib.import_module(module.name)
    importlib.import_module("gate.telling.options")
    importlib.import_module("boto3")  # the AWS providers import it when they build a client


_exit_code: int | None = None
"""How the run ended, once it has: what ``python -m`` makes of its end."""


def _end_without_teardown() -> None:
    """A run's last exit function (the first registered): Python has joined the run's threads
    and called its other exit functions; what is left of its ending is flushing the standard
    streams and tearing down every module the server imported, which changes nothing a caller
    sees and costs 0.05 s of CPU a run (a generator left suspended is not finalized). A run
    that ended on Ctrl-C, or whose streams cannot be flushed, ends as Python ends it (by the
    signal; exit 120)."""
    if _exit_code is None:
        return
    gc.collect()  # what the run left in cycles is finalized, as at any interpreter's end
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        return
    os._exit(_exit_code)


if __name__ == "__main__":
    import runpy

    atexit.register(_end_without_teardown)
    sys.path[0] = os.getcwd()  # entry points are read as a run from the worker's directory would
    _import_the_gate()
    # Out of the collector's sight: a run's collections, and its exit, would otherwise walk
    # (and so copy) every object imported here, about 0.1 s of CPU a run.
    gc.freeze()
    run = _serve(sys.argv[1])
    cwd = str(run["cwd"])
    os.chdir(cwd)
    env = run["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update(env)
    argv = run["argv"]
    assert isinstance(argv, list)
    sys.argv = ["-m", *argv]
    sys.path[0] = cwd  # python -m puts the working directory first, not this file's
    try:
        runpy.run_module("gate", run_name="__main__", alter_sys=True)
        _exit_code = 0
    except SystemExit as ended:
        # as Python does: None is 0, an int is itself, anything else is printed and is 1
        _exit_code = 0 if ended.code is None else ended.code if isinstance(ended.code, int) else 1
        raise
    except KeyboardInterrupt:
        raise
    except BaseException:
        _exit_code = 1  # Python prints the traceback
        raise
