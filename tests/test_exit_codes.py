"""The README's table of exit codes says what the command does: each ending, through the real
command, exits with a code whose row names it."""

from __future__ import annotations

import re

from gate.emulator import Emulator, Timeline
from gate.emulator.health import HealthEndpoint
from tests.builders import FAST
from tests.support import HUMANITEC_PRODUCTION, REPO, TOKEN, run_gate

README = (REPO / "README.md").read_text()

TABLE_ROW = re.compile(r"^\| ([\d /]+) \| (.+) \|$", re.M)


def exit_code_rows() -> dict[int, str]:
    """Each code of the README's "Exit codes" table, and its meaning."""
    section = README.split("\n## Exit codes\n", 1)[1].split("\n## ", 1)[0]
    return {
        int(code): meaning
        for codes, meaning in TABLE_ROW.findall(section)
        for code in codes.split(" / ")
    }


def test_a_bake_breach_after_success_exits_with_the_code_whose_row_says_so(
    paced_emulator: Emulator,
) -> None:
    deploy_id = paced_emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    with HealthEndpoint([503], body="checkout: payments unreachable") as probe:
        result = run_gate(
            "wait",
            *HUMANITEC_PRODUCTION,
            "--deploy-id",
            deploy_id,
            *FAST,
            "--bake",
            "5m",
            "--bake-interval",
            "0.2s",
            "--probe",
            probe.url,
            env={"HUMANITEC_API_URL": paced_emulator.url, "HUMANITEC_TOKEN": TOKEN},
        )
    assert "failed its bake" in result.stderr
    row = exit_code_rows()[result.returncode]
    assert "succeeded and then failed its bake" in row, (result.returncode, row)
    assert "(and only then)" not in row


def test_every_code_the_command_ends_with_has_a_row() -> None:
    from gate.core.model import OutcomeStatus, exit_code_of

    rows = exit_code_rows()
    for status in OutcomeStatus:
        assert exit_code_of(status, None) in rows, status
    assert {2, 128 + 2, 128 + 15, 128 + 1} <= set(rows)
    assert "during a rollback" in rows[128 + 15]
