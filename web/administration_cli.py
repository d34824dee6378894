"""The commands that start a real partnership before anyone can sign in: `create-partnership`, and
`create-user` for its first administrator (or a system administrator). Both write administration changes."""

from __future__ import annotations

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from engine.administration import services
from engine.administration.rights import ADMINISTRATOR
from engine.errors import Invalid
from engine.models import Agency, Partnership, User
from engine.passwords import hash_password, random_password
from engine.unit_of_work import unit_of_work

from .database import clock, db


def _fail(exc: Invalid) -> click.ClickException:
    return click.ClickException("; ".join(f"{field}: {message}" for field, message in exc.errors.items()))


@click.command("create-partnership")
@with_appcontext
@click.argument("slug")
@click.argument("name")
@click.option("--nation", default="england-wales", show_default=True, type=click.Choice(services.NATIONS),
              help="Whose bank holidays count.")
@click.option("--business-unit", "body_name", default="", help="The partnership's own body (default: NAME Business "
              "Unit).")
def create_partnership_command(slug: str, name: str, nation: str, body_name: str) -> None:
    """Create a partnership (its business unit and the product's roles come with it)."""
    try:
        partnership = services.create_partnership(db.session, clock(), None, slug, name, nation, body_name)
    except Invalid as exc:
        raise _fail(exc) from None
    click.echo(f"partnership {partnership.slug!r} created; now: flask --app web create-user USERNAME "
               f"--partnership {partnership.slug} --name ... --email ...")


@click.command("create-user")
@with_appcontext
@click.argument("username")
@click.option("--name", "display_name", required=True, help="Their name and job title, as others see it.")
@click.option("--email", required=True)
@click.option("--partnership", "slug", default=None, help="The partnership they belong to.")
@click.option("--agency", "agency_name", default=None, help="Their agency (default: the partnership's business "
              "unit).")
@click.option("--role", default=ADMINISTRATOR, show_default=True, help="The role they hold there.")
@click.option("--system-administrator", is_flag=True, help="A system administrator: creates partnerships (no "
              "partnership needed).")
def create_user_command(username: str, display_name: str, email: str, slug: str | None, agency_name: str | None,
                        role: str, system_administrator: bool) -> None:
    """Create an account and print its one-time password (changed at the first login): a partnership's first
    administrator, or with --system-administrator one who creates partnerships."""
    session = db.session
    if slug is None and not system_administrator:
        raise click.ClickException("give --partnership SLUG (or --system-administrator)")
    password = random_password()
    if slug is not None:
        partnership = session.scalar(select(Partnership).where(Partnership.slug == slug))
        if partnership is None:
            raise click.ClickException(f"no partnership {slug!r}")
        agency = (session.scalar(select(Agency).where(Agency.partnership_id == partnership.id,
                                                      Agency.name == agency_name)) if agency_name
                  else services.partnership_body(session, partnership))
        if agency is None:
            raise click.ClickException(f"{partnership.name} has no agency {agency_name!r}")
        try:
            user = services.add_person(session, clock(), None, partnership,
                                       services.NewPerson(username, display_name, email, agency.id, role))
        except Invalid as exc:
            raise _fail(exc) from None
    else:
        if session.scalar(select(User.id).where(User.username == username)):
            raise click.ClickException(f"the username {username!r} is taken")
        user = User(username=username, display_name=display_name, email=email, active=True, password_hash="")
        session.add(user)
    with unit_of_work(session) as work:
        user.password_hash = hash_password(password)
        user.must_change_password = True
        user.is_system_administrator = system_administrator or user.is_system_administrator
        work.commit()
    click.echo(f"{username} created; one-time password (they choose their own at the first login):")
    click.echo(password)


@click.command("erase-due")
@with_appcontext
def erase_due_command() -> None:
    """Erase now the personal content of every closed challenge past its partnership's retention period whose
    history the audit log holds (the timer worker does it every hour)."""
    from engine.retention import erase_due

    click.echo(f"{erase_due(db.session, clock())} challenge(s) erased")
