"""`flask --app web procedure ...`: a procedure's versions from the command line. The published version in the
database is the truth; workflows/<name>/ is the seed and the export format."""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup
from sqlalchemy import func, select

from engine.errors import InvalidProcedure, NotFound
from engine.models import Challenge, Partnership, ProcedureVersion
from engine.procedures import migration
from engine.procedures.check import check_procedure
from engine.procedures.files import read_folder, write_folder
from engine.procedures.versions import files_of, make_current, publish, roles_of, versions_of
from engine.unit_of_work import unit_of_work

from .database import clock, db

procedure = AppGroup("procedure", help="Validate, publish, export and roll back a partnership's procedure.")


def _partnership(slug: str) -> Partnership:
    found = db.session.scalar(select(Partnership).where(Partnership.slug == slug))
    if found is None:
        raise click.ClickException(f"no partnership {slug!r}")
    return found


def _read(folder: str):
    try:
        return read_folder(folder)
    except InvalidProcedure as exc:
        raise click.ClickException(str(exc)) from None


@procedure.command("validate")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--partnership", "slug", default=None, help="Check its lanes against this partnership's roles.")
def validate(folder: str, slug: str | None) -> None:
    """Check a procedure folder as publishing would, without publishing it."""
    files = _read(folder)
    roles = set(roles_of(db.session, _partnership(slug).id)) if slug else None
    try:
        check_procedure(files, roles)
    except InvalidProcedure as exc:
        raise click.ClickException(f"not valid: {exc}") from None
    click.echo(f"valid: {files.title} ({files.procedure}), content {files.content_hash()[:12]}")


@procedure.command("publish")
@click.argument("folder", type=click.Path(exists=True, file_okay=False))
@click.option("--partnership", "slug", required=True)
@click.option("--reason", default=None, help="Why (kept with the version's history).")
def publish_command(folder: str, slug: str, reason: str | None) -> None:
    """Publish a procedure folder as the partnership's current version (new challenges start on it; open ones
    keep theirs)."""
    partnership = _partnership(slug)
    with unit_of_work(db.session) as work:
        try:
            version = publish(db.session, clock(), partnership, _read(folder), by="procedure publish command",
                              reason=reason)
        except InvalidProcedure as exc:
            raise click.ClickException(f"not published: {exc}") from None
        work.commit()
    click.echo(f"{slug}: version {version.number} of {version.procedure} is current "
               f"(content {version.content_hash[:12]})")


@procedure.command("export")
@click.option("--partnership", "slug", required=True)
@click.option("--version", "number", type=int, default=None, help="Default: the current version.")
@click.argument("dest", type=click.Path(file_okay=False))
def export(slug: str, number: int | None, dest: str) -> None:
    """Write a published version as a workflows/<name>/ folder."""
    partnership = _partnership(slug)
    versions = versions_of(db.session, partnership.id)
    chosen = [v for v in versions if (v.number == number if number is not None
                                      else v.id == partnership.current_version_id)]
    if not chosen:
        raise click.ClickException(f"{slug} has no version {number}" if number is not None
                                   else f"{slug} has no current version")
    target = Path(dest)
    if target.exists() and any(target.iterdir()):
        raise click.ClickException(f"{dest} is not empty")
    write_folder(files_of(chosen[-1]), target)
    click.echo(f"version {chosen[-1].number} of {chosen[-1].procedure} written to {dest}")


@procedure.command("current")
@click.option("--partnership", "slug", required=True)
@click.argument("number", type=int)
@click.option("--reason", default=None, help="Why (kept with the version's history).")
def current(slug: str, number: int, reason: str | None) -> None:
    """Make an earlier (or later) version current again: a rollback. Open challenges keep their version."""
    partnership = _partnership(slug)
    with unit_of_work(db.session) as work:
        try:
            version = make_current(db.session, clock(), partnership, number, by="procedure current command",
                                   reason=reason)
        except NotFound as exc:
            raise click.ClickException(str(exc)) from None
        work.commit()
    click.echo(f"{slug}: version {version.number} of {version.procedure} is current")


@procedure.command("versions")
@click.option("--partnership", "slug", required=True)
def versions(slug: str) -> None:
    """List the partnership's versions: number, published when and by whom, content hash, open cases."""
    partnership = _partnership(slug)
    open_cases = dict(db.session.execute(
        select(Challenge.procedure_version_id, func.count()).where(Challenge.partnership_id == partnership.id,
                                                                   Challenge.status == "open")
        .group_by(Challenge.procedure_version_id)).all())
    for version in versions_of(db.session, partnership.id):
        mark = "*" if version.id == partnership.current_version_id else " "
        click.echo(f"{mark} {version.procedure} v{version.number}  {version.published_at:%Y-%m-%d %H:%M}  "
                   f"{version.published_by or '-':28} {version.content_hash[:12]}  "
                   f"{open_cases.get(version.id, 0)} open")


@procedure.command("migrate")
@click.option("--partnership", "slug", required=True)
@click.option("--from-version", "number", type=int, default=None, help="Only the open cases on this version.")
@click.option("--dry-run", is_flag=True, help="Say per case whether it can move and why not; change nothing.")
@click.option("--rearm", is_flag=True, help="Evaluate the cases' waiting deadlines again on the new version.")
@click.option("--map", "pairs", multiple=True, metavar="OLD=NEW", help="An element the new version gave another id.")
def migrate_command(slug: str, number: int | None, dry_run: bool, rearm: bool, pairs: tuple[str, ...]) -> None:
    """Move open cases onto the current version, one transaction each; a case that cannot move is left as it
    was and listed with why."""
    partnership = _partnership(slug)
    mapping = {}
    for pair in pairs:
        old, equals, new = pair.partition("=")
        if not equals or not old.strip() or not new.strip():
            raise click.ClickException(f"--map {pair!r} is not OLD=NEW")
        mapping[old.strip()] = new.strip()
    from_id = None
    if number is not None:
        from_id = db.session.scalar(select(ProcedureVersion.id).where(
            ProcedureVersion.partnership_id == partnership.id, ProcedureVersion.number == number))
        if from_id is None:
            raise click.ClickException(f"{slug} has no version {number}")
    ids = [c.id for c in migration.open_cases(db.session, partnership, from_id)]
    if dry_run:
        moves = migration.dry_run(db.session, clock(), partnership, ids, mapping)
    else:
        moves = migration.migrate(db.session, clock(), partnership, ids, by="procedure migrate command",
                                  rearm=rearm, mapping=mapping)
    for move in moves:
        if not move.moved:
            click.echo(f"{move.reference}: stays: {move.reason}")
    verb = "can move" if dry_run else "moved"
    click.echo(f"{sum(m.moved for m in moves)} of {len(moves)} open cases {verb} to the current version")
