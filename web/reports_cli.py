"""`flask --app web reports rebuild`: fold every challenge's history into the reports' facts again (after an
upgrade that counts something new, or for history from before the facts were kept)."""

from __future__ import annotations

import click
from flask.cli import AppGroup
from sqlalchemy import select

from engine.cases.writer import partnership_calendar
from engine.models import Partnership
from engine.reports.facts import rebuild as rebuild_facts
from engine.unit_of_work import unit_of_work

from .database import db

reports = AppGroup("reports", help="The partnership reports' facts.")


@reports.command("rebuild")
@click.option("--partnership", "slug", default=None, help="Only this partnership (its slug).")
def rebuild(slug: str | None) -> None:
    """Fold every challenge's events into the facts again, one partnership per transaction."""
    query = select(Partnership).order_by(Partnership.id)
    if slug:
        query = query.where(Partnership.slug == slug)
    partnerships = list(db.session.scalars(query))
    if slug and not partnerships:
        raise click.ClickException(f"no partnership {slug!r}")
    for partnership in partnerships:
        with unit_of_work(db.session) as work:
            count = rebuild_facts(db.session, partnership.id, partnership_calendar(partnership))
            work.commit()
        click.echo(f"{partnership.slug}: {count} challenges folded")
