"""The bench's own logic stays runnable (its figures are not asserted: see bench/)."""

import math

from bench import lag, pollers
from bench.__main__ import lag_rows, render, verdict


def test_the_virtual_replay_runs_every_poller_and_renders() -> None:
    summary = lag.summarize(lag.long_tailed_replay(count=20, seed=3, grid=300))
    assert set(summary) == {*lag.POLLERS, *lag.OPTIMA.values()}
    rows = lag_rows("replay", summary)
    assert len(rows) == len(summary)
    assert rows[0][3] == "anchor"
    assert "the optimum's" in dict((row[1], row[3]) for row in rows)["gate, with history"]
    assert render(rows).count("\n") == len(rows) + 1
    assert verdict(summary).startswith("Aims, on the replay. With history: calls x")


def test_the_optimum_beats_any_fixed_gap_for_as_many_reads() -> None:
    """Knowing the law, no schedule of as many reads has less mean lag: not a fixed gap."""
    import statistics

    from bench import optimum

    law = optimum.Law.on_grid(lambda t: lag.duration_cdf(600, t), 200, 2000, 1500)
    durations = [600 * (0.7 + 0.6 * k / 99) for k in range(100)]
    for every in (5.0, 15.0, 30.0):
        fixed = [(math.ceil(d / every) * every - d, math.ceil(d / every) + 1) for d in durations]
        calls = statistics.fmean(reads for _, reads in fixed)
        best, _ = optimum.matched([law], [(0, d) for d in durations], calls)
        assert statistics.fmean(reads for _, reads in best) <= calls
        assert statistics.fmean(x for x, _ in best) < statistics.fmean(x for x, _ in fixed)


def test_the_optimum_reads_to_the_end_of_its_law() -> None:
    """A law whose distribution function rounds to 1 before its last time still ends the
    lag of a duration there (once the seed-8 replay with twenty past durations said "mean
    inf s", and its aim "x0.00 the optimum's (met)")."""
    from bench import optimum

    law = optimum.Law.on_grid(lambda t: min(1.0, t / 100), 1, 200, 200)
    reads = optimum.plan(law, price=1.0, min_gap=2.0)
    assert reads[-1] == law.times[-1]
    lag_after_the_mass, _ = optimum.lag_and_reads(reads, 150)
    assert math.isfinite(lag_after_the_mass)


def test_no_schedule_with_gaps_up_to_15_s_reads_less_often_than_the_15_s_waiter() -> None:
    """The count bench/limits.py rests the no-history aim on: a read at 0, then gaps of at
    most 15 s, make at least the waiter's reads on any deployment."""
    import random

    from bench import limits

    rng = random.Random(4)
    for _ in range(200):
        duration = rng.uniform(1, 900)
        _, waiter = limits.read(lambda _: 15.0, duration)
        _, reads = limits.read(lambda _: rng.uniform(2.0, 15.0), duration)
        assert waiter == math.ceil(duration / 15) + 1 <= reads


def test_the_exact_plan_costs_no_more_than_the_gates_rule_on_its_own_law() -> None:
    """The dynamic programme is right: on the law it plans for, its expected cost (lag, late
    answers, reads) is no more than the one-gap-ahead rule's at the same price."""
    from bench import limits
    from gate.waiting.schedule import history_survival, next_gap

    survival = history_survival([600, 640, 580, 700, 610, 655, 590, 620, 1400, 630])
    assert survival is not None
    quantiles = []
    for q in range(1, 400):  # durations at the law's quantiles, by bisection on its survival
        low, high = 1.0, 20_000.0
        for _ in range(40):
            middle = (low + high) / 2
            low, high = (middle, high) if survival(middle) > 1 - q / 400 else (low, middle)
        quantiles.append(low)
    price, late_cost = 0.8, 25.0

    def cost(delay: limits.Delay) -> float:
        results = [limits.read(delay, duration) for duration in quantiles]
        late = sum(lag_ > limits.LATE_AFTER * limits.INTERVAL for lag_, _ in results)
        lags, reads = sum(lag_ for lag_, _ in results), sum(reads for _, reads in results)
        return (lags + late_cost * late + price * reads) / len(results)

    def rule(t: float) -> float:
        return next_gap(t, survival, price=price, interval=2, longest=60, late_cost=late_cost)

    plan = limits.following(limits.planned(survival, price, late_cost, 60), rule)
    assert cost(plan) <= cost(rule)


