"""The level catalog and recording a completion."""

from flask import current_app, g, jsonify
from flask_login import current_user, login_required

from app.api import api
from app.api.parsing import json_body, load
from app.auth import is_token_request
from app.errors import ConflictingReuse, Forbidden, TrackingDisabled
from app.extensions import limiter, remote_address
from app.ratelimits import user_or_address
from app.schemas.completions import CompletionRequestSchema, CompletionResultSchema
from app.schemas.levels import LevelListSchema
from app.services import completions, levels, progress, read_ahead, rollout

level_list_schema = LevelListSchema()
completion_request_schema = CompletionRequestSchema()
completion_result_schema = CompletionResultSchema()


@api.get("/levels")
def list_levels():
    user_id = current_user.id if current_user.is_authenticated else None
    catalog = progress.catalog(user_id)
    return level_list_schema.dump({"levels": catalog, "xp_rules": levels.rules_description()})


@api.post("/levels/complete")
@read_ahead.completion_view
@limiter.limit(lambda: current_app.config["COMPLETION_RATE_LIMIT"], key_func=user_or_address)
@limiter.limit(lambda: current_app.config["COMPLETION_ADDRESS_RATE_LIMIT"], key_func=remote_address)
@login_required
def complete_level():
    if not rollout.is_tracking_enabled(current_user.id):
        raise TrackingDisabled()
    data = load(completion_request_schema, json_body())
    if data.pop("user_id", current_user.id) != current_user.id:
        raise Forbidden("You can only record your own completions.", code="not_your_user_id")
    source = "api" if is_token_request() else "web"
    completion = completions.CompletionRequest(**data, source=source)
    g.completion_event_id = completion.client_event_id
    result = completions.record_completion(current_user.id, completion)
    # Metrics and the request's log line report what became of it (see app/metrics.py).
    g.completion_result = result
    response = jsonify(completion_result_schema.dump(result))
    if not result.is_new_completion:
        response.headers["Idempotent-Replayed"] = "true"
    return response


def completion_outcome(response) -> tuple[str, str | None]:
    """What became of this request's completion, read once its answer is made: the outcome
    (one of completions.OUTCOMES) and, for a refusal, the answer's error code."""
    result = g.get("completion_result")
    if result is not None:
        return result.outcome, None
    body = response.get_json(silent=True) or {}
    code = (body.get("error") or {}).get("code", "unknown")
    if code == ConflictingReuse.code:
        return completions.OUTCOME_CONFLICT, code
    return completions.OUTCOME_REFUSED, code
