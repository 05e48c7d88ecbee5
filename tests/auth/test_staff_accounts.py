"""Staff accounts on pages: invite, change role, remove; an existing account is never taken over."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.audit.service import Origin
from consentlens.auth import service as accounts
from consentlens.auth import staff_accounts
from consentlens.auth.models import AuthSession, Membership, Role
from consentlens.auth.staff_accounts import read_invitation
from tests import factories
from tests.conftest import csrf_from, login


@pytest.fixture
def club(db):
    org = factories.organisation(db, name="Hockeyclub Stick")
    admin = factories.user(db, org, Role.ADMIN, name="Ada Admin", locale="en")
    coach = factories.user(db, org, Role.STAFF, name="Cas Coach", locale="en")
    return org, admin, coach


def _roles(db, user, org) -> set[str]:
    db.expire_all()
    return set(
        db.exec(
            select(Membership.role).where(
                Membership.user_id == user.id, Membership.organisation_id == org.id
            )
        )
    )


def _post(client, path: str, **data: str):
    token = csrf_from(client.get("/admin/staff").text)
    return client.post(path, data={"csrf_token": token, **data})


def test_inviting_a_new_address_makes_an_account_and_mails_a_password_link(client, db, club, inbox):
    org, admin, _ = club
    login(client, admin.email, factories.PASSWORD)
    done = _post(
        client, "/admin/staff", email="New.Coach@Example.test", full_name="Noor", role="staff"
    )
    assert done.status_code == 303 and done.headers["location"] == "/admin/staff?done=created"
    user = accounts.get_user_by_email(session=db, email="new.coach@example.test")
    assert user is not None and user.password_hash is None and user.full_name == "Noor"
    assert _roles(db, user, org) == {"staff"}
    (mail,) = inbox.to("new.coach@example.test")
    assert inbox.link_path(mail, "/password/reset/")
    page = client.get(done.headers["location"]).text
    assert "Noor" in page and "No password chosen yet" in page
    event = db.exec(select(AuditEvent).where(AuditEvent.action == "staff.invited")).one()
    assert event.actor_id == admin.id and event.details == {"role": "staff", "new_account": True}


def test_inviting_an_existing_account_changes_nothing_about_it_until_its_holder_accepts(
    app, client, db, club, inbox
):
    org, admin, _ = club
    elsewhere = factories.organisation(db, name="Elders")
    holder = factories.user(db, elsewhere, Role.ADMIN, name="Hanne Houder", locale="en")
    password_hash = holder.password_hash
    login(client, admin.email, factories.PASSWORD)
    done = _post(client, "/admin/staff", email=holder.email, full_name="Not her name", role="admin")
    assert done.headers["location"] == "/admin/staff?done=asked"
    db.expire_all()
    # No role, no password, no name change, no session: the account is its holder's.
    assert _roles(db, holder, org) == set()
    assert holder.password_hash == password_hash and holder.full_name == "Hanne Houder"
    assert db.exec(select(AuthSession).where(AuthSession.user_id == holder.id)).all() == []
    (mail,) = inbox.to(holder.email)
    path = inbox.link_path(mail, "/staff-invitations/")
    assert "/password/reset/" not in inbox.body(mail) and "/c/" not in inbox.body(mail)

    # The link signs nobody in, and nobody but the holder accepts it.
    with TestClient(app, follow_redirects=False) as stranger:
        page = stranger.get(path)
        assert page.status_code == 200 and "does not sign you in" in page.text
        token = csrf_from(stranger.get("/login").text)
        refused = stranger.post(path, data={"csrf_token": token})
        assert "Accept" not in refused.text
        assert stranger.get("/admin").status_code in (302, 303)
    inviter_page = client.get(path)
    client.post(path, data={"csrf_token": csrf_from(inviter_page.text)})
    assert _roles(db, holder, org) == set()

    with TestClient(app, follow_redirects=False) as own:
        login(own, holder.email, factories.PASSWORD)
        page = own.get(path)
        assert "Accept" in page.text
        accepted = own.post(path, data={"csrf_token": csrf_from(page.text)})
        assert "You are now on the team of Hockeyclub Stick." in accepted.text
    assert _roles(db, holder, org) == {"admin"}
    db.expire_all()
    assert holder.password_hash == password_hash
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "staff.invitation_accepted")).one()


def test_an_invitation_is_overtaken_by_a_later_removal(client, db, club, inbox):
    org, admin, _ = club
    holder = factories.user(db, factories.organisation(db), Role.STAFF, locale="en")
    login(client, admin.email, factories.PASSWORD)
    _post(client, "/admin/staff", email=holder.email, role="staff")
    token = inbox.link_path(inbox.to(holder.email)[0], "/staff-invitations/").rsplit("/", 1)[1]
    assert read_invitation(session=db, token=token) is not None
    accounts.add_membership(session=db, user=holder, organisation=org, role=Role.STAFF)
    assert _post(client, f"/admin/staff/{holder.id}/remove").status_code == 303
    assert read_invitation(session=db, token=token) is None
    assert read_invitation(session=db, token=token + "x") is None


def test_an_admin_changes_roles_and_removes_but_never_themselves_nor_the_last_admin(
    app, client, db, club
):
    org, admin, coach = club
    guardian_too = factories.user(db, org, Role.GUARDIAN)
    accounts.add_membership(session=db, user=guardian_too, organisation=org, role=Role.STAFF)
    login(client, admin.email, factories.PASSWORD)
    made = _post(client, f"/admin/staff/{coach.id}/role", role="admin")
    assert made.status_code == 303 and _roles(db, coach, org) == {"admin"}
    own = _post(client, f"/admin/staff/{admin.id}/remove")
    assert own.status_code == 400 and "your own account" in own.text
    assert _roles(db, admin, org) == {"admin"}
    assert _post(client, f"/admin/staff/{coach.id}/role", role="staff").status_code == 303
    assert _roles(db, coach, org) == {"staff"}
    # Removing takes the staff role only: a guardian stays a guardian.
    assert _post(client, f"/admin/staff/{guardian_too.id}/remove").status_code == 303
    assert _roles(db, guardian_too, org) == {"guardian"}
    actions = [
        e.details
        for e in db.exec(select(AuditEvent).where(AuditEvent.action == "staff.role_changed"))
    ]
    assert actions == [{"from": "staff", "to": "admin"}, {"from": "admin", "to": "staff"}]
    assert db.exec(select(AuditEvent).where(AuditEvent.action == "staff.removed")).one()

    # An admin removed by another admin has no access any more, at once.
    accounts.add_membership(session=db, user=coach, organisation=org, role=Role.ADMIN)
    with TestClient(app, follow_redirects=False) as other:
        login(other, coach.email, factories.PASSWORD)
        assert _post(other, f"/admin/staff/{admin.id}/remove").status_code == 303
    assert _roles(db, admin, org) == set()
    assert client.get("/admin/staff").status_code in (302, 303, 403)


def test_the_last_admin_always_stays(db, club):
    org, admin, coach = club
    # Through the pages the actor is an admin, so this guards against two admins removing each
    # other at once (the organisation row is locked while counting): the service refuses alone.
    member = staff_accounts.get_member(session=db, organisation=org, user_id=admin.id)
    assert member is not None and member.role is Role.ADMIN
    with pytest.raises(staff_accounts.StaffError, match="at least one admin"):
        staff_accounts.remove(
            session=db, organisation=org, member=member, actor=coach, origin=Origin()
        )
    with pytest.raises(staff_accounts.StaffError, match="at least one admin"):
        staff_accounts.change_role(
            session=db,
            organisation=org,
            member=member,
            role=Role.STAFF,
            actor=coach,
            origin=Origin(),
        )
    assert _roles(db, admin, org) == {"admin"}


def test_staff_may_not_manage_accounts_and_other_clubs_are_not_found(app, client, db, club):
    org, _, coach = club
    login(client, coach.email, factories.PASSWORD)
    assert client.get("/admin/staff").status_code == 403
    other = factories.organisation(db)
    stranger = factories.user(db, other, Role.STAFF)
    other_admin = factories.user(db, other, Role.ADMIN)
    with TestClient(app, follow_redirects=False) as elsewhere:
        login(elsewhere, other_admin.email, factories.PASSWORD)
        assert _post(elsewhere, f"/admin/staff/{coach.id}/remove").status_code == 404
    assert _roles(db, coach, org) == {"staff"} and _roles(db, stranger, other) == {"staff"}