def test_the_limit_rows_run_on_a_few_draws() -> None:
    from bench import limits

    rows = limits.with_history(seed=3, count=4, grid=300) + limits.without_history(3, 4)
    assert [who for who, _ in rows][:3] == [
        "fixed 2 s loop",
        "gate's rule",
        f"exact plan on the history's law (budget {limits.PLAN_BUDGET}, late cost 25 s)",
    ]
    assert all(" calls" in figures for _, figures in rows)


def test_the_fleet_rows_compare_one_process_with_separate_ones() -> None:
    from bench import fleet
    from bench.__main__ import fleet_rows

    many = fleet.Run("one", 1000, 1000, 0, 3600, 11.0, 72.0, 72.0, 98.0, 90.0)
    anchor = fleet.Run("separate", 20, 20, 0, 450, 4.5, 32.0, 640.0, 96.0, 89.0)
    rows = fleet_rows(many, anchor)
    assert rows[1][3] == "anchor"
    assert "1000/1000 outcomes right; 0 answers 429" in rows[0][2]
    assert "bound 120.0 s: met" in rows[0][2]
    assert rows[0][3].startswith("CPU/request x0.31")


def test_the_bounds_rows_say_wall_time_against_the_timeout() -> None:
    from bench import bounds
    from bench.__main__ import release_rows, step_log_rows

    runs = [
        bounds.Release("100", 100, 60.0, 3, 60.6, 100, 0, 40.0),
        bounds.Release("10,000", 10_000, 60.0, 3, 61.4, 562, 9438, 216.0),
    ]
    rows = release_rows(runs)
    assert rows[0][3] == "anchor"
    assert "wall 61.4 s (+1.4 s); 562 targets read, 9438 never read" in rows[1][2]
    assert rows[1][3] == "wall/timeout 1.023 (anchor 1.010); RSS x5.40"
    logs = step_log_rows(
        [
            bounds.StepLog("20", 1540, 1, 20, True, 32.0),
            bounds.StepLog("10 pages", 7_788_890, 1, 20, True, 154.0),
        ]
    )
    assert "pages of 7.43 MiB: exit 1, 20 lines kept (the log's last: yes)" in logs[1][2]
    assert logs[1][3] == "RSS x4.81"


def test_the_alarm_rows_measure_each_watcher_on_moto() -> None:
    """Which watcher sees a flap is behaviour, not a figure: asserted; the calls are not."""
    from bench import alarms
    from bench.__main__ import alarm_rows

    measured = alarms.measure(alarms=3, rounds=1)
    assert [(m.who, m.caught) for m in measured] == [
        (alarms.ANCHOR, True),
        (alarms.ALARMS_ONLY, False),
        (alarms.GATE, True),
    ]
    rows = alarm_rows(measured)
    assert rows[0][3] == "anchor"
    assert render(rows).count("\n") == len(rows) + 1


def test_the_real_time_targets_with_history_give_the_gate_their_durations() -> None:
    """Every provider's target in the real-time rows has earlier deployments the gate reads
    as history through the emulator (Greengrass v1's ListDeployments and v2's job times)."""
    from gate.emulator import Emulator
    from gate.providers.greengrass.v1.reader import GreengrassDeployment
    from gate.providers.greengrass.v2.reader import GreengrassV2Deployment

    past = [30.0, 40.0, 50.0]
    with Emulator(token="bench-token-0123456789") as emulator:
        aws = pollers.Counted(emulator.url, "greengrass", "greengrassv2", "iot")
        lag._deploy(emulator, "gate, greengrass v1, with history", "g1", 60, past, aws)
        lag._deploy(emulator, "gate, greengrass v2, with history", "g2", 60, past, aws)
        v1 = aws.client("greengrass")
        current = v1.list_deployments(GroupId="g1")["Deployments"][0]["DeploymentId"]
        group = GreengrassDeployment(v1, group_id="g1", deployment_id=current)
        v2 = aws.client("greengrassv2")
        newest = v2.list_deployments(historyFilter="ALL")["deployments"][0]["deploymentId"]
        target = GreengrassV2Deployment(v2, aws.client("iot"), deployment_id=newest)
        target.fetch()  # it learns its target
        for provider in (group, target):
            assert [round(took) for took in provider.past_durations()] == [50, 40, 30]
        assert aws.calls > 0
