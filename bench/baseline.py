"""The comparison's quality: false alarms on healthy releases and detection of regressions,
against the fixed threshold a user would pick from the baseline's p99.

Synthetic series, one sample per bake interval (a 10-minute bake read every 15 s: 40
samples a side): error counts with Poisson noise (20 a step, and 2 a step), latencies with a
long tail (lognormal, 5% of steps three times slower), error counts on a slow trend (+10%
over the baseline and the bake), and error counts with isolated spikes (3% of steps x10).
A healthy release draws the bake from the same law as the baseline; a regression multiplies
the bake's law by x1.5, x2 or x3. Each judge sees the same draws:

* **fixed threshold**: the bake fails when any of its samples is above the p99 of a long
  healthy history (20,000 samples, the threshold a user would read off a dashboard), as an
  alerting rule ``metric > threshold`` does;
* **comparison**: :func:`gate.bake.verdict.judge`, at its defaults (95% confidence, +20%,
  10 samples a side), higher is worse; and at 99% confidence.

A second seed checks the default's aims on fresh draws (healthy and x2 releases), so the
figures are not a property of one seed.

Requests per bake are counted on a loopback server answering as Prometheus does, through the
real bake (:class:`gate.bake.run.Baking`, on a virtual clock): the comparison beside a
``--query`` (the fixed threshold's check) over the same bake.

``python -m bench.baseline`` prints the section of bench/RESULTS.md (seeded: the same
figures each run).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gate.bake.check import Check
from gate.bake.verdict import MinEffect, judge

SAMPLES = 40
"""A side: a 10-minute bake read every 15 s."""
HISTORY = 20_000
"""A week of healthy history at one sample a step, roughly, for the fixed threshold."""
FACTORS = (1.5, 2.0, 3.0)
MIN_EFFECT = MinEffect.parse("+20%")

Law = Callable[[random.Random, float, float], float]
"""A sample at a moment (0 to 1 over the baseline and the bake) times a factor."""


def _poisson(generator: random.Random, mean: float) -> float:
    if mean > 30:  # Knuth's product underflows: the normal approximation is close there
        return max(0.0, round(generator.gauss(mean, math.sqrt(mean))))
    limit, count, product = math.exp(-mean), 0, generator.random()
    while product > limit:
        count += 1
        product *= generator.random()
    return float(count)


def _counts(rate: float) -> Law:
    return lambda generator, moment, factor: _poisson(generator, rate * factor)


def _latency(generator: random.Random, moment: float, factor: float) -> float:
    slow = 3.0 if generator.random() < 0.05 else 1.0
    return 0.2 * factor * slow * generator.lognormvariate(0, 0.25)


def _trend(generator: random.Random, moment: float, factor: float) -> float:
    return _poisson(generator, 20 * (1 + 0.1 * moment) * factor)


def _spikes(generator: random.Random, moment: float, factor: float) -> float:
    spike = 10.0 if generator.random() < 0.03 else 1.0
    return _poisson(generator, 20 * factor * spike)


SERIES: dict[str, Law] = {
    "error counts, Poisson, 20 a step": _counts(20),
    "error counts, Poisson, 2 a step": _counts(2),
    "latency, long tail (lognormal, 5% of steps x3)": _latency,
    "error counts on a slow trend (+10%)": _trend,
    "error counts with isolated spikes (3% x10)": _spikes,
}


@dataclass
class Tally:
    fixed: int = 0
    compared: int = 0
    strict: int = 0


def _threshold(law: Law, generator: random.Random) -> float:
    """The p99 of a week of healthy history, as a user reads it off a dashboard."""
    history = sorted(law(generator, 0.0, 1.0) for _ in range(HISTORY))
    return history[math.ceil(0.99 * HISTORY) - 1]


def _one_release(
    law: Law,
    factor: float,
    threshold: float,
    generator: random.Random,
    confidences: tuple[float, ...] = (0.95, 0.99),
) -> tuple[bool, ...]:
    """Whether the fixed threshold, and the comparison at each confidence, fail one
    release."""
    moments = [index / (2 * SAMPLES) for index in range(2 * SAMPLES)]
    baseline = [law(generator, moment, 1.0) for moment in moments[:SAMPLES]]
    bake = [law(generator, moment, factor) for moment in moments[SAMPLES:]]
    fixed = any(value > threshold for value in bake)
    verdicts = [
        judge(
            baseline,
            bake,
            direction="higher-is-worse",
            min_effect=MIN_EFFECT,
            confidence=confidence,
        )
        for confidence in confidences
    ]
    return (fixed, *(verdict.outcome == "regression" for verdict in verdicts))


def quality(runs: int, seed: int) -> list[tuple[str, float, Tally]]:
    rows = []
    for index, (name, law) in enumerate(SERIES.items()):
        threshold = _threshold(law, random.Random(seed * 1000 + index * 10))
        for factor in (1.0, *FACTORS):
            generator = random.Random(seed * 1000 + index * 10 + int(factor * 2))
            tally = Tally()
            for _ in range(runs):
                fixed, compared, strict = _one_release(law, factor, threshold, generator)
                tally.fixed += fixed
                tally.compared += compared
                tally.strict += strict
            rows.append((name, factor, tally))
    return rows


def aims_on(runs: int, seed: int) -> tuple[float, float]:
    """The default comparison's worst false-alarm rate and worst x2 detection on ``seed``."""
    worst_false, worst_x2 = 0.0, 1.0
    for index, law in enumerate(SERIES.values()):
        for factor in (1.0, 2.0):
            generator = random.Random(seed * 1000 + index * 10 + int(factor * 2))
            failed = sum(
                _one_release(law, factor, math.inf, generator, (0.95,))[1] for _ in range(runs)
            )
            if factor == 1.0:
                worst_false = max(worst_false, failed / runs)
            else:
                worst_x2 = min(worst_x2, failed / runs)
    return worst_false, worst_x2


