"""Checks every /api write passes: a JSON body, and a same-origin caller when a cookie signs it.

Browsers attach the session cookie to cross-site requests, so a cookie-signed write must come
from our own pages. Requiring JSON forces a CORS preflight (which we never grant) on any
cross-site script, and Origin / Sec-Fetch-Site reject what is left. Token callers hold no
ambient credential, so the origin rule does not apply to them.

"Our own pages" are the configured ones (TRUSTED_HOSTS, plus the TRUSTED_ORIGINS extras), never
an origin built from the request's Host header: whoever chooses that header would choose the
origin it is compared with.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from flask_login import current_user
from werkzeug.wsgi import host_is_trusted

from app.api import api
from app.auth import is_token_request
from app.errors import Forbidden, UnsupportedMediaType

UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
SAME_SITE_FETCHES = frozenset({"same-origin", "none"})
WEB_SCHEMES = frozenset({"http", "https"})


def is_trusted_origin(origin: str) -> bool:
    """Whether a browser's Origin is a page of this site: on a TRUSTED_HOSTS name, or listed.

    Hosts are matched as werkzeug matches the Host header, which ignores ports: any port of a
    trusted name is trusted. Refusing other ports would protect nothing, since cookies are not
    kept apart by port (a server on another port of our host is sent the session cookie
    already), and a development server's port changes from run to run. The scheme is not
    compared either: behind a proxy that ends TLS the app may see http while the page is https,
    and to the browser a page on the other scheme is another origin, whose JSON write needs the
    CORS preflight we never grant.
    """
    origin = origin.rstrip("/").lower()
    if origin in (current_app.config.get("TRUSTED_ORIGINS") or ()):
        return True
    parts = urlsplit(origin)
    hosts = current_app.config["TRUSTED_HOSTS"]
    # An empty list would make werkzeug trust every host; here it trusts none.
    return parts.scheme in WEB_SCHEMES and bool(hosts) and host_is_trusted(parts.netloc, hosts)


def is_same_origin() -> bool:
    fetch_site = request.headers.get("Sec-Fetch-Site")
    if fetch_site is not None and fetch_site.lower() not in SAME_SITE_FETCHES:
        return False
    origin = request.headers.get("Origin")
    return origin is None or is_trusted_origin(origin)


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
