"""The process owners' area: each procedure of their partnerships with its versions and its draft, the modeler
(the draft edited, validated, saved and published), making an earlier version current (a rollback) and the
comparison of two versions. Each view calls one engine service in engine.procedures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from functools import wraps
from typing import Any

from flask import Blueprint, Response, abort, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import func, select

from engine import access_log
from engine.calendar import WorkingCalendar
from engine.errors import Conflict, InvalidProcedure, NotFound
from engine.models import Challenge, Partnership, ProcedureChange, ProcedureVersion
from engine.procedures import drafts, migration
from engine.procedures.archive import read_zip, write_zip
from engine.procedures.compare import compare
from engine.procedures.deadlines import ANCHORS, KINDS, Deadline
from engine.procedures.files import ProcedureFiles
from engine.procedures.versions import files_of, make_current, roles_of, versions_of
from engine.unit_of_work import unit_of_work
from engine.vocabulary import NOTIFY_TARGETS, SIDES

from . import formrender
from .auth import caller
from .database import clock, db

bp = Blueprint("procedures", __name__, url_prefix="/procedures")

# The sample start the deadline editor shows dates for: Friday 18 December 2026, 15:00 London.
SAMPLE_START = datetime(2026, 12, 18, 15, 0, tzinfo=UTC)


def owner_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not drafts.is_process_owner(db.session, current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _partnership(slug: str) -> Partnership:
    for partnership in drafts.owned_partnerships(db.session, current_user):
        if partnership.slug == slug:
            return partnership
    abort(404)


def _by() -> str:
    return current_user.username


def _open_cases(partnership: Partnership) -> dict[int, int]:
    return dict(db.session.execute(
        select(Challenge.procedure_version_id, func.count()).where(Challenge.partnership_id == partnership.id,
                                                                   Challenge.status == "open")
        .group_by(Challenge.procedure_version_id)).all())


@bp.route("")
@owner_required
def index():
    areas = []
    for partnership in drafts.owned_partnerships(db.session, current_user):
        versions = versions_of(db.session, partnership.id)
        procedures = [{"name": name, "versions": [v for v in versions if v.procedure == name],
                       "draft": drafts.draft_of(db.session, partnership, name)}
                      for name in drafts.procedures_of(db.session, partnership)]
        changes = list(db.session.scalars(select(ProcedureChange).where(
            ProcedureChange.partnership_id == partnership.id).order_by(ProcedureChange.id.desc()).limit(20)))
        areas.append({"partnership": partnership, "procedures": procedures, "open": _open_cases(partnership),
                      "changes": changes})
    return render_template("procedures.html", areas=areas)


@bp.route("/<slug>/new", methods=["POST"])
@owner_required
def new(slug: str):
    partnership = _partnership(slug)
    name = request.form.get("procedure", "").strip()
    with unit_of_work(db.session) as work:
        try:
            drafts.new_procedure(db.session, clock(), partnership, name, request.form.get("title", ""), _by())
        except InvalidProcedure as exc:
            flash(f"Not created: {exc}")
            return redirect(url_for(".index"))
        work.commit()
    return redirect(url_for(".edit", slug=slug, procedure=name))


def _working(partnership: Partnership, procedure: str) -> ProcedureFiles:
    try:
        return drafts.working_files(db.session, partnership, procedure)
    except InvalidProcedure:
        abort(404)


@bp.route("/<slug>/<procedure>/edit")
@owner_required
def edit(slug: str, procedure: str):
    partnership = _partnership(slug)
    files = _working(partnership, procedure)
    return render_template("procedure_edit.html", partnership=partnership, files=files,
                           draft=drafts.draft_of(db.session, partnership, procedure))


@bp.route("/<slug>/<procedure>/draft.json")
@owner_required
def draft_data(slug: str, procedure: str):
    partnership = _partnership(slug)
    files = _working(partnership, procedure)
    return jsonify({
        "procedure": files.procedure, "title": files.title, "process_id": files.process_id, "bpmn": files.bpmn_xml,
        "forms": files.forms, "lanes": files.lanes, "meta": files.meta,
        "roles": roles_of(db.session, partnership.id),
        "sides": [entry.name for entry in SIDES],
        "notify_targets": [entry.name for entry in NOTIFY_TARGETS],
        "deadline_kinds": list(KINDS), "anchors": list(ANCHORS),
    })


def _posted_files(procedure: str) -> ProcedureFiles:
    """The modeler's JSON body as the procedure's files; `InvalidProcedure` when it is not that shape."""
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise InvalidProcedure("send the draft as a JSON object")
    bpmn, forms, lanes, meta = body.get("bpmn"), body.get("forms", {}), body.get("lanes", {}), body.get("meta", {})
    title, process_id = body.get("title"), body.get("process_id")
    if not all(isinstance(v, str) and v for v in (bpmn, title, process_id)):
        raise InvalidProcedure("the draft needs its diagram, title and process id")
    if not all(isinstance(v, dict) for v in (forms, lanes, meta)):
        raise InvalidProcedure("forms, lanes and meta must be objects")
    if "\x00" in bpmn or len(title) > 200 or len(process_id) > 100:
        raise InvalidProcedure("the draft has text the product cannot keep")
    return ProcedureFiles(procedure=procedure, title=title, process_id=process_id, bpmn_xml=bpmn, forms=forms,
                          lanes=lanes, meta=meta)


@bp.route("/<slug>/<procedure>/draft", methods=["POST"])
@owner_required
def save(slug: str, procedure: str):
    partnership = _partnership(slug)
    _working(partnership, procedure)
    with unit_of_work(db.session) as work:
        try:
            draft = drafts.save_draft(db.session, clock(), partnership, _posted_files(procedure), _by())
        except InvalidProcedure as exc:
            return jsonify({"error": str(exc)}), 422
        work.commit()
        return jsonify({"saved_at": draft.saved_at.isoformat()})


@bp.route("/<slug>/<procedure>/validate", methods=["POST"])
@owner_required
def validate(slug: str, procedure: str):
    partnership = _partnership(slug)
    try:
        files = _posted_files(procedure)
    except InvalidProcedure as exc:
        return jsonify({"problems": [{"message": str(exc), "element": None}]})
    problems = drafts.validate(db.session, partnership, files)
    return jsonify({"problems": [{"message": p.message, "element": p.element} for p in problems]})


@bp.route("/<slug>/<procedure>/publish", methods=["POST"])
@owner_required
def publish(slug: str, procedure: str):
    partnership = _partnership(slug)
    reason = request.form.get("reason", "").strip()[:2000] or None
    with unit_of_work(db.session) as work:
        try:
            version = drafts.publish_draft(db.session, clock(), partnership, procedure, _by(), reason)
        except InvalidProcedure as exc:
            flash(str(exc))
            return redirect(url_for(".edit", slug=slug, procedure=procedure))
        work.commit()
        flash(f"Version {version.number} of {version.title} is current: new challenges start on it; open ones "
              "keep their version.")
    return redirect(url_for(".index"))


@bp.route("/<slug>/current", methods=["POST"])
@owner_required
def current(slug: str):
    partnership = _partnership(slug)
    number, procedure = request.form.get("number", ""), request.form.get("procedure", "")
    reason = request.form.get("reason", "").strip()[:2000]
    if not number.isascii() or not number.isdigit() or len(number) > 9:
        flash("Choose a version.")
        return redirect(url_for(".index"))
    if not reason:
        flash("Say why the version is made current again.")
        return redirect(url_for(".index"))
    with unit_of_work(db.session) as work:
        try:
            version = make_current(db.session, clock(), partnership, int(number), procedure or None, _by(), reason)
        except NotFound as exc:
            flash(str(exc))
            return redirect(url_for(".index"))
        work.commit()
        flash(f"Version {version.number} of {version.title} is current again.")
    return redirect(url_for(".index"))


def _version(partnership: Partnership, version_id: int) -> ProcedureVersion:
    version = db.session.get(ProcedureVersion, version_id)
    if version is None or version.partnership_id != partnership.id:
        abort(404)
    return version


@bp.route("/<slug>/versions/<int:version_id>/diagram.bpmn")
@owner_required
def diagram(slug: str, version_id: int):
    return Response(_version(_partnership(slug), version_id).bpmn_xml, mimetype="application/xml")


@bp.route("/<slug>/versions/<int:version_id>/export.zip")
@owner_required
def export(slug: str, version_id: int):
    version = _version(_partnership(slug), version_id)
    return Response(write_zip(files_of(version)), mimetype="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{version.procedure}-v{version.number}.zip"'})


@bp.route("/<slug>/import", methods=["POST"])
@owner_required
def import_zip(slug: str):
    """A zip of a procedure's folder, kept as its draft if it could be published; refused with a message if not."""
    partnership = _partnership(slug)
    upload = request.files.get("archive")
    if upload is None or not upload.filename:
        flash("Choose a zip of a procedure's folder to import.")
        return redirect(url_for(".index"))
    with unit_of_work(db.session) as work:
        try:
            draft = drafts.import_draft(db.session, clock(), partnership, read_zip(upload.read()), _by())
        except InvalidProcedure as exc:
            flash(f"Not imported: {exc}")
            return redirect(url_for(".index"))
        work.commit()
        flash(f"Imported as the draft of {draft.procedure}: publish it from the modeler.")
        return redirect(url_for(".edit", slug=slug, procedure=draft.procedure))


