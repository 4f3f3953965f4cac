"""GET /api/openapi.json: an OpenAPI 3 document generated from the marshmallow schemas."""

from __future__ import annotations

from typing import Any

from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import current_app

from app.api import api
from app.schemas.achievements import AchievementListSchema
from app.schemas.admin import (
    AdjustmentResultSchema,
    ResetResultSchema,
    ResetSchema,
    RevocationResultSchema,
    RevocationSchema,
    XPAdjustmentSchema,
)
from app.schemas.completions import CompletionRequestSchema, CompletionResultSchema
from app.schemas.errors import ErrorSchema
from app.schemas.leaderboard import LeaderboardQuerySchema, LeaderboardSchema
from app.schemas.levels import LevelListSchema
from app.schemas.progress import HistoryPageSchema, HistoryQuerySchema, ProgressSchema
from app.schemas.tokens import IssuedTokenSchema, TokenCreateSchema, TokenSchema

SIGNED_IN = [{"bearerAuth": []}, {"sessionCookie": []}]
# Public routes answer anyone, and say more to a signed-in caller (§6).
SIGN_IN_OPTIONAL = [{}, *SIGNED_IN]

# Every operation has one of these tags and an operationId: a generated client groups its
# functions by tag and names each after the operationId (§6). The ids are camelCase, chosen
# here by hand rather than taken from the view functions, so renaming a function in app/api
# never renames a client's call.
TAGS = [
    {"name": "levels", "description": "The level catalog, and recording a completed level."},
    {"name": "progress", "description": "The caller's own progress and XP ledger."},
    {"name": "leaderboard", "description": "Players ranked by XP, derived from the ledger."},
    {"name": "tokens", "description": "Bearer tokens for API clients."},
    {
        "name": "admin",
        "description": "Operators' corrections (is_admin only): adjust, revoke, reset.",
    },
    {"name": "meta", "description": "This document."},
]

ERROR_STATUSES = {
    400: "The body or query is not valid.",
    401: "Not signed in, or an Authorization header whose token is unknown, revoked or malformed.",
    403: "Forbidden: a cross-site write, a locked level, someone else's data, or admin only.",
    404: "Not found, or tracking is not enabled for this account (tracking_disabled).",
    405: "Method not allowed.",
    409: "Conflicts with existing data (e.g. idempotency_conflict).",
    413: "The body is larger than the limit.",
    415: "Writes must be JSON.",
    429: "Rate limited; see Retry-After.",
    500: "Unexpected error (logged; no details are shown).",
    503: "The database is unavailable.",
}


def errors(*statuses: int) -> dict[int, Any]:
    return {
        status: {
            "description": ERROR_STATUSES[status],
            "content": {"application/json": {"schema": "Error"}},
        }
        for status in statuses
    }


def ok(schema: Any, description: str, status: int = 200) -> dict[int, Any]:
    return {
        status: {"description": description, "content": {"application/json": {"schema": schema}}}
    }


def json_body(schema: Any) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def path_id(name: str, bits: int = 32) -> dict[str, Any]:
    """An id in the path; one outside the column's range is answered 404."""
    schema = {"type": "integer", "minimum": 1, "maximum": 2 ** (bits - 1) - 1}
    return {"in": "path", "name": name, "required": True, "schema": schema}


# Any route answers 401 to an Authorization header that does not hold a valid token.
COMMON = (401, 405, 429, 500, 503)
WRITE = (400, 401, 403, 413, 415, *COMMON)

