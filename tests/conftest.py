"""Shared fixtures: a real database (SQLite file, or PostgreSQL when PC_TEST_DATABASE_URL says so), a clock
the tests move, the demo partnership, the Flask app and its clients."""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from engine.audit.notes import Signer
from engine.clock import MovableClock
from engine.db import make_engine, make_sessions
from engine.demo import load_demo
from engine.models import Agency, Base, User

# Friday 18 December 2026, 15:00 London (GMT): the moment the checks in the issues start from.
START = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)


# The tests move the clock by days while a person stays logged in; the timeouts have tests of their own.
LONG_SESSIONS = {"SESSION_IDLE_MINUTES": 10 * 365 * 24 * 60, "SESSION_HOURS": 10 * 365 * 24}
# The key the tests' apps sign the audit log's checkpoints with.
AUDIT_KEY = Signer.generate("test.invalid/audit").text()


@pytest.fixture
def database_url(tmp_path) -> str:
    return os.environ.get("PC_TEST_DATABASE_URL") or f"sqlite:///{tmp_path / 'test.sqlite3'}"


def empty_database(engine) -> None:
    """Whatever an earlier run left (another schema, Alembic's table), start from nothing."""
    if engine.dialect.name == "postgresql":
        with engine.begin() as conn:
            conn.exec_driver_sql("DROP SCHEMA public CASCADE")
            conn.exec_driver_sql("CREATE SCHEMA public")
    else:
        Base.metadata.drop_all(engine)


@pytest.fixture
def db_engine(database_url):
    engine = make_engine(database_url)
    empty_database(engine)
    Base.metadata.create_all(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(START)


@pytest.fixture
def sessions(db_engine):
    return make_sessions(db_engine)


@pytest.fixture
def session(sessions):
    with sessions() as s:
        yield s


@pytest.fixture
def demo(session, clock):
    return load_demo(session, clock)


@pytest.fixture
def user(session, demo):
    def get(username: str) -> User:
        found = session.scalar(select(User).where(User.username == username))
        assert found is not None, username
        return found

    return get


@pytest.fixture
def agency(session, demo):
    def get(name_start: str) -> Agency:
        found = session.scalar(select(Agency).where(Agency.name.startswith(name_start)))
        assert found is not None, name_start
        return found

    return get


@pytest.fixture
def app(database_url, db_engine, clock, demo):
    from web import create_app

    app = create_app({
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "CLOCK": clock,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "test",
        "AUDIT_KEY": AUDIT_KEY,
        **LONG_SESSIONS,
    })
    yield app
    from web.database import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def live_app(database_url, db_engine, clock, demo):
    """The app as served to a real browser: CSRF on, as in production."""
    from web import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": database_url, "CLOCK": clock, "SECRET_KEY": "browser-test",
                      "AUDIT_KEY": AUDIT_KEY, **LONG_SESSIONS})
    yield app
    from web.database import db

    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def login(client):
    def do(username: str, password: str = "demo-password"):
        return client.post("/login", data={"username": username, "password": password})

    return do


@pytest.fixture
def token(app):
    """A bearer token for a demo user, made the way operations make one: through the CLI command."""

    def make(username: str) -> str:
        result = app.test_cli_runner().invoke(args=["create-token", username])
        assert result.exit_code == 0, result.output
        return result.output.strip()

    return make


def raise_answers(receiving_agency_id: int, **overrides):
    answers = {
        "receiving_agency_id": receiving_agency_id,
        "challenged_role": "Duty sergeant",
        "subject_reference": "CH-1042",
        "area": "thresholds",
        "summary": "The referral was closed with no assessment although the school reports repeated injuries.",
        "cp_or_lac": "neither",
        "significant_risk": False,
    }
    answers.update(overrides)
    return answers
