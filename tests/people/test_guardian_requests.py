"""An account belongs to a person: a club that names someone else's e-mail address gets a request
that the account holder answers at that address, never a link to the account."""

from __future__ import annotations

from sqlmodel import select

from consentlens.audit.service import Origin
from consentlens.auth import links
from consentlens.auth.models import AuthSession, ConsentLink, Membership, Role
from consentlens.consent import invitations
from consentlens.core.tables import utcnow
from consentlens.people import guardian_requests, guardianships, import_apply
from consentlens.people import guardians as guardian_service
from consentlens.people.models import Guardianship, PendingGuardianship
from tests import factories
from tests.conftest import csrf_from, login
from tests.factories.people import HEADER, csv_bytes, plan


def _links_of(db, user) -> list[Guardianship]:
    return list(db.exec(select(Guardianship).where(Guardianship.guardian_id == user.id)))


def _ask(db, org_b, kid, email: str):
    return guardian_service.link_guardian(
        session=db,
        organisation=org_b,
        child=kid,
        details=guardian_service.GuardianDetails(full_name="", email=email),
        actor=None,
        origin=Origin(),
    )


def test_the_holder_confirms_at_their_address_and_only_then_is_linked(client, db, inbox):
    org_a = factories.organisation(db, name="Club A")
    parent = factories.user(db, org_a, Role.GUARDIAN, name="Dirk Maes")
    org_b = factories.organisation(db, name="Club B")
    kid = factories.child(db, org_b, first_name="Bram")

    pending = _ask(db, org_b, kid, parent.email)
    assert isinstance(pending, PendingGuardianship)
    # Club B has no guardian to send links to yet.
    assert invitations.guardians_of(session=db, children=[kid]) == {}
    db.commit()

    [mail] = inbox.to(parent.email)
    path = inbox.link_path(mail, prefix="/guardian-requests/")
    page = client.get(path, headers={"accept-language": "en"})
    assert page.status_code == 200 and "Club B" in page.text and "Bram" in page.text
    done = client.post(
        path,
        data={"csrf_token": csrf_from(page.text), "decision": "confirm"},
        headers={"accept-language": "en"},
    )
    assert done.status_code == 200 and "You are now linked" in done.text
    assert db.exec(select(Guardianship).where(Guardianship.child_id == kid.id)).one().guardian_id
    assert Role.GUARDIAN.value in {
        m.role
        for m in db.exec(
            select(Membership).where(
                Membership.user_id == parent.id, Membership.organisation_id == org_b.id
            )
        )
    }
    # Confirming opened no session, and the request is spent.
    assert db.exec(select(AuthSession)).first() is None
    assert client.get("/family").status_code == 303
    assert client.get(path).status_code == 410


def test_a_declined_request_links_nothing(client, db, inbox):
    org_a = factories.organisation(db)
    parent = factories.user(db, org_a, Role.GUARDIAN)
    org_b = factories.organisation(db)
    kid = factories.child(db, org_b)
    _ask(db, org_b, kid, parent.email)
    db.commit()
    path = inbox.link_path(inbox.to(parent.email)[0], prefix="/guardian-requests/")
    page = client.get(path)
    response = client.post(path, data={"csrf_token": csrf_from(page.text), "decision": "decline"})
    assert response.status_code == 200
    assert db.exec(select(Guardianship).where(Guardianship.child_id == kid.id)).first() is None
    (declined,) = db.exec(select(PendingGuardianship)).all()
    assert declined.declined_at is not None
    # Asking again sends nothing more: the holder said no.
    _ask(db, org_b, kid, parent.email)
    assert len(inbox.to(parent.email)) == 1
    assert client.get(path).status_code == 410


def test_asking_again_and_again_mails_once_a_day(db, inbox):
    org_a = factories.organisation(db)
    parent = factories.user(db, org_a, Role.GUARDIAN)
    org_b = factories.organisation(db)
    kid = factories.child(db, org_b)
    for _ in range(4):
        _ask(db, org_b, kid, parent.email)
        db.commit()
    assert len(inbox.to(parent.email)) == 1


def test_an_old_link_never_opens_a_later_request(client, db, inbox):
    """Request links carry a nonce and the address: a spent link, a reused row id or a changed
    address open nothing."""
    org_a = factories.organisation(db)
    mallory = factories.user(db, org_a, Role.GUARDIAN)
    bart = factories.user(db, org_a, Role.GUARDIAN)
    org_b = factories.organisation(db)
    kid = factories.child(db, org_b)
    first = _ask(db, org_b, kid, mallory.email)
    db.commit()
    old_path = inbox.link_path(inbox.to(mallory.email)[0], prefix="/guardian-requests/")
    # The row goes away (confirmed and unlinked, say); the next request may reuse its id.
    db.delete(first)
    db.flush()
    second = _ask(db, org_b, kid, bart.email)
    db.commit()
    assert client.get(old_path).status_code == 410
    new_path = inbox.link_path(inbox.to(bart.email)[0], prefix="/guardian-requests/")
    assert client.get(new_path).status_code == 200
    # And once the address changes, the link mailed to the old one no longer answers.
    bart.email = "bart.elsewhere@example.test"
    db.add(bart)
    db.commit()
    assert client.get(new_path).status_code == 410
    assert second.declined_at is None


