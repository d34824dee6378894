"""Database engines and sessions for the engine's own use (the CLI, the timer worker, tests, the benchmark)."""

from __future__ import annotations

import json
import os

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from . import models  # noqa: F401  (the tables and the append-only guards on Session register on import)

DEFAULT_URL = "sqlite:///instance/challenge.sqlite3"


def database_url() -> str:
    return os.environ.get("DATABASE_URL", DEFAULT_URL)


def engine_options(url: str) -> dict:
    """The options every engine of ours is made with. JSON is written compact and as given (the audit log hashes
    an event's content in exactly that form, so verification can hash the stored text as it is)."""
    options: dict = {"json_serializer": compact_json}
    if url.startswith("sqlite"):
        options["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        options["pool_pre_ping"] = True
    return options


def compact_json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def make_engine(url: str | None = None) -> Engine:
    url = url or database_url()
    engine = create_engine(url, **engine_options(url))
    if url.startswith("sqlite"):
        configure_sqlite(engine)
    return engine


def configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, and WAL so the scheduler thread and web requests do not block each other's reads."""

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_connection, _record):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA cache_size=-65536")
        cursor.execute("PRAGMA mmap_size=268435456")
        cursor.close()


# The one session configuration, for the web (Flask-SQLAlchemy's), the CLI, the workers and the tests: objects
# stay readable after a commit (a step's writer tells the session what it wrote).
SESSION_OPTIONS = {"expire_on_commit": False}


def make_sessions(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, **SESSION_OPTIONS)

