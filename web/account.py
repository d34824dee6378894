"""A person's own account: their password, their API tokens, and how their notices are emailed to them."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_required

from engine import digests, passwords, signin, tokens
from engine.errors import Invalid

from .auth import caller, start_session
from .database import clock, db

bp = Blueprint("account", __name__, url_prefix="/account")

PASSWORD_FIELDS = ("current_password", "new_password", "confirm_password")


@bp.route("/password", methods=["GET", "POST"])
@login_required
def password():
    errors: dict[str, str] = {}
    if request.method == "POST":
        given = {name: request.form.get(name, "") for name in PASSWORD_FIELDS}
        try:
            key = signin.change_password(db.session, clock(), current_user, given["current_password"],
                                         given["new_password"], given["confirm_password"], request.remote_addr)
        except Invalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            start_session(current_user._get_current_object(), key)
            flash("Your password has been changed. You have been logged out everywhere else.")
            return redirect(url_for("tasks.my_tasks"))
    return render_template("account_password.html", errors=errors, must_change=current_user.must_change_password,
                           min_length=passwords.MIN_LENGTH), 422 if errors else 200


@bp.route("/tokens", methods=["GET", "POST"])
@login_required
def token_list():
    errors: dict[str, str] = {}
    new_secret = None
    if request.method == "POST":
        days = request.form.get("days", "")
        try:
            _, new_secret = tokens.create_token(db.session, clock(), current_user, request.form.get("name", ""),
                                                int(days) if days.isascii() and days.isdigit() and len(days) <= 6
                                                else 0, caller())
        except Invalid as exc:
            db.session.rollback()
            errors = exc.errors
    rows = tokens.tokens_of(db.session, current_user)
    return render_template("account_tokens.html", tokens=rows, errors=errors, new_secret=new_secret,
                           lifetimes=tokens.LIFETIMES_DAYS, default_days=tokens.DEFAULT_DAYS,
                           status=lambda row: tokens.status(row, clock())), 422 if errors else 200


@bp.route("/tokens/<int:token_id>/revoke", methods=["POST"])
@login_required
def revoke(token_id: int):
    row = tokens.revoke_token(db.session, clock(), token_id, current_user, caller=caller())
    flash(f"The token {row.name!r} has been revoked: it no longer works.")
    return redirect(url_for("account.token_list"))


@bp.route("/notices", methods=["GET", "POST"])
@login_required
def notices():
    errors: dict[str, str] = {}
    if request.method == "POST":
        try:
            digests.set_notice_email(db.session, clock(), current_user, request.form.get("notice_email"),
                                     request.form.get("digest_time"))
        except Invalid as exc:
            db.session.rollback()
            errors = exc.errors
        else:
            flash(f"Your notices will be emailed to you in one email a day at {current_user.digest_time}."
                  if current_user.notice_email == "daily" else "Each notice will be emailed to you as it happens.")
            return redirect(url_for("account.notices"))
    return render_template("account_notices.html", errors=errors, choices=digests.NOTICE_EMAIL_CHOICES,
                           times=digests.DIGEST_TIMES, chosen=request.form.get("notice_email") or
                           current_user.notice_email, chosen_time=request.form.get("digest_time") or
                           current_user.digest_time), 422 if errors else 200
