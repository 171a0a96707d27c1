"""Detection lag and API calls: real deployments of 5 s, 30 s and 120 s on the emulator, and
a virtual-time replay of 1,000 deployments whose durations have a long tail."""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bench import optimum, pollers
from gate import WaitOptions, wait
from gate.core.model import Snapshot, State
from gate.emulator import Emulator, Timeline
from gate.waiting.engine import Timing
from gate.waiting.schedule import DEFAULT_INTERVAL

POLLERS = ("fixed 2 s loop", "botocore waiter (15 s)", "gate, no history", "gate, with history")
OPTIMA = {
    "gate, with history": "optimum knowing the environment's law, the gate's calls",
    "gate, no history": "optimum knowing the replay's law, the gate's calls",
}
"""Replay only: for each gate, the best schedule (:mod:`bench.optimum`) for its calls, with
no gap under the gate's ``--interval`` (2 s), as the gate's own."""
LONG_POLL = "gate, humanitec-v2 long-poll"
"""Real time only: the server holds each read, so there is no schedule to replay."""


@dataclass(frozen=True)
class Sample:
    poller: str
    duration: float
    lag: float
    calls: int
    environment: int = -1


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(fraction * len(ordered)) - 1)]


def real_time(durations: Sequence[float], repeats: int) -> list[Sample]:
    """Every poller on its own deployment, all at once, in real time."""
    samples: list[Sample] = []
    lock = threading.Lock()
    rng = random.Random(5)
    with Emulator(token="bench-token-0123456789") as emulator:
        threads = []
        for duration in durations:
            env = f"env-{int(duration)}"
            history = [duration * math.exp(rng.gauss(0, 0.1)) for _ in range(10)]
            ago = sum(history) + 10 * len(history)
            for took in history:
                emulator.add_humanitec(
                    "bench",
                    "app",
                    env,
                    Timeline([(0, "in progress"), (took, "succeeded")]),
                    started_ago=ago,
                )
                ago -= took + 10
            for _ in range(repeats):
                for poller in (*POLLERS, LONG_POLL):
                    threads.append(
                        threading.Thread(
                            target=_one, args=(emulator, poller, duration, env, samples, lock)
                        )
                    )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return samples


def _one(
    emulator: Emulator,
    poller: str,
    duration: float,
    env: str,
    samples: list[Sample],
    lock: threading.Lock,
) -> None:
    if poller == LONG_POLL:
        with lock:
            deployment_id = emulator.add_humanitec_v2(
                "bench", Timeline([(0, "in progress"), (duration, "succeeded")])
            )
        ended = emulator.clock() + duration
        pollers.gate_humanitec_v2(emulator.url, emulator.token, deployment_id)
        marker = f"/deployments/{deployment_id}"
    elif poller == "gate, with history":
        with lock:
            deploy_id = emulator.add_humanitec(
                "bench", "app", env, Timeline([(0, "in progress"), (duration, "succeeded")])
            )
        ended = emulator.clock() + duration
        pollers.gate_humanitec(emulator.url, emulator.token, env, deploy_id)
        marker = f"/deploys/{deploy_id}"
    else:
        group_id, deployment_id = emulator.add_greengrass(
            Timeline([(0, "Building"), (1, "InProgress"), (duration, "Success")])
        )
        ended = emulator.clock() + duration
        run: Callable[[str, str, str], None] = {
            "fixed 2 s loop": pollers.fixed_loop,
            "botocore waiter (15 s)": pollers.botocore_waiter,
            "gate, no history": pollers.gate_greengrass,
        }[poller]
        run(emulator.url, group_id, deployment_id)
        marker = f"/deployments/{deployment_id}/"
    lag = time.monotonic() - ended
    calls = sum(marker in path for path in list(emulator.requests))
    calls += poller == "gate, with history"  # its one read of the deployment list
    with lock:
        samples.append(Sample(poller, duration, lag, calls))


class _VirtualClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class _Replayed:
    """A deployment of known duration, read in virtual time by the real wait engine."""

    name = "replay"

    def __init__(self, clock: _VirtualClock, duration: float, history: Sequence[float] | None):
        self.clock, self.duration, self.history = clock, duration, history
        self.reads = 0

    @property
    def target(self) -> Mapping[str, str]:
        return {}

    def describe(self) -> str:
        return "replayed deployment"

    def fetch(self) -> Snapshot:
        self.reads += 1
        done = self.clock() >= self.duration
        return Snapshot(State.SUCCEEDED if done else State.RUNNING, "done" if done else "running")

    def close(self) -> None:
        pass


class _ReplayedWithHistory(_Replayed):
    def past_durations(self) -> Sequence[float]:
        assert self.history is not None
        return self.history


