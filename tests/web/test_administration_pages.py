"""The administration pages through the test client: who may see them (a partnership's administrator its own
partnership only; a system administrator creates partnerships), bad input refused with a message and nothing
changed, and a seeded fuzz of every administration form that never answers a 500."""

from __future__ import annotations

import io
import random
import zlib

import pytest
from sqlalchemy import func, select

from engine.administration.secrets_box import SecretBox
from engine.models import AdministrationChange, Partnership, User
from tests.web.test_fuzz import NASTY_STRINGS


def _id(session, username: str) -> int:
    return session.scalar(select(User.id).where(User.username == username))


def test_only_administrators_see_administration_and_only_their_own_partnership(client, login, session):
    login("csc-practitioner")
    assert client.get("/administration").status_code == 404
    assert b"Administration" not in client.get("/tasks").data
    client.post("/logout")

    login("dudley-admin")
    page = client.get("/administration")
    assert page.status_code == 200 and b"Dudley Safeguarding People Partnership" in page.data
    assert b"Darlington" not in page.data and b"Create a partnership" not in page.data
    assert client.get("/administration/darlington").status_code == 404
    darlington_person = _id(session, "police-practitioner")
    assert client.get(f"/administration/dudley/people/{darlington_person}").status_code == 404
    assert client.post(f"/administration/dudley/people/{darlington_person}/deactivate").status_code == 404
    assert client.post("/administration", data={"slug": "new", "name": "New"}).status_code == 404
    assert client.post(f"/administration/dudley/people/{_id(session, 'dudley-admin')}/deactivate").status_code == 409
    assert session.scalar(select(User.active).where(User.id == darlington_person))


def test_bad_input_is_refused_with_a_message_and_changes_nothing(client, login, session):
    before = session.scalar(select(func.count(AdministrationChange.id)))
    login("dsp-admin")
    r = client.post("/administration/darlington/agencies", data={"agency_name": "", "agency_kind": "spaceship"})
    assert r.status_code == 422 and b"Give the agency&#39;s name." in r.data
    r = client.post("/administration/darlington/roles", data={"role_key": "Not A Key", "role_label": "x"})
    assert r.status_code == 422 and b"lower-case letters, digits and underscores" in r.data
    r = client.post("/administration/darlington/people/new", data={"username": "csc-practitioner",
                                                                   "display_name": "", "email": "x"})
    assert r.status_code == 422 and b"is taken" in r.data and b"Give an email address" in r.data
    r = client.post("/administration/darlington/import",
                    data={"file": (io.BytesIO(b"who,what\nx,y\n"), "staff.csv")}, content_type="multipart/form-data")
    assert r.status_code == 422 and b"must name the columns" in r.data
    person = _id(session, "police-manager")
    r = client.post(f"/administration/darlington/people/{person}/details", data={"display_name": "",
                                                                                "email": "not an email"})
    assert r.status_code == 422 and b"Give their name." in r.data and b"Give an email address" in r.data
    r = client.post("/administration/darlington/retention", data={"retention_days": "30"})
    assert r.status_code == 422 and b"from 365 to" in r.data
    r = client.post("/administration/darlington/sign-in", data={"issuer": "ftp://x", "client_id": ""})
    assert r.status_code == 422 and b"issuer" in r.data
    assert session.scalar(select(func.count(AdministrationChange.id))) == before


def test_a_system_administrator_creates_a_partnership(client, login, session):
    login("system-admin")
    r = client.post("/administration", data={"name": "Riverside Safeguarding Partnership", "slug": "riverside",
                                             "nation": "scotland"})
    assert r.status_code == 302 and r.headers["Location"].endswith("/administration/riverside")
    partnership = session.scalar(select(Partnership).where(Partnership.slug == "riverside"))
    assert partnership.nation == "scotland"
    assert [a.name for a in partnership.agencies] == ["Riverside Safeguarding Partnership Business Unit"]
    assert client.get("/administration/riverside/history").status_code == 200


def test_an_administrator_corrects_someones_details(client, login, session):
    login("dsp-admin")
    person = _id(session, "police-manager")
    r = client.post(f"/administration/darlington/people/{person}/details",
                    data={"display_name": "P. Manager, Detective Sergeant", "email": "p.manager@police.uk"})
    assert r.status_code == 302
    session.expire_all()
    assert session.get(User, person).display_name == "P. Manager, Detective Sergeant"
    assert b"Person&#39;s details changed" in client.get("/administration/darlington/history").data


