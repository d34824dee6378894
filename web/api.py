"""The JSON API under /api/v1, with bearer tokens. Each view: authenticate, validate, one engine call, JSON."""

from __future__ import annotations

import json
from datetime import datetime
from functools import wraps

from flask import Blueprint, current_app, g, jsonify, request, url_for
from sqlalchemy import select

from engine import tokens
from engine.access_log import Caller
from engine.cases import attachments
from engine.cases.claims import reassign_task, release_task
from engine.cases.notes import add_note
from engine.cases.raising import raise_challenge, raising_agencies, receiving_agencies
from engine.cases.tasks import claim_task, complete_task
from engine.cases.withdraw import withdraw_challenge
from engine.errors import Conflict, Forbidden, Invalid, NotFound, Refused, StepFailed
from engine.models import Challenge, Event, Task, User
from engine.queries import access
from engine.queries.cases import list_challenges, read_challenge, read_task
from engine.queries.filters import TaskFilters
from engine.queries.records import challenged_json, deadline_basis, history, raised_answers
from engine.text import UNSTORABLE_MESSAGE, unstorable_paths

from .challenges import attachment_response
from .database import clock, db
from .openapi import OPENAPI
from .security import API_PREFIX, is_api_path, too_large_message

# How deeply a JSON body may nest: ours go two levels deep; Python's parser would recurse until it failed.
MAX_JSON_DEPTH = 32

bp = Blueprint("api", __name__, url_prefix=API_PREFIX)


def _error(status: int, message: str, errors: dict | None = None):
    body = {"error": message}
    if errors:
        body["errors"] = errors
    return jsonify(body), status


@bp.errorhandler(NotFound)
def _not_found(exc):
    db.session.rollback()
    return _error(404, str(exc))


@bp.errorhandler(Forbidden)
def _forbidden(exc):
    db.session.rollback()
    return _error(403, str(exc))


@bp.errorhandler(Conflict)
def _conflict(exc):
    db.session.rollback()
    return _error(409, str(exc))


@bp.errorhandler(Invalid)
def _invalid(exc):
    db.session.rollback()
    return _error(422, str(exc), exc.errors)


@bp.errorhandler(StepFailed)
def _step_failed(exc):
    db.session.rollback()
    return _error(409, f"The procedure could not move this challenge on, so nothing was saved: {exc}")


@bp.errorhandler(Exception)
def _unexpected(exc):
    # Our own fault, not the caller's: logged with its traceback, answered in JSON like every other error.
    db.session.rollback()
    if getattr(exc, "code", None) and getattr(exc, "description", None):  # werkzeug's HTTP errors
        return _error(exc.code, exc.description)
    current_app.logger.exception("API request failed")
    return _error(500, "Something went wrong on our side; nothing was saved.")


def is_api_request() -> bool:
    return is_api_path(request.path)


def no_route():
    """For the app's 404 handler: routing errors happen before any blueprint is chosen."""
    return _error(404, "No such endpoint.")


def bad_method():
    return _error(405, "Method not allowed.")


def too_large(message: str):
    return _error(413, message)


def bad_request(message: str):
    return _error(400, message)


def server_error(message: str):
    return _error(500, message)


def caller() -> Caller:
    return Caller(g.user, request.remote_addr, g.token.id)


def token_required(view):
    @wraps(view)
    def wrapped(*args, **kwargs):
        header = request.headers.get("Authorization", "")
        scheme, _, secret = header.partition(" ")
        try:
            if scheme.lower() != "bearer" or not secret.strip():
                raise Refused("Send a valid token: 'Authorization: Bearer <token>'.")
            g.user, g.token = tokens.user_for_token(db.session, clock(), secret.strip(), request.remote_addr)
        except Refused as exc:
            response, status = _error(401, str(exc))
            response.headers["WWW-Authenticate"] = "Bearer"
            return response, status
        return view(*args, **kwargs)

    return wrapped


