"""Providers are found by name: built-ins, and third-party ones through entry points."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gate.core.errors import UsageError
from gate.providers import ProviderPlugin
from gate.providers.registry import available_providers, load_plugin
from tests.support import run_gate

THIRD_PARTY = """
from gate.core.description import Field, TargetDescription
from gate.core.model import Snapshot, State


class Rollout:
    name = "rollouts"

    def __init__(self, rollout_id):
        self.rollout_id = rollout_id

    @property
    def target(self):
        return {"rollout": self.rollout_id}

    def describe(self):
        return f"rollout {self.rollout_id}"

    def fetch(self):
        return Snapshot(State.SUCCEEDED, "Healthy")

    def close(self):
        pass


class Plugin:
    name = "rollouts"
    summary = "a test rollout system"
    description = TargetDescription(
        provider="rollouts",
        summary="a test rollout system",
        fields=(Field("rollout", "the rollout to wait on", kind="id", required=True),),
    )

    def build(self, target, env, *, request_timeout, token=None):
        return Rollout(target.text("rollout"))


plugin = Plugin()
"""


@pytest.fixture
def installed_plugin(tmp_path: Path) -> Path:
    return install_third_party(tmp_path, THIRD_PARTY)


def install_third_party(
    tmp_path: Path,
    source: str,
    *,
    module: str = "gate_rollouts",
    group: str = "gate.providers",
    name: str = "rollouts",
) -> Path:
    """A third-party distribution on disk whose ``module`` (of ``source``) registers its
    ``plugin`` as ``name`` in the entry-point ``group`` (put ``tmp_path`` on ``PYTHONPATH``)."""
    (tmp_path / f"{module}.py").write_text(source)
    dist_info = tmp_path / f"{module}-1.0.dist-info"
    dist_info.mkdir()
    (dist_info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {module.replace('_', '-')}\nVersion: 1.0\n"
    )
    (dist_info / "entry_points.txt").write_text(f"[{group}]\n{name} = {module}:plugin\n")
    return tmp_path


def test_builtins_are_plugins() -> None:
    for name in ("humanitec", "greengrass"):
        plugin = load_plugin(name)
        assert isinstance(plugin, ProviderPlugin)
        assert plugin.name == name
    assert {"humanitec", "greengrass"} <= set(available_providers())


def test_unknown_names_are_usage_errors_listing_what_is_known() -> None:
    with pytest.raises(UsageError, match=r"unknown provider 'nope'.*humanitec"):
        load_plugin("nope")


def test_a_third_party_provider_is_found_through_its_entry_point(installed_plugin: Path) -> None:
    env = {"PYTHONPATH": str(installed_plugin)}
    listed = run_gate("providers", env=env)
    assert "rollouts" in listed.stdout.split()
    result = run_gate("wait", "rollouts", "--rollout", "r-7", "--output", "json", env=env)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["provider"] == "rollouts"
    assert document["raw_status"] == "Healthy"
    assert document["target"] == {"rollout": "r-7"}
    assert "a test rollout system" in run_gate("wait", "--help", env=env).stdout
