"""Invitation → personal link → answers → receipt, through real pages and a real SMTP server."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import ConsentLink, Role
from consentlens.consent.models import ConsentDecision
from consentlens.consent.policy import ConsentState
from consentlens.consent.uses import Use
from consentlens.core.tables import utcnow
from tests import factories
from tests.conftest import csrf_from, login
from tests.factories.consent import answer, states


@pytest.fixture
def family(db):
    org = factories.organisation(db, name="Sportclub Zonnedael")
    staff = factories.user(db, org, Role.STAFF, locale="en")
    ann = factories.user(db, org, Role.GUARDIAN, name="Ann Peeters", password=None, locale="nl")
    bart = factories.user(db, org, Role.GUARDIAN, name="Bart Peeters", password=None, locale="fr")
    lotte = factories.child(
        db, org, first_name="Lotte", guardians=(ann, bart), birth_date=date(2017, 3, 1)
    )
    return org, staff, ann, bart, lotte


def invite(client, child, guardian):
    page = client.get(f"/staff/children/{child.id}")
    assert page.status_code == 200
    response = client.post(
        f"/staff/children/{child.id}/invite",
        data={"csrf_token": csrf_from(page.text), "guardian_id": guardian.id},
    )
    assert response.status_code == 303
    assert response.headers["location"].endswith("?sent=1&skipped=0")


def test_invitation_link_answers_and_receipt(app, client, db, family, inbox):
    from fastapi.testclient import TestClient

    org, staff, ann, _bart, lotte = family
    login(client, staff.email, factories.PASSWORD)
    invite(client, lotte, ann)

    [invitation] = inbox.to(ann.email)
    assert invitation["Subject"] == "Sportclub Zonnedael vraagt uw toestemming voor foto's"
    body = inbox.body(invitation)
    assert "Hallo Ann Peeters" in body and "Lotte Peeters" in body
    link = inbox.link_path(invitation)

    with TestClient(app, follow_redirects=False) as parent:
        opened = parent.get(link)
        assert opened.status_code == 303 and opened.headers["location"] == "/consent"
        page = parent.get("/consent", headers={"accept-language": "en"})
        assert "Lotte Peeters" in page.text and 'lang="nl"' in page.text
        answer(
            parent, lotte, {Use.WEBSITE: "yes", Use.SOCIAL_MEDIA: "no", Use.INTERNAL_GALLERY: "yes"}
        )
        done = parent.get("/consent/done?saved=3&receipt=sent")
        assert "Een e-mail met uw keuzes is naar u onderweg." in done.text

    [receipt] = [m for m in inbox.to(ann.email) if m is not invitation]
    receipt_text = inbox.body(receipt)
    assert "Website van de club: ja" in receipt_text and "Sociale media: nee" in receipt_text

    decisions = db.exec(select(ConsentDecision).where(ConsentDecision.child_id == lotte.id)).all()
    assert {(d.guardian_id, d.method, d.recorded_by_id) for d in decisions} == {
        (ann.id, "online", ann.id)
    }
    # Two guardians on record: one yes is not enough yet.
    now_states = states(db, org, lotte)
    assert now_states[Use.WEBSITE] is ConsentState.WAITING
    assert now_states[Use.SOCIAL_MEDIA] is ConsentState.REFUSED
    actions = [e.action for e in db.exec(select(AuditEvent).order_by(AuditEvent.id)).all()]
    for expected in (
        "consent.invitation_queued",
        "mail.sent",
        "link.used",
        "consent.decision_recorded",
        "consent.receipt_queued",
    ):
        assert expected in actions


def test_two_guardians_disagree_and_a_withdrawal_counts_at_once(app, client, db, family, inbox):
    from fastapi.testclient import TestClient

    org, staff, ann, bart, lotte = family
    login(client, staff.email, factories.PASSWORD)
    invite(client, lotte, ann)
    invite(client, lotte, bart)
    with TestClient(app, follow_redirects=False) as ann_browser:
        ann_browser.get(inbox.link_path(inbox.to(ann.email)[0]))
        answer(ann_browser, lotte, {Use.WEBSITE: "yes", Use.PRINT: "yes"})
    with TestClient(app, follow_redirects=False) as bart_browser:
        bart_browser.get(inbox.link_path(inbox.to(bart.email)[0]))
        answer(bart_browser, lotte, {Use.WEBSITE: "no", Use.PRINT: "yes"})
        # Bart's French receipt.
        assert "Site web du club: non" in inbox.body(inbox.to(bart.email)[-1])
    assert states(db, org, lotte)[Use.WEBSITE] is ConsentState.REFUSED
    assert states(db, org, lotte)[Use.PRINT] is ConsentState.GRANTED
    with TestClient(app, follow_redirects=False) as ann_browser:
        ann_browser.get(inbox.link_path(inbox.to(ann.email)[0]))
        answer(ann_browser, lotte, {Use.PRINT: "no"})
    assert states(db, org, lotte)[Use.PRINT] is ConsentState.REFUSED


def test_unchanged_answers_are_not_recorded_again(app, client, db, family, inbox):
    from fastapi.testclient import TestClient

    _org, staff, ann, _, lotte = family
    login(client, staff.email, factories.PASSWORD)
    invite(client, lotte, ann)
    with TestClient(app, follow_redirects=False) as parent:
        parent.get(inbox.link_path(inbox.to(ann.email)[0]))
        answer(parent, lotte, {Use.WEBSITE: "yes"})
        page = parent.get("/consent")
        assert 'value="yes" checked' in page.text
        again = parent.post(
            "/consent/review",
            data={"csrf_token": csrf_from(page.text), f"c{lotte.id}-website": "yes"},
            headers={"accept-language": "en"},
        )
        assert again.status_code == 400
    assert len(db.exec(select(ConsentDecision)).all()) == 1


def test_a_guardian_cannot_answer_for_another_family(app, client, db, family, inbox):
    from fastapi.testclient import TestClient

    org, staff, ann, _, lotte = family
    other_parent = factories.user(db, org, Role.GUARDIAN, password=None)
    stranger_child = factories.child(db, org, first_name="Vreemd", guardians=(other_parent,))
    login(client, staff.email, factories.PASSWORD)
    invite(client, lotte, ann)
    with TestClient(app, follow_redirects=False) as parent:
        parent.get(inbox.link_path(inbox.to(ann.email)[0]))
        page = parent.get("/consent")
        assert "Vreemd" not in page.text
        token = csrf_from(page.text)
        forged = {"csrf_token": token, f"c{stranger_child.id}-website": "no", "action": "confirm"}
        refused = parent.post("/consent/review", data=forged)
        assert refused.status_code == 400 and "klopt niet met uw kinderen" in refused.text
        assert "Er klopt iets niet in het formulier" in refused.text
        assert parent.post("/consent/confirm", data=forged).status_code == 400
        assert parent.get(f"/staff/children/{stranger_child.id}").status_code == 403
        assert "Vreemd" not in parent.get("/consent/history").text
        assert "Vreemd" not in parent.get("/family").text
    assert db.exec(select(ConsentDecision)).all() == []


def test_links_expire_can_be_revoked_and_cannot_be_forged(app, client, db, family, inbox):
    from fastapi.testclient import TestClient

    _org, staff, ann, _, lotte = family
    login(client, staff.email, factories.PASSWORD)
    invite(client, lotte, ann)
    path = inbox.link_path(inbox.to(ann.email)[0])
    with TestClient(app, follow_redirects=False) as parent:
        assert parent.get(path[:-3] + "xyz").status_code == 404
        assert parent.get("/c/not-a-token").status_code == 404
        link = db.exec(select(ConsentLink)).one()
        link.expires_at = utcnow() - timedelta(minutes=1)
        db.add(link)
        db.flush()
        expired = parent.get(path, headers={"accept-language": "en"})
        assert expired.status_code == 410 and "expired" in expired.text
        link.expires_at = utcnow() + timedelta(days=3)
        db.add(link)
        db.flush()
        assert parent.get(path).status_code == 303
        # Staff revoke it from the child's page.
        page = client.get(f"/staff/children/{lotte.id}")
        assert (
            client.post(
                f"/staff/links/{link.id}/revoke", data={"csrf_token": csrf_from(page.text)}
            ).status_code
            == 303
        )
        assert parent.get(path).status_code == 410


def test_the_printed_code_opens_the_same_page(app, client, db, family, inbox):
    from fastapi.testclient import TestClient

    _org, staff, ann, _, lotte = family
    login(client, staff.email, factories.PASSWORD)
    invite(client, lotte, ann)
    code = db.exec(select(ConsentLink)).one().short_code
    with TestClient(app, follow_redirects=False) as parent:
        form = parent.get("/code")
        typed = f" {code[:4].lower()}-{code[4:]} "
        opened = parent.post("/code", data={"csrf_token": csrf_from(form.text), "code": typed})
        assert opened.status_code == 303 and opened.headers["location"] == "/consent"
        assert "Lotte" in parent.get("/consent").text


def test_wrong_codes_are_throttled(app, client, db):
    from fastapi.testclient import TestClient

    with TestClient(app, follow_redirects=False) as guesser:
        token = csrf_from(guesser.get("/code").text)
        for _ in range(20):
            assert (
                guesser.post("/code", data={"csrf_token": token, "code": "AAAA-AAAA"}).status_code
                == 400
            )
        assert (
            guesser.post("/code", data={"csrf_token": token, "code": "AAAA-AAAA"}).status_code
            == 429
        )


def test_without_smtp_mail_goes_to_the_outbox(client, db, family):
    from consentlens.core.config import get_settings

    _org, staff, ann, _, lotte = family
    outbox = get_settings().outbox_dir
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    login(client, staff.email, factories.PASSWORD)
    invite(client, lotte, ann)
    [new] = set(outbox.glob("*.eml")) - before
    text = new.read_text()
    assert f"To: {ann.email}" in text and "/c/" in text


def test_staff_see_the_history_and_guardians_their_own(app, client, db, family, inbox):
    from fastapi.testclient import TestClient

    _org, staff, ann, _bart, lotte = family
    login(client, staff.email, factories.PASSWORD)
    invite(client, lotte, ann)
    with TestClient(app, follow_redirects=False) as parent:
        parent.get(inbox.link_path(inbox.to(ann.email)[0]))
        answer(parent, lotte, {Use.PRESS: "no"})
        history = parent.get("/consent/history", headers={"accept-language": "nl"})
        assert "Pers" in history.text and "Online" in history.text
    page = client.get(f"/staff/children/{lotte.id}", headers={"accept-language": "en"})
    assert "Ann Peeters" in page.text and "Refused by guardian Ann Peeters" in page.text
