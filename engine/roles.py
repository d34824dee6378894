"""The roles a membership can hold and the sides a lane can be on."""

from __future__ import annotations

ROLES: dict[str, str] = {
    "practitioner": "Practitioner",
    "line_manager": "Line manager / named practitioner / designated safeguarding lead",
    "senior_manager": "Senior manager",
    "head_of_service": "Head of service",
    "chair_of_governors": "Chair of governors",
    "board_representative": "Partnership board representative",
    "independent_reviewing_officer": "Independent Reviewing Officer",
    "business_unit": "Partnership business unit",
    "partnership_executive": "Partnership executive",
    "lead_safeguarding_partner": "Lead Safeguarding Partner / Independent Scrutineer",
}

# raising: the agency that raised the challenge; receiving: the agency challenged; partnership: the
# partnership's own body (its business unit, executive or scrutineer); agency_from:<field>: an agency chosen
# while the case runs (an independent chair from an agency not involved), read from the case's data.
SIDES = ("raising", "receiving", "partnership", "agency_from:<field>")
CHOSEN_PREFIX = "agency_from:"


def valid_side(side: object) -> bool:
    if not isinstance(side, str):
        return False
    if side.startswith(CHOSEN_PREFIX):
        return side.removeprefix(CHOSEN_PREFIX).isidentifier()
    return side in SIDES[:3]
