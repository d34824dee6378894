"""The account's Email of notices page: a choice it does not offer is refused with a message per field and
changes nothing; a good one is kept."""

from __future__ import annotations

from sqlalchemy import select

from engine.models import User
from tests.web import test_web_pages as pages

as_user, text = pages.as_user, pages.text


def test_a_choice_the_page_does_not_offer_is_refused_and_a_good_one_kept(as_user, db_engine):
    officer = as_user("police-practitioner")
    assert "An email for each notice, as it happens" in text(officer.get("/account/notices"))
    refused = officer.post("/account/notices", data={"notice_email": "daily", "digest_time": "08:30"})
    assert refused.status_code == 422
    assert "Choose a time on the hour between 06:00 and 20:00." in text(refused)
    refused = officer.post("/account/notices", data={"digest_time": "08:00"})
    assert refused.status_code == 422 and "Choose how your notices are emailed to you." in text(refused)
    with db_engine.connect() as conn:
        assert conn.execute(select(User.notice_email).where(User.username == "police-practitioner")).scalar() == "each"
    saved = officer.post("/account/notices", data={"notice_email": "daily", "digest_time": "18:00"})
    assert saved.status_code == 302
    with db_engine.connect() as conn:
        row = conn.execute(select(User.notice_email, User.digest_time)
                           .where(User.username == "police-practitioner")).one()
    assert tuple(row) == ("daily", "18:00")
