"""The organisation's consent rules on a page: validated, audited, and photos judged again."""

from __future__ import annotations

from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.consent.models import ConsentUse
from consentlens.core.tables import utcnow
from consentlens.faces.models import StoredVerdict
from consentlens.publishing import service as publishing
from consentlens.publishing import takedowns
from tests import factories
from tests.conftest import csrf_from, login
from tests.factories import photos as make_photos

ACTIONS = {
    "action_internal_gallery": "blur",
    "action_website": "blur",
    "action_print": "blur",
    "action_social_media": "hide",
    "action_press": "hide",
}


def _verdict(db, photo, use: str) -> str:
    db.expire_all()
    return db.exec(
        select(StoredVerdict.action).where(
            StoredVerdict.photo_id == photo.id, StoredVerdict.use_code == use
        )
    ).one()


def _form(page: str, **fields: str) -> dict[str, str]:
    base = {"co_consent_age": "12", "sole_consent_age": "16", "require_all_guardians": "yes"}
    return {"csrf_token": csrf_from(page), **base, **ACTIONS, **fields}


def test_a_use_set_to_hide_hides_the_photos_with_a_face_without_consent(client, db):
    c, _ev, (obama, stranger, _dogs) = make_photos.analysed_club(db)
    admin = factories.user(db, c.org, Role.ADMIN, locale="en")
    assert _verdict(db, stranger, "website") == "blur"
    assert _verdict(db, obama, "website") == "show"
    login(client, admin.email, factories.PASSWORD)
    page = client.get("/admin/rules")
    assert page.status_code == 200 and 'value="blur" id="action_website-blur" checked' in page.text
    saved = client.post("/admin/rules", data=_form(page.text, action_website="hide"))
    assert saved.status_code == 303 and saved.headers["location"].startswith("/admin/rules?saved=")
    # Judged again in the same request: the stranger's photo is hidden on the website now.
    assert _verdict(db, stranger, "website") == "hide"
    assert _verdict(db, obama, "website") == "show"
    assert _verdict(db, stranger, "print") == "blur"
    use = db.exec(
        select(ConsentUse).where(
            ConsentUse.organisation_id == c.org.id, ConsentUse.code == "website"
        )
    ).one()
    assert use.unconsented_action == "hide"
    event = db.exec(
        select(AuditEvent).where(AuditEvent.action == "organisation.rules_changed")
    ).one()
    assert event.actor_id == admin.id
    assert event.details["changes"] == {"unconsented_action:website": ["blur", "hide"]}
    assert "The rules are saved." in client.get(saved.headers["location"]).text


def test_an_age_change_judges_the_photos_again_and_flags_publications(client, db):
    c, _ev, (obama, _stranger, _dogs) = make_photos.analysed_club(db)
    admin = factories.user(db, c.org, Role.ADMIN, locale="en")
    publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="website",
        photos=[obama],
        size="thumb",
        title="Club site",
        now=utcnow(),
    )
    assert takedowns.open_takedowns(session=db, organisation=c.org) == []
    login(client, admin.email, factories.PASSWORD)
    page = client.get("/admin/rules")
    # Barack (born 2016) is 10: from a sole-consent age of 10 his parent's yes no longer counts.
    saved = client.post(
        "/admin/rules", data=_form(page.text, co_consent_age="8", sole_consent_age="10")
    )
    assert saved.status_code == 303
    db.refresh(c.org)
    assert (c.org.co_consent_age, c.org.sole_consent_age) == (8, 10)
    assert _verdict(db, obama, "website") == "blur"
    (takedown,) = takedowns.open_takedowns(session=db, organisation=c.org)
    assert takedown.published.photo_id == obama.id


def test_a_refused_change_keeps_what_was_typed_and_saves_nothing(client, db):
    org = factories.organisation(db)
    admin = factories.user(db, org, Role.ADMIN, locale="en")
    login(client, admin.email, factories.PASSWORD)
    page = client.get("/admin/rules")
    refused = client.post(
        "/admin/rules",
        data=_form(page.text, co_consent_age="17", sole_consent_age="16", require_all_guardians=""),
    )
    assert refused.status_code == 400
    assert "cannot be lower than the co-consent age" in refused.text
    assert 'value="17"' in refused.text and 'aria-invalid="true"' in refused.text
    # The unticked box stays unticked: nothing the admin chose is lost.
    assert 'name="require_all_guardians" value="yes" checked' not in refused.text
    wrong = client.post(
        "/admin/rules", data=_form(page.text, co_consent_age="twelve", action_press="show")
    )
    assert wrong.status_code == 400
    assert "a whole number of years from 0 to 18" in wrong.text
    assert "Choose blur or hide for every use." in wrong.text
    db.refresh(org)
    assert (org.co_consent_age, org.sole_consent_age, org.require_all_guardians) == (12, 16, True)
    assert (
        db.exec(select(AuditEvent).where(AuditEvent.action == "organisation.rules_changed")).all()
        == []
    )


def test_the_rules_are_for_admins(client, db):
    org = factories.organisation(db)
    staff = factories.user(db, org, Role.STAFF)
    login(client, staff.email, factories.PASSWORD)
    assert client.get("/admin/rules").status_code == 403
