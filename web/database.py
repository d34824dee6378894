"""Flask-SQLAlchemy over the engine's metadata; the engine gets `db.session` and the app's clock."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, current_app
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy

from engine.clock import Clock
from engine.db import SESSION_OPTIONS, configure_sqlite
from engine.models import Base

db = SQLAlchemy(model_class=Base, session_options=dict(SESSION_OPTIONS))  # it adds to the dict it is given
migrate = Migrate()


def clock() -> Clock:
    return current_app.config["CLOCK"]


def init_app(app: Flask) -> None:
    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(app.root_path).parent / "migrations"), render_as_batch=True)
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        with app.app_context():
            configure_sqlite(db.engine)
