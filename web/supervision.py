"""My agency's cases: the list a manager supervises from."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user, login_required

from engine.errors import Forbidden
from engine.queries import access
from engine.queries.supervision import is_supervisor, list_agency_cases

from . import listing
from .auth import caller
from .database import clock, db

bp = Blueprint("supervision", __name__)


@bp.app_context_processor
def supervisor():
    return {"is_supervisor": current_user.is_authenticated and is_supervisor(db.session, current_user)}


@bp.route("/agency-cases")
@login_required
def agency_cases():
    if not is_supervisor(db.session, current_user):
        raise Forbidden("My agency's cases are for the managers of an agency (line managers and designated "
                        "safeguarding leads, senior managers, heads of service).")
    chosen, page = listing.filters(), listing.page()
    found = list_agency_cases(db.session, clock(), caller(), chosen, listing.PAGE_SIZE + 1,
                              (page - 1) * listing.PAGE_SIZE)
    return render_template("agency_cases.html", cases=found[:listing.PAGE_SIZE],
                           has_next=len(found) > listing.PAGE_SIZE, page=page, filters=chosen, now=clock().now(),
                           **listing.form_context(access.procedures_of(db.session, current_user)))
