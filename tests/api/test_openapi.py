"""The OpenAPI document describes the API as it behaves: every /api route is an operation with
an operationId and a tag (§6), and schemathesis drives every operation with generated requests
and checks each answer against the document."""

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


HTTP_METHODS = {"get", "post", "put", "patch", "delete"}

# What a generated client calls, and under which tag: a change here renames a client's function.
OPERATION_IDS = {
    ("/api/levels", "get"): ("listLevels", "levels"),
    ("/api/levels/complete", "post"): ("recordCompletion", "levels"),
    ("/api/levels/progress", "get"): ("getProgress", "progress"),
    ("/api/xp/history", "get"): ("getXpHistory", "progress"),
    ("/api/achievements", "get"): ("listAchievements", "progress"),
    ("/api/leaderboard", "get"): ("getLeaderboard", "leaderboard"),
    ("/api/tokens", "get"): ("listTokens", "tokens"),
    ("/api/tokens", "post"): ("createToken", "tokens"),
    ("/api/tokens/{token_id}", "delete"): ("revokeToken", "tokens"),
    ("/api/admin/users/{user_id}/xp-adjustments", "post"): ("adjustUserXp", "admin"),
    ("/api/admin/completions/{completion_id}/revoke", "post"): ("revokeCompletion", "admin"),
    ("/api/admin/users/{user_id}/reset", "post"): ("resetUser", "admin"),
    ("/api/openapi.json", "get"): ("getOpenapiDocument", "meta"),
}


def registered_api_routes(app) -> set[tuple[str, str]]:
    """(path as the document spells it, method) for every /api route of the app."""
    return {
        (re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", rule.rule), method.lower())
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/") and not rule.rule.startswith("/api/_test/")
        for method in rule.methods
        if method.lower() in HTTP_METHODS
    }


def documented_operations(document) -> dict[tuple[str, str], dict]:
    return {
        (path, method): operation
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if method in HTTP_METHODS
    }


def test_every_api_route_is_an_operation_and_every_operation_a_route(app, client):
    operations = documented_operations(client.get("/api/openapi.json").json)
    routes = registered_api_routes(app)
    assert routes - set(operations) == set(), "routes missing from the document"
    assert set(operations) - routes == set(), "operations with no route"


def test_every_operation_has_a_unique_operation_id_and_a_described_tag(client):
    document = client.get("/api/openapi.json").json
    described = {tag["name"] for tag in document["tags"] if tag.get("description")}
    operations = documented_operations(document)
    ids = [operation.get("operationId") for operation in operations.values()]
    assert all(ids), [
        key for key, operation in operations.items() if not operation.get("operationId")
    ]
    assert len(set(ids)) == len(ids), sorted(ids)
    for key, operation in operations.items():
        assert operation.get("tags"), key
        assert set(operation["tags"]) <= described, key


def test_operation_ids_and_tags_are_the_names_clients_call(client):
    operations = documented_operations(client.get("/api/openapi.json").json)
    assert {
        key: (operation["operationId"], *operation["tags"]) for key, operation in operations.items()
    } == OPERATION_IDS


def api_operations(app):
    schema = schemathesis.openapi.from_wsgi("/api/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_api_keeps_the_promises_of_its_document(app, levels, player, config_override):
    config_override(COMPLETION_RATE_LIMIT="100000/minute", TOKEN_CREATE_RATE_LIMIT="100000/minute")
    with app.app_context():
        headers = factories.bearer(factories.make_token(player, "schemathesis"))
    operations = api_operations(app)
    # schemathesis leaves out the operation that serves the document it reads.
    assert len(operations) == len(OPERATION_IDS) - 1
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
