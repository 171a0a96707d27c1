"""Detection lag and API calls: real deployments of 5 s, 30 s and 120 s on the emulator, and
a virtual-time replay of 1,000 deployments whose durations have a long tail."""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bench import optimum, pollers
from gate import WaitOptions, wait
from gate.core.model import Snapshot, State
from gate.emulator import Device, Emulator, Timeline
from gate.waiting.engine import Timing
from gate.waiting.schedule import DEFAULT_INTERVAL

POLLERS = ("fixed 2 s loop", "botocore waiter (15 s)", "gate, no history", "gate, with history")
"""The replay's pollers."""
OPTIMA = {
    "gate, with history": "optimum knowing the environment's law, the gate's calls",
    "gate, no history": "optimum knowing the replay's law, the gate's calls",
}
"""Replay only: for each gate, the best schedule (:mod:`bench.optimum`) for its calls, with
no gap under the gate's ``--interval`` (2 s), as the gate's own."""
PROVIDERS = ("humanitec v1", "humanitec v2", "greengrass v1", "greengrass v2")
REAL_TIME = (
    "fixed 2 s loop",
    "botocore waiter (15 s)",
    *(
        f"gate, {provider}, {known}"
        for provider in PROVIDERS
        for known in ("no history", "with history")
    ),
)
"""Real time: the anchors on Greengrass v1, and the gate on each provider, on a new target
(no history) and on one with :data:`HISTORY` earlier deployments of about the same length.
Humanitec v2 holds each read until the deployment ends: its schedule never runs."""
HISTORY = 10
NEIGHBOURS = 40
"""The replay keeps this many of the organisation's latest deployments to other environments."""


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
    """Every poller on its own deployment and its own target, all at once, in real time."""
    samples: list[Sample] = []
    lock = threading.Lock()
    rng = random.Random(5)
    with Emulator(token="bench-token-0123456789") as emulator:
        threads = []
        for duration in durations:
            for _ in range(repeats):
                for poller in REAL_TIME:
                    past = [duration * math.exp(rng.gauss(0, 0.1)) for _ in range(HISTORY)]
                    known = past if poller.endswith("with history") else []
                    threads.append(
                        threading.Thread(
                            target=_one, args=(emulator, poller, duration, known, samples, lock)
                        )
                    )
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    return samples


def _earlier(past: Sequence[float]) -> list[tuple[float, float]]:
    """Each earlier deployment's length and how long ago it started: one after another,
    10 s apart, the last ended 10 s ago."""
    ago = sum(past) + 10 * len(past)
    starts = []
    for took in past:
        starts.append((took, ago))
        ago -= took + 10
    return starts


def _one(
    emulator: Emulator,
    poller: str,
    duration: float,
    past: Sequence[float],
    samples: list[Sample],
    lock: threading.Lock,
) -> None:
    target = f"bench-{uuid.uuid4().hex[:12]}"
    services = ("greengrassv2", "iot") if "greengrass v2" in poller else ("greengrass",)
    aws = pollers.Counted(emulator.url, *([] if "humanitec" in poller else services))
    with lock:
        run = _deploy(emulator, poller, target, duration, past, aws)
        ended = emulator.clock() + duration
    calls = run()
    lag = time.monotonic() - ended
    with lock:
        samples.append(Sample(poller, duration, lag, calls))


def _deploy(
    emulator: Emulator,
    poller: str,
    target: str,
    duration: float,
    past: Sequence[float],
    aws: pollers.Counted,
) -> Callable[[], int]:
    """Start ``poller``'s deployment of ``duration`` on a new ``target`` with the earlier
    deployments ``past``; what runs the poller (on ``aws``, for Greengrass) and returns its
    calls."""
    url, token = emulator.url, emulator.token
    if "humanitec v1" in poller:
        for took, ago in _earlier(past):
            emulator.add_humanitec(target, "app", "env", _humanitec(took), started_ago=ago)
        deploy_id = emulator.add_humanitec(target, "app", "env", _humanitec(duration))

        def humanitec_v1() -> int:
            pollers.gate_humanitec(url, token, target, "env", deploy_id)
            return _requests_of(emulator, target)

        return humanitec_v1
    if "humanitec v2" in poller:
        for took, ago in _earlier(past):
            emulator.add_humanitec_v2(target, _humanitec(took), started_ago=ago)
        deployment_id = emulator.add_humanitec_v2(target, _humanitec(duration))

        def humanitec_v2() -> int:
            pollers.gate_humanitec_v2(url, token, target, deployment_id)
            return _requests_of(emulator, target)

        return humanitec_v2
    if "greengrass v2" in poller:
        for took, ago in _earlier(past):
            emulator.add_greengrass_v2(_device(took), thing_group=target, started_ago=ago)
        v2_id = emulator.add_greengrass_v2(_device(duration), thing_group=target)
        return lambda: pollers.gate_greengrass_v2(aws, v2_id)
    for took, ago in _earlier(past):
        emulator.add_greengrass(_greengrass(took), group_id=target, started_ago=ago)
    group_id, deployment_id = emulator.add_greengrass(_greengrass(duration), group_id=target)
    waiting: Callable[[pollers.Counted, str, str], int] = {
        "fixed 2 s loop": pollers.fixed_loop,
        "botocore waiter (15 s)": pollers.botocore_waiter,
    }.get(poller, pollers.gate_greengrass)
    return lambda: waiting(aws, group_id, deployment_id)


