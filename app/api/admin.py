"""Operator routes: adjust a player's XP, revoke a completion, reset a player (admins only)."""

from collections.abc import Callable
from functools import wraps
from typing import Any

from flask_login import current_user, login_required

from app.api import api
from app.api.parsing import json_body, load
from app.errors import Forbidden
from app.schemas.admin import (
    AdjustmentResultSchema,
    ResetResultSchema,
    ResetSchema,
    RevocationResultSchema,
    RevocationSchema,
    XPAdjustmentSchema,
)
from app.services import admin

adjustment_schema = XPAdjustmentSchema()
adjustment_result_schema = AdjustmentResultSchema()
revocation_schema = RevocationSchema()
revocation_result_schema = RevocationResultSchema()
reset_schema = ResetSchema()
reset_result_schema = ResetResultSchema()


def admin_required(view: Callable[..., Any]) -> Callable[..., Any]:
    """401 for an anonymous caller, 403 admin_only for a signed-in player."""

    @login_required
    @wraps(view)
    def run(*args: Any, **kwargs: Any) -> Any:
        if not current_user.is_admin:
            raise Forbidden("Only administrators can do this.", code="admin_only")
        return view(*args, **kwargs)

    return run


@api.post("/admin/users/<id:user_id>/xp-adjustments")
@admin_required
def adjust_user_xp(user_id: int):
    data = load(adjustment_schema, json_body())
    result = admin.adjust_xp(user_id, data["delta"], data["note"], actor_id=current_user.id)
    return adjustment_result_schema.dump(result), 201


@api.post("/admin/completions/<bigid:completion_id>/revoke")
@admin_required
def revoke_completion(completion_id: int):
    data = load(revocation_schema, json_body())
    result = admin.revoke_completion(completion_id, data["note"], actor_id=current_user.id)
    return revocation_result_schema.dump(result)


@api.post("/admin/users/<id:user_id>/reset")
@admin_required
def reset_user(user_id: int):
    data = load(reset_schema, json_body())
    result = admin.reset_user(user_id, data["note"], actor_id=current_user.id)
    return reset_result_schema.dump(result)
