"""My tasks, a task's page, claiming, completing, releasing and reassigning."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.cases.claims import holders_of, may_reassign, reassign_task, release_task
from engine.cases.drafts import draft_of, save_draft
from engine.cases.raising import MASH_ADVICE
from engine.cases.tasks import agency_choices, claim_task, complete_task
from engine.errors import Conflict, Invalid
from engine.queries import access, documents
from engine.queries.cases import read_task, task_for
from engine.queries.records import challenged, raised_answers, stage_records

from . import formrender, listing
from .auth import caller
from .database import clock, db

bp = Blueprint("tasks", __name__)


@bp.route("/")
@login_required
def index():
    return redirect(url_for("tasks.my_tasks"))


@bp.route("/tasks")
@login_required
def my_tasks():
    chosen, page, now = listing.filters(), listing.page(), clock().now()
    found = access.my_tasks(db.session, current_user, limit=listing.PAGE_SIZE + 1, filters=chosen,
                            offset=(page - 1) * listing.PAGE_SIZE, now=now)
    return render_template("tasks.html", tasks=found[:listing.PAGE_SIZE], has_next=len(found) > listing.PAGE_SIZE,
                           page=page, filters=chosen, now=now,
                           **listing.form_context(access.procedures_of(db.session, current_user)))


def _latest_answer(records, task):
    """The last completed task of another lane than this one: what the person answering is answering."""
    done = [r for stage in records for r in stage.tasks
            if r.task.status == "completed" and r.task.lane != task.lane and r.answers]
    return max(done, key=lambda r: r.task.completed_at) if done else None


def _render_task(task, values=None, errors=None, message=None, status=200, reassign=None):
    challenge = task.challenge
    schema = challenge.procedure_version.forms[task.form]
    records = stage_records(db.session, challenge)
    draft = draft_of(db.session, task.id) if task.status == "open" else None
    if values is None and draft is not None:
        values = draft.values
    if values is None and task.status == "open":
        values = documents.prefilled_answers(db.session, task) or None  # started from what the stages recorded
    return render_template(
        "task.html",
        task=task,
        challenge=challenge,
        schema=schema,
        fields=formrender.fields(schema, values, errors, {
            name: [(a.id, a.name) for a in agencies]
            for name, agencies in agency_choices(db.session, challenge, schema).items()
        }),
        records=records,
        draft=draft,
        latest=_latest_answer(records, task),
        challenged=challenged(raised_answers(db.session, challenge)),
        records_available=documents.available(db.session, challenge),
        mash_advice=MASH_ADVICE,
        message=message,
        can_act=access.can_act_on(db.session, current_user, task),
        reassign=reassign or ({"holders": holders_of(db.session, task)}
                              if task.status == "open" and may_reassign(db.session, current_user, task) else None),
        now=clock().now(),
    ), status


@bp.route("/tasks/<int:task_id>", methods=["GET", "POST"])
@login_required
def task_page(task_id: int):
    if request.method == "GET":
        return _render_task(read_task(db.session, clock(), caller(), task_id, "task page"))
    task = task_for(db.session, current_user, task_id)
    if request.form.get("action") == "draft":
        try:
            save_draft(db.session, clock(), current_user, task_id, request.form)
        except Invalid as exc:
            db.session.rollback()
            return _render_task(task, request.form, exc.errors, str(exc), 422)
        flash("Draft saved: your answers are kept here until the task is completed.")
        return redirect(url_for("tasks.task_page", task_id=task_id))
    schema = task.challenge.procedure_version.forms[task.form]
    answers = formrender.answers(schema, request.form)
    try:
        complete_task(db.session, clock(), current_user, task_id, answers)
    except Invalid as exc:
        db.session.rollback()
        return _render_task(task, request.form, exc.errors, "Some answers need correcting.", 422)
    except Conflict as exc:
        db.session.rollback()
        db.session.refresh(task)
        return _render_task(task, request.form, None, str(exc), 409)
    flash(f"Done: {task.title}.")
    return redirect(url_for("challenges.show", challenge_id=task.challenge_id))


@bp.route("/tasks/<int:task_id>/claim", methods=["POST"])
@login_required
def claim(task_id: int):
    task_for(db.session, current_user, task_id)
    claim_task(db.session, clock(), current_user, task_id)
    flash("The task is yours: nobody else can complete it now.")
    return redirect(url_for("tasks.task_page", task_id=task_id))


@bp.route("/tasks/<int:task_id>/release", methods=["POST"])
@login_required
def release(task_id: int):
    task = release_task(db.session, clock(), current_user, task_id)
    flash(f"You released {task.title}: anyone holding the role can claim it now.")
    return redirect(url_for("tasks.task_page", task_id=task_id))


@bp.route("/tasks/<int:task_id>/reassign", methods=["POST"])
@login_required
def reassign(task_id: int):
    chosen = request.form.get("to_user_id", "")
    try:
        task = reassign_task(db.session, clock(), current_user, task_id, int(chosen) if chosen.isdigit() else None,
                             request.form.get("reason", ""))
    except Invalid as exc:
        db.session.rollback()
        task = task_for(db.session, current_user, task_id)
        return _render_task(task, message="The task was not reassigned.", status=422, reassign={
            "holders": holders_of(db.session, task), "errors": exc.errors, "values": request.form})
    flash(f"{task.title} is now {task.claimed_by.display_name}'s; both of you have been told.")
    return redirect(url_for("tasks.task_page", task_id=task_id))
