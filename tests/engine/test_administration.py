"""Administration on a real database: a partnership set up from nothing (agencies, a role of its own, staff from
a CSV file with the bad rows refused and said why), a person who left deactivated with their claims released
into their challenge's history, and every change in the partnership's history."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine import signin, tokens
from engine.administration import changes, services, sign_in, staff_import
from engine.administration.rights import administered_partnerships, people_of
from engine.administration.secrets_box import SecretBox
from engine.cases.tasks import claim_task
from engine.errors import Conflict, Invalid, Refused
from engine.models import Event, Notification, Task, User
from tests.walk import Walk

STAFF = """username,display_name,email,agency,role
nurse-1,"A. Khan, Safeguarding Nurse",a.khan@trust.nhs.uk,Riverside NHS Trust,designated_nurse
pc-1,"B. Lee, Police Constable",b.lee@police.uk,Riverside Police,practitioner
pc-1,"C. Lee, duplicate",c.lee@police.uk,Riverside Police,practitioner
dr-2,"D. Okafor",not-an-email,Nowhere Agency,surgeon
nurse-1,"A. Khan, Safeguarding Nurse",a.khan@trust.nhs.uk,Riverside NHS Trust,practitioner
nurse-1,"A. Khan, Safeguarding Nurse",a.khan@trust.nhs.uk,Riverside NHS Trust,practitioner
"""


def test_a_partnership_set_up_from_nothing_with_staff_from_csv(session, clock):
    partnership = services.create_partnership(session, clock, None, "riverside", "Riverside Safeguarding Partnership")
    services.add_agency(session, clock, None, partnership, "Riverside NHS Trust", "health")
    services.add_agency(session, clock, None, partnership, "Riverside Police", "police")
    services.add_role(session, clock, None, partnership, "practitioner", "Practitioner")
    services.add_role(session, clock, None, partnership, "designated_nurse", "Designated nurse")
    body = services.partnership_body(session, partnership)
    admin = services.add_person(session, clock, None, partnership, services.NewPerson(
        "riverside-admin", "R. Admin", "admin@riverside.gov.uk", body.id, "partnership_administrator"))
    assert administered_partnerships(session, admin) == [partnership]

    preview = staff_import.read_rows(session, partnership, STAFF)
    assert staff_import.people(preview) == 2
    assert [row.ok for row in preview] == [True, True, False, False, True, False]
    assert preview[4].another_role and preview[5].errors == [
        "role: This role in this agency is on an earlier line already."]
    assert session.scalar(select(User).where(User.username == "nurse-1")) is None  # a preview changes nothing
    assert preview[2].errors == ["username: The username 'pc-1' is on line 3 with another name or email."]
    assert preview[3].line == 5
    assert set(preview[3].errors) == {"email: Give an email address such as name@agency.gov.uk.",
                                      "agency: Riverside Safeguarding Partnership has no agency called "
                                      "'Nowhere Agency'.",
                                      "role: Riverside Safeguarding Partnership has no role 'surgeon'."}

    rows = staff_import.import_staff(session, clock, admin, partnership, STAFF)
    assert staff_import.people(rows) == 2
    people = {u.username: u for u in people_of(session, partnership)}
    assert set(people) == {"riverside-admin", "nurse-1", "pc-1"}
    assert [(m.agency.name, m.role) for m in people["nurse-1"].memberships] == [
        ("Riverside NHS Trust", "designated_nurse"), ("Riverside NHS Trust", "practitioner")]
    # Imported people have no password until they are given a one-time one (or their provider signs them in).
    with pytest.raises(Refused):
        signin.log_in(session, clock, "nurse-1", "", None)
    password = services.give_one_time_password(session, clock, admin, partnership, people["nurse-1"])
    user, _ = signin.log_in(session, clock, "nurse-1", password, None)
    assert user.must_change_password

    kinds = [c.kind for c in reversed(changes.history(session, partnership.id))]
    assert kinds[:5] == ["partnership_created", "agency_added", "agency_added", "role_added", "role_added"]
    assert kinds[-2:] == ["staff_imported", "one_time_password_set"]
    imported = changes.history(session, partnership.id)[1]
    assert imported.data == {"imported": 2, "refused": [4, 5, 7]} and imported.actor_id == admin.id


def test_bad_input_is_refused_with_a_message_and_changes_nothing(session, clock, demo):
    before = session.query(changes.AdministrationChange).count()
    with pytest.raises(Invalid) as refused:
        services.create_partnership(session, clock, None, "Darlington!", "")
    assert set(refused.value.errors) == {"slug", "name"}
    with pytest.raises(Invalid) as taken:
        services.create_partnership(session, clock, None, "darlington", "Another")
    assert "already a partnership" in taken.value.errors["slug"]
    with pytest.raises(Invalid):
        services.add_role(session, clock, None, demo, "Bad Key", "x")
    with pytest.raises(Invalid):
        services.add_agency(session, clock, None, demo, "Durham Constabulary", "police")  # it has one already
    with pytest.raises(Invalid):
        staff_import.read_rows(session, demo, "name,email\nx,y\n")
    with pytest.raises(Invalid):
        sign_in.set_sign_in(session, clock, None, demo, sign_in.SignInSettings(passwords_allowed=False),
                            SecretBox("test"))
    assert session.query(changes.AdministrationChange).count() == before


def test_deactivating_someone_who_left_releases_their_claims(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    challenge = walk.raise_("csc-practitioner", "Durham Constabulary")
    task = walk.only_open_task()
    leaver = walk.user("police-practitioner")
    claim_task(session, clock, leaver, task.id)
    _, key = signin.log_in(session, clock, "police-practitioner", "demo-password", None)
    _, token = tokens.create_token(session, clock, leaver, "case system")
    admin = walk.user("dsp-admin")

    released = services.deactivate(session, clock, admin, demo, leaver)

    assert released == 1
    session.expire_all()
    row = session.get(Task, task.id)
    assert row.claimed_by_id is None and row.status == "open"
    event = session.scalars(select(Event).where(Event.challenge_id == challenge.id).order_by(Event.id.desc())).first()
    assert (event.kind, event.data, event.actor_id) == (
        "task_released", {"title": task.title, "from": leaver.display_name, "reason": "their account was deactivated"},
        admin.id)
    assert signin.session_user(session, clock, key, signin.SessionLimits()) is None
    with pytest.raises(Refused):
        signin.log_in(session, clock, "police-practitioner", "demo-password", None)
    # The lane's other holders are told the task is free, and the account's API tokens are revoked for good.
    told = session.scalars(select(Notification).where(Notification.challenge_id == challenge.id)
                           .order_by(Notification.id.desc())).first()
    assert "released" in told.subject and "their account was deactivated" in told.body
    services.reactivate(session, clock, admin, demo, leaver)
    with pytest.raises(Refused):
        tokens.user_for_token(session, clock, token, None)
    services.deactivate(session, clock, admin, demo, leaver)
    # Whoever else holds the lane can take it on now: the practitioner who replaces them, say.
    replacement = services.add_person(session, clock, admin, demo, services.NewPerson(
        "police-practitioner-2", "E. Novak, Police Constable", "e.novak@police.uk",
        walk.agency("Durham Constabulary").id, "practitioner"))
    assert claim_task(session, clock, replacement, task.id).claimed_by_id == replacement.id
    history = changes.history(session, demo.id)[4]
    assert (history.kind, history.data) == ("person_deactivated", {"username": "police-practitioner",
                                                                   "released_tasks": [task.id]})
    with pytest.raises(Conflict):
        services.deactivate(session, clock, admin, demo, leaver)
    with pytest.raises(Conflict):
        services.deactivate(session, clock, admin, demo, admin)


def test_a_partnership_that_turned_passwords_off_refuses_them(session, clock, demo):
    sign_in.set_sign_in(session, clock, None, demo, sign_in.SignInSettings(
        passwords_allowed=False, issuer="https://login.microsoftonline.com/tenant-id/v2.0", client_id="app",
        client_secret="secret", role_map="Police.Practitioner, Durham Constabulary, practitioner"), SecretBox("test"))
    with pytest.raises(Refused):
        signin.log_in(session, clock, "csc-practitioner", "demo-password", None)
    assert signin.log_in(session, clock, "dudley-csc-practitioner", "demo-password", None)
    provider = sign_in.provider_of(session, demo)
    assert provider.role_map == {"Police.Practitioner": ["Durham Constabulary", "practitioner"]}
    # The client secret is kept sealed, readable with the service's key only.
    assert "secret" not in provider.client_secret
    assert SecretBox("test").open(provider.client_secret) == "secret"
    with pytest.raises(Conflict, match="enters it again"):
        SecretBox("another key").open(provider.client_secret)
    # One kept as given before secrets were sealed is sealed when the schema is brought up to date.
    provider.client_secret = "kept as given"
    session.commit()
    assert sign_in.seal_kept_secrets(session, SecretBox("test")) == 1
    assert sign_in.seal_kept_secrets(session, SecretBox("test")) == 0
    assert SecretBox("test").open(sign_in.provider_of(session, demo).client_secret) == "kept as given"


def test_an_account_of_two_partnerships_is_not_one_partnerships_to_switch_off(session, clock, demo):
    dudley_admin = session.scalar(select(User).where(User.username == "dudley-admin"))
    dudley = administered_partnerships(session, dudley_admin)[0]
    shared = session.scalar(select(User).where(User.username == "police-practitioner"))
    services.add_membership(session, clock, None, dudley, shared, services.partnership_body(session, dudley).id,
                            "practitioner")
    with pytest.raises(Conflict, match="also belongs to Darlington"):
        services.deactivate(session, clock, dudley_admin, dudley, shared)
    with pytest.raises(Conflict):
        services.give_one_time_password(session, clock, dudley_admin, dudley, shared)
    system = session.scalar(select(User).where(User.username == "system-admin"))
    assert services.deactivate(session, clock, system, dudley, shared) == 0


def test_a_password_reset_revokes_the_api_tokens_made_with_the_old_password(session, clock, demo):
    walk = Walk(session, clock, "darlington")
    nurse = walk.user("police-practitioner")
    _, token = tokens.create_token(session, clock, nurse, "case system")
    _, kept = tokens.create_token(session, clock, walk.user("csc-practitioner"), "case system")
    services.give_one_time_password(session, clock, walk.user("dsp-admin"), demo, nurse)
    with pytest.raises(Refused):
        tokens.user_for_token(session, clock, token, None)
    signin.reset_password(session, clock, "csc-practitioner")
    with pytest.raises(Refused):
        tokens.user_for_token(session, clock, kept, None)
