"""The administration area: a system administrator creates partnerships; a partnership's administrators manage
its agencies, roles, people and memberships, import staff from a CSV file (preview first) and set how its people
sign in; every change is listed in its history. The views only parse the form and call one engine service."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine.administration import changes, services, sign_in, staff_import
from engine.administration.rights import administered, administered_partnerships, is_administrator, people_of, person_of
from engine.errors import Conflict, Invalid

from .database import clock, db
from .security import secret_box

bp = Blueprint("administration", __name__, url_prefix="/administration")

NATION_LABELS = {"england-wales": "England and Wales", "scotland": "Scotland", "northern-ireland": "Northern Ireland"}


def administrator_required(view):
    @wraps(view)
    @login_required
    def wrapped(*args, **kwargs):
        if not is_administrator(db.session, current_user):
            abort(404)
        return view(*args, **kwargs)

    return wrapped


def _actor():
    return current_user._get_current_object()


def _overview(partnership, errors=None, status=200):
    return render_template("administration_partnership.html", partnership=partnership,
                           roles=services.roles_of(db.session, partnership), people=people_of(db.session, partnership),
                           kinds=services.AGENCY_KINDS, errors=errors or {}, form=request.form), status


@bp.route("", methods=["GET", "POST"])
@administrator_required
def index():
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not current_user.is_system_administrator:
            abort(404)
        form = request.form
        try:
            partnership = services.create_partnership(db.session, clock(), _actor(), form.get("slug", ""),
                                                      form.get("name", ""), form.get("nation", ""),
                                                      form.get("body_name", ""))
        except Invalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(f"{partnership.name} created. Add its first administrator: a person with the role "
                  "Partnership administrator.")
            return redirect(url_for(".partnership", slug=partnership.slug))
    return render_template("administration.html", partnerships=administered_partnerships(db.session, current_user),
                           errors=errors, nations=NATION_LABELS, form=request.form), 422 if errors else 200


@bp.route("/<slug>")
@administrator_required
def partnership(slug: str):
    return _overview(administered(db.session, current_user, slug))


@bp.route("/<slug>/agencies", methods=["POST"])
@administrator_required
def add_agency(slug: str):
    found = administered(db.session, current_user, slug)
    try:
        agency = services.add_agency(db.session, clock(), _actor(), found, request.form.get("agency_name", ""),
                                     request.form.get("agency_kind", ""))
    except Invalid as exc:
        db.session.rollback()
        return _overview(found, {"agency_" + key: message for key, message in exc.errors.items()}, 422)
    flash(f"{agency.name} added.")
    return redirect(url_for(".partnership", slug=slug))


@bp.route("/<slug>/roles", methods=["POST"])
@administrator_required
def add_role(slug: str):
    found = administered(db.session, current_user, slug)
    try:
        role = services.add_role(db.session, clock(), _actor(), found, request.form.get("role_key", ""),
                                 request.form.get("role_label", ""))
    except Invalid as exc:
        db.session.rollback()
        return _overview(found, {"role_" + key: message for key, message in exc.errors.items()}, 422)
    flash(f"The role {role.label} added.")
    return redirect(url_for(".partnership", slug=slug))


@bp.route("/<slug>/retention", methods=["POST"])
@administrator_required
def retention(slug: str):
    found = administered(db.session, current_user, slug)
    try:
        services.set_retention(db.session, clock(), _actor(), found, request.form.get("retention_days", ""))
    except Invalid as exc:
        db.session.rollback()
        return _overview(found, exc.errors, 422)
    flash("Retention period saved." if found.retention_days else "Retention period cleared: nothing is erased.")
    return redirect(url_for(".partnership", slug=slug))


@bp.route("/<slug>/people/new", methods=["GET", "POST"])
@administrator_required
def new_person(slug: str):
    found = administered(db.session, current_user, slug)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            user = services.add_person(db.session, clock(), _actor(), found, services.NewPerson(
                form.get("username", ""), form.get("display_name", ""), form.get("email", ""), form.get("agency"),
                form.get("role", "")))
        except Invalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(f"{user.display_name} added.")
            return redirect(url_for(".person", slug=slug, user_id=user.id))
    return render_template("administration_person_new.html", partnership=found, errors=errors, form=request.form,
                           roles=services.roles_of(db.session, found)), 422 if errors else 200


def _person_page(found, user, errors=None, password=None, status=200):
    return render_template("administration_person.html", partnership=found, person=user, errors=errors or {},
                           roles=services.roles_of(db.session, found), password=password,
                           memberships=[m for m in user.memberships if m.agency.partnership_id == found.id]), status


@bp.route("/<slug>/people/<int:user_id>")
@administrator_required
def person(slug: str, user_id: int):
    found = administered(db.session, current_user, slug)
    return _person_page(found, person_of(db.session, found, user_id))


@bp.route("/<slug>/people/<int:user_id>/details", methods=["POST"])
@administrator_required
def change_person(slug: str, user_id: int):
    found = administered(db.session, current_user, slug)
    user = person_of(db.session, found, user_id)
    try:
        services.change_person(db.session, clock(), _actor(), found, user, request.form.get("display_name", ""),
                               request.form.get("email", ""))
    except Invalid as exc:
        db.session.rollback()
        return _person_page(found, user, exc.errors, status=422)
    flash("Details saved.")
    return redirect(url_for(".person", slug=slug, user_id=user_id))


@bp.route("/<slug>/people/<int:user_id>/memberships", methods=["POST"])
@administrator_required
def add_membership(slug: str, user_id: int):
    found = administered(db.session, current_user, slug)
    user = person_of(db.session, found, user_id)
    try:
        services.add_membership(db.session, clock(), _actor(), found, user, request.form.get("agency"),
                                request.form.get("role", ""))
    except Invalid as exc:
        db.session.rollback()
        return _person_page(found, user, exc.errors, status=422)
    flash("Role given.")
    return redirect(url_for(".person", slug=slug, user_id=user_id))


@bp.route("/<slug>/people/<int:user_id>/memberships/<int:membership_id>/remove", methods=["POST"])
@administrator_required
def remove_membership(slug: str, user_id: int, membership_id: int):
    found = administered(db.session, current_user, slug)
    user = person_of(db.session, found, user_id)
    services.remove_membership(db.session, clock(), _actor(), found, user, membership_id)
    flash("Role taken away.")
    return redirect(url_for(".person", slug=slug, user_id=user_id))


@bp.route("/<slug>/people/<int:user_id>/deactivate", methods=["POST"])
@administrator_required
def deactivate(slug: str, user_id: int):
    found = administered(db.session, current_user, slug)
    user = person_of(db.session, found, user_id)
    released = services.deactivate(db.session, clock(), _actor(), found, user)
    flash(f"{user.display_name} deactivated: they can no longer sign in"
          + (f", and {released} task{'s' if released != 1 else ''} they had claimed went back to their lanes."
             if released else "."))
    return redirect(url_for(".person", slug=slug, user_id=user_id))


@bp.route("/<slug>/people/<int:user_id>/reactivate", methods=["POST"])
@administrator_required
def reactivate(slug: str, user_id: int):
    found = administered(db.session, current_user, slug)
    user = person_of(db.session, found, user_id)
    services.reactivate(db.session, clock(), _actor(), found, user)
    flash(f"{user.display_name} may sign in again.")
    return redirect(url_for(".person", slug=slug, user_id=user_id))


@bp.route("/<slug>/people/<int:user_id>/password", methods=["POST"])
@administrator_required
def one_time_password(slug: str, user_id: int):
    found = administered(db.session, current_user, slug)
    user = person_of(db.session, found, user_id)
    password = services.give_one_time_password(db.session, clock(), _actor(), found, user)
    return _person_page(found, user, password=password)


@bp.route("/<slug>/import", methods=["GET", "POST"])
@administrator_required
def import_staff(slug: str):
    found = administered(db.session, current_user, slug)
    errors: dict[str, str] = {}
    rows, text, imported = None, "", None
    if request.method == "POST":
        upload = request.files.get("file")
        text = upload.read().decode("utf-8", errors="replace") if upload and upload.filename \
            else request.form.get("text", "")
        try:
            if request.form.get("confirm") == "1":
                rows = staff_import.import_staff(db.session, clock(), _actor(), found, text)
                imported = staff_import.people(rows)
            else:
                rows = staff_import.read_rows(db.session, found, text)
        except Invalid as exc:
            db.session.rollback()
            errors, rows = exc.errors, None
    return render_template("administration_import.html", partnership=found, rows=rows, text=text, errors=errors,
                           imported=imported, columns=staff_import.COLUMNS), 422 if errors else 200


@bp.route("/<slug>/sign-in", methods=["GET", "POST"])
@administrator_required
def sign_in_settings(slug: str):
    found = administered(db.session, current_user, slug)
    errors: dict[str, str] = {}
    if request.method == "POST":
        form = request.form
        try:
            sign_in.set_sign_in(db.session, clock(), _actor(), found, sign_in.SignInSettings(
                passwords_allowed=form.get("passwords_allowed") == "1", issuer=form.get("issuer", ""),
                client_id=form.get("client_id", ""), client_secret=form.get("client_secret", ""),
                create_users=form.get("create_users") == "1", role_map=form.get("role_map", "")),
                secret_box(current_app))
        except Invalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash("Sign-in settings saved.")
            return redirect(url_for(".sign_in_settings", slug=slug))
    provider = sign_in.provider_of(db.session, found)
    return render_template("administration_sign_in.html", partnership=found, provider=provider, errors=errors,
                           form=request.form, role_map=sign_in.role_map_text(provider)), 422 if errors else 200


@bp.route("/<slug>/history")
@administrator_required
def history(slug: str):
    found = administered(db.session, current_user, slug)
    return render_template("administration_history.html", partnership=found,
                           changes=changes.history(db.session, found.id), label=changes.label)


@bp.errorhandler(Conflict)
def _conflict(exc):
    db.session.rollback()
    return render_template("error.html", title="Not done", message=str(exc)), 409


@bp.app_context_processor
def _navigation():
    if current_user.is_authenticated:
        return {"is_administrator": is_administrator(db.session, current_user)}
    return {"is_administrator": False}