def _humanitec(took: float) -> Timeline:
    return Timeline([(0, "in progress"), (took, "succeeded")])


def _greengrass(took: float) -> Timeline:
    return Timeline([(0, "Building"), (1, "InProgress"), (took, "Success")])


def _device(took: float) -> list[Device]:
    return [Device("core-1", Timeline([(0, "IN_PROGRESS"), (took, "SUCCEEDED")]))]


def _requests_of(emulator: Emulator, org: str) -> int:
    """The requests made in an organisation (one gate's, here)."""
    return sum(f"/orgs/{org}/" in path for path in list(emulator.requests))


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


@dataclass(frozen=True)
class Drawn:
    """One deployment of the replay, as its gate meets it."""

    environment: int
    duration: float
    history: tuple[float, ...]
    """The environment's :data:`HISTORY` latest durations before it, newest first."""
    others: tuple[float, ...]
    """The durations of the organisation's latest deployments to other environments, newest
    first (what a new target's neighbours did)."""


def replay_draws(count: int = 1000, seed: int = 7) -> tuple[list[float], list[Drawn]]:
    """Environments whose typical deployment takes 2 to 40 minutes (log-uniform), each
    deployment within ~20% of that, one in twenty 1.5 to 3 times longer, capped at an hour:
    the environments' typical durations, and ``count`` deployments in turn."""
    rng = random.Random(seed)
    environments = [math.exp(rng.uniform(math.log(120), math.log(2400))) for _ in range(40)]

    def draw(typical: float) -> float:
        took = typical * math.exp(rng.gauss(0, SPREAD))
        if rng.random() < OUTLIERS[0]:
            took *= rng.uniform(*OUTLIERS[1:])
        return min(took, LONGEST)

    history = {
        index: [draw(typical) for _ in range(HISTORY)] for index, typical in enumerate(environments)
    }
    latest = [(index, past[0]) for index, past in history.items()]  # newest first
    drawn: list[Drawn] = []
    for _ in range(count):
        index = rng.randrange(len(environments))
        duration = draw(environments[index])
        others = tuple(took for other, took in latest if other != index)
        drawn.append(Drawn(index, duration, tuple(history[index]), others[:NEIGHBOURS]))
        history[index] = [duration, *history[index][: HISTORY - 1]]
        latest = [(index, duration), *latest[: NEIGHBOURS * 2]]
    return environments, drawn


def long_tailed_replay(count: int = 1000, seed: int = 7, grid: int = 3000) -> list[Sample]:
    """The pollers on :func:`replay_draws`' deployments. Beside them, the optimum for each
    gate's calls (see :data:`OPTIMA`), its laws on ``grid`` points (a coarser grid computes
    sooner, and the optimum less closely)."""
    environments, drawn = replay_draws(count, seed)
    samples: list[Sample] = []
    options = WaitOptions(timeout=2 * 3600)
    for one in drawn:
        index, duration = one.environment, one.duration
        for every, name in ((2.0, "fixed 2 s loop"), (15.0, "botocore waiter (15 s)")):
            reads = math.ceil(duration / every)
            samples.append(Sample(name, duration, reads * every - duration, reads + 1, index))
        for name, kind in (
            ("gate, no history", _Replayed),
            ("gate, with history", _ReplayedWithHistory),
        ):
            clock = _VirtualClock()
            provider = kind(clock, duration, one.history)
            wait(provider, options, timing=Timing(clock=clock, sleep=clock.sleep))
            calls = provider.reads + (kind is _ReplayedWithHistory)
            samples.append(Sample(name, duration, clock() - duration, calls, index))
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


def figures(results: Sequence[tuple[float, int]]) -> dict[str, float]:
    """Lag p50, p95 and mean, and mean calls, of ``(lag, calls)`` results."""
    lags = [lag for lag, _ in results]
    return {
        "lag_p50": percentile(lags, 0.5),
        "lag_p95": percentile(lags, 0.95),
        "lag_mean": statistics.fmean(lags),
        "calls": statistics.fmean(calls for _, calls in results),
    }


def said(row: Mapping[str, float]) -> str:
    """``lag p50 1.3 s, p95 3.1 s, mean 1.51 s; 84.0 calls``."""
    mean = f", mean {row['lag_mean']:.2f} s" if "lag_mean" in row else ""
    return (
        f"lag p50 {row['lag_p50']:.1f} s, p95 {row['lag_p95']:.1f} s{mean}; "
        f"{row['calls']:.1f} calls"
    )


def summarize(samples: Sequence[Sample]) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    for poller in (*POLLERS, *REAL_TIME[2:], *OPTIMA.values()):
        mine = [(s.lag, s.calls) for s in samples if s.poller == poller]
        if mine:
            table[poller] = figures(mine)
    return table
