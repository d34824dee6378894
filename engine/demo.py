"""The demo partnerships: Darlington, Dudley, Tees and Stoke-on-Trent, each with its agencies, a user for every
role its procedure's lanes use, and its procedure published."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from .accounts import create_user
from .clock import Clock
from .models import Agency, Partnership, Role, User
from .procedures.files import WORKFLOWS, read_folder
from .procedures.versions import publish_seed
from .unit_of_work import unit_of_work

DEMO_PASSWORD = "demo-password"

# The roles every demo partnership has (a partnership's roles are data: it may add its own).
DEMO_ROLES: dict[str, str] = {
    "practitioner": "Practitioner",
    "line_manager": "Line manager / named practitioner / designated safeguarding lead",
    "senior_manager": "Senior manager",
    "head_of_service": "Head of service",
    "director": "Director / chief officer",
    "chair_of_governors": "Chair of governors",
    "board_representative": "Partnership board representative",
    "independent_reviewing_officer": "Independent Reviewing Officer",
    "business_unit": "Partnership business unit",
    "partnership_executive": "Partnership executive",
    "lead_safeguarding_partner": "Lead Safeguarding Partner / Independent Scrutineer",
    "auditor": "Auditor (reads every case of the partnership, changes nothing)",
    "partnership_administrator": "Partnership administrator (agencies, roles, people, sign-in)",
    "process_owner": "Process owner (edits, validates and publishes the partnership's procedure)",
}



def add_roles(session: Session, partnership: Partnership, roles: dict[str, str]) -> None:
    """Give the partnership these roles (key -> label), those it does not have yet."""
    have = set(session.scalars(select(Role.key).where(Role.partnership_id == partnership.id)))
    for key, label in roles.items():
        if key not in have:
            session.add(Role(partnership_id=partnership.id, key=key, label=label))
    session.flush()

# (short name, agency name, kind)
DARLINGTON_AGENCIES = [
    ("csc", "Darlington Children's Social Care", "children_social_care"),
    ("police", "Durham Constabulary", "police"),
    ("health", "County Durham and Darlington NHS Foundation Trust", "health"),
    ("school", "Darlington Primary School", "school"),
]
AGENCY_ROLES = [
    ("practitioner", "practitioner", "Practitioner"),
    ("manager", "line_manager", "Line Manager / DSL"),
    ("head", "head_of_service", "Head of Service"),
]


@dataclass(frozen=True)
class DemoPerson:
    suffix: str
    roles: tuple[str, ...]
    label: str

    def username(self, slug: str, short: str | None) -> str:
        return f"{slug}-{short}-{self.suffix}" if short else f"{slug}-{self.suffix}"


@dataclass(frozen=True)
class DemoAgency:
    short: str | None  # None for the partnership body: its usernames are "<slug>-<suffix>"
    name: str
    kind: str
    people: tuple[DemoPerson, ...]
    is_partnership_body: bool = False


@dataclass(frozen=True)
class DemoPartnership:
    slug: str  # also the procedure's folder in workflows/
    name: str
    agencies: tuple[DemoAgency, ...]


AUDITOR = DemoPerson("auditor", ("auditor",), "Auditor")
PROCESS_OWNER = DemoPerson("process-owner", ("process_owner",), "Process owner")
PRACTITIONER = DemoPerson("practitioner", ("practitioner",), "Practitioner")
MANAGER = DemoPerson("manager", ("line_manager",), "Line Manager / Safeguarding Lead")
SENIOR = DemoPerson("senior", ("senior_manager",), "Senior Manager")
REP = DemoPerson("rep", ("board_representative",), "Safeguarding Partnership representative")

DUDLEY_STAFF = (PRACTITIONER, MANAGER, SENIOR,
                DemoPerson("rep", ("board_representative",), "DSAB / DSCPG representative"))
DUDLEY = DemoPartnership("dudley", "Dudley Safeguarding People Partnership", (
    DemoAgency("csc", "Dudley Children's Services", "children_social_care", DUDLEY_STAFF),
    DemoAgency("police", "West Midlands Police", "police", DUDLEY_STAFF),
    DemoAgency("health", "Dudley Group NHS Foundation Trust", "health", DUDLEY_STAFF),
    DemoAgency("school", "Dudley Primary School", "school", (
        DemoPerson("practitioner", ("practitioner",), "Teacher"),
        DemoPerson("manager", ("line_manager",), "Designated Safeguarding Lead"),
        DemoPerson("head", ("senior_manager",), "Head Teacher"),
        DemoPerson("governors", ("chair_of_governors",), "Chair of Governors"),
        DemoPerson("rep", ("board_representative",), "DSCPG representative for schools"),
    )),
    # Third sector: the designated safeguarding lead is the same worker who raises concerns.
    DemoAgency("vcs", "Dudley Community Family Support", "third_sector", (
        DemoPerson("worker", ("practitioner", "line_manager"),
                   "Family Support Worker and Designated Safeguarding Lead"),
        DemoPerson("chief", ("senior_manager", "board_representative"), "Chief Executive and DSCPG representative"),
    )),
    DemoAgency(None, "DSPP Business Unit", "business_unit", (
        DemoPerson("business-unit", ("business_unit",), "DSPP Business Manager"),
        DemoPerson("executive", ("partnership_executive",), "DSPP Executive representative"),
        AUDITOR,
        PROCESS_OWNER,
    ), is_partnership_body=True),
))

# Tees stage 3 goes through every tier of management: senior manager, head of service, director.
TEES_STAFF = (PRACTITIONER, MANAGER, SENIOR, DemoPerson("head", ("head_of_service",), "Head of Service"),
              DemoPerson("director", ("director",), "Director"))
TEES = DemoPartnership("tees", "Tees Safeguarding Children Partnerships", (
    DemoAgency("csc", "Stockton-on-Tees Children's Services", "children_social_care", TEES_STAFF),
    DemoAgency("police", "Cleveland Police", "police", TEES_STAFF),
    DemoAgency("health", "North Tees and Hartlepool NHS Foundation Trust", "health", TEES_STAFF),
    DemoAgency("school", "Stockton Primary School", "school", (
        DemoPerson("practitioner", ("practitioner",), "Teacher"),
        DemoPerson("manager", ("line_manager",), "Designated Safeguarding Lead"),
        DemoPerson("senior", ("senior_manager",), "Deputy Head Teacher"),
        DemoPerson("head", ("head_of_service",), "Head Teacher"),
        DemoPerson("director", ("director",), "Chair of Governors"),
    )),
    DemoAgency(None, "Tees Safeguarding Children Partnership", "business_unit", (
        DemoPerson("scp", ("partnership_executive",), "Safeguarding Children Partnership manager"),
        DemoPerson("iro", ("independent_reviewing_officer",), "Independent Reviewing Officer"),
        DemoPerson("business-unit", ("business_unit",), "Business Unit officer"),
        AUDITOR,
        PROCESS_OWNER,
    ), is_partnership_body=True),
))

STOKE_STAFF = (PRACTITIONER, MANAGER, REP)
STOKE = DemoPartnership("stoke", "Stoke-on-Trent Safeguarding Children Partnership", (
    DemoAgency("csc", "Stoke-on-Trent Children's Social Care", "children_social_care", STOKE_STAFF),
    DemoAgency("police", "Staffordshire Police", "police", STOKE_STAFF),
    DemoAgency("health", "Midlands Partnership University NHS Foundation Trust", "health", STOKE_STAFF),
    DemoAgency("school", "Stoke Primary School", "school", (
        DemoPerson("practitioner", ("practitioner",), "Teacher"),
        DemoPerson("manager", ("line_manager",), "Designated Safeguarding Lead"),
        DemoPerson("rep", ("board_representative",), "SOTSCP representative for schools"),
    )),
    DemoAgency(None, "SOTSCP Business Unit", "business_unit", (
        DemoPerson("sotscp", ("partnership_executive",), "SOTSCP Partnership Manager"),
        DemoPerson("business-unit", ("business_unit",), "SOTSCP Business Unit officer"),
        AUDITOR,
        PROCESS_OWNER,
    ), is_partnership_body=True),
))

DEMO_PARTNERSHIPS = (DUDLEY, TEES, STOKE)


def load_demo(session: Session, clock: Clock) -> Partnership:
    """Create the demo partnerships that are not there, with their roles, and publish their procedures from
    workflows/ where they have none yet (so loading again never replaces a version published since). Returns
    Darlington, the first of them."""
    with unit_of_work(session) as work:
        partnership = session.scalar(select(Partnership).where(Partnership.slug == "darlington"))
        if partnership is None:
            partnership = Partnership(slug="darlington", name="Darlington Safeguarding Partnership",
                                      nation="england-wales")
            session.add(partnership)
            session.flush()
            for short, name, kind in DARLINGTON_AGENCIES:
                agency = Agency(partnership_id=partnership.id, name=name, kind=kind, is_partnership_body=False)
                session.add(agency)
                session.flush()
                for suffix, role, label in AGENCY_ROLES:
                    create_user(session, f"{short}-{suffix}", f"{label}, {name}", f"{short}-{suffix}@demo.invalid",
                                DEMO_PASSWORD, [(agency.id, role)])
            unit = Agency(partnership_id=partnership.id, name="DSP Business Unit", kind="business_unit",
                          is_partnership_body=True)
            session.add(unit)
            session.flush()
            create_user(session, "dsp-business-unit", "DSP Business Unit officer", "dsp-business-unit@demo.invalid",
                        DEMO_PASSWORD, [(unit.id, "business_unit")])
            create_user(session, "dsp-scrutineer", "Independent Scrutineer (Lead Safeguarding Partners)",
                        "dsp-scrutineer@demo.invalid", DEMO_PASSWORD, [(unit.id, "lead_safeguarding_partner")])
            create_user(session, "dsp-auditor", "Auditor, DSP Business Unit", "dsp-auditor@demo.invalid",
                        DEMO_PASSWORD, [(unit.id, "auditor")])
            create_user(session, "dsp-process-owner", "Process owner, DSP Business Unit",
                        "dsp-process-owner@demo.invalid", DEMO_PASSWORD, [(unit.id, "process_owner")])
        add_roles(session, partnership, DEMO_ROLES)
        publish_seed(session, clock, partnership, read_folder(WORKFLOWS / "darlington"))
        for demo in DEMO_PARTNERSHIPS:
            _load(session, clock, demo)
        _add_administrators(session)
        add_mash_contacts(session)
        work.commit()
        return partnership


def _load(session: Session, clock: Clock, demo: DemoPartnership) -> Partnership:
    partnership = session.scalar(select(Partnership).where(Partnership.slug == demo.slug))
    if partnership is None:
        partnership = Partnership(slug=demo.slug, name=demo.name, nation="england-wales")
        session.add(partnership)
        session.flush()
        for agency_spec in demo.agencies:
            agency = Agency(partnership_id=partnership.id, name=agency_spec.name, kind=agency_spec.kind,
                            is_partnership_body=agency_spec.is_partnership_body)
            session.add(agency)
            session.flush()
            for person in agency_spec.people:
                username = person.username(demo.slug, agency_spec.short)
                create_user(session, username, f"{person.label}, {agency_spec.name}", f"{username}@demo.invalid",
                            DEMO_PASSWORD, [(agency.id, role) for role in person.roles])
    add_roles(session, partnership, DEMO_ROLES)
    publish_seed(session, clock, partnership, read_folder(WORKFLOWS / demo.slug))
    return partnership


# Each demo partnership's administrator (in its business unit), and a system administrator who creates
# partnerships.
ADMINISTRATORS = {"darlington": "dsp-admin", "dudley": "dudley-admin", "tees": "tees-admin", "stoke": "stoke-admin"}
SYSTEM_ADMINISTRATOR = "system-admin"


def _add_administrators(session: Session) -> None:
    for slug, username in ADMINISTRATORS.items():
        if session.scalar(select(User.id).where(User.username == username)) is None:
            body = session.scalar(select(Agency).join(Partnership).where(Partnership.slug == slug,
                                                                         Agency.is_partnership_body.is_(True)))
            create_user(session, username, f"Partnership administrator, {body.name}", f"{username}@demo.invalid",
                        DEMO_PASSWORD, [(body.id, "partnership_administrator")])
    if session.scalar(select(User.id).where(User.username == SYSTEM_ADMINISTRATOR)) is None:
        create_user(session, SYSTEM_ADMINISTRATOR, "System administrator", "system-admin@demo.invalid",
                    DEMO_PASSWORD).is_system_administrator = True
        session.flush()
# Each demo partnership's MASH, as its task pages show it beside the MASH advice (numbers from Ofcom's range kept
# for drama, so nobody rings a real service from the demo).
DEMO_MASH_CONTACTS = {
    "darlington": "Darlington Children's Initial Advice Team (MASH): 01632 960001, Monday to Thursday 08:30 to "
                  "17:00, Friday to 16:30; out of hours, the Emergency Duty Team: 01632 960002",
    "dudley": "Dudley MASH: 01632 960011 (children), 01632 960012 (adults); out of hours: 01632 960013",
    "tees": "Stockton-on-Tees First Contact (MASH): 01632 960021; out of hours, the Emergency Duty Team: "
            "01632 960022",
    "stoke": "Stoke-on-Trent Children's Advice and Duty Service (MASH): 01632 960031; out of hours: 01632 960032",
}


def add_mash_contacts(session: Session) -> None:
    """Give each demo partnership its MASH contact where it has none (an administrator's own is kept)."""
    for partnership in session.scalars(select(Partnership).where(Partnership.slug.in_(DEMO_MASH_CONTACTS),
                                                                 Partnership.mash_contact.is_(None))):
        partnership.mash_contact = DEMO_MASH_CONTACTS[partnership.slug]
    session.flush()


def demo_logins() -> list[tuple[str, str]]:
    logins = [(f"{short}-{suffix}", f"{label}, {name}") for short, name, _ in DARLINGTON_AGENCIES
              for suffix, _, label in AGENCY_ROLES]
    logins += [("dsp-business-unit", "DSP Business Unit"), ("dsp-scrutineer", "Lead Safeguarding Partners"),
               ("dsp-auditor", "Auditor, DSP Business Unit"),
               ("dsp-process-owner", "Process owner, DSP Business Unit")]
    for demo in DEMO_PARTNERSHIPS:
        for agency in demo.agencies:
            for person in agency.people:
                logins.append((person.username(demo.slug, agency.short), f"{person.label}, {agency.name}"))
    logins += [(username, f"Partnership administrator, {slug}") for slug, username in ADMINISTRATORS.items()]
    logins.append((SYSTEM_ADMINISTRATOR, "System administrator: creates partnerships"))
    return logins
