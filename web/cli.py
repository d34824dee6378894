"""Commands: `flask --app web <command>`. serve runs the product; the rest are for operations and tests."""

from __future__ import annotations

import logging
from datetime import datetime

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from sqlalchemy import select
from werkzeug.serving import run_simple

from engine import signin, tokens
from engine.administration import services, sign_in
from engine.cases.claims import release_claims_of
from engine.cases.reminders import send_due_reminders
from engine.cases.timers import fire_due_timers
from engine.cases.worker import TimerWorker
from engine.cases.writer import partnership_calendar
from engine.clock import MovableClock
from engine.db import make_sessions
from engine.demo import demo_logins, load_demo
from engine.demo_history import walk_history
from engine.digests import send_digests
from engine.errors import ChallengeError
from engine.models import Partnership, User
from engine.notifications import SmtpSettings, deliver_pending
from engine.reports.facts import partnerships_missing_facts, rebuild
from engine.unit_of_work import unit_of_work

from .administration_cli import create_partnership_command, create_user_command, erase_due_command
from .audit_cli import audit
from .database import clock, db
from .procedure_cli import procedure
from .reports_cli import reports
from .security import audit_signer, secret_box


def configure_logging() -> None:
    # force: Alembic's env.py configures logging from alembic.ini when the migrations run.
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(process)d %(name)s %(message)s", force=True)
    logging.getLogger("engine").disabled = False
    logging.getLogger("engine.cases.worker").disabled = False
    # SpiffWorkflow logs every task state change at INFO: far too costly (and noisy) for a server.
    logging.getLogger("spiff").setLevel(logging.WARNING)


def smtp_settings(app: Flask) -> SmtpSettings | None:
    if not app.config.get("MAIL_ENABLED"):
        return None
    config = app.config
    return SmtpSettings(config["SMTP_HOST"], config["SMTP_PORT"], config["SMTP_SENDER"],
                        starttls=config["SMTP_STARTTLS"], username=config["SMTP_USERNAME"],
                        password=config["SMTP_PASSWORD"], ca_file=config["SMTP_CA_FILE"])


def _signer(app: Flask):
    """The worker's signing key for the log's checkpoints; it does not run without one."""
    signer = audit_signer(app)
    if signer is None:
        raise click.ClickException("PC_AUDIT_KEY is not set: the worker signs the audit log's checkpoints with it. "
                                   "Make one with `flask --app web audit new-key` and keep it secret.")
    return signer


def init_app(app: Flask) -> None:
    app.cli.add_command(init_db)
    app.cli.add_command(reports)
    app.cli.add_command(load_demo_command)
    app.cli.add_command(serve)
    app.cli.add_command(fire_timers)
    app.cli.add_command(create_token_command)
    app.cli.add_command(list_tokens_command)
    app.cli.add_command(revoke_token_command)
    app.cli.add_command(reset_password_command)
    app.cli.add_command(release_claims_command)
    app.cli.add_command(deactivate_user_command)
    app.cli.add_command(deliver_mail)
    app.cli.add_command(timer_worker)
    app.cli.add_command(procedure)
    app.cli.add_command(audit)
    app.cli.add_command(create_partnership_command)
    app.cli.add_command(create_user_command)
    app.cli.add_command(erase_due_command)


@click.command("init-db")
@with_appcontext
def init_db() -> None:
    """Bring the database schema up to date (the Alembic migrations in migrations/)."""
    upgrade_schema()
    click.echo("database ready")


def upgrade_schema() -> None:
    """The schema up to date; then the reports' facts of any history from before they were kept, and the
    identity providers' client secrets sealed where they were kept as given."""
    from flask_migrate import upgrade

    upgrade()
    sign_in.seal_kept_secrets(db.session, secret_box(current_app))
    for partnership_id in partnerships_missing_facts(db.session):
        partnership = db.session.get(Partnership, partnership_id)
        with unit_of_work(db.session) as work:
            rebuild(db.session, partnership_id, partnership_calendar(partnership))
            work.commit()


@click.command("load-demo")
@with_appcontext
def load_demo_command() -> None:
    """Load the demo partnership, its users and its procedure (safe to run again)."""
    upgrade_schema()
    load_demo(db.session, clock())
    click.echo("demo loaded; logins (password 'demo-password'):")
    for username, who in demo_logins():
        click.echo(f"  {username:22} {who}")


@click.command("serve")
@with_appcontext
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
@click.option("--demo/--no-demo", default=None,
              help="Load the demo partnerships first (default: when PC_DEMO=1, as `make run` sets it).")
def serve(host: str, port: int, demo: bool | None) -> None:
    """Run the product: tables, demo data, the embedded timer scheduler, and the web server."""
    app = current_app._get_current_object()
    upgrade_schema()
    configure_logging()
    if demo if demo is not None else app.config["DEMO"]:
        load_demo(db.session, clock())
        walk_history(db.session, clock())  # a half year of Darlington's challenges for its reports, once
        db.session.remove()
    # The embedded scheduler: the same timer worker as `timer-worker`, in a thread of this process.
    worker = TimerWorker(make_sessions(db.engine), clock(), smtp_settings(app), signer=_signer(app))
    worker.start_thread()
    click.echo(f"Professional Challenge on http://{host}:{port}/"
               + (" (demo password 'demo-password')" if app.config["DEMO"] else ""))
    try:
        # Flask refuses app.run() inside its own CLI; werkzeug's server is what it would have run.
        run_simple(host, port, app, threaded=True, use_reloader=False)
    finally:
        worker.stop()


