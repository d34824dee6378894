"""The auditors' area: the log's state and its verification, every case of their partnership with its replay, its
access log and its audit bundle, and the access log of each person. Auditors read; nothing here changes a case."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, Response, abort, current_app, jsonify, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select

from engine import access_log
from engine.audit import bundle
from engine.audit.log import latest_checkpoint
from engine.audit.replay import as_json, steps
from engine.audit.summary import summary_pdf
from engine.audit.verify import verify
from engine.models import Challenge, LogEntry, User
from engine.queries.access import audited_partnerships, is_auditor
from engine.queries.cases import read_challenge
from engine.queries.records import stage_records

from .auth import caller
from .database import clock, db
from .security import audit_signer

bp = Blueprint("audit", __name__, url_prefix="/audit")


def auditor_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_auditor(db.session, current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _verifier() -> str | None:
    signer = audit_signer(current_app)
    if signer is not None:
        return signer.verifier()
    checkpoint = latest_checkpoint(db.session)
    return checkpoint.verifier if checkpoint else None


@bp.route("")
@auditor_required
def index():
    partnerships = audited_partnerships(db.session, current_user)
    challenges = list(db.session.scalars(select(Challenge).where(Challenge.partnership_id.in_(partnerships))
                                         .order_by(Challenge.raised_at.desc()).limit(500)))
    access_log.log(db.session, clock(), "cases_listed", caller(), what="audit",
                   detail={"challenges": [c.id for c in challenges]})
    db.session.commit()
    return render_template("audit.html", challenges=challenges, checkpoint=latest_checkpoint(db.session),
                           entries=db.session.query(LogEntry).count(), verifier=_verifier(), report=None)


@bp.route("/verify", methods=["POST"])
@auditor_required
def verify_now():
    report = verify(db.session, _verifier())
    partnerships = audited_partnerships(db.session, current_user)
    challenges = list(db.session.scalars(select(Challenge).where(Challenge.partnership_id.in_(partnerships))
                                         .order_by(Challenge.raised_at.desc()).limit(500)))
    return render_template("audit.html", challenges=challenges, checkpoint=latest_checkpoint(db.session),
                           entries=report.entries, verifier=_verifier(), report=report)


def _case(challenge_id: int, what: str) -> Challenge:
    challenge = read_challenge(db.session, clock(), caller(), challenge_id, what)
    if challenge.partnership_id not in audited_partnerships(db.session, current_user):
        abort(404)
    return challenge


@bp.route("/challenges/<int:challenge_id>")
@auditor_required
def replay(challenge_id: int):
    challenge = _case(challenge_id, "replay")
    return render_template("audit_replay.html", challenge=challenge, steps=steps(db.session, challenge))


@bp.route("/challenges/<int:challenge_id>/replay.json")
@auditor_required
def replay_data(challenge_id: int):
    challenge = _case(challenge_id, "replay data")
    return jsonify(as_json(challenge, steps(db.session, challenge)))


@bp.route("/challenges/<int:challenge_id>/diagram.bpmn")
@auditor_required
def diagram(challenge_id: int):
    challenge = _case(challenge_id, "diagram")
    return Response(challenge.procedure_version.bpmn_xml, mimetype="application/xml")


@bp.route("/challenges/<int:challenge_id>/access")
@auditor_required
def case_access(challenge_id: int):
    challenge = _case(challenge_id, "access log")
    return render_template("audit_access.html", challenge=challenge, person=None,
                           entries=access_log.entries(db.session, challenge_id=challenge.id))


@bp.route("/people/<int:user_id>")
@auditor_required
def person_access(user_id: int):
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    partnerships = set(audited_partnerships(db.session, current_user))
    entries = [e for e in access_log.entries(db.session, user_id=user_id)
               if e.challenge_id is None or db.session.get(Challenge, e.challenge_id).partnership_id in partnerships]
    return render_template("audit_access.html", challenge=None, person=person, entries=entries)


@bp.route("/challenges/<int:challenge_id>/bundle.zip")
@auditor_required
def download_bundle(challenge_id: int):
    challenge = _case(challenge_id, "audit bundle")
    records = [{"stage": stage.stage, "tasks": [{"title": r.task.title, "status": r.task.status,
                                                 "answers": {a.label: a.text for a in r.answers}}
                                                for r in stage.tasks]}
               for stage in stage_records(db.session, challenge)]
    checkpoint = latest_checkpoint(db.session)
    data = bundle.make(db.session, challenge, _verifier() or "", summary_pdf(db.session, challenge, checkpoint),
                       records)
    return Response(data, mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{challenge.reference}-audit-bundle.zip"'})


@bp.app_context_processor
def _menu():
    if current_user.is_authenticated and request.endpoint:
        return {"is_auditor": is_auditor(db.session, current_user)}
    return {"is_auditor": False}
