"""Who is calling: the session cookie (Flask-Login) or an `Authorization: Bearer` token."""

from __future__ import annotations

from flask import g, redirect, request, url_for
from flask_login import LoginManager

from app.errors import AuthenticationRequired, InvalidToken, is_api_request
from app.services import accounts, tokens


def bearer_secret() -> str | None:
    """The token in `Authorization: Bearer <token>`, or None when the header is absent."""
    header = request.headers.get("Authorization", "")
    scheme, _, secret = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return secret.strip()


def load_session_user(user_id: str):
    try:
        return accounts.get_user(int(user_id))
    except ValueError:
        return None


def load_token_user(_request):
    secret = bearer_secret()
    if not secret:
        return None
    user = tokens.user_for_token(secret)
    if user is not None:
        g.authenticated_by = "token"
    return user


def unauthorized():
    if is_api_request():
        if request.headers.get("Authorization"):
            raise InvalidToken()
        raise AuthenticationRequired()
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def is_token_request() -> bool:
    """True when this request was authenticated by a bearer token rather than a cookie."""
    return g.get("authenticated_by") == "token"


def save_token_use(response):
    tokens.save_last_used()
    return response


def init_login_manager(login_manager: LoginManager) -> None:
    login_manager.user_loader(load_session_user)
    login_manager.request_loader(load_token_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
