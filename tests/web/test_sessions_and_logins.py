"""Issue 9, item 2: sessions that end (at logout, after idle and absolute timeouts, when the password changes),
no session fixation, login throttling per account and per address, unknown usernames told apart from known ones
by nothing, changing one's own password and an administrator's reset."""

from __future__ import annotations

import html
import re
from datetime import timedelta

import pytest
from flask.sessions import SecureCookieSessionInterface

from engine import passwords
from engine.passwords import check_password, hash_password
from tests.conftest import START

GOOD_NEW_PASSWORD = "lantern orchard pebble"
THROTTLED = "Too many failed logins. Try again after"


@pytest.fixture
def make_app(database_url, db_engine, clock, demo):
    """An app with the test settings and the session limits a test gives."""
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


def log_in(client, username: str = "csc-practitioner", password: str = "demo-password", **environ):
    return client.post("/login", data={"username": username, "password": password}, environ_base=environ)


def logged_in(app, username: str = "csc-practitioner", password: str = "demo-password"):
    client = app.test_client()
    r = log_in(client, username, password)
    assert r.status_code == 302, r.status_code
    return client


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


def error(response) -> str:
    found = re.search(r'<div class="error-summary" role="alert"><p>([^<]*)</p>', response.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else ""


def field_error(response, name: str) -> str | None:
    found = re.search(rf'<p class="error" id="{name}-error"><span class="visually-hidden">Error:</span> ([^<]*)</p>',
                      response.get_data(as_text=True))
    return html.unescape(found.group(1)).strip() if found else None


def sent_to_login(client, path: str = "/tasks") -> str:
    """Request a page that needs a login; assert it sends the client to the login page, and return that page."""
    r = client.get(path)
    assert r.status_code == 302, (path, r.status_code)
    assert r.headers["Location"].startswith("/login"), r.headers["Location"]
    return text(client.get(r.headers["Location"]))


def cookie(client) -> str:
    return client.get_cookie("session").value


def contents(app, value: str) -> dict:
    """What a session cookie carries."""
    return SecureCookieSessionInterface().get_signing_serializer(app).loads(value)


def session_key(app, client) -> str | None:
    """The server session's key the client's cookie carries."""
    return contents(app, cookie(client)).get("sid")


def replayed(app, value: str):
    """A fresh browser holding a copy of a cookie."""
    client = app.test_client()
    client.set_cookie("session", value)
    return client


# --- logging out and timeouts ---------------------------------------------------------------------------------

def test_logging_out_ends_the_session_on_the_server_so_a_copy_of_the_cookie_lets_nobody_in(app):
    client = logged_in(app)
    copy = cookie(client)
    assert replayed(app, copy).get("/tasks").status_code == 200  # the copy works while the session lasts
    assert client.post("/logout").status_code == 302
    assert "You have logged out." in sent_to_login(client)
    stolen = replayed(app, copy)
    assert "Log in to see your professional challenges." in sent_to_login(stolen)
    assert stolen.get("/api/v1/challenges").status_code == 401


def test_a_session_ends_after_the_idle_time_with_a_message_saying_why(make_app, clock):
    app = make_app(SESSION_IDLE_MINUTES=30, SESSION_HOURS=10)
    client = logged_in(app)
    copy = cookie(client)
    clock.advance(minutes=31)
    page = sent_to_login(client)
    assert "You were logged out after 30 minutes without activity. Log in again to go on." in page
    # Ended on the server: coming back at once with the same cookie does not bring it back.
    assert replayed(app, copy).get("/tasks").status_code == 302


def test_activity_within_the_idle_time_keeps_the_session_alive(make_app, clock):
    app = make_app(SESSION_IDLE_MINUTES=30, SESSION_HOURS=10)
    client = logged_in(app)
    # Each step is inside the idle time (and over the minute to which activity is noted): 90 minutes in all.
    for _ in range(4):
        clock.advance(minutes=29)
        assert client.get("/tasks").status_code == 200, clock.now()
    clock.advance(minutes=31)
    assert "without activity" in sent_to_login(client)


def test_a_session_ends_at_its_absolute_limit_however_active_it_is(make_app, clock):
    app = make_app(SESSION_IDLE_MINUTES=30, SESSION_HOURS=2)
    client = logged_in(app)
    for _ in range(6):  # active every 20 minutes, up to exactly two hours after logging in
        clock.advance(minutes=20)
        assert client.get("/tasks").status_code == 200, clock.now()
    clock.advance(minutes=1)
    assert "Your session reached its limit of 2 hours. Log in again to go on." in sent_to_login(client)
    # A new login starts a new session.
    assert logged_in(app).get("/tasks").status_code == 200


def test_a_one_hour_limit_is_told_in_good_english(make_app, clock):
    app = make_app(SESSION_IDLE_MINUTES=1, SESSION_HOURS=1)
    client = logged_in(app)
    clock.advance(minutes=2)
    assert "You were logged out after 1 minute without activity." in sent_to_login(client)
    client = logged_in(app)
    for _ in range(60):
        clock.advance(minutes=1)
        assert client.get("/notifications").status_code == 200
    clock.advance(minutes=1)
    assert "Your session reached its limit of 1 hour." in sent_to_login(client)


# --- no session fixation --------------------------------------------------------------------------------------

def test_every_login_gets_a_new_session_and_a_cookie_from_before_it_is_not_logged_in(app):
    client = app.test_client()
    sent_to_login(client)  # a visitor's cookie (the login page put a CSRF token in it)
    before = cookie(client)
    assert log_in(client).status_code == 302
    assert cookie(client) != before
    assert replayed(app, before).get("/tasks").status_code == 302
    # Nothing of the visitor's session is carried into the logged-in one.
    visitor, member = contents(app, before), contents(app, cookie(client))
    assert visitor and not set(visitor.items()) & set(member.items())

    # Each login is a session of its own, with its own key.
    first = session_key(app, client)
    other = logged_in(app)
    assert first and session_key(app, other) and session_key(app, other) != first
    client.post("/logout")
    assert log_in(client).status_code == 302
    assert session_key(app, client) not in (first, session_key(app, other))
    assert client.get("/tasks").status_code == 200 and other.get("/tasks").status_code == 200


# --- throttling -----------------------------------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_account_for_15_minutes_even_against_the_right_password(client, clock):
    for _ in range(5):
        assert log_in(client, password="a wrong guess").status_code == 401
        clock.advance(seconds=10)
    r = log_in(client)  # the right password, 50 seconds after the first failure
    assert r.status_code == 429
    assert error(r) == ("Too many failed logins. Try again after 15:15, or ask your administrator to reset your "
                        "password.")
    # Trying during the lock does not lengthen it.
    clock.set(START + timedelta(minutes=14, seconds=59))
    assert log_in(client).status_code == 429
    # Other accounts from the same address are not locked.
    assert log_in(client, "csc-manager").status_code == 302
    client.post("/logout")
    clock.set(START + timedelta(minutes=15))
    r = log_in(client)
    assert r.status_code == 302 and r.headers["Location"] == "/tasks"


def test_twenty_failures_from_one_address_lock_that_address_but_not_others(app, clock):
    guesser = app.test_client()
    for n in range(20):
        r = log_in(guesser, f"guess-{n}", "a wrong guess", REMOTE_ADDR="198.51.100.9")
        assert r.status_code == 401, n
        clock.advance(seconds=1)
    r = log_in(guesser, "csc-manager", REMOTE_ADDR="198.51.100.9")
    assert r.status_code == 429 and error(r).startswith(THROTTLED)
    assert log_in(app.test_client(), "csc-manager", REMOTE_ADDR="198.51.100.10").status_code == 302
    clock.set(START + timedelta(minutes=15))
    assert log_in(guesser, "csc-manager", REMOTE_ADDR="198.51.100.9").status_code == 302


def test_a_successful_login_starts_the_accounts_count_again(client, clock):
    for _ in range(4):
        assert log_in(client, password="a wrong guess").status_code == 401
        clock.advance(seconds=1)
    assert log_in(client).status_code == 302
    client.post("/logout")
    clock.advance(seconds=1)
    for _ in range(4):
        assert log_in(client, password="a wrong guess").status_code == 401
        clock.advance(seconds=1)
    # Eight failures within the quarter hour, but only four since the last success.
    assert log_in(client).status_code == 302


def test_an_administrators_reset_unlocks_the_account_as_the_message_says(app, client, clock):
    for _ in range(5):
        log_in(client, password="a wrong guess")
        clock.advance(seconds=1)
    assert log_in(client).status_code == 429
    result = app.test_cli_runner().invoke(args=["reset-password", "csc-practitioner"])
    assert result.exit_code == 0, result.output
    clock.advance(seconds=1)
    r = log_in(client, password=result.output.strip())
    assert r.status_code == 302 and r.headers["Location"] == "/account/password"


def test_an_unknown_username_gets_the_same_answers_as_a_known_one_and_is_locked_the_same_way(app, clock):
    def page(r, username: str) -> str:
        body = r.get_data(as_text=True).replace(f'value="{username}"', 'value="…"')
        return re.sub(r'name="csrf_token" value="[^"]*"', "", body)

    known, unknown = app.test_client(), app.test_client()
    for attempt in range(6):
        a = log_in(known, "csc-practitioner", "a wrong guess")
        b = log_in(unknown, "nobody-of-that-name", "a wrong guess")
        assert a.status_code == b.status_code == (401 if attempt < 5 else 429)
        assert page(a, "csc-practitioner") == page(b, "nobody-of-that-name")
        clock.advance(seconds=1)
    assert error(a).startswith(THROTTLED)


def test_an_unknown_username_is_checked_against_a_hash_of_the_same_cost_as_a_real_one():
    # The time itself is measured in bench/login_timing.py (known and unknown names side by side).
    real = hash_password("the right one entirely")
    assert passwords._NOBODY.split("$")[1] == real.split("$")[1] == str(passwords._ITERATIONS)
    assert check_password(None, "a wrong guess") is False
    assert check_password(real, "a wrong guess") is False and check_password(real, "the right one entirely")


# --- changing one's password ----------------------------------------------------------------------------------

def can_log_in(app, password: str, username: str = "csc-practitioner") -> bool:
    return log_in(app.test_client(), username, password).status_code == 302


def change(client, current: str, new: str, confirm: str | None = None):
    return client.post("/account/password", data={"current_password": current, "new_password": new,
                                                  "confirm_password": new if confirm is None else confirm})


def test_the_password_page_asks_for_the_current_password_and_the_new_one_twice(app):
    r = logged_in(app).get("/account/password")
    assert r.status_code == 200
    page = text(r)
    assert "Choose at least 12 characters." in page
    for name in ("current_password", "new_password", "confirm_password"):
        assert f'id="{name}" name="{name}"' in page


def test_a_wrong_current_password_is_422_and_changes_nothing(app):
    client = logged_in(app)
    r = change(client, "not my password", GOOD_NEW_PASSWORD)
    assert r.status_code == 422
    assert field_error(r, "current_password") == "That is not your current password."
    assert client.get("/tasks").status_code == 200
    assert can_log_in(app, "demo-password") and not can_log_in(app, GOOD_NEW_PASSWORD)


@pytest.mark.parametrize("new,confirm,field,message", [
    ("short-one", None, "new_password", "Choose a password of at least 12 characters"),
    ("x" * 129, None, "new_password", "Choose a password of at most 128 characters."),
    ("password1234", None, "new_password", "That password is one of the most common passwords"),
    ("Qwertyuiop123!", None, "new_password", "That password is one of the most common passwords"),
    ("my-csc-practitioner-login", None, "new_password", "Choose a password that does not contain your username."),
    (GOOD_NEW_PASSWORD, "lantern orchard pebbles", "confirm_password", "The two new passwords are not the same."),
    ("demo-password", None, "new_password", "Choose a password other than your current one."),
])
def test_an_unacceptable_new_password_is_422_with_the_message_at_its_field(app, new, confirm, field, message):
    client = logged_in(app)
    r = change(client, "demo-password", new, confirm)
    assert r.status_code == 422
    assert (field_error(r, field) or "").startswith(message), field_error(r, field)
    assert "Your password has not been changed." in text(r)
    assert can_log_in(app, "demo-password")
    assert client.get("/tasks").status_code == 200


def test_changing_the_password_ends_the_users_other_sessions_but_not_the_one_that_changed_it(app):
    changer, elsewhere, colleague = logged_in(app), logged_in(app), logged_in(app, "csc-manager")
    before = cookie(changer)
    r = change(changer, "demo-password", GOOD_NEW_PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == "/tasks"
    page = changer.get("/tasks")
    assert page.status_code == 200
    assert "Your password has been changed. You have been logged out everywhere else." in text(page)
    assert "Your password was changed or reset, so you were logged out." in sent_to_login(elsewhere)
    # The changer's own cookie from before the change was one of those sessions.
    assert replayed(app, before).get("/tasks").status_code == 302
    assert colleague.get("/tasks").status_code == 200  # someone else's session is untouched
    assert can_log_in(app, GOOD_NEW_PASSWORD) and not can_log_in(app, "demo-password")


# --- an administrator's reset ---------------------------------------------------------------------------------

def test_the_reset_password_command_ends_the_users_sessions_and_makes_them_choose_a_new_one(app):
    before = logged_in(app)
    result = app.test_cli_runner().invoke(args=["reset-password", "csc-practitioner"])
    assert result.exit_code == 0, result.output
    handed_over = result.output.strip()
    assert len(handed_over) >= 12 and "\n" not in handed_over
    assert "Your password was changed or reset, so you were logged out." in sent_to_login(before)
    assert not can_log_in(app, "demo-password")

    client = app.test_client()
    r = log_in(client, password=handed_over)
    assert r.status_code == 302 and r.headers["Location"] == "/account/password"
    page = client.get("/account/password")
    assert page.status_code == 200
    assert "Your password was reset: choose a new one before you go on." in text(page)
    assert "Your password was reset by an administrator." in text(page)
    # Until it is changed, every page leads back to the password page.
    for path in ("/", "/tasks", "/challenges", "/challenges/new", "/notifications", "/account/tokens",
                 "/challenges/1/records/monitoring_return", "/login"):
        r = client.get(path)
        assert r.status_code == 302 and r.headers["Location"] == "/account/password", path
    assert client.post("/account/tokens", data={"name": "sneaky", "days": "30"}).headers["Location"] == \
        "/account/password"

    r = change(client, handed_over, GOOD_NEW_PASSWORD)
    assert r.status_code == 302 and r.headers["Location"] == "/tasks"
    assert client.get("/tasks").status_code == 200
    assert can_log_in(app, GOOD_NEW_PASSWORD) and not can_log_in(app, handed_over)


def test_the_reset_password_command_refuses_an_unknown_user(app):
    result = app.test_cli_runner().invoke(args=["reset-password", "nobody-of-that-name"])
    assert result.exit_code != 0
    assert "no user 'nobody-of-that-name'" in result.output