FORMS = {
    "/administration": ["name", "slug", "nation", "body_name"],
    "/administration/darlington/agencies": ["agency_name", "agency_kind"],
    "/administration/darlington/roles": ["role_key", "role_label"],
    "/administration/darlington/people/new": ["username", "display_name", "email", "agency", "role"],
    "/administration/darlington/people/{person}/memberships": ["agency", "role"],
    "/administration/darlington/people/{person}/details": ["display_name", "email"],
    "/administration/darlington/people/{person}/memberships/{membership}/remove": ["x"],
    "/administration/darlington/import": ["text", "confirm"],
    "/administration/darlington/retention": ["retention_days"],
    "/administration/darlington/sign-in": ["issuer", "client_id", "client_secret", "create_users", "role_map",
                                           "passwords_allowed"],
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_no_administration_form_answers_a_500(app, session, form):
    rng = random.Random(20261218 + zlib.crc32(form.encode()))
    person = session.get(User, _id(session, "police-manager"))
    path = form.replace("{person}", str(person.id)).replace("{membership}", str(person.memberships[0].id))
    client = app.test_client()
    who = "system-admin" if form == "/administration" else "dsp-admin"
    assert client.post("/login", data={"username": who, "password": "demo-password"}).status_code == 302
    agencies = [str(a) for a in session.scalars(select(Partnership.id))] + ["1", "99999", "-1", "x"]
    failures = []
    for _ in range(40):
        values = {}
        for name in FORMS[form]:
            if rng.random() < 0.8:
                values[name] = rng.choice(NASTY_STRINGS + agencies + ["practitioner", "health", "1",
                                                                      "username,display_name,email,agency,role\n"
                                                                      "a,b,c@d.ef,Durham Constabulary,practitioner"])
        r = client.post(path, data={k: v.encode("utf-8", "surrogatepass") for k, v in values.items()})
        if r.status_code >= 500:
            failures.append((values, r.status_code))
    assert failures == []


def test_the_commands_start_a_partnership_and_its_first_administrator(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-partnership", "riverside", "Riverside Safeguarding Partnership",
                                 "--nation", "northern-ireland"])
    assert result.exit_code == 0 and "partnership 'riverside' created" in result.output, result.output
    again = runner.invoke(args=["create-partnership", "riverside", "Again"])
    assert again.exit_code != 0 and "already a partnership" in again.output
    result = runner.invoke(args=["create-user", "r.admin", "--partnership", "riverside", "--name", "R. Admin",
                                 "--email", "r.admin@riverside.gov.uk"])
    assert result.exit_code == 0, result.output
    password = result.output.strip().splitlines()[-1]
    client = app.test_client()
    assert client.post("/login", data={"username": "r.admin", "password": password}).status_code == 302
    assert client.get("/administration/riverside").status_code == 302  # a new password first
    bad = runner.invoke(args=["create-user", "x", "--partnership", "nowhere", "--name", "X", "--email", "x@y.uk"])
    assert bad.exit_code != 0 and "no partnership 'nowhere'" in bad.output
    result = runner.invoke(args=["create-user", "ops", "--system-administrator", "--name", "Operations",
                                 "--email", "ops@example.org"])
    assert result.exit_code == 0
    session.expire_all()
    assert session.scalar(select(User.is_system_administrator).where(User.username == "ops"))


def test_single_sign_on_refuses_what_it_cannot_follow_and_never_answers_a_500(client, session, clock, demo):
    from engine.administration import sign_in

    sign_in.set_sign_in(session, clock, None, demo, sign_in.SignInSettings(
        passwords_allowed=True, issuer="http://127.0.0.1:9/unreachable", client_id="app", client_secret="secret"),
        SecretBox("test"))
    assert b"Sign in with Darlington Safeguarding Partnership" in client.get("/login").data
    r = client.get("/login/darlington/identity-provider")
    assert r.status_code == 401 and b"cannot be reached" in r.data
    for query in ("", "?code=x&state=y", "?error=access_denied&error_description=no", "?state=%00"):
        r = client.get(f"/login/darlington/identity-provider/callback{query}")
        assert r.status_code in (400, 401), (query, r.status_code)
    assert client.get("/login/dudley/identity-provider").status_code == 404
