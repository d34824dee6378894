"""The in-app copy of every notification sent to the user, grouped by challenge and paged."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine import notifications
from engine.notifications import mark_read
from engine.queries.inbox import notice_groups

from . import listing
from .database import clock, db

GROUPS_PER_PAGE = 20

bp = Blueprint("notifications", __name__)


@bp.app_context_processor
def unread():
    if current_user.is_authenticated:
        return {"unread_notifications": notifications.unread_count(db.session, current_user)}
    return {"unread_notifications": 0}


@bp.route("/notifications")
@login_required
def index():
    page = listing.page()
    unread_only, at_risk_only = request.args.get("unread") == "1", request.args.get("risk") == "1"
    found = notice_groups(db.session, current_user, unread_only, at_risk_only, limit=GROUPS_PER_PAGE + 1,
                          offset=(page - 1) * GROUPS_PER_PAGE)
    args = {name: "1" for name, on in (("unread", unread_only), ("risk", at_risk_only)) if on}
    return render_template("notifications.html", groups=found[:GROUPS_PER_PAGE],
                           has_next=len(found) > GROUPS_PER_PAGE, page=page, args=args,
                           unread_only=unread_only, at_risk_only=at_risk_only)


@bp.route("/notifications/read", methods=["POST"])
@login_required
def read_all():
    mark_read(db.session, clock(), current_user)
    return redirect(url_for("notifications.index"))
