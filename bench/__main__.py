"""``python -m bench``: every measurement, one table, written to bench/RESULTS.md.

Each figure stands beside an anchor measured in the same run, and ratios are to that anchor.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys
import time
from pathlib import Path

from bench import alarms, bounds, cost, fleet, lag, startup, telling

RESULTS = Path(__file__).with_name("RESULTS.md")
Row = tuple[str, str, str, str]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help="real-time deployments of each length per poller (default 3)",
    )
    parser.add_argument(
        "--replay",
        type=int,
        default=1000,
        help="deployments in the virtual-time replay (default 1000)",
    )
    parser.add_argument(
        "--seed",
        type=int,
        default=7,
        help="the replay's seed (default 7; another checks the schedule is not tuned to it)",
    )
    parser.add_argument(
        "--fleet",
        type=int,
        default=1000,
        help="deployments in the one-process fleet (default 1000)",
    )
    parser.add_argument(
        "--separate",
        type=int,
        default=20,
        help="separate gate processes in the fleet's anchor (default 20)",
    )
    parser.add_argument(
        "--telling",
        type=int,
        default=7,
        help="gates of each kind in the cost of --otel (default 7)",
    )
    parser.add_argument("--no-write", action="store_true", help="print only")
    parser.add_argument(
        "--replay-only",
        action="store_true",
        help="print only the virtual-time replay's rows and the aims (about 3 minutes)",
    )
    parser.add_argument(
        "--real-time-only",
        action="store_true",
        help="print only the real-time 5 s, 30 s and 120 s rows (about 2.5 minutes)",
    )
    args = parser.parse_args()
    began = time.monotonic()
    if args.real_time_only:
        print(render(real_time_rows(args.repeats)))
        return 0
    if args.replay_only:
        replay = lag.summarize(lag.long_tailed_replay(args.replay, args.seed))
        section = f"{args.replay} long-tailed deployments, virtual time"
        print(render(lag_rows(section, replay)) + "\n\n" + verdict(replay))
        return 0

    print("bench: detection lag, real time (5 s, 30 s, 120 s deployments)...", file=sys.stderr)
    rows = real_time_rows(args.repeats)
    print(f"bench: replaying {args.replay} deployments in virtual time...", file=sys.stderr)
    replay = lag.summarize(lag.long_tailed_replay(args.replay, args.seed))
    rows += lag_rows(f"{args.replay} long-tailed deployments, virtual time", replay)
    print("bench: cost of waiting (installs awscli in a temporary venv)...", file=sys.stderr)
    rows += cost_rows(cost.compare())
    print("bench: start-up...", file=sys.stderr)
    rows += startup_rows(startup.measure())
    print(f"bench: the cost of --otel, {args.telling} gates of each kind...", file=sys.stderr)
    rows += telling_rows(telling.measure(args.telling))
    print("bench: a bake's round over 50 CloudWatch alarms...", file=sys.stderr)
    rows += alarm_rows(alarms.measure())
    print(f"bench: {args.fleet} deployments in one gate wait-all...", file=sys.stderr)
    many = fleet.fleet(args.fleet)
    print(f"bench: {args.separate} separate gate processes...", file=sys.stderr)
    rows += fleet_rows(many, fleet.separate(args.separate))
    print("bench: 10,000 targets against a budget of 10 requests a second...", file=sys.stderr)
    rows += release_rows(bounds.releases())
    print("bench: a failed step's log of ten 8 MiB pages...", file=sys.stderr)
    rows += step_log_rows(bounds.step_logs())

    table = render(rows) + "\n\n" + verdict(replay)
    print(table)
    if not args.no_write:
        RESULTS.write_text(document(table, time.monotonic() - began))
        print(f"bench: wrote {RESULTS}", file=sys.stderr)
    return 0


def real_time_rows(repeats: int) -> list[Row]:
    real = lag.real_time([5.0, 30.0, 120.0], repeats)
    rows: list[Row] = []
    for duration in (5.0, 30.0, 120.0):
        rows += lag_rows(
            f"{duration:.0f} s deployments, real time",
            lag.summarize([s for s in real if s.duration == duration]),
        )
    return rows


def lag_rows(section: str, summary: dict[str, dict[str, float]]) -> list[Row]:
    anchor = summary["fixed 2 s loop"]
    rows = []
    for poller, figures in summary.items():
        value = lag.said(figures)
        ratio = (
            f"calls x{figures['calls'] / anchor['calls']:.2f}; "
            f"lag p50 x{ratio_of(figures['lag_p50'], anchor['lag_p50'])}"
        )
        best = summary.get(lag.OPTIMA.get(poller, ""))
        if best is not None:
            ratio += f"; lag mean x{ratio_of(figures['lag_mean'], best['lag_mean'])} the optimum's"
        rows.append((section, poller, value, "anchor" if poller == "fixed 2 s loop" else ratio))
    return rows


def cost_rows(costs: list[cost.Cost]) -> list[Row]:
    anchor = costs[0]
    rows = []
    for item in costs:
        value = (
            f"{item.reads} reads, {item.cpu_seconds:.2f} CPU s "
            f"({1000 * item.cpu_per_read:.1f} ms/read), peak RSS {item.peak_rss_mib:.0f} MiB"
        )
        ratio = (
            f"CPU/read x{item.cpu_per_read / anchor.cpu_per_read:.3f}; "
            f"RSS x{item.peak_rss_mib / anchor.peak_rss_mib:.2f}"
        )
        rows.append(
            (
                "cost of waiting on a 40 s deployment",
                item.waiter,
                value,
                "anchor" if item is anchor else ratio,
            )
        )
    return rows


def fleet_rows(many: fleet.Run, anchor: fleet.Run) -> list[Row]:
    section = (
        f"fleet: 20-90 s deployments, API limit {fleet.API_LIMIT:g} req/s, "
        f"--max-rate {fleet.MAX_RATE:g}, --max-interval {fleet.MAX_INTERVAL:g} s"
    )
    rows = []
    for run in (many, anchor):
        bound = run.slowest_seconds + 2 * fleet.MAX_INTERVAL
        value = (
            f"{run.right}/{run.targets} outcomes right; {run.throttled} answers 429; "
            f"wall {run.wall_seconds:.1f} s (slowest deployment {run.slowest_seconds:.1f} s, "
            f"bound {bound:.1f} s: {'met' if run.wall_seconds <= bound else 'missed'}); "
            f"peak RSS {run.peak_rss_mib:.0f} MiB ({1024 * run.total_rss_mib / run.targets:.0f}"
            f" KiB a target); {run.requests} requests, "
            f"{run.cpu_ms_per_request:.2f} ms CPU each"
        )
        per_target = (run.total_rss_mib / run.targets) / (anchor.total_rss_mib / anchor.targets)
        ratio = (
            f"CPU/request x{run.cpu_ms_per_request / anchor.cpu_ms_per_request:.2f}; "
            f"RSS a target x{per_target:.4f}"
        )
        rows.append((section, run.who, value, "anchor" if run is anchor else ratio))
    return rows


def release_rows(runs: list[bounds.Release]) -> list[Row]:
    """Whether the whole ended by its timeout (plus the 1 s a read at the deadline may
    take); the ratio is of wall time over the timeout, beside the anchor's."""
    anchor = runs[0]
    rows = []
    for run in runs:
        over = run.wall_seconds - run.timeout
        value = (
            f"--timeout {run.timeout:g}s: exit {run.exit_code}, wall {run.wall_seconds:.1f} s "
            f"({over:+.1f} s); {run.read} targets read, {run.never_read} never read; "
            f"peak RSS {run.peak_rss_mib:.0f} MiB"
        )
        ratio = (
            f"wall/timeout {run.wall_seconds / run.timeout:.3f} "
            f"(anchor {anchor.wall_seconds / anchor.timeout:.3f}); "
            f"RSS x{run.peak_rss_mib / anchor.peak_rss_mib:.2f}"
        )
        section = "a release larger than --max-rate 10 reads in time"
        rows.append((section, run.who, value, "anchor" if run is anchor else ratio))
    return rows


