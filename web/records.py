"""Printable records of a challenge, as a page and as a PDF."""

from __future__ import annotations

from flask import Blueprint, Response, render_template
from flask_login import login_required

from engine.queries.cases import read_challenge
from engine.queries.documents import build
from engine.queries.printing import render_pdf

from .auth import caller
from .database import clock, db

bp = Blueprint("records", __name__, url_prefix="/challenges/<int:challenge_id>/records")


@bp.route("/<key>")
@login_required
def show(challenge_id: int, key: str):
    challenge = read_challenge(db.session, clock(), caller(), challenge_id, f"record:{key}")
    return render_template("record.html", challenge=challenge, document=build(db.session, challenge, key))


@bp.route("/<key>.pdf")
@login_required
def pdf(challenge_id: int, key: str):
    challenge = read_challenge(db.session, clock(), caller(), challenge_id, f"pdf:{key}")
    document = build(db.session, challenge, key)
    filename = f"{challenge.reference}-{key}.pdf"
    return Response(render_pdf(document), mimetype="application/pdf",
                    headers={"Content-Disposition": f'inline; filename="{filename}"'})
