"""Schemathesis against the OpenAPI schema (the contract): requests generated for every
operation, valid and invalid, must never produce a server error; every answer must have a
documented status and match its schema (which names every field a response may hold); and
requests the schema calls invalid must be refused with a 4xx.

Deterministic in the normal run: a few examples per operation, derandomised, so a commit passes
or fails the same way every time. `bin/fuzz` runs the same test for bug finding, with
`KBQA_FUZZ_EXAMPLES` examples per operation and a random `KBQA_FUZZ_SEED`, which it prints:
`KBQA_FUZZ_SEED=<n> bin/fuzz` replays a failure.

No deadline; the index is empty and the LLM down, so an ask costs a refusal and never a
generation.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, seed, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.mutations import OperatorKind
from schemathesis.core.parameters import ParameterLocation
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

MAX_EXAMPLES = int(os.environ.get("KBQA_FUZZ_EXAMPLES", "8"))
SEED = os.environ.get("KBQA_FUZZ_SEED")  # unset: derandomised
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    negative_data_rejection,  # acts on the invalid (negative) cases only
]
# Form bodies carry no types: `-22` is a string as much as a number, and REST framework reads an
# optional field sent empty as one left out (HTML forms send every input, filled or not). So an
# "invalid" form body is often a valid one once encoded; such bodies are still checked for server
# errors and conforming answers, but not expected to be refused. JSON bodies are.
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")
LENIENT_CHECKS = [check for check in CHECKS if check is not negative_data_rejection]
# Likewise REST framework reads some JSON scalars of another type as the schema's where the
# meaning is plain: a number for a text field is its digits (3867 -> "3867"), "5" or 5.0 for a
# whole number is 5, "true" or 1 for a boolean is true. Refusing them would make the API stricter
# than any client needs, for no safety; a case whose only invalid parts are such a swap is not
# expected to be refused (it may be, when the value does not convert: "abc" for a number).
CONVERTED = {
    "string": {"integer", "number"},
    "integer": {"string", "number"},
    "number": {"string", "integer"},
    "boolean": {"string", "integer"},
}


def _types(value) -> set[str]:
    return set(value) if isinstance(value, list) else {value}


def _only_converted_types(case, headers: dict[str, str]) -> bool:
    """Whether the case's only invalid parts are CONVERTED types (an invalid header the test
    replaces, such as its Authorization, is not sent, so not counted)."""
    mutations = [
        mutation
        for mutation in (getattr(case.meta.phase.data, "mutations", ()) if case.meta else ())
        if not (
            mutation.parameter_location == ParameterLocation.HEADER
            and mutation.parameter in headers
        )
    ]
    return bool(mutations) and all(
        mutation.operator == OperatorKind.CHANGE_TYPE
        and mutation.parameter_location == ParameterLocation.BODY
        and all(
            _types(mutation.new_value) <= CONVERTED.get(original, set())
            for original in _types(mutation.original_value)
        )
        for mutation in mutations
    )


@pytest.fixture
def api_key(db, admin_user) -> str:
    from kbqa.api.tokens import token_create

    return token_create(user=admin_user, name="schemathesis", scope="manage")[1]


@pytest.fixture
def wsgi_app():
    """The real WSGI application, minus closing the database connection after each request (as
    Django's test client does), which would end the test's transaction."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield get_wsgi_application()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def api_schema(wsgi_app, api_key, isolated_index, llm_server_down):
    return schemathesis.openapi.from_wsgi(
        "/api/v1/schema/?format=json", wsgi_app, headers={"Authorization": f"Bearer {api_key}"}
    )


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_no_server_errors_and_answers_match_the_schema(api_schema, api_key, mode):
    headers = {"Authorization": f"Bearer {api_key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @given(case=operation.as_strategy(generation_mode=mode))
        @settings(
            max_examples=MAX_EXAMPLES,
            derandomize=SEED is None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            response = case.call(headers=headers)
            lenient = case.media_type in FORM_TYPES or _only_converted_types(case, headers)
            checks = LENIENT_CHECKS if lenient else CHECKS
            case.validate_response(response, checks=checks, headers=headers)

        (seed(int(SEED))(check) if SEED else check)()


def test_answers_about_a_real_document_match_the_schema(api_schema, api_key, ingested_handbook):
    """The generated requests above meet an empty knowledge base; these answers carry real
    documents, passages, citations and closest documents, field by field as the schema says."""
    headers = {"Authorization": f"Bearer {api_key}"}

    def call(path: str, method: str, **request) -> dict:
        if "body" in request:
            request["media_type"] = "application/json"
        case = api_schema[path][method].Case(**request)
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS, headers=headers)
        assert response.status_code < 300, response.text
        return response.json()

    document = {"id": ingested_handbook.pk}
    assert call("/api/v1/documents/", "GET")["count"] == 1
    assert call("/api/v1/documents/{id}/", "GET", path_parameters=document)["chunk_count"]
    assert call("/api/v1/search/", "POST", body={"query": "cafeteria hours"})["results"]
    # The LLM is down: the passages come back with `error` set.
    grounded = call("/api/v1/ask/", "POST", body={"question": "When does the cafeteria open?"})
    assert grounded["error"] and grounded["sources"]
    # A question the handbook cannot answer is refused, naming the closest documents.
    refused = call("/api/v1/ask/", "POST", body={"question": "Who won the 1930 World Cup?"})
    assert refused["refused"] and refused["closest_documents"]
    conversation = {"id": refused["conversation_id"]}
    call("/api/v1/conversations/{id}/", "GET", path_parameters=conversation)
    messages = call("/api/v1/conversations/{id}/messages/", "GET", path_parameters=conversation)
    assert messages["count"] == 2


@pytest.mark.django_db
def test_the_schema_documents_every_error_and_closes_response_objects(admin_api):
    schema = admin_api.get("/api/v1/schema/", {"format": "json"}).json()
    paths, components = schema["paths"], schema["components"]["schemas"]
    error = {"$ref": "#/components/schemas/Error"}
    for path, operations in paths.items():
        for method, operation in operations.items():
            responses = operation["responses"]
            assert {"400", "401", "406", "429"} <= set(responses), (method, path)
            assert ("415" in responses) == ("requestBody" in operation), (method, path)
            if path.startswith("/api/"):
                assert responses["400"]["content"]["application/json"]["schema"] == error
    assert "409" in paths["/api/v1/tokens/{id}/"]["delete"]["responses"]  # a token revoking itself
    assert "409" in paths["/api/v1/documents/"]["post"]["responses"]  # a duplicate upload
    assert "404" in paths["/api/v1/documents/"]["get"]["responses"]  # a page past the end
    assert "404" in paths["/api/v1/ask/"]["post"]["responses"]  # an unknown conversation_id
    assert "403" in paths["/api/v1/collections/"]["post"]["responses"]
    assert "403" not in paths["/api/v1/collections/"]["get"]["responses"]
    # Responses may hold only the fields they name; requests stay open.
    for name in ("Answer", "ClosestDocument", "PaginatedDocumentList", "Error", "OpenAIError"):
        assert components[name]["additionalProperties"] is False, name
    assert "additionalProperties" not in components["AskRequest"]
    upload = components["DocumentUploadRequest"]
    assert "file" in upload["required"] and upload["properties"]["file"]["minItems"] == 1
