"""The OpenAPI document describes the API as it behaves: schemathesis drives every operation
with generated requests and checks each answer against the document."""

import re

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tests import factories


def test_the_document_is_public_and_lists_every_route(client):
    response = client.get("/api/openapi.json")
    assert response.status_code == 200
    document = response.json
    assert document["openapi"].startswith("3.")
    assert {
        "/api/levels",
        "/api/levels/complete",
        "/api/levels/progress",
        "/api/xp/history",
        "/api/tokens",
    } <= set(document["paths"])
    request = document["components"]["schemas"]["CompletionRequest"]
    assert request["additionalProperties"] is False
    assert set(request["required"]) == {"level_id", "score", "time_spent"}


def test_every_api_route_is_documented(app, client):
    documented = set(client.get("/api/openapi.json").json["paths"])
    routes = {
        re.sub(r"<\w+:(\w+)>", r"{\1}", rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and not rule.rule.startswith("/api/_test/")
    }
    assert routes - {"/api/openapi.json"} <= documented


def api_operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_api_keeps_the_promises_of_its_document(app, levels, player, config_override):
    config_override(COMPLETION_RATE_LIMIT="100000/minute", TOKEN_CREATE_RATE_LIMIT="100000/minute")
    with app.app_context():
        headers = factories.bearer(factories.make_token(player, "schemathesis"))
    operations = api_operations(app)
    assert len(operations) >= 7
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def keeps_its_promises(case):
            # Business rules (an unknown level, a locked one, a score above that level's
            # maximum) rightly refuse some schema-valid bodies, so "valid data is accepted"
            # is not checked; every other check is: no 5xx, documented status codes,
            # content types, headers and bodies, and invalid data refused.
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])

        keeps_its_promises()
