"""Checks every /api write passes: a JSON body, and a same-origin caller when a cookie signs it.

Browsers attach the session cookie to cross-site requests, so a cookie-signed write must come
from our own pages. Requiring JSON forces a CORS preflight (which we never grant) on any
cross-site script, and Origin / Sec-Fetch-Site reject what is left. Token callers hold no
ambient credential, so the origin rule does not apply to them.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from flask_login import current_user

from app.api import api
from app.auth import is_token_request
from app.errors import Forbidden, UnsupportedMediaType

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})


def request_origin() -> str:
    parts = urlsplit(request.host_url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def is_same_origin() -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in SAME_SITE_FETCHES:
        return False
    origin = request.headers.get("Origin")
    if origin is None:
        return True
    trusted = {request_origin(), *current_app.config.get("TRUSTED_ORIGINS", ())}
    return origin.rstrip("/").lower() in trusted


@api.before_request
def guard_writes():
    if request.method not in UNSAFE_METHODS:
        return None
    has_body = bool(request.content_length) or request.method != "DELETE"
    if has_body and not request.is_json:
        raise UnsupportedMediaType()
    if current_user.is_authenticated and not is_token_request() and not is_same_origin():
        raise Forbidden(
            "Cross-site requests cannot change data; call the API from this site's pages "
            "or with an API token.",
            code="cross_origin_forbidden",
        )
    return None