@bp.route("/<slug>/compare")
@owner_required
def compare_versions(slug: str):
    partnership = _partnership(slug)
    ids = [request.args.get(key, "") for key in ("a", "b")]
    if not all(v.isascii() and v.isdigit() and len(v) < 10 for v in ids):
        flash("Choose two versions to compare.")
        return redirect(url_for(".index"))
    before, after = (_version(partnership, int(v)) for v in ids)
    return render_template("procedure_compare.html", partnership=partnership, before=before, after=after,
                           comparison=compare(files_of(before), files_of(after)))


@bp.route("/<slug>/deadline", methods=["POST"])
@owner_required
def deadline(slug: str):
    """The timer expression of a deadline chosen in the editor, and the date it gives for the sample start."""
    partnership = _partnership(slug)
    body: Any = request.get_json(silent=True)
    if not isinstance(body, dict):
        return jsonify({"error": "send the deadline as a JSON object"}), 422
    count = body.get("count")
    if not isinstance(count, int) or isinstance(count, bool):
        return jsonify({"error": "the number of days or hours must be a whole number"}), 422
    chosen = Deadline(str(body.get("kind", "")), count, str(body.get("anchor", "")), bool(body.get("before")),
                      bool(body.get("after")))
    try:
        expression = chosen.expression()
    except InvalidProcedure as exc:
        return jsonify({"error": str(exc)}), 422
    calendar = WorkingCalendar(partnership.nation, time.fromisoformat(partnership.end_of_working_day))
    return jsonify({"expression": expression, "sample": chosen.sample(calendar, SAMPLE_START),
                    "sample_start": "Friday 18 December 2026, 15:00"})


