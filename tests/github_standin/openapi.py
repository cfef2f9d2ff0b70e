"""GitHub's official OpenAPI description: find an operation, validate a request body against
it, and take the documented example answer as the shape of a response."""

from __future__ import annotations

import copy
import functools
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path(__file__).parent.parent / "fixtures" / "github-openapi" / "api.github.com.json.gz"
ROOT_URI = "urn:github:openapi"


def _nullable(node: Any) -> Any:
    """OpenAPI 3.0's `nullable: true` as JSON Schema understands it."""
    if isinstance(node, list):
        return [_nullable(item) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _nullable(value) for key, value in node.items()}
    if node.pop("nullable", False):
        if isinstance(node.get("type"), str):
            node["type"] = [node["type"], "null"]
            if "enum" in node:
                node["enum"] = [*node["enum"], None]
        else:
            return {"anyOf": [node, {"type": "null"}]}
    return node


def _pointer(*parts: str) -> str:
    return "/".join(part.replace("~", "~0").replace("/", "~1") for part in parts)


@dataclass(frozen=True)
class Operation:
    """One documented operation: method, path template, and where it sits in the spec."""

    method: str
    template: str
    regex: re.Pattern[str]

    @property
    def literal_parts(self) -> int:
        return len(re.sub(r"\{[^}]+\}", "", self.template))


class OpenAPI:
    """The loaded description (done once per process: it is large)."""

    def __init__(self, path: Path = SPEC_PATH) -> None:
        with gzip.open(path) as handle:
            self.spec: dict[str, Any] = _nullable(json.load(handle))
        resource = DRAFT4.create_resource(self.spec)
        self._registry: referencing.Registry[Any] = referencing.Registry().with_resource(ROOT_URI, resource)
        self._operations: dict[str, list[Operation]] = {}
        for template, item in self.spec["paths"].items():
            pattern = re.compile("^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$")
            for method in item:
                if method in ("get", "post", "patch", "put", "delete"):
                    self._operations.setdefault(method.upper(), []).append(
                        Operation(method.upper(), template, pattern)
                    )

    def operation(self, method: str, path: str) -> Operation | None:
        """The documented operation a request is for (the most literal template wins)."""
        matches = [op for op in self._operations.get(method, []) if op.regex.match(path)]
        return max(matches, key=lambda op: op.literal_parts, default=None)

    def body_errors(self, operation: Operation, body: Any) -> list[str]:
        """Why GitHub would refuse this body (empty when it is valid)."""
        item = self.spec["paths"][operation.template][operation.method.lower()]
        request = item.get("requestBody")
        if request is None:
            return [] if body is None else ["this operation takes no request body"]
        if body is None:
            return ["a JSON body is required"] if request.get("required") else []
        pointer = _pointer(
            "paths",
            operation.template,
            operation.method.lower(),
            "requestBody",
            "content",
            "application/json",
            "schema",
        )
        validator = jsonschema.Draft4Validator({"$ref": f"{ROOT_URI}#/{pointer}"}, registry=self._registry)
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: "
            f"{error.validator} {str(error.validator_value)[:80]} ({error.message[:120]})"
            for error in validator.iter_errors(body)
        ]

    def answer_errors(self, operation: Operation, status: int, body: Any) -> list[str]:
        """Why `body` is not what GitHub documents this operation answering with `status`."""
        pointer = _pointer(
            "paths",
            operation.template,
            operation.method.lower(),
            "responses",
            str(status),
            "content",
            "application/json",
            "schema",
        )
        validator = jsonschema.Draft4Validator({"$ref": f"{ROOT_URI}#/{pointer}"}, registry=self._registry)
        return [
            f"{'/'.join(map(str, error.absolute_path)) or '(body)'}: {error.message[:160]}"
            for error in validator.iter_errors(body)
        ]

    def example(self, operation: Operation, status: int) -> Any:
        """A fresh copy of the documented example answer for this operation and status."""
        item = self.spec["paths"][operation.template][operation.method.lower()]
        content = item["responses"][str(status)]["content"]["application/json"]
        example = next(iter(content["examples"].values()))
        if "$ref" in example:
            example = self.spec["components"]["examples"][example["$ref"].rsplit("/", 1)[-1]]
        return copy.deepcopy(example["value"])


@functools.cache
def github_openapi() -> OpenAPI:
    """The shared, loaded description."""
    return OpenAPI()