SPREAD = 0.2
"""Log-space spread of an environment's deployments around its typical duration."""
OUTLIERS = (0.05, 1.5, 3.0)
"""One in twenty deployments is 1.5 to 3 times longer."""
LONGEST = 3600.0


def duration_cdf(typical: float, t: float) -> float:
    """The law ``long_tailed_replay`` draws an environment's durations from, at ``t``."""
    if t >= LONGEST:
        return 1.0
    if t <= 0:
        return 0.0

    def within(scale: float) -> float:
        return 0.5 * math.erfc(-math.log(t / scale) / (SPREAD * math.sqrt(2)))

    share, low, high = OUTLIERS
    factors = [low + (high - low) * (k + 0.5) / 24 for k in range(24)]
    longer = statistics.fmean(within(typical * factor) for factor in factors)
    return (1 - share) * within(typical) + share * longer


def long_tailed_replay(count: int = 1000, seed: int = 7, grid: int = 3000) -> list[Sample]:
    """Environments whose typical deployment takes 2 to 40 minutes (log-uniform), each
    deployment within ~20% of that, one in twenty 1.5 to 3 times longer, capped at an hour.
    Beside the pollers, the optimum for each gate's calls (see :data:`OPTIMA`), its laws on
    ``grid`` points (a coarser grid computes sooner, and the optimum less closely)."""
    rng = random.Random(seed)
    environments = [math.exp(rng.uniform(math.log(120), math.log(2400))) for _ in range(40)]

    def draw(typical: float) -> float:
        took = typical * math.exp(rng.gauss(0, SPREAD))
        if rng.random() < OUTLIERS[0]:
            took *= rng.uniform(*OUTLIERS[1:])
        return min(took, LONGEST)

    history = {
        index: [draw(typical) for _ in range(10)] for index, typical in enumerate(environments)
    }
    samples: list[Sample] = []
    options = WaitOptions(timeout=2 * 3600)
    for _ in range(count):
        index = rng.randrange(len(environments))
        duration = draw(environments[index])
        for every, name in ((2.0, "fixed 2 s loop"), (15.0, "botocore waiter (15 s)")):
            reads = math.ceil(duration / every)
            samples.append(Sample(name, duration, reads * every - duration, reads + 1, index))
        for name, kind in (
            ("gate, no history", _Replayed),
            ("gate, with history", _ReplayedWithHistory),
        ):
            clock = _VirtualClock()
            provider = kind(clock, duration, history[index])
            wait(provider, options, timing=Timing(clock=clock, sleep=clock.sleep))
            calls = provider.reads + (kind is _ReplayedWithHistory)
            samples.append(Sample(name, duration, clock() - duration, calls, index))
        history[index] = [duration, *history[index][:9]]
    return samples + optima(samples, environments, grid)


def optima(
    samples: Sequence[Sample], environments: Sequence[float], grid: int = 3000
) -> list[Sample]:
    """The optimum for each gate's mean calls: knowing each environment's law (what history
    estimates), and knowing only the law of the whole replay (what a prior could)."""
    laws = [
        optimum.Law.on_grid(
            lambda t, typical=typical: duration_cdf(typical, t),
            typical * math.exp(-6 * SPREAD),
            min(LONGEST, OUTLIERS[2] * typical * math.exp(6 * SPREAD)),
            grid,
        )
        for typical in environments
    ]
    pooled = optimum.Law.on_grid(
        lambda t: statistics.fmean(duration_cdf(typical, t) for typical in environments),
        1.0,
        LONGEST,
        grid * 4 // 3,
    )
    found: list[Sample] = []
    for gate, name in OPTIMA.items():
        mine = [s for s in samples if s.poller == gate]
        if not mine:
            continue
        calls = statistics.fmean(s.calls for s in mine)
        if gate == "gate, with history":
            cases = [(s.environment, s.duration) for s in mine]
            results, _ = optimum.matched(laws, cases, calls, DEFAULT_INTERVAL)
        else:
            every = [(0, s.duration) for s in mine]
            results, _ = optimum.matched([pooled], every, calls, DEFAULT_INTERVAL)
        found += [
            Sample(name, s.duration, lag, reads, s.environment)
            for s, (lag, reads) in zip(mine, results, strict=True)
        ]
    return found


def summarize(samples: Sequence[Sample]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for poller in (*POLLERS, LONG_POLL, *OPTIMA.values()):
        mine = [s for s in samples if s.poller == poller]
        if not mine:
            continue
        table[poller] = {
            "lag_p50": percentile([s.lag for s in mine], 0.5),
            "lag_p95": percentile([s.lag for s in mine], 0.95),
            "lag_mean": statistics.fmean(s.lag for s in mine),
            "calls": statistics.fmean(s.calls for s in mine),
        }
    return table
