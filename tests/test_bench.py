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
