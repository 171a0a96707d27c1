"""The cost of telling: one ``gate wait humanitec`` with ``--otel-endpoint`` against the same
command without it (the anchor), on deployments the emulator ends after a few reads.

Each run is the whole command in its own process, start-up included: its wall time, its CPU
seconds (user + system) and its peak RSS, the median of ``runs`` runs of each kind, the kinds
taken in turn so that a busy machine weighs on each alike. The collector either answers 200
(tests/parts/otlp_receiver.py, which decodes what it takes: the spans it received are
counted) or refuses connections, which the gate's close bounds (``CLOSE_BOUND``, 3 s).

``python -m bench.telling`` measures and prints this section alone; ``python -m bench`` has
it among the others.
"""

from __future__ import annotations

import argparse
import itertools
import os
import shutil
import socket
import statistics
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from gate.emulator import Emulator, Timeline

ENDS_AFTER_READS = Timeline([(0, "pending"), (1, "in progress"), (3, "succeeded")])
"""With one second of the timeline a read: succeeded on the fourth read."""
ANCHOR = "without --otel (anchor)"
ANSWERS = "--otel-endpoint, a collector that answers 200"
REFUSES = "--otel-endpoint, a collector that refuses connections"

# A process's peak RSS counts its parent's memory up to its exec, so each gate is started by
# this small launcher rather than by the benchmark process, which holds the servers.
LAUNCHER = """
import os, subprocess, sys, time
began = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
wall = time.perf_counter() - began
print(os.waitstatus_to_exitcode(status), wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)
"""


@dataclass(frozen=True)
class Figures:
    who: str
    runs: int
    wall_seconds: float
    cpu_seconds: float
    peak_rss_mib: float
    spans_received: int | None
    """Spans the collector decoded, over the measured runs; None where none could arrive."""


def closed_port() -> int:
    """A loopback port nothing listens on: a connection to it is refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def launch(command: list[str], env: dict[str, str]) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS in MiB of one command, which must exit 0."""
    launched = subprocess.run(
        [sys.executable, "-c", LAUNCHER, *command],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    code, wall, cpu, peak_kib = launched.stdout.split()
    if code != "0":
        raise RuntimeError(f"{' '.join(command)} exited {code}")
    return float(wall), float(cpu), int(peak_kib) / 1024


def measure(runs: int = 7) -> list[Figures]:
    """The anchor first, then each collector; one warm-up run of each kind is left out."""
    from tests.parts.otlp_receiver import OtlpReceiver  # needs the [otel] extra

    gate = shutil.which("gate", path=str(Path(sys.executable).parent))
    assert gate, "install the package first (see bench/README.md)"
    refused = f"http://127.0.0.1:{closed_port()}"
    with (
        Emulator(token="bench-token-0123456789", seconds_per_read=1.0) as emulator,
        OtlpReceiver() as receiver,
    ):
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/tmp"),
            "HUMANITEC_TOKEN": emulator.token,
            "HUMANITEC_API_URL": emulator.url,
        }
        kinds: dict[str, list[str]] = {
            ANCHOR: [],
            ANSWERS: ["--otel-endpoint", receiver.url],
            REFUSES: ["--otel-endpoint", refused],
        }

        made = itertools.count()

        def one(flags: list[str]) -> tuple[float, float, float]:
            # An environment of its own: no history, so every gate reads on the same schedule.
            environment = f"telling-{next(made)}"
            deploy_id = emulator.add_humanitec("bench", "app", environment, ENDS_AFTER_READS)
            argv = ["--org", "bench", "--app", "app", "--env", environment]
            argv += ["--deploy-id", deploy_id, "--interval", "0.1s", "--max-interval", "0.1s"]
            return launch([gate, "wait", "humanitec", *argv, *flags], env)

        for flags in kinds.values():
            one(flags)
        warm = len(receiver.spans())
        measured: dict[str, list[tuple[float, float, float]]] = {who: [] for who in kinds}
        for _ in range(runs):
            for who, flags in kinds.items():
                measured[who].append(one(flags))
        sent = len(receiver.spans()) - warm
    return [median_of(who, measured[who], sent if who == ANSWERS else None) for who in kinds]


def median_of(who: str, samples: list[tuple[float, float, float]], spans: int | None) -> Figures:
    def median(pick: Callable[[tuple[float, float, float]], float]) -> float:
        return statistics.median(pick(sample) for sample in samples)

    return Figures(
        who,
        len(samples),
        median(lambda s: s[0]),
        median(lambda s: s[1]),
        median(lambda s: s[2]),
        spans,
    )


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.telling", description=__doc__)
    parser.add_argument(
        "--runs", type=int, default=7, help="measured gates of each kind (default 7)"
    )
    args = parser.parse_args()
    from bench.__main__ import render, telling_rows

    print(f"bench: the cost of --otel, {args.runs} gates of each kind...", file=sys.stderr)
    print(render(telling_rows(measure(args.runs))))
    return 0


if __name__ == "__main__":
    sys.exit(main())
