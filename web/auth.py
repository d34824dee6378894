"""Logging in and out; who the current user is, from a session the server keeps; CSRF on every form."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Flask, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_login import LoginManager, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFProtect

from engine import signin
from engine.access_log import Caller
from engine.errors import Refused, Throttled
from engine.models import User

from .database import clock, db
from .security import is_api_path

bp = Blueprint("auth", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

SESSION_KEY = "sid"
ENDED = {
    "idle": "You were logged out after {idle} without activity. Log in again to go on.",
    "expired": "Your session reached its limit of {hours}. Log in again to go on.",
    "password": "Your password was changed or reset, so you were logged out. Log in with the new password.",
    "deactivated": "Your account is no longer active.",
}
# While a user must change their password (after a reset), only these are open to them.
OPEN_WHILE_CHANGING = {"account.password", "auth.logout", "static"}


def init_app(app: Flask) -> None:
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    csrf.init_app(app)
    app.before_request(_password_first)


def session_limits() -> signin.SessionLimits:
    return signin.SessionLimits(idle=timedelta(minutes=current_app.config["SESSION_IDLE_MINUTES"]),
                                absolute=timedelta(hours=current_app.config["SESSION_HOURS"]))


def caller() -> Caller:
    """The signed-in user (or nobody) and where the request came from."""
    return Caller(current_user if current_user.is_authenticated else None, request.remote_addr)


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    key = session.get(SESSION_KEY)
    user = signin.session_user(db.session, clock(), key, session_limits())
    if user is None or str(user.id) != user_id:
        g.session_ended = signin.ended_reason(db.session, key)
        return None
    return user


def _count(number: int, unit: str) -> str:
    return f"{number} {unit}" if number == 1 else f"{number} {unit}s"


@login_manager.unauthorized_handler
def _unauthorized():
    reason = g.get("session_ended")
    config = current_app.config
    flash(ENDED[reason].format(idle=_count(config["SESSION_IDLE_MINUTES"], "minute"),
                               hours=_count(config["SESSION_HOURS"], "hour"))
          if reason in ENDED else "Log in to see your professional challenges.")
    return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))


def _password_first():
    if is_api_path(request.path):  # bearer tokens only: no cookie session, no current_user to load
        return None
    if current_user.is_authenticated and current_user.must_change_password \
            and request.endpoint not in OPEN_WHILE_CHANGING:
        return redirect(url_for("account.password"))
    return None


def _safe_next(target: str | None) -> str:
    try:
        if target and urlsplit(target).netloc == "" and target.startswith("/") and not target.startswith("//"):
            return target
    except ValueError:  # not even a URL, such as "//[" (an unclosed IPv6 address)
        pass
    return url_for("tasks.my_tasks")


def start_session(user: User, key: str) -> None:
    """The browser's session from now: a fresh cookie (no fixation) carrying the server session's key."""
    session.clear()
    session[SESSION_KEY] = key
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("tasks.my_tasks"))
    error, status = None, 200
    if request.method == "POST":
        try:
            user, key = signin.log_in(db.session, clock(), request.form.get("username", ""),
                                      request.form.get("password", ""), request.remote_addr)
        except Throttled as exc:
            error, status = str(exc), 429
        except Refused as exc:
            error, status = str(exc), 401
        else:
            start_session(user, key)
            if user.must_change_password:
                flash("Your password was reset: choose a new one before you go on.")
                return redirect(url_for("account.password"))
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), status


@bp.route("/logout", methods=["POST"])
def logout():
    signin.log_out(db.session, clock(), session.get(SESSION_KEY), caller())
    logout_user()
    session.clear()
    flash("You have logged out.")
    return redirect(url_for("auth.login"))
