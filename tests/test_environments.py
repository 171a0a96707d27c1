"""Which environment each gated deployment went to, named as short as tells it apart."""

from __future__ import annotations

import pytest

from gate.telling.environments import environment_name, environment_of
from tests.builders import humanitec_target


def thing_group(name: str, region: str = "eu-west-1", account: str = "123456789012") -> dict:
    return {"deployment_id": "d", "target_arn": f"arn:aws:iot:{region}:{account}:thinggroup/{name}"}


@pytest.mark.parametrize(
    ("release", "names"),
    [
        ([humanitec_target("shop", "eu")], ["eu"]),
        ([humanitec_target("shop", "eu"), humanitec_target("shop", "us")], ["eu", "us"]),
        (
            [
                humanitec_target("shop", "eu"),
                humanitec_target("web", "eu"),
                humanitec_target("web", "us"),
            ],
            ["shop/eu", "web/eu", "us"],
        ),
        (
            [humanitec_target("shop", "eu", org="a"), humanitec_target("shop", "eu", org="b")],
            ["a/shop/eu", "b/shop/eu"],
        ),
        (
            [
                humanitec_target("shop", "eu", deploy_id="1"),
                humanitec_target("shop", "eu", deploy_id="2"),
            ],
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
            [{"group_id": "g-17", "deployment_id": "d"}, humanitec_target("shop", "g-17")],
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
