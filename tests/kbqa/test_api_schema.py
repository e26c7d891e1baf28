"""Schemathesis against the OpenAPI schema (the contract): generated requests to every operation,
valid and invalid, must never produce a server error, and 2xx bodies must match the schema.

Bounded: a few examples per operation, no deadline; the index is empty and the LLM down, so an
ask costs a refusal and never a generation.
"""

from __future__ import annotations

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

MAX_EXAMPLES = 8


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


def test_no_server_errors_and_responses_match_the_schema(api_schema, api_key):
    headers = {"Authorization": f"Bearer {api_key}"}
    operations = [result.ok() for result in api_schema.get_all_operations()]
    assert len(operations) > 20
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=MAX_EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def check(case):
            response = case.call(headers=headers)
            case.validate_response(
                response,
                checks=[not_a_server_error, response_schema_conformance],
                headers=headers,
            )

        check()
