"""The Flask front end: thin views over the engine's services. Nothing runs at import."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from flask import Flask

from engine.clock import SystemClock
from engine.db import engine_options


def _number(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True)
    instance = Path(app.instance_path)
    app.config.from_mapping(
        SECRET_KEY=os.environ.get("SECRET_KEY"),
        # The demo (`make run`): demo partnerships loaded, and a generated secret key kept in the instance folder.
        DEMO=os.environ.get("PC_DEMO") == "1",
        SQLALCHEMY_DATABASE_URI=os.environ.get("DATABASE_URL", f"sqlite:///{instance / 'challenge.sqlite3'}"),
        SQLALCHEMY_ENGINE_OPTIONS={},
        SMTP_HOST=os.environ.get("SMTP_HOST", "127.0.0.1"),
        SMTP_PORT=_number("SMTP_PORT", 8025),
        SMTP_SENDER=os.environ.get("SMTP_SENDER", "professional-challenge@localhost"),
        SMTP_STARTTLS=os.environ.get("SMTP_STARTTLS", "auto"),
        SMTP_USERNAME=os.environ.get("SMTP_USERNAME"),
        SMTP_PASSWORD=os.environ.get("SMTP_PASSWORD"),
        SMTP_CA_FILE=os.environ.get("SMTP_CA_FILE"),
        # Email is sent only where an SMTP server is configured; the in-app notifications page always works.
        MAIL_ENABLED=bool(os.environ.get("SMTP_HOST")),
        # The key the worker signs the log's checkpoints with (a signed-note private key string), and its name.
        AUDIT_KEY=os.environ.get("PC_AUDIT_KEY"),
        AUDIT_LOG_NAME=os.environ.get("PC_AUDIT_LOG_NAME", "professional-challenge.local/audit"),
        SESSION_IDLE_MINUTES=_number("PC_SESSION_IDLE_MINUTES", 30),
        SESSION_HOURS=_number("PC_SESSION_HOURS", 10),
        # How many reverse proxies stand in front of the app (their X-Forwarded-For/-Proto are then believed).
        TRUSTED_PROXIES=_number("PC_TRUSTED_PROXIES", 0),
        SCHEDULER=False,
        CLOCK=SystemClock(),
        WTF_CSRF_TIME_LIMIT=None,
        # No form or API body of ours comes near this; anything larger is refused before it is read.
        MAX_CONTENT_LENGTH=1024 * 1024,
        # Except a file attached to a challenge, which may be this large (web.security.LimitedRequest).
        ATTACHMENT_MAX_BYTES=_number("PC_ATTACHMENT_MAX_MB", 5) * 1024 * 1024,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
    )
    if test_config:
        app.config.update(test_config)

    from . import security

    app.config["SECRET_KEY"] = security.secret_key(app, app.config["SECRET_KEY"], app.config["DEMO"])
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        instance.mkdir(parents=True, exist_ok=True)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])

    from . import (
        account,
        administration,
        api,
        audit,
        auth,
        challenges,
        cli,
        database,
        notifications,
        oidc,
        procedures,
        records,
        reports,
        subject_access,
        supervision,
        tasks,
        texts,
        views,
    )

    security.init_app(app)
    database.init_app(app)
    views.init_app(app)
    auth.init_app(app)
    texts.init_app(app)
    cli.init_app(app)
    oidc.init_app(app)
    for area in (auth, account, tasks, challenges, notifications, records, supervision, audit, reports, procedures,
                 administration, oidc, subject_access, api):
        app.register_blueprint(area.bp)
    auth.csrf.exempt(api.bp)
    return app
