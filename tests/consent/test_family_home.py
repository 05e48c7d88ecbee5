"""A parent signed in with a password: everything the e-mailed link gives, from the family home."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.consent import flow
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.consent.uses import Use
from tests import factories
from tests.conftest import csrf_from, login
from tests.factories.consent import decide

EN = {"accept-language": "en"}


@pytest.fixture
def families(db):
    org = factories.organisation(db, name="Sportclub Zonnedael")
    ann = factories.user(db, org, Role.GUARDIAN, name="Ann Peeters", locale="en")
    bart = factories.user(db, org, Role.GUARDIAN, name="Bart Peeters", password=None)
    lotte = factories.child(
        db, org, first_name="Lotte", guardians=(ann, bart), birth_date=date(2017, 3, 1)
    )
    noah = factories.child(db, org, first_name="Noah", guardians=(ann,))
    other = factories.user(db, org, Role.GUARDIAN, name="Els Wouters")
    milan = factories.child(db, org, first_name="Milan", last_name="Wouters", guardians=(other,))
    return org, ann, lotte, noah, milan


def _links(html: str) -> set[str]:
    return set(re.findall(r'href="([^"]+)"', html))


def test_the_family_home_leads_to_every_action_for_each_child(client, db, families):
    _org, ann, lotte, noah, _milan = families
    login(client, ann.email, factories.PASSWORD)
    home = client.get("/family", headers=EN)
    assert home.status_code == 200
    links = _links(home.text)
    for kid in (lotte, noah):
        for path in (
            f"/consent?child={kid.id}",
            f"/consent/history?child={kid.id}",
            f"/consent/children/{kid.id}/form.pdf",
        ):
            assert path in links, path
    assert "/account/password" in links and ann.email in home.text
    password = client.get("/account/password", headers=EN)
    assert password.status_code == 200 and "Change your password" in password.text


def test_a_signed_in_parent_changes_one_childs_answers_as_the_link_does(
    client, db, families, inbox
):
    org, ann, lotte, _noah, _milan = families
    decide(db, org, lotte, ann, {Use.PRINT: True})
    login(client, ann.email, factories.PASSWORD)
    page = client.get(f"/consent?child={lotte.id}", headers=EN)
    assert page.status_code == 200
    assert "Lotte Peeters" in page.text and "Noah Peeters" not in page.text
    assert f'name="child" value="{lotte.id}"' in page.text
    token = csrf_from(page.text)
    # In the form's order: newsletter and print, then press (the codes sort the other way).
    fields = {f"c{lotte.id}-press": "yes", f"c{lotte.id}-print": "no", "child": str(lotte.id)}
    review = client.post("/consent/review", data={"csrf_token": token, **fields}, headers=EN)
    assert review.status_code == 200
    assert review.text.index("Newsletter and print") < review.text.index("Press")
    assert f'name="child" value="{lotte.id}"' in review.text
    back = client.post(
        "/consent/confirm", data={"csrf_token": token, "action": "edit", **fields}, headers=EN
    )
    assert "Lotte Peeters" in back.text and "Noah Peeters" not in back.text
    done = client.post(
        "/consent/confirm", data={"csrf_token": token, "action": "confirm", **fields}
    )
    assert done.status_code == 303
    assert done.headers["location"] == "/consent/done?saved=2&receipt=sent"

    decisions = db.exec(select(ConsentDecision).where(ConsentDecision.child_id == lotte.id)).all()
    latest = {(d.use_id, d.granted, d.method, d.guardian_id, d.recorded_by_id) for d in decisions}
    uses = {u.code: u.id for u in consent.list_uses(session=db, organisation=org)}
    assert (uses[Use.PRINT], False, "online", ann.id, ann.id) in latest  # a withdrawal
    assert (uses[Use.PRESS], True, "online", ann.id, ann.id) in latest
    audited = db.exec(
        select(AuditEvent).where(AuditEvent.action == "consent.decision_recorded")
    ).all()
    assert len(audited) == 3 and all(e.actor_id == ann.id for e in audited[1:])
    assert all(e.ip for e in audited[1:])
    # The receipt lists the changes in the order of the form too.
    receipt = inbox.body(inbox.to(ann.email)[-1])
    assert receipt.index("Newsletter and print: no") < receipt.index("Press: yes")

    history = client.get(f"/consent/history?child={lotte.id}", headers=EN)
    assert history.status_code == 200
    assert "Lotte Peeters" in history.text and "Noah Peeters" not in history.text
    assert history.text.count("badge-no") == 1 and history.text.count("badge-yes") == 2
    assert "Noah Peeters" in client.get("/consent/history", headers=EN).text
    home = client.get("/family", headers=EN)
    assert "Refused by guardian Ann Peeters" in home.text


def test_another_familys_child_is_a_clean_404_everywhere(client, db, families):
    org, ann, lotte, _noah, milan = families
    elsewhere = factories.organisation(db, name="Andere club")
    away = factories.child(db, elsewhere, first_name="Verre", guardians=(ann,))
    login(client, ann.email, factories.PASSWORD)
    token = csrf_from(client.get("/consent").text)
    own = {f"c{lotte.id}-website": "no"}
    for foreign in (milan, away):
        assert client.get(f"/consent?child={foreign.id}").status_code == 404
        assert client.get(f"/consent/history?child={foreign.id}").status_code == 404
        assert client.get(f"/consent/children/{foreign.id}/form.pdf").status_code == 404
        for action in ("/consent/review", "/consent/confirm"):
            data = {"csrf_token": token, "action": "confirm", "child": str(foreign.id), **own}
            assert client.post(action, data=data).status_code == 404
        forged = {"csrf_token": token, "action": "confirm", f"c{foreign.id}-website": "no"}
        assert client.post("/consent/confirm", data=forged).status_code == 400
    for bad in ("abc", "0", "99999999999"):
        assert client.get(f"/consent?child={bad}").status_code == 400
        data = {"csrf_token": token, "child": bad, **own}
        assert client.post("/consent/review", data=data).status_code == 404
    # Without the session's token nothing is recorded either.
    data = {"action": "confirm", "child": str(lotte.id), **own}
    assert client.post("/consent/confirm", data=data).status_code == 403
    assert db.exec(select(ConsentDecision)).all() == []
    assert org.id != elsewhere.id


def test_changes_are_listed_in_the_order_of_the_form(db, families):
    org, _ann, lotte, noah, _milan = families
    uses = {u.code: u for u in consent.list_uses(session=db, organisation=org)}
    # The form shows Noah before Lotte here; the choices arrive sorted some other way.
    children = {noah.id: noah, lotte.id: lotte}
    choices = [
        flow.Choice(lotte.id, Use.FACE_RECOGNITION, True),
        flow.Choice(lotte.id, Use.INTERNAL_GALLERY, True),
        flow.Choice(noah.id, Use.PRESS, False),
        flow.Choice(noah.id, Use.PRINT, True),
    ]
    changes = flow.changes_from(choices=choices, children=children, uses=uses, current={})
    assert [(c.child.id, c.use.code) for c in changes] == [
        (noah.id, Use.PRINT),
        (noah.id, Use.PRESS),
        (lotte.id, Use.INTERNAL_GALLERY),
        (lotte.id, Use.FACE_RECOGNITION),
    ]
