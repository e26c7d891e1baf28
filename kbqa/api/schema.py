"""The OpenAPI schema as the contract: every answer an operation can give is documented, and
response bodies may hold nothing the schema does not name.

- `AutoSchema` adds the error answers (the `Error` component, the site's one error body) to each
  operation: 400, 401, 406 and 429 everywhere; 403 for writes (scopes, permissions, CSRF); 415
  for bodies; 404 for operations on one object and for paginated lists (a page past the end);
  and whatever a view declares in `error_statuses` ({method: (status, ...)}: 409 conflicts, a
  404 for an object named in the body).
- `close_response_objects` (a post-processing hook) sets `additionalProperties: false` on every
  object schema a response uses, so a field the server sends but the schema lacks fails
  schemathesis' response_schema_conformance check instead of drifting unnoticed. Request schemas
  stay open (COMPONENT_SPLIT_REQUEST keeps them apart): clients may send more than is read.
"""

from __future__ import annotations

from collections.abc import Iterator

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent
from rest_framework.permissions import SAFE_METHODS, IsAuthenticated

from kbqa.errors import OPENAI_PATH

ERROR_SCHEMA = {
    "type": "object",
    "description": 'The error body of every failure: `{"error": {"code", "message", "fields"}}`.',
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "code": {
                    "type": "string",
                    "description": "stable and machine-readable: `invalid`, `parse_error`, "
                    "`bad_request`, `not_authenticated`, `authentication_failed`, "
                    "`permission_denied`, `not_found`, `method_not_allowed`, `not_acceptable`, "
                    "`unsupported_media_type`, `conflict`, `duplicate`, `throttled`, "
                    "`server_error`",
                },
                "message": {"type": "string", "description": "for people"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {},
                    "description": "validation errors only: each bad field's messages",
                },
            },
            "required": ["code", "message"],
        },
        "rejected": {
            "type": "array",
            "items": {"$ref": "#/components/schemas/Rejected"},
            "description": "an upload where every file was refused: each file and its reason",
        },
        "document": {
            "allOf": [{"$ref": "#/components/schemas/Document"}],
            "nullable": True,
            "description": "`duplicate` (an upload identical to a stored document): that "
            "document when the caller may read it, else null",
        },
    },
    "required": ["error"],
}

# The OpenAI-compatible facade (under OPENAI_PATH, /v1/) answers in OpenAI's shape.
OPENAI_ERROR_SCHEMA = {
    "type": "object",
    "description": "OpenAI's error body, which OpenAI's SDKs read.",
    "properties": {
        "error": {
            "type": "object",
            "properties": {
                "message": {"type": "string"},
                "type": {"type": "string", "description": "e.g. `invalid_request_error`"},
                "code": {"type": "string", "description": "kbqa's error code"},
                "param": {"type": "string", "nullable": True, "description": "the bad field"},
            },
            "required": ["message", "type", "code", "param"],
        }
    },
    "required": ["error"],
}

DESCRIPTIONS = {
    400: "Invalid input (`invalid`, with `fields`), or a malformed request.",
    401: "No credentials (`not_authenticated`), or a bad token (`authentication_failed`).",
    403: "Outside the token's scope or the user's permissions, or a failed CSRF check.",
    404: "No such object among those the caller may read, or no such page of a list.",
    406: "The Accept header asks for a format this address does not answer in.",
    409: "The current state does not allow it (`conflict`), or the upload is a `duplicate`.",
    415: "The body's Content-Type is not one this operation reads.",
    429: "Too many requests (`throttled`): retry after `Retry-After` seconds.",
}


class AutoSchema(openapi.AutoSchema):
    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        name, schema = (
            ("OpenAIError", OPENAI_ERROR_SCHEMA)
            if self.path.startswith(OPENAI_PATH)
            else ("Error", ERROR_SCHEMA)
        )
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=schema
        )
        self.registry.register_on_missing(component)
        for status in self._error_statuses():
            code = str(status)
            if code not in responses:
                body = self._get_response_for_code(
                    component.ref, code, ["application/json"], direction
                )
                responses[code] = {**body, "description": DESCRIPTIONS[status]}
        return responses

    def _error_statuses(self) -> list[int]:
        statuses = {400, *getattr(self.view, "error_statuses", {}).get(self.method, ())}
        if any(isinstance(p, IsAuthenticated) for p in self.view.get_permissions()):
            statuses.add(401)
        if self.method not in SAFE_METHODS:
            statuses.add(403)
        if "{" in self.path or (self._is_list_view() and self._get_paginator()):
            statuses.add(404)
        if self.view.get_throttles():
            statuses.add(429)
        statuses.add(406)  # content negotiation, on every operation
        if self.method in ("POST", "PUT", "PATCH") and self.get_request_serializer():
            statuses.add(415)
        return sorted(statuses)


def close_response_objects(result: dict, generator, request, public) -> dict:
    """POSTPROCESSING_HOOKS: `additionalProperties: false` on the objects responses use."""
    schemas = result.get("components", {}).get("schemas", {})
    responses = [
        response
        for path in result["paths"].values()
        for operation in path.values()
        for response in operation.get("responses", {}).values()
    ]
    seen: set[str] = set()
    pending = [name for response in responses for name in _refs(response)]
    while pending:
        name = pending.pop()
        if name in seen or name not in schemas:
            continue
        seen.add(name)
        pending.extend(_refs(schemas[name]))
        _close(schemas[name])
    for response in responses:
        for media in response.get("content", {}).values():
            _close(media.get("schema", {}))
    return result


def _refs(node) -> Iterator[str]:
    """Names of the components a schema (or any part of a document) refers to."""
    if isinstance(node, dict):
        ref = node.get("$ref", "")
        if ref.startswith("#/components/schemas/"):
            yield ref.rsplit("/", 1)[1]
        for value in node.values():
            yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _close(schema: dict) -> None:
    """Close every object with named properties within `schema` (not through references)."""
    if not isinstance(schema, dict) or "$ref" in schema:
        return
    if "properties" in schema and "additionalProperties" not in schema:
        schema["additionalProperties"] = False
    for value in schema.get("properties", {}).values():
        _close(value)
    if isinstance(schema.get("items"), dict):
        _close(schema["items"])
    for key in ("allOf", "oneOf", "anyOf"):
        for member in schema.get(key, []):
            _close(member)