def step_log_rows(runs: list[bounds.StepLog]) -> list[Row]:
    anchor = runs[0]
    rows = []
    for run in runs:
        value = (
            f"pages of {run.page_bytes / 1024 / 1024:.2f} MiB: exit {run.exit_code}, "
            f"{run.kept_lines} lines kept (the log's last: {'yes' if run.kept_the_last else 'no'}"
            f"); peak RSS {run.peak_rss_mib:.0f} MiB"
        )
        ratio = f"RSS x{run.peak_rss_mib / anchor.peak_rss_mib:.2f}"
        section = "a failed step's log, read in pages"
        rows.append((section, run.who, value, "anchor" if run is anchor else ratio))
    return rows


def startup_rows(measured: list[tuple[str, float, str]]) -> list[Row]:
    anchor = measured[0][1]
    rows = []
    for command, seconds, heavy in measured:
        value = f"{1000 * seconds:.0f} ms" + (
            f"; imports of boto3/botocore/pulumi: {heavy}" if heavy else ""
        )
        rows.append(
            (
                "start-up (median of 15)",
                command,
                value,
                "anchor" if seconds == anchor else f"x{seconds / anchor:.2f}",
            )
        )
    return rows


def telling_rows(measured: list[telling.Figures]) -> list[Row]:
    anchor = measured[0]
    rows = []
    for item in measured:
        value = (
            f"wall {1000 * item.wall_seconds:.0f} ms, CPU {1000 * item.cpu_seconds:.0f} ms, "
            f"peak RSS {item.peak_rss_mib:.0f} MiB"
        )
        if item.spans_received is not None:
            value += f"; {item.spans_received} spans received of {item.runs} gates"
        ratio = (
            f"wall x{item.wall_seconds / anchor.wall_seconds:.2f} "
            f"({1000 * (item.wall_seconds - anchor.wall_seconds):+.0f} ms); "
            f"CPU x{item.cpu_seconds / anchor.cpu_seconds:.2f} "
            f"({1000 * (item.cpu_seconds - anchor.cpu_seconds):+.0f} ms); "
            f"RSS x{item.peak_rss_mib / anchor.peak_rss_mib:.2f}"
        )
        rows.append(
            (
                f"cost of --otel on one gate wait humanitec, whole command (median of {item.runs})",
                item.who,
                value,
                "anchor" if item is anchor else ratio,
            )
        )
    return rows


