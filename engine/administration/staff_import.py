"""Staff from a CSV file: one row per person and role (username, display_name, email, agency, role; the agency
by its name, the role by its key; a person listed again with the same name and email gets that role too).
`read_rows` says what each row would do or what is wrong with it; `import_staff` takes the rows that are right,
refuses the others with their reasons, and records both in one change."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..clock import Clock
from ..errors import Invalid
from ..models import Agency, Membership, Partnership, User
from ..text import storable
from ..unit_of_work import unit_of_work
from . import changes
from .services import NewPerson, check_person, new_account

COLUMNS = ("username", "display_name", "email", "agency", "role")
MAX_ROWS = 2000

_FIELD_NAMES = {"username": "username", "display_name": "name", "email": "email", "agency": "agency",
                "role": "role"}


@dataclass
class Row:
    line: int
    values: dict[str, str]
    errors: list[str] = field(default_factory=list)
    # A person listed on an earlier line again (same username, name and email): one more role for them.
    another_role: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def read_rows(session: Session, partnership: Partnership, text: str) -> list[Row]:
    """Each data row of the file with what is wrong with it (nothing, for a row that can be imported)."""
    if not storable(text):
        raise Invalid({"file": "The file contains characters that cannot be kept."},
                      "The file contains characters that cannot be kept.")
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip().lower() for name in (reader.fieldnames or [])]
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        message = (f"The file's first line must name the columns {', '.join(COLUMNS)}; it lacks "
                   f"{', '.join(missing)}.")
        raise Invalid({"file": message}, message)
    reader.fieldnames = header
    agencies = {a.name.casefold(): a for a in session.scalars(select(Agency)
                                                              .where(Agency.partnership_id == partnership.id))}
    rows: list[Row] = []
    taken: set[str] = set()
    first: dict[str, Row] = {}  # each username's first right row in the file
    try:
        for record in reader:
            if len(rows) >= MAX_ROWS:
                message = f"A file can hold at most {MAX_ROWS} people; split it."
                raise Invalid({"file": message}, message)
            values = {column: (record.get(column) or "").strip() for column in COLUMNS}
            if not any(values.values()):
                continue
            row = Row(reader.line_num, values)
            agency = agencies.get(values["agency"].casefold())
            person = NewPerson(values["username"], values["display_name"], values["email"],
                               agency.id if agency else None, values["role"])
            errors, _ = check_person(session, partnership, person, taken)
            if "agency" in errors and values["agency"]:
                errors["agency"] = f"{partnership.name} has no agency called {values['agency']!r}."
            if "role" in errors and values["role"]:
                errors["role"] = f"{partnership.name} has no role {values['role']!r}."
            earlier = first.get(values["username"])
            if earlier is not None:
                row.another_role = True
                errors.pop("username", None)
                if (values["display_name"], values["email"]) != (earlier.values["display_name"],
                                                                 earlier.values["email"]):
                    errors["username"] = (f"The username {values['username']!r} is on line {earlier.line} with "
                                          "another name or email.")
                elif any((r.values["agency"].casefold(), r.values["role"]) == (values["agency"].casefold(),
                                                                               values["role"])
                         for r in rows if r.ok and r.values["username"] == values["username"]):
                    errors["role"] = "This role in this agency is on an earlier line already."
            row.errors = [f"{_FIELD_NAMES[key]}: {message}" for key, message in errors.items()]
            if row.ok and earlier is None:
                taken.add(values["username"])
                first[values["username"]] = row
            rows.append(row)
    except csv.Error as exc:
        message = f"The file is not CSV the way it should be (line {reader.line_num}: {exc})."
        raise Invalid({"file": message}, message) from None
    if not rows:
        raise Invalid({"file": "The file has no one in it."}, "The file has no one in it.")
    return rows


def people(rows: list[Row]) -> int:
    """How many people the right rows make (a person's further roles are not more people)."""
    return sum(row.ok and not row.another_role for row in rows)


def import_staff(session: Session, clock: Clock, actor: User | None, partnership: Partnership,
                 text: str) -> list[Row]:
    """Give an account to every person of the file whose row is right; the rows returned say which were
    refused and why. Commits once."""
    rows = read_rows(session, partnership, text)
    agencies = {a.name.casefold(): a for a in session.scalars(select(Agency)
                                                              .where(Agency.partnership_id == partnership.id))}
    made: dict[str, User] = {}
    with unit_of_work(session) as work:
        for row in rows:
            if row.ok and row.another_role:
                values = row.values
                agency = agencies[values["agency"].casefold()]
                session.add(Membership(user_id=made[values["username"]].id, agency_id=agency.id,
                                       role=values["role"]))
                changes.write(session, clock, partnership.id, actor, changes.MembershipAdded(
                    {"username": values["username"], "agency": agency.name, "role": values["role"]}))
            elif row.ok:
                values = row.values
                agency = agencies[values["agency"].casefold()]
                person = NewPerson(values["username"], values["display_name"], values["email"], agency.id,
                                   values["role"])
                made[values["username"]] = new_account(session, clock, actor, partnership, person, agency,
                                                       imported=True)
        changes.write(session, clock, partnership.id, actor, changes.StaffImported(
            {"imported": people(rows), "refused": [row.line for row in rows if not row.ok]}))
        work.commit()
    return rows
