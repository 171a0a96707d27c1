"""Which environment each gated deployment went to, named as short as tells it apart."""

from __future__ import annotations

import pytest

from gate.telling.environments import environment_name, environment_of


def humanitec(app: str, env: str, org: str = "acme", deploy_id: str = "0f3c") -> dict[str, str]:
    return {"org": org, "app": app, "env": env, "deploy_id": deploy_id}


def thing_group(name: str, region: str = "eu-west-1", account: str = "123456789012") -> dict:
    return {"deployment_id": "d", "target_arn": f"arn:aws:iot:{region}:{account}:thinggroup/{name}"}


@pytest.mark.parametrize(
    ("release", "names"),
    [
        ([humanitec("shop", "eu")], ["eu"]),
        ([humanitec("shop", "eu"), humanitec("shop", "us")], ["eu", "us"]),
        (
            [humanitec("shop", "eu"), humanitec("web", "eu"), humanitec("web", "us")],
            ["shop/eu", "web/eu", "us"],
        ),
        (
            [humanitec("shop", "eu", org="a"), humanitec("shop", "eu", org="b")],
            ["a/shop/eu", "b/shop/eu"],
        ),
        (
            [humanitec("shop", "eu", deploy_id="1"), humanitec("shop", "eu", deploy_id="2")],
            ["eu", "eu"],
        ),
        (
            [thing_group("Edge"), thing_group("Edge", region="us-east-1")],
            [
                "eu-west-1/Edge",
                "us-east-1/Edge",
            ],
        ),
        (
            [{"group_id": "g-17", "deployment_id": "d"}, humanitec("shop", "g-17")],
            [
                "g-17",
                "shop/g-17",
            ],
        ),
        ([{"org": "acme", "deployment_id": "d-1"}], [None]),
    ],
    ids=[
        "alone",
        "distinct",
        "one-id-in-two-apps",
        "one-app-in-two-orgs",
        "two-deployments-one-environment",
        "one-thing-group-in-two-regions",
        "a-group-and-an-env-of-one-id",
        "naming-none",
    ],
)
def test_each_is_named_as_short_as_tells_it_apart_never_by_a_deployment_id(
    release: list[dict[str, str]], names: list[str | None]
) -> None:
    assert [environment_name(target, release) for target in release] == names


def test_a_thing_or_thing_group_names_its_environment_and_nothing_else_does() -> None:
    assert environment_of(thing_group("Edge")) == "Edge"
    assert environment_of({"target_arn": "arn:aws:iot:eu-west-1:1:thing/Robot"}) == "Robot"
    assert environment_of({"target_arn": "arn:aws:s3:::bucket/key"}) == ""
    assert environment_of({"org": "acme", "pipeline": "p", "run": "r"}) == ""
