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
# partnership's own body (its business unit, executive or scrutineer).
SIDES = ("raising", "receiving", "partnership")
