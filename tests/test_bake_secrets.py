"""A check's answer is text from outside, and no secret comes back through it: a probe whose
failing answer echoes the gate's credentials and its own query, through the real command,
with every report, a trace and a rollback that writes the reason into Humanitec."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest

from gate.emulator import Emulator, Timeline
from gate.emulator.health import HealthEndpoint
from tests.parts.otlp_receiver import OtlpReceiver
from tests.support import TOKEN, run_gate

AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"
PROBE_TOKEN = "pr0be-qu3ry-t0ken-77"
PROBE_PASSWORD = "pr0be-pa55w0rd-1234"
GOOD_SET = "5e7b0c2f91d4"


def baked_and_rolled_back(
    emulator: Emulator, probe_url: str, tmp_path: Path, receiver: OtlpReceiver
) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """A deployment that succeeds and fails its bake on ``probe_url``, rolled back; what the
    gate said, wrote and sent."""
    emulator.add_humanitec(
        "acme",
        "shop",
        "production",
        Timeline([(0, "succeeded")]),
        started_ago=3600,
        set_id=GOOD_SET,
    )
    deploy_id = emulator.add_humanitec(
        "acme", "shop", "production", Timeline([(0, "in progress"), (1, "succeeded")])
    )
    junit, report = tmp_path / "junit.xml", tmp_path / "outcome.json"
    result = run_gate(
        "wait", "humanitec", "--org", "acme", "--app", "shop", "--env", "production",
        "--deploy-id", deploy_id, "--interval", "0.05s", "--max-interval", "0.2s",
        "--output", "json", "--bake", "5m", "--bake-interval", "0.2s",
        "--probe", probe_url, "--probe-failures", "1", "--on-failure", "rollback",
        "--junit", str(junit), "--json-report", str(report), "--otel-endpoint", receiver.url,
        env={
            "HUMANITEC_API_URL": emulator.url,
            "HUMANITEC_TOKEN": TOKEN,
            "AWS_ACCESS_KEY_ID": "AKIAIOSFODNN7EXAMPLE",
            "AWS_SECRET_ACCESS_KEY": AWS_SECRET,
        },
    )  # fmt: skip
    comments = [str(body["comment"]) for _, body, _ in emulator.posted if isinstance(body, dict)]
    said = [
        result.stdout,
        result.stderr,
        junit.read_text(),
        report.read_text(),
        *comments,
        *receiver.every_text(),
    ]
    return result, said


@pytest.mark.parametrize("status", [500, 401, 404])
def test_no_secret_comes_back_through_a_probes_answer(
    paced_emulator: Emulator, tmp_path: Path, status: int
) -> None:
    body = f"Cannot GET {{target}} with token {TOKEN} and key {AWS_SECRET}"
    with HealthEndpoint([status], body=body) as health, OtlpReceiver() as receiver:
        url = health.url.replace("//", f"//ops:{PROBE_PASSWORD}@") + f"?token={PROBE_TOKEN}"
        result, said = baked_and_rolled_back(paced_emulator, url, tmp_path, receiver)
    assert result.returncode == 1, result.stderr
    outcome: dict[str, Any] = json.loads(result.stdout)
    assert outcome["rollback"]["outcome"]["status"] == "succeeded", "the comment was written"
    assert "Cannot GET ***" in outcome["reason"], "the body is still said, without the secrets"
    for secret in (TOKEN, AWS_SECRET, PROBE_TOKEN, PROBE_PASSWORD):
        assert [text for text in said if secret in text] == [], secret


def test_a_remembered_secret_is_cut_from_text_from_outside_in_the_forms_it_is_echoed() -> None:
    from urllib.parse import quote

    from gate.core.secret import remember
    from gate.core.text import from_api

    key = "k3y/with+slashes-and-pluses/0123"
    remember(key)
    assert from_api(f"as sent {key}!") == "as sent ***!"
    assert from_api(f"percent-encoded {quote(key, safe='')}") == "percent-encoded ***"
    escaped = key.replace("/", "\\/")  # as PHP's json_encode writes it
    assert from_api(f'{{"json": "{escaped}"}}') == '{"json": "***"}'
    remember("abc")  # too short to mean anything: never cut
    assert from_api("abc def") == "abc def"
