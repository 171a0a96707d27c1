"""The pollers compared: two anchors people use today and the gate on each provider, each
waiting on one deployment served by the package's emulator. Each returns the API calls it
made (the gate's history reads included)."""

from __future__ import annotations

import time
from typing import Any

import boto3
from botocore.config import Config
from botocore.waiter import WaiterModel, create_waiter_with_client

from gate import wait
from gate.core.secret import Secret
from gate.providers.greengrass.v1.reader import GreengrassDeployment
from gate.providers.greengrass.v2.reader import GreengrassV2Deployment
from gate.providers.humanitec.v1.reader import HumanitecDeployment, connect
from gate.providers.humanitec.v2.reader import HumanitecV2Deployment

TERMINAL = ("Success", "Failure")


class Counted:
    """boto3 clients on the emulator, made before the deployment starts (making one takes
    longer than a short deployment on a busy machine), each API call they make counted."""

    def __init__(self, endpoint_url: str, *services: str) -> None:
        self.calls = 0
        session = boto3.Session(
            aws_access_key_id="bench", aws_secret_access_key="bench", region_name="eu-west-1"
        )
        self.clients: dict[str, Any] = {}
        for service in services:
            self.clients[service] = session.client(
                service,
                endpoint_url=endpoint_url,
                config=Config(retries={"total_max_attempts": 1}),
            )
            self.clients[service].meta.events.register("before-call", self._count)

    def client(self, service: str) -> Any:
        return self.clients[service]

    def _count(self, **_: Any) -> None:
        self.calls += 1


def fixed_loop(aws: Counted, group_id: str, deployment_id: str, every: float = 2.0) -> int:
    """The loop in most pipelines: read, and if not done, sleep a fixed 2 s."""
    client = aws.client("greengrass")
    while True:
        status = client.get_deployment_status(GroupId=group_id, DeploymentId=deployment_id)
        if status["DeploymentStatus"] in TERMINAL:
            return aws.calls
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


def botocore_waiter(aws: Counted, group_id: str, deployment_id: str) -> int:
    """A botocore waiter at the AWS waiters' usual style: a read every 15 s."""
    waiter = create_waiter_with_client("DeploymentDone", WAITER_MODEL, aws.client("greengrass"))
    waiter.wait(GroupId=group_id, DeploymentId=deployment_id)
    return aws.calls


def gate_greengrass(aws: Counted, group_id: str, deployment_id: str) -> int:
    provider = GreengrassDeployment(
        aws.client("greengrass"), group_id=group_id, deployment_id=deployment_id
    )
    wait(provider)
    return aws.calls


def gate_greengrass_v2(aws: Counted, deployment_id: str) -> int:
    provider = GreengrassV2Deployment(
        aws.client("greengrassv2"), aws.client("iot"), deployment_id=deployment_id
    )
    wait(provider)
    return aws.calls


def gate_humanitec(api_url: str, token: str, org: str, env: str, deploy_id: str) -> None:
    """The gate's defaults on Humanitec v1 (its calls are counted by the emulator)."""
    client = connect(api_url, Secret(token), request_timeout=10)
    provider = HumanitecDeployment(client, org=org, app="app", env=env, deploy_id=deploy_id)
    try:
        wait(provider)
    finally:
        provider.close()


def gate_humanitec_v2(api_url: str, token: str, org: str, deployment_id: str) -> None:
    """The gate on the v2 orchestrator: the server's long-poll, no schedule."""
    client = connect(api_url, Secret(token), request_timeout=10)
    provider = HumanitecV2Deployment(client, org=org, deployment_id=deployment_id)
    try:
        wait(provider)
    finally:
        provider.close()
