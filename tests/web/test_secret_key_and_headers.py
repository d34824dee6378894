"""Issue 9, items 2 and 3: no default secret key (the demo keeps a generated one), forged session cookies let
nobody in, security headers and no caching on every response, Secure cookies and HSTS over HTTPS (directly or
through a trusted proxy)."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask, url_for
from flask.sessions import SecureCookieSessionInterface
from sqlalchemy import select

from engine.cases.attachments import add_attachment
from engine.cases.raising import raise_challenge
from engine.models import AccessLog, Task
from tests.conftest import raise_answers
from web.security import LARGEST_ID, MissingSecretKey

ROOT = Path(__file__).resolve().parents[2]
HTTPS = "https://localhost"


@pytest.fixture
def make_app(database_url, db_engine, clock, demo):
    """An app with the test settings and whatever else a test gives (the environment is read too)."""
    from web import create_app
    from web.database import db

    made = []

    def make(**config):
        app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock,
                          "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test", **config})
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


@pytest.fixture
def raised(session, clock, user, agency):
    """A challenge csc-practitioner raised against Durham Constabulary (with a file attached), and its stage 1
    task."""
    challenge = raise_challenge(session, clock, user("csc-practitioner"), raise_answers(agency("Durham").id))
    add_attachment(session, clock, user("csc-practitioner"), challenge.id, "summary.txt", b"We agreed.\n")
    task = session.scalar(select(Task).where(Task.challenge_id == challenge.id))
    return challenge, task


def logged_in(app, username: str = "csc-practitioner", base_url: str = "http://localhost", **environ):
    client = app.test_client()
    r = client.post("/login", data={"username": username, "password": "demo-password"}, base_url=base_url,
                    environ_base=environ)
    assert r.status_code == 302, r.status_code
    return client


def signer(app: Flask):
    return SecureCookieSessionInterface().get_signing_serializer(app)


# --- the secret key -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("secret", [None, ""])
def test_the_product_refuses_to_start_without_a_secret_key_outside_the_demo(monkeypatch, database_url, secret):
    from web import create_app

    if secret is None:
        monkeypatch.delenv("SECRET_KEY", raising=False)
    else:
        monkeypatch.setenv("SECRET_KEY", secret)
    monkeypatch.delenv("PC_DEMO", raising=False)
    with pytest.raises(MissingSecretKey, match="SECRET_KEY is not set") as refused:
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    # The message says how to make one, and that only the demo makes its own.
    assert "secrets.token_hex(32)" in str(refused.value)
    assert "PC_DEMO=1" in str(refused.value)


# create_app puts the instance folder beside the `web` package: a folder of links to our packages gives the
# demo an instance folder of its own, away from the one `make run` uses.
START_DEMO = "from web import create_app; app = create_app(); print(app.instance_path); print(app.config['SECRET_KEY'])"


def start_demo(folder: Path) -> subprocess.Popen:
    """Start the product as `make run` does (PC_DEMO=1, no SECRET_KEY) in a process of its own."""
    folder.mkdir(exist_ok=True)
    for package in ("web", "engine"):
        if not (folder / package).exists():
            (folder / package).symlink_to(ROOT / package)
    env = {k: v for k, v in os.environ.items() if k not in ("SECRET_KEY", "FLASK_APP")}
    env.update(PC_DEMO="1", PYTHONPATH=str(folder), DATABASE_URL=f"sqlite:///{folder / 'demo.sqlite3'}")
    return subprocess.Popen([sys.executable, "-c", START_DEMO], cwd=folder, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def started(process: subprocess.Popen) -> tuple[Path, str]:
    """The instance folder and the secret key the started product uses."""
    out, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    instance, key = out.split()
    return Path(instance), key


def test_the_demo_generates_a_secret_key_once_keeps_it_private_and_reuses_it(tmp_path):
    first, other_demo = start_demo(tmp_path / "demo"), start_demo(tmp_path / "other-demo")
    instance, key = started(first)
    assert instance == tmp_path / "demo" / "instance"
    kept = instance / "demo-secret-key"
    assert kept.read_text().strip() == key
    assert len(key) >= 64
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600  # readable by its owner only

    # Started again: the same key, so the demo's sessions survive a restart.
    assert started(start_demo(tmp_path / "demo")) == (instance, key)

    # Another demo made a key of its own: it is generated, not a default.
    _, other = started(other_demo)
    assert other != key


def test_a_session_cookie_signed_with_another_key_lets_nobody_in(app, client):
    real = logged_in(app)
    contents = signer(app).loads(real.get_cookie("session").value)
    assert real.get("/tasks").status_code == 200
    # The cookie of a live session, re-signed with the key a forger would guess.
    forger = Flask("forger")
    forger.secret_key = "dev"
    client.set_cookie("session", signer(forger).dumps(contents))
    r = client.get("/tasks")
    assert r.status_code == 302 and r.headers["Location"].startswith("/login")
    assert client.get("/api/v1/challenges").status_code == 401


def test_even_a_correctly_signed_cookie_lets_nobody_in_without_a_live_session_on_the_server(app, client):
    real = logged_in(app)
    contents = signer(app).loads(real.get_cookie("session").value)
    assert contents.get("_user_id") and contents.get("sid")
    # Someone who had the key could sign anything: a user id with no session key, or a made-up session key.
    for forged in ({**contents, "sid": "made-up"}, {k: v for k, v in contents.items() if k != "sid"}):
        client.set_cookie("session", signer(app).dumps(forged))
        r = client.get("/tasks")
        assert r.status_code == 302 and r.headers["Location"].startswith("/login"), forged


# --- headers on every response --------------------------------------------------------------------------------

def policy(response) -> dict[str, list[str]]:
    directives = {}
    for part in response.headers["Content-Security-Policy"].split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def assert_protected(response, https: bool, cacheable: bool = False) -> None:
    what = f"{response.request.path} ({response.status_code})"
    csp = policy(response)
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src == ["'self'"], what
    assert "'unsafe-inline'" not in csp.get("style-src", []) and "'unsafe-eval'" not in script_src, what
    assert csp["frame-ancestors"] == ["'none'"], what
    assert csp["object-src"] == ["'none'"] and csp["base-uri"] == ["'none'"], what
    assert response.headers["X-Content-Type-Options"] == "nosniff", what
    assert response.headers["X-Frame-Options"] == "DENY", what
    assert response.headers["Referrer-Policy"] == "same-origin", what
    if cacheable:
        assert "no-store" not in response.headers.get("Cache-Control", ""), what
    else:
        assert response.headers["Cache-Control"] == "no-store", what
    if https:
        hsts = response.headers["Strict-Transport-Security"]
        assert int(hsts.split(";")[0].removeprefix("max-age=")) >= 365 * 24 * 3600, what
    else:
        assert "Strict-Transport-Security" not in response.headers, what


def every_get_route(app, challenge_id: int, task_id: int) -> list[tuple[str, str]]:
    """(endpoint, path) for every route that answers GET, with real ids: a new route with an argument this
    does not know fails here until it is given a value."""
    values = {"challenge_id": challenge_id, "task_id": task_id, "key": "monitoring_return", "filename": "site.css",
              "user_id": 1, "slug": "darlington", "procedure": "darlington", "version_id": 1, "attachment_id": 1}
    found = []
    with app.test_request_context():
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods:
                continue
            unknown = rule.arguments - values.keys()
            assert not unknown, f"give test values for {sorted(unknown)} of {rule.rule}"
            found.append((rule.endpoint, url_for(rule.endpoint, **{a: values[a] for a in rule.arguments})))
    return found


@pytest.mark.parametrize("base_url", ["http://localhost", HTTPS])
def test_every_route_sends_the_security_headers_and_no_store(app, raised, token, base_url):
    challenge, task = raised
    https = base_url == HTTPS
    client = logged_in(app, base_url=base_url)
    bearer = {"Authorization": f"Bearer {token('csc-practitioner')}"}
    routes = every_get_route(app, challenge.id, task.id)
    assert {"records.pdf", "records.show", "challenges.show", "tasks.task_page", "api.challenge",
            "api.task", "account.token_list", "account.password"} <= {endpoint for endpoint, _ in routes}
    for endpoint, path in routes:
        r = client.get(path, base_url=base_url, headers=bearer if path.startswith("/api/") else {})
        # "/" and the login page send a logged-in user on to My tasks; the audit, reports, procedures, administration
        # and subject access areas, and single sign-on where no identity provider is set, are not found but for
        # those they are for (tests/web/test_reports_pages.py checks the reports for the roles that read them); my
        # agency's cases are a manager's (this is a practitioner); every other route answers itself.
        expected = 302 if endpoint in ("tasks.index", "auth.login") else 404 if endpoint.startswith(
            ("audit.", "reports.", "procedures.", "administration.", "subject_access.", "oidc.")) else 403 \
            if endpoint == "supervision.agency_cases" else 200
        assert r.status_code == expected, (path, r.status_code)
        assert_protected(r, https, cacheable=endpoint == "static")
        r.close()
    pdf = client.get(f"/challenges/{challenge.id}/records/monitoring_return.pdf", base_url=base_url)
    assert pdf.mimetype == "application/pdf" and pdf.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("base_url", ["http://localhost", HTTPS])
def test_error_pages_and_api_errors_send_the_security_headers_and_no_store(app, client, raised, token, base_url):
    challenge, _ = raised
    https = base_url == HTTPS
    health = logged_in(app, "health-practitioner", base_url=base_url)
    answers = [
        (client.get("/tasks", base_url=base_url), 302),                           # to the login page
        (client.get("/login", base_url=base_url), 200),
        (client.post("/login", data={"username": "x", "password": "y"}, base_url=base_url), 401),
        (client.get("/no-such-page", base_url=base_url), 404),
        (client.get("/logout", base_url=base_url), 405),
        (health.get(f"/challenges/{challenge.id}", base_url=base_url), 404),      # not theirs to see
        (health.get(f"/challenges/{challenge.id}/records/monitoring_return.pdf", base_url=base_url), 404),
        (health.get(f"/challenges/{LARGEST_ID}", base_url=base_url), 404),
        (health.get(f"/challenges/{LARGEST_ID + 1}", base_url=base_url), 404),     # beyond any id: no overflow
        (client.get("/api/v1/challenges", base_url=base_url), 401),
        (client.get("/api/v1/no-such-endpoint", base_url=base_url), 404),
        (client.get(f"/api/v1/challenges/{2**64}", base_url=base_url,
                    headers={"Authorization": f"Bearer {token('health-practitioner')}"}), 404),
    ]
    for r, status in answers:
        assert r.status_code == status, (r.request.path, r.status_code)
        assert_protected(r, https)
        assert r.is_json == r.request.path.startswith("/api/"), r.request.path


def session_cookie(response):
    [header] = [h for h in response.headers.getlist("Set-Cookie") if h.startswith("session=")]
    return {part.strip().split("=")[0].lower(): part.strip() for part in header.split(";")[1:]}


@pytest.mark.parametrize("base_url,secure", [("http://localhost", False), (HTTPS, True)])
def test_the_session_cookie_is_secure_over_https_and_always_httponly_and_same_site_lax(app, client, base_url,
                                                                                       secure):
    r = client.post("/login", data={"username": "csc-practitioner", "password": "demo-password"},
                    base_url=base_url)
    assert r.status_code == 302
    flags = session_cookie(r)
    assert ("secure" in flags) is secure
    assert "httponly" in flags
    assert flags["samesite"] == "SameSite=Lax"


# --- behind a reverse proxy -----------------------------------------------------------------------------------

FORWARDED = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def last_login_address(app) -> str | None:
    from web.database import db

    with app.app_context():
        return db.session.scalar(select(AccessLog.address).where(AccessLog.kind == "login")
                                 .order_by(AccessLog.id.desc()).limit(1))


def test_behind_a_trusted_proxy_its_forwarded_https_and_address_are_believed(monkeypatch, make_app):
    monkeypatch.setenv("PC_TRUSTED_PROXIES", "1")
    app = make_app()
    client = app.test_client()
    r = client.post("/login", data={"username": "csc-practitioner", "password": "demo-password"},
                    headers=FORWARDED)
    assert r.status_code == 302
    assert "secure" in session_cookie(r)
    page = client.get("/tasks", headers=FORWARDED)
    assert page.status_code == 200
    assert_protected(page, https=True)
    assert last_login_address(app) == "203.0.113.7"


@pytest.mark.parametrize("proxies", [None, "0"])
def test_without_a_trusted_proxy_forwarded_headers_are_ignored(monkeypatch, make_app, proxies):
    if proxies is None:
        monkeypatch.delenv("PC_TRUSTED_PROXIES", raising=False)
    else:
        monkeypatch.setenv("PC_TRUSTED_PROXIES", proxies)
    app = make_app()
    client = app.test_client()
    r = client.post("/login", data={"username": "csc-practitioner", "password": "demo-password"},
                    headers=FORWARDED)
    assert r.status_code == 302
    assert "secure" not in session_cookie(r)
    page = client.get("/tasks", headers=FORWARDED)
    assert_protected(page, https=False)
    assert last_login_address(app) == "127.0.0.1"  # the test client's own address, not the claimed one
