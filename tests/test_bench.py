"""The bench's own logic stays runnable (its figures are not asserted: see bench/)."""

from bench import lag
from bench.__main__ import lag_rows, render, verdict


def test_the_virtual_replay_runs_every_poller_and_renders() -> None:
    summary = lag.summarize(lag.long_tailed_replay(count=20, seed=3))
    assert set(summary) == set(lag.POLLERS)
    rows = lag_rows("replay", summary)
    assert len(rows) == len(lag.POLLERS)
    assert rows[0][3] == "anchor"
    assert render(rows).count("\n") == len(rows) + 1
    assert verdict(summary).startswith("Aim (the lag of the fixed 2 s loop")


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
