"""What every response and request gets: the secret key (refused start without one outside the demo), session
cookies that are Secure over HTTPS, security headers and no caching on every page, record and PDF, numeric ids
kept within the database's range, text the database cannot keep refused before any view sees it, and the
addresses of callers behind a configured number of proxies."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, Request, Response, current_app, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from engine.administration.secrets_box import SecretBox
from engine.audit.notes import Signer
from engine.cases.attachments import size_in_words
from engine.text import storable

# The JSON API's paths (web/api.py).
API_PREFIX = "/api/v1"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX + "/") or path == API_PREFIX


# Our ids are 32-bit integers on PostgreSQL; a larger number in a URL is no id of ours: 404, not an overflow.
LARGEST_ID = 2**31 - 1

CONTENT_SECURITY_POLICY = "; ".join([
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "font-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
])
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}
HSTS = "max-age=31536000; includeSubDomains"


# The views that take a file (an attachment): their requests may be as large as the attachment limit
# (ATTACHMENT_MAX_BYTES) and the few form fields beside it; every other request keeps MAX_CONTENT_LENGTH.
UPLOAD_ENDPOINTS = frozenset({"challenges.attach", "api.add_attachment"})
UPLOAD_OVERHEAD = 64 * 1024
# How much of a refused upload is read and thrown away, so the browser that sent it gets the answer instead of
# a connection reset (anything larger is cut off unread).
DRAIN_LIMIT = 64 * 1024 * 1024


class LimitedRequest(Request):
    """Flask's request, whose body limit follows the view: larger for the views that take a file."""

    @property
    def max_content_length(self) -> int | None:
        rule = self.url_rule
        if self._max_content_length is None and rule is not None and rule.endpoint in UPLOAD_ENDPOINTS \
                and current_app:
            return current_app.config["ATTACHMENT_MAX_BYTES"] + UPLOAD_OVERHEAD
        return super().max_content_length

    @max_content_length.setter
    def max_content_length(self, value: int | None) -> None:
        self._max_content_length = value


def is_upload(incoming: Request) -> bool:
    return incoming.url_rule is not None and incoming.url_rule.endpoint in UPLOAD_ENDPOINTS


def drain(incoming: Request) -> None:
    """Read and drop what is left of a refused request's body (up to DRAIN_LIMIT)."""
    left = min(incoming.content_length or 0, DRAIN_LIMIT)
    stream = incoming.environ.get("wsgi.input")
    while stream is not None and left > 0:
        chunk = stream.read(min(left, 1024 * 1024))
        if not chunk:
            break
        left -= len(chunk)


def too_large_message() -> str:
    """What a request refused for its size is told (an upload's rest read and dropped first)."""
    if not is_upload(request):
        limit = size_in_words(current_app.config["MAX_CONTENT_LENGTH"])
        return f"That is more than this service accepts in one request ({limit})."
    drain(request)
    limit = size_in_words(current_app.config["ATTACHMENT_MAX_BYTES"])
    return f"A file can be at most {limit}; this one is larger, so it was not attached."


class MissingSecretKey(RuntimeError):
    pass


def secret_key(app: Flask, configured: str | None, demo: bool) -> str:
    """The key sessions are signed with: SECRET_KEY, or for the demo one generated once and kept in the instance
    folder. Anything else refuses to start: a default key would let anyone forge a session for any user."""
    if configured:
        return configured
    if not demo:
        raise MissingSecretKey(
            "SECRET_KEY is not set. Set it to a long random value (for example the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`) and keep it secret; "
            "for the demo, `make run` sets PC_DEMO=1 and keeps a generated key in the instance folder.")
    return _kept(app, "demo-secret-key", lambda: secrets.token_hex(32))


def _kept(app: Flask, name: str, make) -> str:
    """A value generated once for the demo and kept, readable by its owner only, in the instance folder."""
    path = Path(app.instance_path) / name
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as file:
            file.write(make())
    return path.read_text().strip()


def audit_signer(app: Flask) -> Signer | None:
    """The key checkpoints of the log are signed with: PC_AUDIT_KEY (a signed-note private key string), or for
    the demo one generated once and kept in the instance folder; None where neither is given."""
    configured = app.config.get("AUDIT_KEY")
    if configured:
        return Signer.from_text(configured)
    if not app.config["DEMO"]:
        return None
    return Signer.from_text(_kept(app, "demo-audit-key", lambda: Signer.generate(app.config["AUDIT_LOG_NAME"]).text()))


def secret_box(app: Flask) -> SecretBox:
    """What the identity providers' client secrets are sealed with: a key derived from SECRET_KEY."""
    return SecretBox(app.config["SECRET_KEY"])


class SessionInterface(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS (directly or through a trusted proxy),
    whatever SESSION_COOKIE_SECURE says; none at all for the API."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config["SESSION_COOKIE_SECURE"]) or request.is_secure

    def open_session(self, app: Flask, incoming: Request):
        # The API authenticates by bearer token alone: its requests neither read nor write the cookie session.
        if is_api_path(incoming.path):
            return self.make_null_session(app)
        return super().open_session(app, incoming)


class IdConverter(IntegerConverter):
    """`<int:...>` in our routes: a whole number from 0 to the largest id a table can hold, in ASCII digits
    (werkzeug's `\\d` and int() would also read "١٢" as 12)."""

    regex = "[0-9]+"

    def __init__(self, map, *args, **kwargs) -> None:
        kwargs.setdefault("max", LARGEST_ID)
        super().__init__(map, *args, **kwargs)


def unstorable_fields(incoming: Request) -> list[str]:
    """The query and form fields (names or values) with text the database cannot keep, and the path itself
    (a record's key from the path is written to the access log)."""
    found = [] if storable(incoming.path) else ["the address"]
    for source in (incoming.args, incoming.form):
        for name, values in source.lists():
            name = name or ""  # a multipart part whose header werkzeug cannot read has no name (None)
            if not storable(name) or not all(storable(value) for value in values):
                found.append(name if storable(name) else "?")
    return found


def _headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if not request.path.startswith("/static/"):
        # Every page, record and PDF may carry special-category personal data: nothing of it is stored in
        # caches, the browser's back-forward cache included.
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
    return response


def init_app(app: Flask) -> None:
    app.request_class = LimitedRequest
    app.session_interface = SessionInterface()
    app.url_map.converters["int"] = IdConverter
    proxies = app.config.get("TRUSTED_PROXIES", 0)
    if proxies:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    app.after_request(_headers)
