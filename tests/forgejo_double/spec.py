"""Forgejo's OpenAPI (Swagger 2.0) description as the double uses it: which method and path
exist, what a request body must look like, and what a response must look like.

Requests are checked strictly: besides the spec's types and required fields, a property the
spec does not name is refused (real Forgejo would silently ignore it, which hides client bugs).
Responses are checked as Forgejo really answers (NOTES.md): any property may be JSON null,
because Go encodes unset pointers and slices that way.
"""

import copy
import json
import re

import jsonschema

DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")

FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time")
def _is_date_time(value):
    return not isinstance(value, str) or bool(DATE_TIME.match(value))


def _strict(node):
    """The schema with `additionalProperties: false` on every object that lists properties."""
    if isinstance(node, dict):
        node = {k: _strict(v) for k, v in node.items()}
        if "properties" in node and "additionalProperties" not in node:
            node["additionalProperties"] = False
        return node
    if isinstance(node, list):
        return [_strict(v) for v in node]
    return node


def _nullable(node):
    """The schema with null allowed for every property and array item."""
    if isinstance(node, dict):
        node = {k: _nullable(v) for k, v in node.items()}
        if "properties" in node:
            node["properties"] = {k: {"anyOf": [v, {"type": "null"}]} for k, v in node["properties"].items()}
        return node
    if isinstance(node, list):
        return [_nullable(v) for v in node]
    return node


class Route:
    """One path template of the spec and the operations it allows."""

    def __init__(self, template, operations):
        self.template = template
        self.operations = operations
        self.segments = template.strip("/").split("/")
        # Literal segments win over parameters (`issues/comments` before `issues/{index}`).
        self.rank = tuple(1 if s.startswith("{") else 0 for s in self.segments)

    def match(self, segments):
        if len(segments) != len(self.segments):
            return None
        params = {}
        for pattern, value in zip(self.segments, segments):
            if pattern.startswith("{"):
                params[pattern[1:-1]] = value
            elif pattern != value:
                return None
        return params


class Spec:
    """The loaded spec: routing, request checks, response checks."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as f:
            self.doc = json.load(f)
        self.base = self.doc["basePath"]
        self.routes = sorted((Route(t, ops) for t, ops in self.doc["paths"].items()), key=lambda r: r.rank)
        definitions = self.doc["definitions"]
        self._strict_definitions = _strict(copy.deepcopy(definitions))
        self._nullable_definitions = _nullable(copy.deepcopy(definitions))
        self._validators = {}

    def _validator(self, key, schema, strict):
        """A validator for `schema` (strict for requests, nullable for responses), built once."""
        if key not in self._validators:
            transform, definitions = (_strict, self._strict_definitions) if strict else (_nullable, self._nullable_definitions)
            root = {**transform(copy.deepcopy(schema)), "definitions": definitions}
            self._validators[key] = jsonschema.Draft4Validator(root, format_checker=FORMATS)
        return self._validators[key]

    def route(self, method, path):
        """(template, operation, path parameters) of a request, or None when the spec has no
        such method and path. Integer path parameters must be integers."""
        segments = path[len(self.base):].strip("/").split("/")
        for route in self.routes:
            params = route.match(segments)
            if params is None:
                continue
            operation = route.operations.get(method.lower())
            if operation is None:
                continue
            if not self._params_fit(operation, params):
                continue
            return route.template, operation, params
        return None

    @staticmethod
    def _params_fit(operation, params):
        for p in operation.get("parameters", []):
            if p.get("in") == "path" and p.get("type") == "integer":
                if not re.fullmatch(r"-?\d+", params.get(p["name"], "")):
                    return False
        return True

    def request_errors(self, operation, body):
        """Forgejo-style messages (`[Title]: Required`) for a body that does not fit the
        operation's body schema; empty when it fits."""
        schema = next((p["schema"] for p in operation.get("parameters", []) if p.get("in") == "body"), None)
        if schema is None:
            return [] if body is None else ["[body]: this operation takes no request body"]
        if body is None:
            body = {}
        validator = self._validator(("request", operation["operationId"]), schema, strict=True)
        messages = []
        for error in sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path)):
            messages.append(self._message(error, schema))
        return messages

    def _message(self, error, schema):
        if error.validator == "required":
            name = error.message.split("'")[1]
            return f"[{self._go_name(schema, name)}]: Required"
        if error.validator == "additionalProperties":
            extra = sorted(set(error.instance) - set(error.schema.get("properties", {})))
            return f"[{', '.join(extra)}]: unknown field"
        field = ".".join(str(p) for p in error.absolute_path) or "body"
        return f"[{field}]: {error.message}"

    def _go_name(self, schema, name):
        ref = schema.get("$ref", "")
        definition = self.doc["definitions"].get(ref.split("/")[-1], {})
        return definition.get("properties", {}).get(name, {}).get("x-go-name", name)

    def response_errors(self, operation, status, body, headers):
        """What is wrong with a response the double is about to send: a success status the
        operation does not declare, a body that does not follow the declared schema, or a
        declared header that is missing. Error statuses Forgejo answers for any route (401,
        403, 404, 422, 429, 500) are accepted when undeclared."""
        declared = operation.get("responses", {}).get(str(status))
        if declared is None:
            if 200 <= status < 300:
                return [f"status {status} is not declared for {operation.get('operationId')}"]
            return []
        if "$ref" in declared:
            declared = self.doc["responses"][declared["$ref"].split("/")[-1]]
        problems = []
        schema = declared.get("schema")
        if schema is not None:
            validator = self._validator(("response", operation["operationId"], status), schema, strict=False)
            for error in validator.iter_errors(body):
                path = "/".join(str(p) for p in error.absolute_path)
                problems.append(f"{operation.get('operationId')} {status} body at /{path}: {error.message}")
        elif body is not None:
            problems.append(f"{operation.get('operationId')} {status} declares no body but one was sent")
        lower = {k.lower() for k in headers}
        for name in declared.get("headers", {}):
            # Forgejo sends no Link when everything fits on one page, nor for tracked times.
            if name.lower() not in lower and name.lower() != "link":
                problems.append(f"{operation.get('operationId')} {status} misses header {name}")
        return problems