@contextmanager
def _counting_prometheus() -> Iterator[tuple[str, list[str]]]:
    """A loopback server answering ``/api/v1/query`` and ``/api/v1/query_range`` as
    Prometheus does (one series, a sample a step); the paths it served."""
    served: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path = self.path.split("?")[0]
            served.append(path)
            if path.endswith("/query_range") and "%3E" not in self.path:
                values = [[1_700_000_000 + step, "1"] for step in range(SAMPLES + 1)]
                data: dict[str, Any] = {
                    "resultType": "matrix",
                    "result": [{"metric": {}, "values": values}],
                }
            elif path.endswith("/query_range"):  # the threshold's query: nothing above it
                data = {"resultType": "matrix", "result": []}
            else:
                data = {"resultType": "vector", "result": []}
            body = json.dumps({"status": "success", "data": data}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", served
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def requests_per_bake(duration: float = 600.0, interval: float = 15.0) -> dict[str, int]:
    """Requests one bake of ``duration`` makes, by check, on a virtual clock."""
    from gate.bake.comparison import Comparison
    from gate.bake.prometheus import PrometheusQuery
    from gate.bake.prometheus_series import PrometheusSeries

    counted: dict[str, int] = {}
    with _counting_prometheus() as (url, served):
        checks = {
            "--query (fixed threshold)": lambda: PrometheusQuery(
                url, "errors > 30", request_timeout=5
            ),
            "--compare": lambda: Comparison(
                "errors",
                PrometheusSeries(url, "errors", interval=interval, request_timeout=5),
                bake_seconds=duration,
                direction="higher-is-worse",
                min_effect=MIN_EFFECT,
                confidence=0.95,
                min_samples=10,
            ),
        }
        for name, made in checks.items():
            served.clear()
            _bake_on_a_virtual_clock(made(), duration, interval)
            counted[name] = len(served)
    return counted


def _bake_on_a_virtual_clock(check: Check, duration: float, interval: float) -> None:
    from gate.bake.run import Bake, Baking

    now = [0.0]
    began = datetime(2026, 1, 1, tzinfo=timezone.utc)

    def sleep(seconds: float) -> None:
        now[0] += seconds

    bake = Bake(duration, [check], interval=interval)
    try:
        bake.prepare(until=60.0, clock=lambda: now[0], sleep=sleep)
        Baking(
            bake,
            clock=lambda: now[0],
            sleep=sleep,
            wall_clock=lambda: began + timedelta(seconds=now[0]),
        ).run()
    finally:
        bake.close()


def _rate(count: int, runs: int) -> str:
    return f"{100 * count / runs:.1f}%"


def _aims(worst_false: float, worst_x2: float) -> str:
    return (
        f"false alarms <= 1% ({100 * worst_false:.1f}% at worst: "
        f"{'met' if worst_false <= 0.01 else 'not met'}); detection >= 95% at x2 "
        f"({100 * worst_x2:.1f}% at worst: {'met' if worst_x2 >= 0.95 else 'not met'})"
    )


def section(runs: int, seed: int) -> str:
    started = time.monotonic()
    rows = quality(runs, seed)
    again = seed + 1
    aims_again = aims_on(runs, again)
    requests = requests_per_bake()
    lines = [
        "| series | release | fixed threshold (history's p99) | comparison, 95% (default) "
        "| comparison, 99% |",
        "| --- | --- | --- | --- | --- |",
    ]
    worst_false, worst_x2 = 0.0, 1.0
    for name, factor, tally in rows:
        release = "healthy: false alarms" if factor == 1.0 else f"x{factor:g}: detected"
        lines.append(
            f"| {name} | {release} | {_rate(tally.fixed, runs)} | {_rate(tally.compared, runs)} "
            f"| {_rate(tally.strict, runs)} |"
        )
        if factor == 1.0:
            worst_false = max(worst_false, tally.compared / runs)
        if factor == 2.0:
            worst_x2 = min(worst_x2, tally.compared / runs)
    lines += [
        "",
        f"{runs} releases a row (seed {seed}), {SAMPLES} samples a side; "
        f"{time.monotonic() - started:.0f} s to run.",
        "",
        "| requests in a 10-minute bake read every 15 s | who |",
        "| --- | --- |",
        *(f"| {count} | {name} |" for name, count in requests.items()),
        "",
        f"Aim: {_aims(worst_false, worst_x2)}.",
        "",
        f"Another seed ({again}, {runs} releases a row, the default comparison): "
        f"{_aims(*aims_again)}.",
    ]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.baseline", description=__doc__)
    parser.add_argument("--runs", type=int, default=500, help="releases a row (default 500)")
    parser.add_argument("--seed", type=int, default=31)
    options = parser.parse_args()
    print(section(options.runs, options.seed))


if __name__ == "__main__":
    main()