@bp.route("/<slug>/form-preview", methods=["POST"])
@owner_required
def form_preview(slug: str):
    """A form's JSON Schema drawn by the code that draws it for practitioners."""
    _partnership(slug)
    schema: Any = request.get_json(silent=True)
    if not isinstance(schema, dict) or not isinstance(schema.get("properties", {}), dict):
        return jsonify({"error": "a form is a JSON Schema object with properties"}), 422
    try:
        fields = formrender.fields(schema)
    except (TypeError, ValueError, AttributeError):
        return jsonify({"error": "the form cannot be drawn: check each field's type and choices"}), 422
    return render_template("_form_preview.html", fields=fields)


_ELEMENT_ID = re.compile(r"[A-Za-z_][\w.-]{0,99}")


def _mapping(text: str) -> dict[str, str]:
    """Lines of "old id = new id": the elements the new version gave other ids. `InvalidProcedure` if a line
    is not that."""
    mapping = {}
    for line in text.splitlines()[:200]:
        if not line.strip():
            continue
        old, equals, new = (part.strip() for part in line.partition("="))
        if not equals or not _ELEMENT_ID.fullmatch(old) or not _ELEMENT_ID.fullmatch(new):
            raise InvalidProcedure(f"{line[:80]!r} is not \"old id = new id\"")
        mapping[old] = new
    return mapping


