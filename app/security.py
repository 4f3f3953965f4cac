"""Security headers on every response, pages and API alike, and the optional move to HTTPS."""

from __future__ import annotations

from flask import Flask, current_app, redirect, request
from flask_talisman import Talisman

from app.errors import Forbidden, is_api_request

# Scripts, styles, fonts and fetches come from this site only, and never inline, so markup
# that slips into a page cannot run a script or restyle it. Bootstrap's CSS draws some
# controls with data: SVG images. No other site may frame a page (clickjacking).
CONTENT_SECURITY_POLICY = {
    "default-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'self'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}
REFERRER_POLICY = "strict-origin-when-cross-origin"


def register_security(app: Flask) -> None:
    """Send the security headers on every response; with FORCE_HTTPS, move plain HTTP to HTTPS."""
    # One Talisman per app: it keeps its options on itself, and one process may build several.
    Talisman(
        app,
        content_security_policy=CONTENT_SECURITY_POLICY,
        frame_options="DENY",
        referrer_policy=REFERRER_POLICY,
        # Talisman sends HSTS only on answers it sees as HTTPS (is_secure, or a bare
        # X-Forwarded-Proto: a forged one is harmless, since browsers ignore HSTS that arrives
        # over plain HTTP).
        strict_transport_security=app.config["HSTS_ENABLED"],
        # config.py owns the cookie settings and require_https below owns the redirect; left to
        # itself, Talisman would force SESSION_COOKIE_SECURE and redirect every plain request.
        force_https=False,
        session_cookie_secure=False,
        session_cookie_http_only=False,
        session_cookie_samesite=app.config["SESSION_COOKIE_SAMESITE"],
    )
    app.before_request(require_https)


def require_https():
    """With FORCE_HTTPS, a plain-HTTP page request is redirected to HTTPS; /api refuses it.

    An API call is refused, not redirected: /api never answers a redirect, and a client that
    sent its token in the clear should be told so rather than followed. request.is_secure
    trusts X-Forwarded-Proto only as far as PROXY_FIX_X_PROTO says.
    """
    if not current_app.config["FORCE_HTTPS"] or request.is_secure:
        return None
    if is_api_request():
        raise Forbidden(
            "This API is served over HTTPS only; call its https:// address.",
            code="https_required",
        )
    # 307 keeps the method and body, so a form posted over HTTP is posted again over HTTPS.
    return redirect(request.url.replace("http://", "https://", 1), code=307)
