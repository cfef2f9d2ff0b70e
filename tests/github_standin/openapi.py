"""GitHub's official OpenAPI description: find an operation, validate a request against it (path
and query parameters, the body and its media type, what it accepts), check an answer against
the documented statuses and schemas, and take the documented example answer as its shape."""

from __future__ import annotations

import copy
import functools
import gzip
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema
import referencing
from referencing.jsonschema import DRAFT4

SPEC_PATH = Path(__file__).parent.parent / "fixtures" / "github-openapi" / "api.github.com.json.gz"
# the versions X-GitHub-Api-Version may name (docs.github.com/rest/about-the-rest-api/api-versions)
API_VERSIONS = ("2022-11-28", "2026-03-10")
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

    def path_values(self, path: str) -> dict[str, str]:
        """The path parameters of a request for this operation (`{base}...{head}` included)."""
        pattern = re.sub(r"\\\{([^}]+)\\\}", r"(?P<\1>[^/]+?)", re.escape(self.template))
        found = re.fullmatch(pattern, path)
        return found.groupdict() if found else {}


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

    def _item(self, operation: Operation) -> dict[str, Any]:
        return self.spec["paths"][operation.template][operation.method.lower()]

    def _parameters(self, operation: Operation) -> list[tuple[dict[str, Any], str]]:
        """Each documented parameter and the JSON pointer of its schema."""
        found = []
        base = ("paths", operation.template, operation.method.lower(), "parameters")
        for index, parameter in enumerate(self._item(operation).get("parameters", [])):
            if "$ref" in parameter:
                name = parameter["$ref"].rsplit("/", 1)[-1]
                found.append(
                    (self.spec["components"]["parameters"][name], _pointer("components", "parameters", name))
                )
            else:
                found.append((parameter, _pointer(*base, str(index))))
        return found

    def parameter_errors(
        self, operation: Operation, path_values: dict[str, str], query: list[tuple[str, str]]
    ) -> list[str]:
        """Why GitHub would refuse (or silently ignore, losing what was meant) these path and
        query parameters: unknown names, missing required ones, values not of their schema."""
        errors = []
        documented = {(p["in"], p["name"]): (p, pointer) for p, pointer in self._parameters(operation)}
        given: dict[str, list[str]] = {}
        for name, value in query:
            given.setdefault(name, []).append(value)
        for name in given:
            if ("query", name) not in documented:
                errors.append(f"query parameter {name!r} is not one of this operation's")
        for (place, name), (parameter, pointer) in documented.items():
            values = [path_values[name]] if place == "path" and name in path_values else given.get(name)
            if values is None:
                if parameter.get("required"):
                    errors.append(f"{place} parameter {name!r} is required")
                continue
            try:
                value = _typed(parameter["schema"], values)
            except ValueError as exc:
                errors.append(f"{place} parameter {name}={values[-1]!r}: {exc}")
                continue
            validator = jsonschema.Draft4Validator(
                {"$ref": f"{ROOT_URI}#/{pointer}/schema"}, registry=self._registry
            )
            errors += [
                f"{place} parameter {name}={value!r}: {e.message[:120]}" for e in validator.iter_errors(value)
            ]
        return errors

    def header_errors(self, operation: Operation, headers: Mapping[str, str], has_body: bool) -> list[str]:
        """Why GitHub would refuse the request's headers: a body of a media type the operation
        does not take, an Accept none of its documented answers match; and, from GitHub's REST
        docs rather than the description, a missing User-Agent or an unknown API version."""
        errors = []
        item = self._item(operation)
        if has_body:
            sent = headers.get("content-type", "").split(";")[0].strip().lower()
            taken = list(item.get("requestBody", {}).get("content", {}))
            if taken and sent not in taken:
                errors.append(f"Content-Type {sent or '(none)'!r}: this operation takes {', '.join(taken)}")
        accept = headers.get("accept")
        answers = {
            media
            for status, response in item["responses"].items()
            if status.startswith("2")
            for media in response.get("content", {})
        }
        if accept and answers and not any(_accepts(accept, media) for media in answers):
            errors.append(f"Accept {accept!r}: this operation answers with {', '.join(sorted(answers))}")
        if not headers.get("user-agent"):
            errors.append("no User-Agent header: GitHub refuses such requests")
        version = headers.get("x-github-api-version")
        if version is not None and version not in API_VERSIONS:
            errors.append(
                f"X-GitHub-Api-Version {version!r} is not one GitHub supports ({', '.join(API_VERSIONS)})"
            )
        return errors

    def _response(self, operation: Operation, status: int) -> tuple[dict[str, Any], str] | None:
        """The documented answer with `status` (shared ones resolved) and its JSON pointer."""
        found = self._item(operation)["responses"].get(str(status))
        if found is None:
            return None
        if "$ref" in found:
            name = found["$ref"].rsplit("/", 1)[-1]
            return self.spec["components"]["responses"][name], _pointer("components", "responses", name)
        return found, _pointer(
            "paths", operation.template, operation.method.lower(), "responses", str(status)
        )

    def status_errors(self, operation: Operation, status: int) -> list[str]:
        """Why `status` is not an answer GitHub documents for this operation. Errors are not held
        to it: GitHub answers 404 or 403 where the description lists none."""
        if status >= 400 or self._response(operation, status) is not None:
            return []
        return [f"answered {status}, not one of {', '.join(self._item(operation)['responses'])}"]

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
        """Why `body` is not what GitHub documents this operation answering with `status` (an
        undocumented error: GitHub's basic error, {"message", "documentation_url"})."""
        found = self._response(operation, status)
        if found is None:
            if not isinstance(body, dict) or not isinstance(body.get("message"), str):
                return ["(body): an error answer of GitHub's carries its 'message'"]
            schema = f"{ROOT_URI}#/" + _pointer("components", "schemas", "basic-error")
        elif "application/json" in found[0].get("content", {}):
            schema = f"{ROOT_URI}#/{found[1]}/content/application~1json/schema"
        else:
            return [] if body is None else [f"a {status} answer of this operation has no JSON body"]
        validator = jsonschema.Draft4Validator({"$ref": schema}, registry=self._registry)
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


def _typed(schema: dict[str, Any], values: list[str]) -> Any:
    """A parameter's text as the JSON value its schema describes (GitHub's form style)."""
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "array" in kinds:
        items = schema.get("items", {})
        return [_typed(items, [part]) for value in values for part in value.split(",")]
    text = values[-1]
    if "integer" in kinds:
        try:
            return int(text)
        except ValueError:
            raise ValueError("is not an integer") from None
    if "number" in kinds:
        try:
            return float(text)
        except ValueError:
            raise ValueError("is not a number") from None
    if "boolean" in kinds:
        if text not in ("true", "false"):
            raise ValueError("is not true or false")
        return text == "true"
    return text


def _accepts(accept: str, media: str) -> bool:
    """Whether an Accept header takes `media`; GitHub's own vnd.github types are its JSON."""
    kind = media.partition("/")[0]
    for part in accept.split(","):
        wanted = part.split(";")[0].strip().lower()
        if wanted in ("*/*", f"{kind}/*", media):
            return True
        if (
            media == "application/json"
            and wanted.startswith("application/vnd.github")
            and wanted.endswith("json")
        ):
            return True
    return False


@functools.cache
def github_openapi() -> OpenAPI:
    """The shared, loaded description."""
    return OpenAPI()
