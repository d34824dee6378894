"""Raising a challenge, the list of challenges a user can see, a challenge's page, and what its page does: a note,
a withdrawal by its referrer, a file attached and downloaded."""

from __future__ import annotations

import io

from flask import Blueprint, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user, login_required

from engine.cases import attachments
from engine.cases.notes import add_note
from engine.cases.raising import MASH_ADVICE, concern_date_hint, raise_challenge, raising_agencies, receiving_agencies
from engine.cases.withdraw import may_withdraw, withdraw_challenge
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
from .security import CONTENT_SECURITY_POLICY

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


def _challenge_page(challenge_id: int, status: int = 200, withdraw: dict | None = None, attach: dict | None = None):
    challenge = read_challenge(db.session, clock(), caller(), challenge_id, "page")
    events = history(db.session, challenge)
    auditor = is_auditor(db.session, current_user)
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
        records_available=documents.available(db.session, challenge),
        may_note=not auditor,
        may_withdraw=may_withdraw(challenge, current_user),
        withdraw=withdraw or {},
        attachments=attachments.attachments_of(db.session, challenge.id),
        may_attach=challenge.status == "open" and not auditor,
        attach=attach or {},
        attachment_limit=attachments.size_in_words(current_app.config["ATTACHMENT_MAX_BYTES"]),
        attachment_kinds=attachments.ALLOWED,
        attachment_accept=",".join(e for kind in attachments.KINDS.values() for e in kind.endings),
        now=clock().now(),
    ), status


@bp.route("/<int:challenge_id>")
@login_required
def show(challenge_id: int):
    return _challenge_page(challenge_id)


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


CONFIRM = "Tick the box to confirm: a withdrawn challenge cannot be reopened."


@bp.route("/<int:challenge_id>/withdraw", methods=["POST"])
@login_required
def withdraw(challenge_id: int):
    reason = request.form.get("reason", "")
    try:
        if request.form.get("confirm") != "yes":
            raise Invalid({"confirm": CONFIRM}, "The challenge was not withdrawn.")
        challenge = withdraw_challenge(db.session, clock(), current_user, challenge_id, reason)
    except Invalid as exc:
        db.session.rollback()
        return _challenge_page(challenge_id, 422, withdraw={"errors": exc.errors, "reason": reason})
    flash(f"You withdrew {challenge.reference}: its open tasks are closed, its deadlines stopped, and everyone "
          "taking part has been told.")
    return redirect(url_for("challenges.show", challenge_id=challenge_id))


@bp.route("/<int:challenge_id>/attachments", methods=["POST"])
@login_required
def attach(challenge_id: int):
    upload = request.files.get("file")
    try:
        added = attachments.add_attachment(db.session, clock(), current_user, challenge_id,
                                           upload.filename if upload else None, upload.read() if upload else None,
                                           current_app.config["ATTACHMENT_MAX_BYTES"])
    except Invalid as exc:
        db.session.rollback()
        return _challenge_page(challenge_id, 422, attach={"errors": exc.errors})
    flash(f"{added.file_name} is attached ({attachments.KINDS[added.kind].label}, "
          f"{attachments.size_in_words(added.size)}): everyone who can see this challenge can download it.")
    return redirect(url_for("challenges.show", challenge_id=challenge_id, _anchor="attachments"))


def refused_upload(challenge_id: int, message: str):
    """The page again with the message, for a file too large even to be read (the app's 413)."""
    return _challenge_page(challenge_id, 413, attach={"errors": {"file": message}})


def attachment_response(attachment):
    """A download: never shown in the browser, never sniffed as anything but what its content was found to be."""
    response = send_file(io.BytesIO(attachment.content), mimetype=attachments.KINDS[attachment.kind].media_type,
                         as_attachment=True, download_name=attachment.file_name, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = f"{CONTENT_SECURITY_POLICY}; sandbox"
    return response


@bp.route("/<int:challenge_id>/attachments/<int:attachment_id>")
@login_required
def attachment(challenge_id: int, attachment_id: int):
    return attachment_response(attachments.read_attachment(db.session, clock(), caller(), challenge_id,
                                                           attachment_id))
