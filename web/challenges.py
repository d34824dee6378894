"""Raising a challenge, the list of challenges a user can see, and a challenge's page."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.cases.notes import add_note
from engine.cases.raising import MASH_ADVICE, concern_date_hint, raise_challenge, raising_agencies, receiving_agencies
from engine.errors import Forbidden, Invalid
from engine.procedures.files import raise_form
from engine.procedures.versions import current_version
from engine.queries import documents
from engine.queries.access import is_auditor
from engine.queries.cases import list_challenges, read_challenge
from engine.queries.records import challenged, deadline_basis, history, raised_answers, stage_records

from . import formrender
from .auth import caller
from .database import clock, db

bp = Blueprint("challenges", __name__, url_prefix="/challenges")


@bp.route("")
@login_required
def index():
    return render_template("challenges.html", challenges=list_challenges(db.session, clock(), caller(), "page"))


def _raise_page(values=None, errors=None, status=200):
    mine = raising_agencies(db.session, current_user)
    if not mine:
        raise Forbidden("You hold no role in an agency, so you cannot raise a challenge.")
    schema = raise_form()
    chosen = (values or {}).get("raising_agency_id")
    own = next((a for a in mine if str(a.id) == str(chosen)), mine[0])
    choices = {"receiving_agency_id": [(a.id, a.name) for a in receiving_agencies(db.session, own.partnership_id,
                                                                                   excluding=own.id)]}
    field_list = formrender.fields(schema, values, errors, choices)
    if len(mine) > 1:
        for item in field_list:
            if item["name"] == "raising_agency_id":
                item.update(widget="select", options=[(a.id, a.name) for a in mine], required=True)
    else:
        field_list = [f for f in field_list if f["name"] != "raising_agency_id"]
    version = current_version(db.session, own.partnership_id)
    guidance = version.meta.get("raise_guidance", []) if version else []
    for item in field_list:
        if item["name"] == "concern_first_raised":
            item["hint"] = concern_date_hint(version.meta if version else {})
    return render_template("challenge_new.html", fields=field_list, own=own, mash_advice=MASH_ADVICE,
                           errors=errors, guidance=guidance), status


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    if request.method == "GET":
        return _raise_page()
    answers = formrender.answers(raise_form(), request.form)
    try:
        challenge = raise_challenge(db.session, clock(), current_user, answers)
    except Invalid as exc:
        db.session.rollback()
        return _raise_page(request.form, exc.errors, 422)
    flash(f"Challenge {challenge.reference} raised. The receiving agency has been given its stage 1 task.")
    return redirect(url_for("challenges.show", challenge_id=challenge.id))


@bp.route("/<int:challenge_id>")
@login_required
def show(challenge_id: int):
    challenge = read_challenge(db.session, clock(), caller(), challenge_id, "page")
    events = history(db.session, challenge)
    raised = raised_answers(db.session, challenge)
    return render_template(
        "challenge.html",
        challenge=challenge,
        records=stage_records(db.session, challenge),
        events=events,
        raised=raised,
        challenged=challenged(raised),
        basis=deadline_basis(challenge, raised, events),
        mash_advice=MASH_ADVICE,
        records_available=documents.available(challenge),
        may_note=not is_auditor(db.session, current_user),
        now=clock().now(),
    )


@bp.route("/<int:challenge_id>/notes", methods=["POST"])
@login_required
def note(challenge_id: int):
    try:
        add_note(db.session, clock(), current_user, challenge_id, request.form.get("note", ""))
    except Invalid as exc:
        db.session.rollback()
        flash(f"{exc} {exc.errors['note']}")
        return redirect(url_for("challenges.show", challenge_id=challenge_id, _anchor="add-note"))
    flash("Note added: it is in the history, and the referrer and whoever holds the open tasks are told.")
    return redirect(url_for("challenges.show", challenge_id=challenge_id))