@click.command("timer-worker")
@click.option("--batch-size", default=100, show_default=True)
@with_appcontext
def timer_worker(batch_size: int) -> None:
    """Run the timer worker until stopped (SIGTERM/Ctrl-C). Run as many as you like against PostgreSQL."""
    import signal

    configure_logging()
    worker = TimerWorker(make_sessions(db.engine), clock(), smtp_settings(current_app), batch_size=batch_size,
                         signer=_signer(current_app))
    signal.signal(signal.SIGTERM, lambda *_: worker.stopping.set())
    try:
        worker.run()
    except KeyboardInterrupt:
        worker.stopping.set()


@click.command("fire-timers")
@with_appcontext
@click.option("--now", "now_text", default=None, help="ISO 8601 time to fire as of (default: the real now).")
def fire_timers(now_text: str | None) -> None:
    """Fire every timer due as of --now, in batches until none is left."""
    the_clock = clock()
    if now_text:
        moment = datetime.fromisoformat(now_text.replace("Z", "+00:00"))
        if moment.tzinfo is None:
            raise click.BadParameter("give a time zone, e.g. 2026-12-21T17:00:00Z", param_hint="--now")
        the_clock = MovableClock(moment)
    total = 0
    while True:
        moved = fire_due_timers(db.session, the_clock)
        total += moved
        if moved == 0:
            break
    reminded = 0
    while batch := send_due_reminders(db.session, the_clock):
        reminded += batch
    click.echo(f"{total} challenge(s) moved on")
    if reminded:
        click.echo(f"{reminded} task(s) wanted as soon as possible reminded")


def _user(username: str) -> User:
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        raise click.ClickException(f"no user {username!r}")
    return user


@click.command("create-token")
@with_appcontext
@click.argument("username")
@click.option("--name", default="command line", show_default=True, help="What the token is for.")
@click.option("--days", default=tokens.DEFAULT_DAYS, show_default=True,
              type=click.Choice([str(d) for d in tokens.LIFETIMES_DAYS]), help="How long it lasts.")
def create_token_command(username: str, name: str, days: str) -> None:
    """Create an API bearer token for a user and print it (it is shown only once)."""
    _, secret = tokens.create_token(db.session, clock(), _user(username), name, int(days))
    click.echo(secret)


@click.command("list-tokens")
@with_appcontext
@click.argument("username", required=False)
def list_tokens_command(username: str | None) -> None:
    """List API tokens (a user's, or everyone's): id, user, name, status, expiry, last use."""
    rows = tokens.tokens_of(db.session, _user(username)) if username else tokens.all_tokens(db.session)
    for row in rows:
        used = f"last used {row.last_used_at:%Y-%m-%d %H:%M} from {row.last_used_from}" if row.last_used_at \
            else "never used"
        click.echo(f"{row.id:6}  {row.user.username:24} {row.name:30} {tokens.status(row, clock()):8} "
                   f"expires {row.expires_at:%Y-%m-%d}  {used}")


@click.command("revoke-token")
@with_appcontext
@click.argument("token_id", type=int)
def revoke_token_command(token_id: int) -> None:
    """Revoke any user's API token by its id (an administrator's command; see list-tokens)."""
    try:
        row = tokens.revoke_token(db.session, clock(), token_id, None, administrator=True)
    except ChallengeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"token {row.id} ({row.name!r} of {row.user.username}) revoked")


@click.command("reset-password")
@with_appcontext
@click.argument("username")
def reset_password_command(username: str) -> None:
    """Give a user a new random password, printed once, which they must change at their next login. Every
    session of theirs ends."""
    _user(username)
    click.echo(signin.reset_password(db.session, clock(), username, by="the reset-password command"))


@click.command("release-claims")
@with_appcontext
@click.argument("username")
@click.option("--reason", required=True, help="Why (an absence, say): recorded and told to the lanes' holders.")
def release_claims_command(username: str, reason: str) -> None:
    """Release every open task a user has claimed, so their colleagues can take them (an absence, say)."""
    if not reason.strip():
        raise click.ClickException("give a reason")
    count = release_claims_of(db.session, clock(), _user(username), reason.strip()[:2000])
    click.echo(f"{count} claim{'' if count == 1 else 's'} of {username} released")


@click.command("deactivate-user")
@with_appcontext
@click.argument("username")
@click.option("--partnership", "slug", help="The partnership whose history records it (needed when the account "
              "belongs to more than one).")
def deactivate_user_command(username: str, slug: str | None) -> None:
    """Make an account inactive (its sessions and tokens stop working) and release its claims, as the
    Administration area does."""
    user = _user(username)
    theirs = {m.agency.partnership for m in user.memberships}
    chosen = {p for p in theirs if slug is None or p.slug == slug}
    if len(chosen) != 1:
        if not theirs:
            raise click.ClickException(f"{username} belongs to no partnership")
        raise click.ClickException("say which partnership with --partnership: one of "
                                   + ", ".join(sorted(p.slug for p in theirs)))
    try:
        count = services.deactivate(db.session, clock(), None, chosen.pop(), user)
    except ChallengeError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"{username} deactivated; {count} claim{'' if count == 1 else 's'} released")


@click.command("deliver-mail")
@with_appcontext
def deliver_mail() -> None:
    """Send pending notification emails now, and the daily digests due."""
    settings = smtp_settings(current_app) or SmtpSettings(current_app.config["SMTP_HOST"],
                                                          current_app.config["SMTP_PORT"],
                                                          starttls=current_app.config["SMTP_STARTTLS"])
    sent, failed = deliver_pending(db.session, clock(), settings)
    digests = send_digests(db.session, clock(), settings)
    click.echo(f"{sent} sent, {failed} failed" + (f"; {digests} daily digest(s) sent" if digests else ""))
