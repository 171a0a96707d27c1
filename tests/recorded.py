"""Recorded API answers (``tests/fixtures/<provider>/<case>.json``), for the judges' tables.

Each file maps an operation (AWS) or a contract schema (Humanitec) to the answer as it came
over the wire. AWS answers are handed to the judges as boto3 returns them: parsed by botocore
against the operation's output shape (timestamps become datetimes). :func:`off_shape` holds a
file to the published shapes: botocore's service models, and the Humanitec contracts in
``tests/contracts/``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from functools import cache
from typing import Any

import botocore.parsers
import botocore.session
import yaml
from botocore.model import ListShape, MapShape, OperationModel, Shape, StructureShape
from openapi_schema_validator import OAS30Validator

from tests.support import CONTRACT, REPO

FIXTURES = REPO / "tests" / "fixtures"
V2_SPEC = REPO / "tests" / "contracts" / "humanitec-v2-orchestrator.yaml"

SERVICE_OF = {
    "GetDeploymentStatus": "greengrass",
    "GetDeployment": "greengrassv2",
    "ListEffectiveDeployments": "greengrassv2",
    "GetCoreDevice": "greengrassv2",
    "DescribeJob": "iot",
    "DescribeJobExecution": "iot",
    "ListJobExecutionsForJob": "iot",
    "ListThingsInThingGroup": "iot",
}
"""The AWS operations the Greengrass readers call, by the service that answers them."""
PER_THING = frozenset({"GetCoreDevice", "DescribeJobExecution"})
"""Operations asked once a device: recorded as ``{thing: answer}``."""
HUMANITEC_SCHEMAS = {
    ("humanitec", "Deployment"): "DeploymentResponse",
    ("humanitec", "DeploymentErrors"): "DeploymentErrorResponse[]",
    ("humanitec", "Runtime"): "RuntimeInfoResponseV2",
    ("humanitec", "PipelineRun"): "PipelineRun",
    ("humanitec-v2", "Deployment"): "Deployment",
}
"""What each recorded Humanitec answer is, in its contract's words."""


def cases(provider: str) -> list[str]:
    return sorted(path.stem for path in (FIXTURES / provider).glob("*.json"))


def raw(provider: str, case: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / provider / f"{case}.json").read_text())
    return loaded


def aws(provider: str, case: str) -> dict[str, Any]:
    """A case's AWS answers as boto3 returns them, by operation."""
    answers: dict[str, Any] = {}
    for operation, body in raw(provider, case).items():
        if operation in PER_THING:
            answers[operation] = {thing: _parsed(operation, one) for thing, one in body.items()}
        else:
            answers[operation] = _parsed(operation, body)
    return answers


def off_shape(provider: str, case: str) -> list[str]:
    """Where a recorded case departs from the published shape of its answers."""
    found: list[str] = []
    for name, body in raw(provider, case).items():
        if name in SERVICE_OF:
            shape = _operation(name).output_shape
            bodies = body.items() if name in PER_THING else [("", body)]
            for thing, one in bodies:
                found += [f"{name}{thing and f'[{thing}]'}: {at}" for at in _off(shape, one, "")]
            continue
        schema = HUMANITEC_SCHEMAS[(provider, name)]
        validator = _validator(provider, schema)
        found += [f"{name}: {error.message}" for error in validator.iter_errors(body)]
    return found


def _parsed(operation: str, body: Any) -> Any:
    model = _operation(operation)
    parser = botocore.parsers.create_parser(model.metadata["protocol"])
    answer = {"body": json.dumps(body).encode(), "headers": {}, "status_code": 200}
    parsed = parser.parse(answer, model.output_shape)
    parsed.pop("ResponseMetadata", None)
    return parsed


@cache
def _operation(operation: str) -> OperationModel:
    session = botocore.session.get_session()
    return session.get_service_model(SERVICE_OF[operation]).operation_model(operation)


def _off(shape: Shape, value: Any, where: str) -> Iterator[str]:
    """Keys the model does not have, required members missing, wrong container kinds."""
    if isinstance(shape, StructureShape):
        if not isinstance(value, dict):
            yield f"{where or '.'} is not an object"
            return
        for key in shape.required_members:
            if key not in value:
                yield f"{where}.{key} is required"
        for key, inner in value.items():
            if key not in shape.members:
                yield f"{where}.{key} is not in {shape.name}"
            else:
                yield from _off(shape.members[key], inner, f"{where}.{key}")
    elif isinstance(shape, ListShape):
        if not isinstance(value, list):
            yield f"{where} is not a list"
            return
        for index, item in enumerate(value):
            yield from _off(shape.member, item, f"{where}[{index}]")
    elif isinstance(shape, MapShape):
        if not isinstance(value, dict):
            yield f"{where} is not a map"
            return
        for key, item in value.items():
            yield from _off(shape.value, item, f"{where}.{key}")
    elif shape.type_name == "string" and not isinstance(value, str):
        yield f"{where} is not a string"
    elif shape.type_name in ("integer", "long") and not isinstance(value, int):
        yield f"{where} is not an integer"
    elif shape.type_name == "boolean" and not isinstance(value, bool):
        yield f"{where} is not a boolean"


@cache
def _validator(provider: str, schema: str) -> OAS30Validator:
    if provider == "humanitec":
        components = json.loads(CONTRACT.read_text())["components"]
    else:
        components = yaml.safe_load(V2_SPEC.read_text())["components"]
    name = schema.removesuffix("[]")
    ref = {"$ref": f"#/components/schemas/{name}"}
    shaped = {"type": "array", "items": ref} if schema.endswith("[]") else ref
    return OAS30Validator({**shaped, "components": components})