def alarm_rows(measured: list[alarms.Figures]) -> list[Row]:
    anchor = measured[0]
    rows = []
    for item in measured:
        value = (
            f"none changed: {item.steady_calls:.1f} calls a round ({item.steady_ms:.0f} ms); "
            f"one went to ALARM and back: {item.flapped_calls} "
            f"call{'' if item.flapped_calls == 1 else 's'}, "
            f"{'caught' if item.caught else 'missed'}"
        )
        ratio = (
            f"calls x{item.steady_calls / anchor.steady_calls:.2f} (none changed), "
            f"x{item.flapped_calls / anchor.flapped_calls:.2f} (one flapped)"
        )
        rows.append(
            (
                f"a bake's round over {item.alarms} CloudWatch alarms on moto's server",
                item.who,
                value,
                "anchor" if item is anchor else ratio,
            )
        )
    return rows


def verdict(replay: dict[str, dict[str, float]]) -> str:
    """The aims, checked on the replay: with history, p95 lag at most 1.5 x the 2 s loop's at
    no more than 30% of its calls, and mean lag within 1.2 x the optimum's for those calls;
    without history, less lag than the 15 s waiter at no more calls."""
    loop, smart = replay["fixed 2 s loop"], replay["gate, with history"]
    waiter, plain = replay["botocore waiter (15 s)"], replay["gate, no history"]
    calls = smart["calls"] / loop["calls"]
    p95 = smart["lag_p95"] / loop["lag_p95"]

    def met(ok: bool) -> str:
        return "met" if ok else "missed"

    said = (
        f"Aims, on the replay. With history: calls x{calls:.2f} of the 2 s loop's "
        f"({met(calls <= 0.3)}: at most x0.30); lag p95 {smart['lag_p95']:.1f} s against "
        f"{loop['lag_p95']:.1f} s, x{p95:.2f} ({met(p95 <= 1.5)}: at most x1.5)"
    )
    best = replay.get(lag.OPTIMA["gate, with history"])
    if best is not None:
        mean = smart["lag_mean"] / best["lag_mean"]
        said += (
            f"; lag mean {smart['lag_mean']:.2f} s against the optimum's "
            f"{best['lag_mean']:.2f} s, x{mean:.2f} ({met(mean <= 1.2)}: at most x1.2)"
        )
    fewer = plain["calls"] <= waiter["calls"]
    sooner = plain["lag_mean"] < waiter["lag_mean"] and plain["lag_p50"] < waiter["lag_p50"]
    return said + (
        f". Without history: {plain['calls']:.1f} calls against the 15 s waiter's "
        f"{waiter['calls']:.1f} ({met(fewer)}: no more); lag mean {plain['lag_mean']:.2f} s, "
        f"p50 {plain['lag_p50']:.1f} s against {waiter['lag_mean']:.2f} s, "
        f"{waiter['lag_p50']:.1f} s ({met(sooner)}: less)."
    )


def ratio_of(value: float, anchor: float) -> str:
    return f"{value / anchor:.2f}" if anchor > 0 else "n/a"


def render(rows: list[Row]) -> str:
    lines = ["| measure | who | figures | against the anchor |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    return "\n".join(lines)


def document(table: str, seconds: float) -> str:
    versions = ", ".join(
        f"{name} {importlib.metadata.version(name)}"
        for name in ("deploy-gate", "boto3", "botocore", "httpx", "tenacity", "opentelemetry-sdk")
    )
    return f"""# Benchmark results

Produced by `python -m bench` (see bench/README.md) in {seconds / 60:.1f} minutes on
{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()};
{versions}; awscli from PyPI in its own virtual environment.

Every figure stands beside an anchor measured in the same run; ratios are to that anchor.
Lag is the time from the moment the deployment turned terminal to the moment the waiter
returned; calls are reads of the deployment (the gate with history also counts its one read
of the environment's deployment list). In the fleet rows, requests are every HTTP request the
emulator served (deployment reads, error lists, history) and RSS is of the waiting processes.

{table}
"""


if __name__ == "__main__":
    sys.exit(main())