def _depth(raw: bytes) -> int:
    """How deeply the JSON text nests (brackets outside strings), read without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            deepest = max(deepest, depth)
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return deepest


NOT_JSON = "Send a JSON object with Content-Type: application/json."


def _json_body() -> dict:
    raw = request.get_data(cache=True) if request.is_json else b""
    if _depth(raw) > MAX_JSON_DEPTH:
        raise Invalid({"_body": f"The JSON nests more than {MAX_JSON_DEPTH} levels deep."}, "The body is not usable.")
    try:
        body = json.loads(raw) if raw else None
    except (ValueError, RecursionError):  # not JSON, not UTF-8, or a number of more than 4,300 digits
        body = None
    if not isinstance(body, dict):
        raise Invalid({"_body": NOT_JSON}, "The body is not JSON.")
    bad = unstorable_paths(body)
    if bad:
        raise Invalid({path: UNSTORABLE_MESSAGE for path in bad[:20]}, "Some text cannot be kept.")
    return body


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def task_json(task: Task) -> dict:
    return {
        "id": task.id,
        "challenge_id": task.challenge_id,
        "challenge_reference": task.challenge.reference,
        "title": task.title,
        "stage": task.stage,
        "lane": task.lane,
        "role": task.role,
        "side": task.side,
        "agency": task.agency.name,
        "status": task.status,
        "due_at": _time(task.due_at),
        "claimed_by": task.claimed_by.username if task.claimed_by else None,
        "completed_by": task.completed_by.username if task.completed_by else None,
        "completed_at": _time(task.completed_at),
        "form": task.challenge.procedure_version.forms[task.form],
        "data": task.data,
    }


def challenge_json(challenge: Challenge) -> dict:
    tasks = db.session.query(Task).filter(Task.challenge_id == challenge.id).order_by(Task.id).all()
    raised = raised_answers(db.session, challenge)
    return {
        "id": challenge.id,
        "reference": challenge.reference,
        "partnership": challenge.partnership.slug,
        "procedure_version": {"procedure": challenge.procedure_version.procedure,
                              "number": challenge.procedure_version.number,
                              "content_hash": challenge.procedure_version.content_hash},
        "referrer": challenge.referrer.username,
        "raising_agency": {"id": challenge.raising_agency_id, "name": challenge.raising_agency.name},
        "receiving_agency": {"id": challenge.receiving_agency_id, "name": challenge.receiving_agency.name},
        "subject_reference": challenge.subject_reference,
        "area": challenge.area,
        "summary": challenge.summary,
        "status": challenge.status,
        "outcome": challenge.outcome,
        "current_stage": challenge.current_stage,
        "raised_at": _time(challenge.raised_at),
        "closed_at": _time(challenge.closed_at),
        "next_timer_due": _time(challenge.next_timer_due),
        "challenged": challenged_json(raised),
        "concern_first_raised": raised.get("concern_first_raised"),
        "deadlines_from": deadline_basis(challenge, raised, []).counts_from.isoformat(),
        "tasks": [
            {"id": t.id, "title": t.title, "stage": t.stage, "lane": t.lane, "status": t.status,
             "due_at": _time(t.due_at), "completed_at": _time(t.completed_at)}
            for t in tasks
        ],
    }


def event_json(event: Event) -> dict:
    return {"id": event.id, "at": _time(event.at), "kind": event.kind,
            "actor": event.actor.username if event.actor else None, "task_id": event.task_id, "data": event.data}


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@bp.post("/challenges")
@token_required
def create_challenge():
    body = _json_body()
    raised_at = None
    if "raised_at" in body:
        text = body.pop("raised_at")
        try:
            raised_at = datetime.fromisoformat(str(text).replace("Z", "+00:00"))
        except ValueError:
            raise Invalid({"raised_at": "Give an ISO 8601 time, for example 2026-12-18T15:00:00Z."}) from None
    challenge = raise_challenge(db.session, clock(), g.user, body, raised_at=raised_at)
    return jsonify(challenge_json(challenge)), 201


@bp.get("/challenges")
@token_required
def challenges():
    return jsonify({"challenges": [challenge_json(c) for c in list_challenges(db.session, clock(), caller(), "api")]})


@bp.get("/challenges/<int:challenge_id>")
@token_required
def challenge(challenge_id: int):
    return jsonify(challenge_json(read_challenge(db.session, clock(), caller(), challenge_id, "api")))


@bp.get("/challenges/<int:challenge_id>/events")
@token_required
def challenge_events(challenge_id: int):
    challenge = read_challenge(db.session, clock(), caller(), challenge_id, "api events")
    return jsonify({"events": [event_json(e) for e in history(db.session, challenge)]})


@bp.post("/challenges/<int:challenge_id>/notes")
@token_required
def note(challenge_id: int):
    add_note(db.session, clock(), g.user, challenge_id, _json_body().get("note"))
    return jsonify({"added": True}), 201


@bp.get("/agencies")
@token_required
def agencies():
    """The agencies the caller raises from and, for each of their partnerships, those they can raise against."""
    mine = raising_agencies(db.session, g.user)
    partnerships = {agency.partnership_id: agency.partnership for agency in mine}
    # One's own agency is no agency to challenge, unless one raises from another agency of the partnership too.
    only = {pid: [a.id for a in mine if a.partnership_id == pid] for pid in partnerships}
    return jsonify({
        "raising_agencies": [{"id": a.id, "name": a.name, "kind": a.kind, "partnership": a.partnership.slug}
                             for a in mine],
        "receiving_agencies": [{"id": a.id, "name": a.name, "kind": a.kind, "partnership": partnership.slug}
                               for partnership_id, partnership in partnerships.items()
                               for a in receiving_agencies(db.session, partnership_id)
                               if only[partnership_id] != [a.id]],
    })


def task_line_json(line, user, tasks_url: str | None = None) -> dict:
    """A lean line of My tasks: what a list needs, and the link to the task (with its form) to act on it
    (`tasks_url`/{id}, the task's URL, built once for a whole list)."""
    return {
        "id": line.id,
        "url": f"{tasks_url}/{line.id}" if tasks_url else url_for("api.task", task_id=line.id),
        "challenge_id": line.challenge_id,
        "challenge_reference": line.challenge_reference,
        "subject_reference": line.subject_reference,
        "title": line.title,
        "stage": line.stage,
        "lane": line.lane,
        "role": line.role,
        "side": line.side,
        "agency": line.agency_name,
        "raising_agency": line.raising_agency_name,
        "receiving_agency": line.receiving_agency_name,
        "significant_risk": line.significant_risk,
        "cp_or_lac": line.cp_or_lac,
        "status": "open",
        "due_at": _time(line.due_at),
        # My tasks holds only tasks nobody claimed and the caller's own claims.
        "claimed_by": user.username if line.claimed_by_id is not None else None,
    }


@bp.get("/tasks")
@token_required
def my_tasks():
    chosen = TaskFilters.parse(request.args)
    page = request.args.get("page", "1")
    page = int(page) if page.isdigit() and 0 < len(page) < 6 and int(page) > 0 else 1
    lines = access.my_tasks(db.session, g.user, limit=access.MY_TASKS_PAGE + 1, filters=chosen,
                            offset=(page - 1) * access.MY_TASKS_PAGE, now=clock().now())
    tasks_url = url_for("api.my_tasks")  # each task is at tasks_url/{id} (the route `api.task`)
    body = {"tasks": [task_line_json(line, g.user, tasks_url) for line in lines[:access.MY_TASKS_PAGE]]}
    if len(lines) > access.MY_TASKS_PAGE:
        body["next"] = url_for("api.my_tasks", page=page + 1, **chosen.query_args())
    return jsonify(body)


@bp.get("/tasks/<int:task_id>")
@token_required
def task(task_id: int):
    return jsonify(task_json(read_task(db.session, clock(), caller(), task_id, "api task")))


@bp.post("/tasks/<int:task_id>/claim")
@token_required
def claim(task_id: int):
    return jsonify(task_json(claim_task(db.session, clock(), g.user, task_id)))


@bp.post("/tasks/<int:task_id>/release")
@token_required
def release(task_id: int):
    return jsonify(task_json(release_task(db.session, clock(), g.user, task_id)))


@bp.post("/tasks/<int:task_id>/reassign")
@token_required
def reassign(task_id: int):
    body = _json_body()
    to = body.get("to")
    target = db.session.scalar(select(User.id).where(User.username == to)) if isinstance(to, str) else None
    try:
        task = reassign_task(db.session, clock(), g.user, task_id, target, body.get("reason"))
    except Invalid as exc:
        errors = {("to" if name == "to_user_id" else name): message for name, message in exc.errors.items()}
        raise Invalid(errors, str(exc)) from None
    return jsonify(task_json(task))


@bp.post("/tasks/<int:task_id>/complete")
@token_required
def complete(task_id: int):
    body = _json_body()
    answers = body.get("data", body)
    return jsonify(task_json(complete_task(db.session, clock(), g.user, task_id, answers)))


# --- withdrawing a challenge, and its attachments -------------------------------------------------------------


@bp.post("/challenges/<int:challenge_id>/withdraw")
@token_required
def withdraw(challenge_id: int):
    challenge = withdraw_challenge(db.session, clock(), g.user, challenge_id, _json_body().get("reason"))
    return jsonify(challenge_json(challenge))


def attachment_json(challenge_id: int, attachment) -> dict:
    return {"id": attachment.id, "file_name": attachment.file_name, "kind": attachment.kind,
            "media_type": attachments.KINDS[attachment.kind].media_type, "size": attachment.size,
            "sha256": attachment.sha256, "stage": attachment.stage, "added_by": attachment.added_by.username,
            "added_at": _time(attachment.added_at), "erased": attachment.erased_at is not None,
            "url": None if attachment.erased_at else url_for("api.attachment", challenge_id=challenge_id,
                                                             attachment_id=attachment.id)}


@bp.post("/challenges/<int:challenge_id>/attachments")
@token_required
def add_attachment(challenge_id: int):
    upload = request.files.get("file")
    if upload is None:
        raise Invalid({"file": "Send the file as multipart/form-data, in a part named \"file\"."},
                      attachments.REFUSED)
    added = attachments.add_attachment(db.session, clock(), g.user, challenge_id, upload.filename, upload.read(),
                                       current_app.config["ATTACHMENT_MAX_BYTES"])
    return jsonify(attachment_json(challenge_id, added)), 201


@bp.get("/challenges/<int:challenge_id>/attachments")
@token_required
def challenge_attachments(challenge_id: int):
    challenge = read_challenge(db.session, clock(), caller(), challenge_id, "api attachments")
    return jsonify({"attachments": [attachment_json(challenge.id, a)
                                    for a in attachments.attachments_of(db.session, challenge.id)]})


@bp.get("/challenges/<int:challenge_id>/attachments/<int:attachment_id>")
@token_required
def attachment(challenge_id: int, attachment_id: int):
    return attachment_response(attachments.read_attachment(db.session, clock(), caller(), challenge_id,
                                                           attachment_id))


@bp.errorhandler(413)
def _too_large(exc):
    db.session.rollback()
    return too_large(too_large_message())
