"""Who is calling: a server-side session (the session or remember-me cookie, through
Flask-Login) or an `Authorization: Bearer` token; and signing a device in and out."""

from __future__ import annotations

from flask import Flask, current_app, g, redirect, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user

from app.errors import AuthenticationRequired, InvalidToken, is_api_request
from app.extensions import remote_address
from app.services import credentials, sessions, tokens


def bearer_secret(header: str) -> str | None:
    """The token of `Bearer <token>`, or None when the header is anything else."""
    scheme, _, secret = header.partition(" ")
    secret = secret.strip()
    if scheme.lower() != "bearer" or not secret:
        return None
    return secret


def authenticate_bearer() -> None:
    """An Authorization header sent to the API is always checked: a valid token decides who
    is calling (even beside a session cookie); anything else is 401 invalid_token, never a
    silent fall back to an anonymous or cookie-signed call."""
    header = request.headers.get("Authorization")
    if header is None or not is_api_request():
        return
    secret = bearer_secret(header)
    user = tokens.user_for_token(secret) if secret else None
    if user is None:
        raise InvalidToken()
    g.token_user = user


def load_user(session_secret: str):
    """Flask-Login's loader for the session and remember-me cookies: the id they carry is the
    session's secret, so a session ended on the server signs its cookies out too."""
    if "token_user" in g:
        return g.token_user
    found = sessions.user_for_session(session_secret)
    if found is None:
        return None
    user, g.session_id = found
    return user


def load_token_user(_request):
    return g.get("token_user")


def unauthorized():
    if is_api_request():
        raise AuthenticationRequired()
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def is_token_request() -> bool:
    """True when this request was authenticated by a bearer token rather than a cookie."""
    return "token_user" in g


def current_session_id() -> int | None:
    """The id of the server-side session this request was signed by (None for a token)."""
    return g.get("session_id")


def sign_in(user, *, remember: bool = False) -> None:
    """Start a new server-side session for this device. Whatever the browser's session held
    before is dropped first, so the CSRF secret and the session id are new (no fixation)."""
    session.clear()
    started = sessions.start_session(
        user.id,
        remember=remember,
        user_agent=request.headers.get("User-Agent", ""),
        ip_address=remote_address(),
    )
    user.session_secret = started.secret
    g.session_id = started.id
    login_user(user, remember=remember)


def sign_out(*, everywhere: bool = False) -> None:
    """End this device's session on the server (or, `everywhere`, every session and
    remember-me credential of the user), then drop this browser's cookies."""
    if current_user.is_authenticated and not is_token_request():
        if everywhere:
            sessions.end_all_sessions(current_user.id)
        elif current_session_id() is not None:
            sessions.end_session(current_session_id(), owner_id=current_user.id)
    session.clear()
    logout_user()  # after clear(): it leaves the note that deletes the remember cookie


def forget_visitor() -> None:
    """Treat the rest of this request as an anonymous visitor's, asking the database nothing:
    for an answer made while the database cannot say who is calling. The cookies are left as
    they are, so the player is signed in again once it can; the session's pending last-seen
    refresh is dropped with the request's failed unit of work."""
    g._login_user = current_app.login_manager.anonymous_user()  # where Flask-Login looks first
    credentials.discard_pending_touch()


def save_pending_touch(response):
    if not credentials.save_pending_touch():
        # The answer stands; only the refresh is lost. Whatever runs after this hook must not
        # ask the failed database about the user.
        forget_visitor()
    return response


def init_auth(app: Flask, login_manager: LoginManager) -> None:
    login_manager.init_app(app)
    login_manager.user_loader(load_user)
    login_manager.request_loader(load_token_user)
    login_manager.unauthorized_handler(unauthorized)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"
    # login_user() stores this attribute of the user in the cookies: the session's secret.
    login_manager.id_attribute = "get_session_secret"
    # First of all before-request hooks: the rate limiter's keys already read current_user.
    app.before_request_funcs.setdefault(None, []).insert(0, authenticate_bearer)
    app.after_request(save_pending_touch)
