"""The caller's own API tokens: list, create (shown once), revoke."""

from flask import current_app
from flask_login import current_user, login_required

from app.api import api
from app.api.parsing import json_body, load
from app.extensions import limiter
from app.ratelimits import user_or_address
from app.schemas.tokens import IssuedTokenSchema, TokenCreateSchema, TokenSchema
from app.services import tokens

token_schema = TokenSchema()
issued_schema = IssuedTokenSchema()
create_schema = TokenCreateSchema()


@api.get("/tokens")
@login_required
def list_tokens():
    return {"tokens": token_schema.dump(tokens.list_tokens(current_user), many=True)}


@api.post("/tokens")
@limiter.limit(lambda: current_app.config["TOKEN_CREATE_RATE_LIMIT"], key_func=user_or_address)
@login_required
def create_token():
    data = load(create_schema, json_body())
    issued = tokens.create_token(current_user, data["name"])
    return issued_schema.dump(issued), 201


@api.delete("/tokens/<id:token_id>")
@login_required
def revoke_token(token_id: int):
    token = tokens.revoke_token(token_id, owner=current_user)
    return {"success": True, "token": token_schema.dump(token)}
