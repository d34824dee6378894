"""What every page blueprint shares: the engine's refusals turned into pages with the right status."""

from __future__ import annotations

from flask import Flask, render_template, request
from flask_login import current_user
from werkzeug.exceptions import BadRequest

from engine.errors import ChallengeError, Conflict, Forbidden, NotFound, StepFailed
from engine.text import UNSTORABLE_MESSAGE

from . import api, challenges, security
from .database import db
from .security import unstorable_fields


def init_app(app: Flask) -> None:
    @app.errorhandler(NotFound)
    def _not_found(exc):
        return render_template("error.html", title="Not found", message=str(exc)), 404

    @app.errorhandler(Forbidden)
    def _forbidden(exc):
        return render_template("error.html", title="Not yours", message=str(exc)), 403

    @app.errorhandler(Conflict)
    def _conflict(exc):
        return render_template("error.html", title="Already done", message=str(exc)), 409

    @app.errorhandler(StepFailed)
    def _failed(exc):
        db.session.rollback()
        return render_template("error.html", title="The procedure could not move on",
                               message=f"Nothing was saved. {exc}"), 409

    @app.before_request
    def _storable_input():
        bad = unstorable_fields(request)
        if bad:
            raise BadRequest(f"{UNSTORABLE_MESSAGE} ({', '.join(bad[:5])})")

    @app.errorhandler(400)
    def _bad_request(exc):
        message = exc.description or "The request could not be understood."
        if api.is_api_request():
            return api.bad_request(message)
        return render_template("error.html", title="Not understood", message=message), 400

    @app.errorhandler(500)
    def _internal(exc):
        db.session.rollback()
        message = "Something went wrong on our side, and nothing was saved. Please try again."
        if api.is_api_request():
            return api.server_error(message)
        return render_template("error.html", title="Something went wrong", message=message), 500

    @app.errorhandler(404)
    def _plain_not_found(exc):
        if api.is_api_request():
            return api.no_route()
        return render_template("error.html", title="Not found", message="There is no such page."), 404

    @app.errorhandler(413)
    def _too_large(exc):
        message = security.too_large_message()
        if security.is_upload(request) and not api.is_api_request():
            db.session.rollback()
            if current_user.is_authenticated:  # the page again, for whoever may see it
                try:
                    return challenges.refused_upload(request.view_args["challenge_id"], message)
                except ChallengeError:
                    db.session.rollback()
        if api.is_api_request():
            return api.too_large(message)
        return render_template("error.html", title="Too large", message=message), 413

    @app.errorhandler(405)
    def _method_not_allowed(exc):
        if api.is_api_request():
            return api.bad_method()
        return render_template("error.html", title="Not allowed", message="That page does not take this "
                               "kind of request."), 405
