"""The pollers compared: two anchors people use today and the gate, each waiting on one
Greengrass or Humanitec deployment served by the package's emulator."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import boto3
from botocore.config import Config
from botocore.waiter import WaiterModel, create_waiter_with_client

from gate import wait
from gate.core.secret import Secret
from gate.providers.greengrass.v1.reader import GreengrassDeployment
from gate.providers.humanitec.v1.reader import HumanitecDeployment, connect

TERMINAL = ("Success", "Failure")


def greengrass_client(endpoint_url: str) -> Any:
    session = boto3.Session(
        aws_access_key_id="bench", aws_secret_access_key="bench", region_name="eu-west-1"
    )
    return session.client(
        "greengrass",
        endpoint_url=endpoint_url,
        config=Config(retries={"total_max_attempts": 1}),
    )


def fixed_loop(endpoint_url: str, group_id: str, deployment_id: str, every: float = 2.0) -> None:
    """The loop in most pipelines: read, and if not done, sleep a fixed 2 s."""
    client = greengrass_client(endpoint_url)
    while True:
        status = client.get_deployment_status(GroupId=group_id, DeploymentId=deployment_id)
        if status["DeploymentStatus"] in TERMINAL:
            return
        time.sleep(every)


WAITER_MODEL = WaiterModel(
    {
        "version": 2,
        "waiters": {
            "DeploymentDone": {
                "operation": "GetDeploymentStatus",
                "delay": 15,
                "maxAttempts": 400,
                "acceptors": [
                    {
                        "state": "success",
                        "matcher": "path",
                        "argument": "DeploymentStatus",
                        "expected": "Success",
                    },
                    {
                        "state": "failure",
                        "matcher": "path",
                        "argument": "DeploymentStatus",
                        "expected": "Failure",
                    },
                ],
            }
        },
    }
)


def botocore_waiter(endpoint_url: str, group_id: str, deployment_id: str) -> None:
    """A botocore waiter at the AWS waiters' usual style: a read every 15 s."""
    client = greengrass_client(endpoint_url)
    waiter = create_waiter_with_client("DeploymentDone", WAITER_MODEL, client)
    waiter.wait(GroupId=group_id, DeploymentId=deployment_id)


def gate_greengrass(endpoint_url: str, group_id: str, deployment_id: str) -> None:
    provider = GreengrassDeployment(
        greengrass_client(endpoint_url), group_id=group_id, deployment_id=deployment_id
    )
    wait(provider)


def gate_humanitec(api_url: str, token: str, env: str, deploy_id: str) -> None:
    """The gate's defaults on Humanitec, which knows the environment's history."""
    client = connect(api_url, Secret(token), request_timeout=10)
    provider = HumanitecDeployment(client, org="bench", app="app", env=env, deploy_id=deploy_id)
    try:
        wait(provider)
    finally:
        provider.close()


def gate_humanitec_v2(api_url: str, token: str, deployment_id: str) -> None:
    """The gate on the v2 orchestrator: the server's long-poll, no schedule."""
    from gate.providers.humanitec.v2.reader import HumanitecV2Deployment

    client = connect(api_url, Secret(token), request_timeout=10)
    provider = HumanitecV2Deployment(client, org="bench", deployment_id=deployment_id)
    try:
        wait(provider)
    finally:
        provider.close()


Poller = Callable[..., None]