OPERATIONS: dict[str, dict[str, Any]] = {
    "/api/levels": {
        "get": {
            "operationId": "listLevels",
            "tags": ["levels"],
            "security": SIGN_IN_OPTIONAL,
            "summary": "The level catalog, with the caller's standing when signed in.",
            "responses": ok(LevelListSchema, "Levels in catalog order.") | errors(*COMMON),
        }
    },
    "/api/levels/complete": {
        "post": {
            "operationId": "recordCompletion",
            "tags": ["levels"],
            "summary": "Record a completed level once and award its XP.",
            "description": (
                "XP is computed by the server. Retrying with the same client_event_id returns "
                "the original result with is_new_completion false and the header "
                "Idempotent-Replayed: true."
            ),
            "security": SIGNED_IN,
            "requestBody": json_body(CompletionRequestSchema),
            "responses": {
                200: {
                    "description": "The recorded (or replayed) completion.",
                    "headers": {
                        "Idempotent-Replayed": {
                            "description": "true when this answer replays an earlier one.",
                            "schema": {"type": "string", "enum": ["true"]},
                        }
                    },
                    "content": {"application/json": {"schema": CompletionResultSchema}},
                }
            }
            | errors(*WRITE, 404, 409),
        }
    },
    "/api/levels/progress": {
        "get": {
            "operationId": "getProgress",
            "tags": ["progress"],
            "summary": "The caller's total XP, per-level standing and per-category summaries.",
            "security": SIGNED_IN,
            "responses": ok(ProgressSchema, "Progress.") | errors(401, *COMMON),
        }
    },
    "/api/xp/history": {
        "get": {
            "operationId": "getXpHistory",
            "tags": ["progress"],
            "summary": "The caller's XP ledger, newest first, paginated by id.",
            "security": SIGNED_IN,
            "parameters": [{"in": "query", "schema": HistoryQuerySchema}],
            "responses": ok(HistoryPageSchema, "One page of history.") | errors(400, 401, *COMMON),
        }
    },
    "/api/achievements": {
        "get": {
            "operationId": "listAchievements",
            "tags": ["progress"],
            "summary": "Every achievement, each with when the caller earned it (null if not yet).",
            "security": SIGNED_IN,
            "responses": ok(AchievementListSchema, "Achievements in catalog order.")
            | errors(*COMMON),
        }
    },
    "/api/leaderboard": {
        "get": {
            "operationId": "getLeaderboard",
            "tags": ["leaderboard"],
            "security": SIGN_IN_OPTIONAL,
            "summary": "Players ranked by XP in a period, and the caller's own rank.",
            "description": (
                "Ties share a rank and are listed by who reached that XP first. Players without "
                "XP in the period are not listed; me is null when anonymous or without XP."
            ),
            "parameters": [{"in": "query", "schema": LeaderboardQuerySchema}],
            "responses": ok(LeaderboardSchema, "The board.") | errors(400, *COMMON),
        }
    },
    "/api/tokens": {
        "get": {
            "operationId": "listTokens",
            "tags": ["tokens"],
            "summary": "The caller's API tokens (never their secrets).",
            "security": SIGNED_IN,
            "responses": ok(
                {"type": "object", "properties": {"tokens": {"type": "array", "items": "Token"}}},
                "Tokens.",
            )
            | errors(401, *COMMON),
        },
        "post": {
            "operationId": "createToken",
            "tags": ["tokens"],
            "summary": "Issue a bearer token; its secret is shown this once.",
            "security": SIGNED_IN,
            "requestBody": json_body(TokenCreateSchema),
            "responses": ok(IssuedTokenSchema, "The new token.", 201) | errors(*WRITE),
        },
    },
    "/api/tokens/{token_id}": {
        "delete": {
            "operationId": "revokeToken",
            "tags": ["tokens"],
            "summary": "Revoke one of the caller's tokens.",
            "security": SIGNED_IN,
            "parameters": [path_id("token_id")],
            "responses": ok(
                {
                    "type": "object",
                    "properties": {"success": {"type": "boolean"}, "token": "Token"},
                },
                "The revoked token.",
            )
            | errors(401, 403, 404, *COMMON),
        }
    },
    "/api/admin/users/{user_id}/xp-adjustments": {
        "post": {
            "operationId": "adjustUserXp",
            "tags": ["admin"],
            "summary": "Admin only: add or take away XP as a manual_adjustment ledger entry.",
            "security": SIGNED_IN,
            "parameters": [path_id("user_id")],
            "requestBody": json_body(XPAdjustmentSchema),
            "responses": ok(AdjustmentResultSchema, "The appended entry and the new total.", 201)
            | errors(*WRITE, 404, 409),
        }
    },
    "/api/admin/completions/{completion_id}/revoke": {
        "post": {
            "operationId": "revokeCompletion",
            "tags": ["admin"],
            "summary": "Admin only: revoke a completion; its XP is reversed by a ledger entry.",
            "security": SIGNED_IN,
            "parameters": [path_id("completion_id", bits=64)],
            "requestBody": json_body(RevocationSchema),
            "responses": ok(
                RevocationResultSchema, "The reversal (entry is null when nothing was reversed)."
            )
            | errors(*WRITE, 404, 409),
        }
    },
    "/api/admin/users/{user_id}/reset": {
        "post": {
            "operationId": "resetUser",
            "tags": ["admin"],
            "summary": "Admin only: revoke every standing completion of a player at once.",
            "description": (
                "One transaction: each completion's XP is reversed by a ledger entry, and the "
                "player keeps what their adjustments add up to."
            ),
            "security": SIGNED_IN,
            "parameters": [path_id("user_id")],
            "requestBody": json_body(ResetSchema),
            "responses": ok(ResetResultSchema, "What the reset revoked and the new total.")
            | errors(*WRITE, 404),
        }
    },
    "/api/openapi.json": {
        "get": {
            "operationId": "getOpenapiDocument",
            "tags": ["meta"],
            "summary": "This OpenAPI 3 document.",
            "security": SIGN_IN_OPTIONAL,
            "responses": ok({"type": "object"}, "The document.") | errors(*COMMON),
        }
    },
}


def build_spec() -> dict[str, Any]:
    spec = APISpec(
        title="CyberQuest progress API",
        version="1.0.0",
        openapi_version="3.0.3",
        plugins=[MarshmallowPlugin()],
        tags=TAGS,
        info={
            "description": (
                "Level completions recorded exactly once, XP computed by the server, and an "
                "append-only XP ledger. Every failure answers the Error envelope."
            )
        },
    )
    spec.components.security_scheme("bearerAuth", {"type": "http", "scheme": "bearer"})
    spec.components.security_scheme(
        "sessionCookie", {"type": "apiKey", "in": "cookie", "name": "session"}
    )
    spec.components.schema("Error", schema=ErrorSchema)
    spec.components.schema("Token", schema=TokenSchema)
    for path, operations in OPERATIONS.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()


@api.get("/openapi.json")
def openapi_document():
    cache = current_app.extensions.setdefault("openapi", {})
    if "document" not in cache:
        cache["document"] = build_spec()
    return cache["document"]
