"""The subject access page of a partnership's business unit: a case reference in, everything held under it out
as a zip (engine.subject_access)."""

from __future__ import annotations

from flask import Blueprint, Response, abort, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import subject_access
from engine.errors import Invalid, NotFound
from engine.models import Partnership

from .auth import caller
from .database import clock, db

bp = Blueprint("subject_access", __name__, url_prefix="/subject-access")


@bp.route("", methods=["GET", "POST"])
@login_required
def index():
    ids = subject_access.exporting_partnerships(db.session, current_user)
    if not ids:
        abort(404)
    partnerships = list(db.session.scalars(select(Partnership).where(Partnership.id.in_(ids))
                                           .order_by(Partnership.name)))
    errors: dict[str, str] = {}
    if request.method == "POST":
        chosen = request.form.get("partnership", str(partnerships[0].id))
        partnership = next((p for p in partnerships if str(p.id) == chosen), None)
        reference = request.form.get("subject_reference", "")
        try:
            if partnership is None:
                raise Invalid({"partnership": "Choose one of your partnerships."})
            archive = subject_access.export(db.session, clock(), caller(), partnership.id, reference)
        except Invalid as exc:
            db.session.rollback()
            errors = exc.errors
        except NotFound as exc:
            errors = {"subject_reference": str(exc)}
        else:
            name = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in reference.strip())[:60]
            return Response(archive, mimetype="application/zip", headers={
                "Content-Disposition": f'attachment; filename="subject-access-{name}.zip"'})
    return render_template("subject_access.html", partnerships=partnerships, errors=errors,
                           form=request.form), 422 if errors else 200


@bp.app_context_processor
def _navigation():
    if current_user.is_authenticated:
        return {"may_export_subject_access": lambda: bool(subject_access.exporting_partnerships(db.session,
                                                                                             current_user))}
    return {"may_export_subject_access": lambda: False}
