"""Serving the explorer on 127.0.0.1 behind a secret, as Jupyter does.

On a cluster's login node every user reaches 127.0.0.1, so the page asks for a secret:
generated once, kept in results/explorer/secret (readable by its owner alone; results/
is git-ignored) and printed in the URL. A request with the right `token` gets a cookie
that lets the page's own requests (its websocket) through; any other request is refused
with 403. Every script and style is served by the server itself, none from a CDN.
"""

from __future__ import annotations

import hmac
import secrets
from pathlib import Path

from bokeh.server.auth_provider import AuthProvider
from tornado.web import RequestHandler

from alspec import layout

COOKIE = "alspec_explorer"
REFUSED = "/refused"


def secret_of(results: Path) -> str:
    """The explorer's secret for `results`: read, or made on first use (mode 600)."""
    path = layout.under(results, layout.EXPLORER) / "secret"
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600)
    secret = secrets.token_urlsafe(24)
    path.write_text(secret)
    return secret


class Refused(RequestHandler):
    def get(self) -> None:
        self.set_status(403)
        self.finish(
            "<h3>alspec explorer: this page needs its secret</h3>"
            "<p>Open the URL that <code>alspec explore</code> printed (it ends in ?token=...).</p>"
        )


class TokenAuth(AuthProvider):
    """Lets a request in when it carries the secret, as ?token= or as the cookie set
    when it first did."""

    def __init__(self, secret: str):
        self.secret = secret
        super().__init__()

    @property
    def get_user(self):
        def user(handler: RequestHandler) -> str | None:
            given = handler.get_argument("token", None)
            if given is not None and hmac.compare_digest(given, self.secret):
                handler.set_cookie(COOKIE, self.secret, httponly=True, samesite="Strict")
                return "owner"
            cookie = handler.get_cookie(COOKIE)
            if cookie is not None and hmac.compare_digest(cookie, self.secret):
                return "owner"
            return None

        return user

    @property
    def login_url(self) -> str:
        return REFUSED

    @property
    def login_handler(self) -> type[RequestHandler]:
        return Refused