def _listed(challenges) -> None:
    access_log.log(db.session, clock(), "cases_listed", caller(), what="migration",
                   detail={"challenges": [c.id for c in challenges]})


@bp.route("/<slug>/migrate")
@owner_required
def migrate_page(slug: str):
    """The open cases not on the current version, each with whether it can move onto it (a dry run)."""
    partnership = _partnership(slug)
    text = request.args.get("mapping", "")[:10_000]
    try:
        mapping = _mapping(text)
    except InvalidProcedure as exc:
        flash(str(exc))
        mapping, text = {}, ""
    chosen = request.args.get("from", "")
    from_id = int(chosen) if chosen.isascii() and chosen.isdigit() and len(chosen) < 10 else None
    cases = migration.open_cases(db.session, partnership, from_id)[:200]
    moves = migration.dry_run(db.session, clock(), partnership, [c.id for c in cases], mapping) if cases else []
    _listed(cases)
    db.session.commit()
    earlier = [v for v in versions_of(db.session, partnership.id) if v.id != partnership.current_version_id]
    return render_template("procedure_migrate.html", partnership=partnership, cases={c.id: c for c in cases},
                           moves=moves, results=None, mapping=text, earlier=earlier, from_id=from_id,
                           migrations=migration.migrations_of(db.session, partnership))


@bp.route("/<slug>/migrate", methods=["POST"])
@owner_required
def migrate(slug: str):
    partnership = _partnership(slug)
    chosen = request.form.getlist("challenge")
    if not chosen or not all(v.isascii() and v.isdigit() and len(v) < 10 for v in chosen):
        flash("Choose the cases to move.")
        return redirect(url_for(".migrate_page", slug=slug))
    try:
        mapping = _mapping(request.form.get("mapping", "")[:10_000])
    except InvalidProcedure as exc:
        flash(str(exc))
        return redirect(url_for(".migrate_page", slug=slug))
    results = migration.migrate(db.session, clock(), partnership, [int(v) for v in chosen], _by(),
                                rearm=request.form.get("rearm") == "yes", mapping=mapping)
    moved = sum(r.moved for r in results)
    access_log.log(db.session, clock(), "cases_listed", caller(), what="migration results",
                   detail={"challenges": [r.challenge_id for r in results]})
    db.session.commit()
    flash(f"{moved} of {len(results)} cases moved to the current version.")
    return render_template("procedure_migrate.html", partnership=partnership, cases={}, moves=[], results=results,
                           mapping="", earlier=[], from_id=None,
                           migrations=migration.migrations_of(db.session, partnership))


@bp.route("/<slug>/migrations/<int:migration_id>/revert", methods=["POST"])
@owner_required
def revert(slug: str, migration_id: int):
    partnership = _partnership(slug)
    with unit_of_work(db.session) as work:
        try:
            challenge = migration.revert(db.session, clock(), partnership, migration_id, _by())
        except (NotFound, Conflict) as exc:
            flash(str(exc))
            return redirect(url_for(".migrate_page", slug=slug))
        work.commit()
        flash(f"{challenge.reference} is back on the version it ran on.")
    return redirect(url_for(".migrate_page", slug=slug))


@bp.app_context_processor
def _menu():
    if current_user.is_authenticated and request.endpoint:
        return {"is_process_owner": drafts.is_process_owner(db.session, current_user)}
    return {"is_process_owner": False}
