"""The in-app copy of every notification sent to the user."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, url_for
from flask_login import current_user, login_required

from engine import notifications
from engine.notifications import mark_read

from .database import clock, db

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def unread():
    if current_user.is_authenticated:
        return {"unread_notifications": notifications.unread_count(db.session, current_user)}
    return {"unread_notifications": 0}


@bp.route("/notifications")
@login_required
def index():
    return render_template("notifications.html", notifications=notifications.for_user(db.session, current_user))


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    mark_read(db.session, clock(), current_user)
    return redirect(url_for("notifications.index"))