def test_an_account_with_a_password_is_never_the_clubs_to_link(db):
    # No role anywhere, but its holder chose a password: it is theirs.
    org_b = factories.organisation(db)
    loner = factories.user(db, org_b, Role.GUARDIAN)
    db.delete(db.exec(select(Membership).where(Membership.user_id == loner.id)).one())
    db.flush()
    kid = factories.child(db, org_b)
    assert not guardianships.is_own_account(session=db, organisation=org_b, user=loner)
    asked = guardian_requests.link_or_ask(
        session=db, organisation=org_b, child=kid, user=loner, relation="parent", now=utcnow()
    )
    assert isinstance(asked, PendingGuardianship)
    assert db.exec(select(Guardianship).where(Guardianship.guardian_id == loner.id)).all() == []


def test_the_csv_import_asks_existing_accounts_of_others_instead_of_linking(db, inbox):
    org_a = factories.organisation(db)
    admin_a = factories.user(db, org_a, Role.ADMIN)
    org_b = factories.organisation(db)
    staff_b = factories.user(db, org_b, Role.ADMIN)
    data = csv_bytes(HEADER, f"B1;Noor;Janssens;01/02/2015;U10;Admin A;{admin_a.email};;")
    result = import_apply.apply_import(
        session=db, organisation=org_b, plan=plan(db, org_b, data), actor=staff_b, origin=Origin()
    )
    assert result.created == 1 and result.confirmations_requested == 1
    assert result.accounts_created == 0
    assert (
        db.exec(select(Guardianship).where(Guardianship.guardian_id == admin_a.id)).first() is None
    )
    assert (
        db.exec(
            select(Membership).where(
                Membership.user_id == admin_a.id, Membership.organisation_id == org_b.id
            )
        ).first()
        is None
    )
    db.commit()
    assert len(inbox.to(admin_a.email)) == 1
    # Importing the same file again asks again (the request's time runs anew) but links nothing.
    import_apply.apply_import(
        session=db, organisation=org_b, plan=plan(db, org_b, data), actor=staff_b, origin=Origin()
    )
    assert len(db.exec(select(PendingGuardianship)).all()) == 1


def test_the_takeover_chain_breaks_at_its_first_step(client, db, inbox):
    """Club B's staff name club A's admin as a guardian, invite them, and try the code."""
    org_a = factories.organisation(db, name="Club A")
    admin_a = factories.user(db, org_a, Role.ADMIN)
    org_b = factories.organisation(db, name="Club B")
    staff_b = factories.user(db, org_b, Role.STAFF)
    kid = factories.child(db, org_b)
    db.commit()
    login(client, staff_b.email, factories.PASSWORD)
    form = client.get(f"/staff/children/{kid.id}/edit")
    response = client.post(
        f"/staff/children/{kid.id}/guardians",
        data={
            "csrf_token": csrf_from(form.text),
            "full_name": "",
            "email": admin_a.email,
            "relation": "parent",
        },
    )
    assert response.status_code == 303 and "guardian_asked" in response.headers["location"]
    # 1. Nothing is linked: no guardian to invite, no link, no code.
    assert (
        db.exec(select(Guardianship).where(Guardianship.guardian_id == admin_a.id)).first() is None
    )
    page = client.get(f"/staff/children/{kid.id}")
    invite = client.post(
        f"/staff/children/{kid.id}/invite",
        data={"csrf_token": csrf_from(page.text), "guardian_id": admin_a.id},
    )
    assert invite.status_code == 404
    assert db.exec(select(ConsentLink).where(ConsentLink.guardian_id == admin_a.id)).first() is None
    # 2. Even a link made behind the pages' back opens no session for an admin account.
    link = links.create_link(session=db, organisation=org_b, now=utcnow(), guardian=admin_a)
    db.commit()
    assert link.short_code not in client.get(f"/staff/children/{kid.id}").text
    fresh = type(client)(client.app, base_url="http://testserver", follow_redirects=False)
    with fresh:
        token = csrf_from(fresh.get("/code").text)
        opened = fresh.post("/code", data={"csrf_token": token, "code": link.short_code})
        assert opened.status_code == 403
        assert fresh.get("/admin").status_code == 303
        assert fresh.get("/account/password").status_code == 303
