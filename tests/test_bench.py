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
