"""The demo partnership: Darlington, its agencies, a user for every role, and its procedure published."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from .accounts import create_user
from .clock import Clock
from .models import Agency, Partnership
from .procedures import WORKFLOWS, publish, read_folder

DEMO_PASSWORD = "demo-password"

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


def load_demo(session: Session, clock: Clock) -> Partnership:
    """Create the demo partnership if it is not there; publish its procedure (a no-op when unchanged)."""
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
    publish(session, clock, partnership, read_folder(WORKFLOWS / "darlington"))
    session.commit()
    return partnership


def demo_logins() -> list[tuple[str, str]]:
    logins = [(f"{short}-{suffix}", f"{label}, {name}") for short, name, _ in DARLINGTON_AGENCIES
              for suffix, _, label in AGENCY_ROLES]
    return logins + [("dsp-business-unit", "DSP Business Unit"), ("dsp-scrutineer", "Lead Safeguarding Partners")]
