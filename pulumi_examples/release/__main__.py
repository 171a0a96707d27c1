"""Run ``pulumi up`` for a stack that gates on a Humanitec deployment; exit like ``gate wait``.

    python pulumi_examples/release --stack prod --org acme --app shop --env production \
        --deploy-id 0f3c9a

Without ``--deploy-id`` the stack gates on the environment's latest deployment, resolved anew
on every run. Exit codes: 0 succeeded, 1 failed, 2 usage or configuration (a gate input the
provider's check refused, too), 3 timed out, 4 unreadable, 130 cancelled; any other failure of
the update exits 4 as well.

The stack's resources are served by a Python the Pulumi CLI starts (the dynamic provider
host). It must be this very interpreter, the one with ``deploy-gate`` installed, not whatever
``python3`` is first on PATH: :func:`workspace_options` says so explicitly.
"""

from __future__ import annotations

import argparse
import re
import sys
from typing import TYPE_CHECKING

import pulumi

from gate.pulumi import DeploymentGate, DeploymentGateArgs, HumanitecTarget

if TYPE_CHECKING:
    from pulumi import automation as auto

PROJECT = "release-gate"
_GATE_ENDING = re.compile(
    r"deployment gate (failed|timed_out|error|cancelled|not started)|(has a problem)"
)
EXIT_CODES = {"failed": 1, "not started": 2, "timed_out": 3, "error": 4, "cancelled": 130}
CHECK_REFUSED = 2


def program() -> None:
    """The stack: one gate, its outcome exported."""
    config = pulumi.Config()
    gate = DeploymentGate(
        "release",
        DeploymentGateArgs(
            target=HumanitecTarget(
                org=config.require("org"),
                app=config.require("app"),
                env=config.require("env"),
                deploy_id=config.get("deployId"),
                api_url=config.get("apiUrl"),
            ),
            timeout=config.get("timeout") or "30m",
        ),
    )
    pulumi.export("status", gate.status)
    pulumi.export("target", gate.target)


def exit_code(update_error: str | None) -> int:
    """The gate's exit code for an update that ended with ``update_error`` (None: it passed)."""
    if update_error is None:
        return 0
    ending = _GATE_ENDING.search(update_error)
    if ending is None:
        return 4
    return EXIT_CODES[ending.group(1)] if ending.group(1) else CHECK_REFUSED


def workspace_options() -> auto.LocalWorkspaceOptions:
    """Run the stack's Python (the program's and the dynamic provider host's) with this
    interpreter: PULUMI_PYTHON_CMD is what the Python language host and the dynamic provider
    host start, and the project names no virtualenv that would take precedence."""
    from pulumi import automation as auto

    return auto.LocalWorkspaceOptions(
        env_vars={"PULUMI_PYTHON_CMD": sys.executable},
        project_settings=auto.ProjectSettings(name=PROJECT, runtime="python"),
    )


def main(argv: list[str] | None = None) -> int:
    from pulumi import automation as auto

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    for name in ("org", "app", "env"):
        parser.add_argument(f"--{name}", required=True)
    parser.add_argument("--deploy-id")
    parser.add_argument("--timeout", default="30m")
    args = parser.parse_args(argv)

    stack = auto.create_or_select_stack(
        stack_name=args.stack, project_name=PROJECT, program=program, opts=workspace_options()
    )
    settings = {"org": args.org, "app": args.app, "env": args.env, "timeout": args.timeout}
    if args.deploy_id:
        settings["deployId"] = args.deploy_id
    stack.set_all_config({key: auto.ConfigValue(value) for key, value in settings.items()})
    try:
        result = stack.up(on_output=print)
    except auto.CommandError as error:
        return exit_code(str(error))
    return exit_code(None if result.outputs["status"].value == "succeeded" else "failed")


if __name__ == "__main__":
    sys.exit(main())
