"""Staff consent work: child links, paper forms with scans, the group overview, a new season."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from babel.dates import format_date
from fastapi.testclient import TestClient
from sqlmodel import select

from consentlens.auth.models import Role
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentDecision
from consentlens.consent.policy import ConsentState
from consentlens.consent.uses import Use
from consentlens.core.config import get_settings
from consentlens.core.tables import utcnow
from tests import factories
from tests.conftest import csrf_from, login
from tests.factories.consent import answer, states
from tests.images import png_bytes


def years_ago(years: int, days: int = 10) -> date:
    today = utcnow().date()
    return today.replace(year=today.year - years) - timedelta(days=days)


@pytest.fixture
def club(db):
    org = factories.organisation(db, name="Atletiekclub Windkracht")
    staff = factories.user(db, org, Role.STAFF, locale="en")
    mum = factories.user(db, org, Role.GUARDIAN, name="Mira Janssens", password=None)
    team = factories.group(db, org, "U14")
    return org, staff, mum, team


def grant_all(db, org, child, guardian, granted=True):
    for use in consent.list_uses(session=db, organisation=org):
        consent.record_decision(
            session=db,
            organisation=org,
            child=child,
            use=use,
            granted=granted,
            method="online",
            now=utcnow() - timedelta(minutes=5),
            guardian=guardian,
            decided_at=utcnow() - timedelta(minutes=5),
        )


def child_link(client, child) -> str:
    page = client.get(f"/staff/children/{child.id}")
    response = client.post(
        f"/staff/children/{child.id}/child-link", data={"csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 200, response.text
    assert "<svg" in response.text and 'fill="#000"' in response.text
    return re.search(r"/c/[A-Za-z0-9._-]+", response.text).group(0)


def test_a_child_from_12_refuses_with_their_own_link(app, client, db, club):
    org, staff, mum, _ = club
    teen = factories.child(db, org, first_name="Jonas", birth_date=years_ago(13), guardians=(mum,))
    grant_all(db, org, teen, mum)
    login(client, staff.email, factories.PASSWORD)
    path = child_link(client, teen)
    with TestClient(app, follow_redirects=False) as phone:
        assert phone.get(path).headers["location"] == "/consent"
        page = phone.get("/consent", headers={"accept-language": "nl"})
        assert "Uw foto's" in page.text and "Jonas" in page.text
        answer(phone, teen, {Use.SOCIAL_MEDIA: "no"})
        assert phone.get("/staff/children/1").status_code in (303, 403)
    assert states(db, org, teen)[Use.SOCIAL_MEDIA] is ConsentState.REFUSED
    assert states(db, org, teen)[Use.WEBSITE] is ConsentState.GRANTED
    decision = db.exec(select(ConsentDecision).where(ConsentDecision.party == "child")).one()
    assert decision.guardian_id is None and decision.method == "online"


def test_from_16_the_childs_own_yes_replaces_the_guardians_no(app, client, db, club):
    org, staff, mum, _ = club
    older = factories.child(db, org, first_name="Noor", birth_date=years_ago(16), guardians=(mum,))
    grant_all(db, org, older, mum, granted=False)
    assert states(db, org, older)[Use.WEBSITE] is ConsentState.WAITING
    login(client, staff.email, factories.PASSWORD)
    with TestClient(app, follow_redirects=False) as phone:
        phone.get(child_link(client, older))
        answer(phone, older, {Use.WEBSITE: "yes"})
    assert states(db, org, older)[Use.WEBSITE] is ConsentState.GRANTED
    assert states(db, org, older)[Use.PRESS] is ConsentState.WAITING


def test_younger_children_get_no_link(client, db, club):
    org, staff, mum, _ = club
    young = factories.child(db, org, birth_date=years_ago(11), guardians=(mum,))
    login(client, staff.email, factories.PASSWORD)
    page = client.get(f"/staff/children/{young.id}")
    assert "their own link" not in page.text
    response = client.post(
        f"/staff/children/{young.id}/child-link", data={"csrf_token": csrf_from(page.text)}
    )
    assert response.status_code == 400


def submit_paper(client, child, signer, files, answers, signed_on=None):
    page = client.get(f"/staff/children/{child.id}/paper")
    assert page.status_code == 200
    data = {
        "csrf_token": csrf_from(page.text),
        "signer": str(signer),
        "signed_on": (signed_on or utcnow().date()).isoformat(),
        **{f"use-{code}": value for code, value in answers.items()},
    }
    return client.post(
        f"/staff/children/{child.id}/paper",
        data=data,
        files=files,
        headers={"accept-language": "en"},
    )


def test_a_paper_form_with_its_scan(client, db, club):
    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,))
    login(client, staff.email, factories.PASSWORD)
    scan = png_bytes()
    signed = utcnow().date() - timedelta(days=2)
    response = submit_paper(
        client,
        kid,
        mum.id,
        {"scan": ("form.png", scan, "image/png")},
        {Use.WEBSITE: "yes", Use.PRESS: "no", Use.PRINT: ""},
        signed_on=signed,
    )
    assert response.status_code == 303 and response.headers["location"].endswith("saved=2")
    decisions = db.exec(select(ConsentDecision).where(ConsentDecision.child_id == kid.id)).all()
    assert {d.method for d in decisions} == {"paper"} and len(decisions) == 2
    assert {d.recorded_by_id for d in decisions} == {staff.id}
    assert all(d.guardian_id == mum.id for d in decisions)
    assert decisions[0].decided_at.astimezone(UTC).date() == signed
    assert states(db, org, kid)[Use.WEBSITE] is ConsentState.GRANTED
    download = client.get(f"/staff/evidence/{decisions[0].id}")
    assert download.status_code == 200 and download.content == scan
    assert download.headers["content-type"] == "image/png"
    assert "private" in download.headers["cache-control"]


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("notes.txt", b"just some text", "must be a PDF, JPEG or PNG"),
        ("form.pdf", b"%PDF-1.7\n1 0 obj\n", "PDF is incomplete"),
        ("form.png", None, "damaged or incomplete"),
        ("empty.png", b"", "Add the scan"),
    ],
)
def test_bad_scans_are_refused_and_nothing_is_recorded(client, db, club, name, payload, message):
    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,))
    login(client, staff.email, factories.PASSWORD)
    if payload is None:
        payload = png_bytes()[:-30]
    response = submit_paper(
        client, kid, mum.id, {"scan": (name, payload, "image/png")}, {Use.WEBSITE: "yes"}
    )
    assert response.status_code == 400
    assert message in response.text
    assert 'value="yes" aria-label="Club website: Yes" checked' in response.text
    assert db.exec(select(ConsentDecision)).all() == []


@pytest.mark.parametrize(
    ("signed_on", "message"),
    [
        (date(2016, 4, 30), "date of birth"),
        (utcnow().date() + timedelta(days=2), "cannot be in the future"),
    ],
)
def test_a_paper_form_dated_before_birth_or_ahead_is_refused(client, db, club, signed_on, message):
    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,), birth_date=date(2016, 5, 1))
    login(client, staff.email, factories.PASSWORD)
    response = submit_paper(
        client,
        kid,
        mum.id,
        {"scan": ("f.png", png_bytes(), "image/png")},
        {Use.WEBSITE: "yes"},
        signed_on=signed_on,
    )
    assert response.status_code == 400
    assert message in response.text
    assert db.exec(select(ConsentDecision)).all() == []


def test_paper_form_needs_a_signer_and_an_answer(client, db, club):
    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,))
    login(client, staff.email, factories.PASSWORD)
    response = submit_paper(client, kid, "", {"scan": ("f.png", png_bytes(), "image/png")}, {})
    assert response.status_code == 400
    assert "Choose who signed" in response.text and "at least one use" in response.text


def test_the_only_guardian_is_preselected_unless_the_child_may_sign(client, db, club):
    org, staff, mum, _ = club
    young = factories.child(db, org, guardians=(mum,), birth_date=years_ago(8))
    teen = factories.child(db, org, guardians=(mum,), birth_date=years_ago(13))
    login(client, staff.email, factories.PASSWORD)
    signer = f'id="signer-{mum.id}" name="signer" value="{mum.id}" checked'
    assert signer in client.get(f"/staff/children/{young.id}/paper").text
    assert signer not in client.get(f"/staff/children/{teen.id}/paper").text


def test_the_scan_is_kept_after_a_form_error_and_used_without_uploading_it_again(client, db, club):
    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,))
    login(client, staff.email, factories.PASSWORD)
    scan = png_bytes()
    scratch = get_settings().resolved_media_dir / "incoming"
    before = set(scratch.glob("held-*.part"))
    refused = submit_paper(client, kid, "", {"scan": ("form.png", scan, "image/png")}, {})
    assert refused.status_code == 400 and "Choose who signed" in refused.text
    assert "The scan you chose is kept" in refused.text
    token = re.search(r'name="held_scan" value="([^"]+)"', refused.text).group(1)
    held = list(set(scratch.glob("held-*.part")) - before)
    assert len(held) == 1 and held[0].read_bytes() == scan
    assert 'id="scan" name="scan" accept="application/pdf,image/jpeg,image/png" required' not in (
        refused.text
    )
    # Another child's form cannot claim it.
    other = factories.child(db, org, guardians=(mum,))
    response = client.post(
        f"/staff/children/{other.id}/paper",
        data={
            "csrf_token": csrf_from(refused.text),
            "signer": str(mum.id),
            "signed_on": utcnow().date().isoformat(),
            f"use-{Use.WEBSITE}": "yes",
            "held_scan": token,
        },
    )
    assert response.status_code == 400 and "Add the scan" in response.text
    response = client.post(
        f"/staff/children/{kid.id}/paper",
        data={
            "csrf_token": csrf_from(refused.text),
            "signer": str(mum.id),
            "signed_on": utcnow().date().isoformat(),
            f"use-{Use.WEBSITE}": "yes",
            "held_scan": token,
        },
    )
    assert response.status_code == 303, response.text
    decision = db.exec(select(ConsentDecision).where(ConsentDecision.child_id == kid.id)).one()
    assert client.get(f"/staff/evidence/{decision.id}").content == scan
    assert not held[0].exists()


def test_a_refused_scan_is_not_kept(client, db, club):
    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,))
    login(client, staff.email, factories.PASSWORD)
    response = submit_paper(
        client, kid, mum.id, {"scan": ("n.txt", b"just text", "text/plain")}, {Use.WEBSITE: "yes"}
    )
    assert response.status_code == 400 and 'name="held_scan"' not in response.text


def test_guardians_cannot_download_evidence(app, client, db, club):
    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,))
    login(client, staff.email, factories.PASSWORD)
    submit_paper(
        client, kid, mum.id, {"scan": ("f.png", png_bytes(), "image/png")}, {Use.WEBSITE: "yes"}
    )
    decision = db.exec(select(ConsentDecision)).one()
    parent = factories.user(db, org, Role.GUARDIAN)
    with TestClient(app, follow_redirects=False) as other:
        login(other, parent.email, factories.PASSWORD)
        assert other.get(f"/staff/evidence/{decision.id}").status_code == 403
    with TestClient(app, follow_redirects=False) as anonymous:
        assert anonymous.get(f"/staff/evidence/{decision.id}").status_code == 303


def test_no_club_can_point_a_decision_at_another_clubs_scan(app, client, db, club):
    from tests.conftest import bearer

    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,))
    login(client, staff.email, factories.PASSWORD)
    submit_paper(
        client, kid, mum.id, {"scan": ("f.png", png_bytes(), "image/png")}, {Use.WEBSITE: "yes"}
    )
    theirs = db.exec(select(ConsentDecision)).one().evidence_ref
    assert theirs and theirs.startswith(f"evidence/{org.id}/")
    club_b = factories.organisation(db)
    staff_b = factories.user(db, club_b, Role.STAFF)
    parent_b = factories.user(db, club_b, Role.GUARDIAN)
    kid_b = factories.child(db, club_b, guardians=(parent_b,))
    response = client.post(
        f"/api/v1/children/{kid_b.id}/consents",
        headers=bearer(client, staff_b.email, factories.PASSWORD),
        json={
            "use": Use.WEBSITE,
            "decision": "granted",
            "guardian_id": parent_b.id,
            "method": "paper",
            "evidence_ref": theirs,
        },
    )
    assert response.status_code == 422 and "evidence_ref" in response.text
    assert db.exec(select(ConsentDecision).where(ConsentDecision.child_id == kid_b.id)).all() == []
    # A reference planted before the API stopped taking paths is not opened either.
    website = next(
        u for u in consent.list_uses(session=db, organisation=club_b) if u.code == Use.WEBSITE
    )
    planted = consent.record_decision(
        session=db,
        organisation=club_b,
        child=kid_b,
        use=website,
        granted=True,
        method="paper",
        now=utcnow(),
        guardian=parent_b,
        evidence_ref=theirs,
    )
    with TestClient(app, follow_redirects=False) as other:
        login(other, staff_b.email, factories.PASSWORD)
        assert other.get(f"/staff/evidence/{planted.id}").status_code == 404
    assert client.get(f"/staff/evidence/{planted.id}").status_code == 404


def test_group_overview_counts_and_filters(client, db, club):
    org, staff, mum, team = club
    dad = factories.user(db, org, Role.GUARDIAN, password=None)
    yes_kid = factories.child(db, org, first_name="Anna", guardians=(mum,))
    no_kid = factories.child(db, org, first_name="Bram", guardians=(dad,))
    silent = factories.child(db, org, first_name="Cas", guardians=(dad,))
    from consentlens.people.models import ChildGroup

    for kid in (yes_kid, no_kid, silent):
        db.add(ChildGroup(child_id=kid.id, group_id=team.id))
    grant_all(db, org, yes_kid, mum)
    grant_all(db, org, no_kid, dad, granted=False)
    login(client, staff.email, factories.PASSWORD)
    page = client.get(f"/staff/groups/{team.id}/consents")
    assert page.status_code == 200
    assert "3 of 3 children shown" in page.text
    footer = page.text[page.text.index("<tfoot>") :]
    assert re.search(r"Yes</th>\s*<td class=\"count\">1</td>", footer)
    refused = client.get(f"/staff/groups/{team.id}/consents?use=website&state=refused")
    assert "Bram" in refused.text and "Anna" not in refused.text and "Cas" not in refused.text
    missing = client.get(f"/staff/groups/{team.id}/consents?state=no_answer")
    assert "Cas" in missing.text and "Anna" not in missing.text
    search = client.get(f"/staff/groups/{team.id}/consents?q=ann")
    assert "Anna" in search.text and "Bram" not in search.text


def test_reminders_go_only_to_parents_without_an_answer(client, db, club, inbox):
    org, staff, mum, team = club
    dad = factories.user(db, org, Role.GUARDIAN, password=None)
    answered = factories.child(db, org, guardians=(mum,))
    waiting = factories.child(db, org, guardians=(dad,))
    from consentlens.people.models import ChildGroup

    for kid in (answered, waiting):
        db.add(ChildGroup(child_id=kid.id, group_id=team.id))
    grant_all(db, org, answered, mum)
    login(client, staff.email, factories.PASSWORD)
    page = client.get(f"/staff/groups/{team.id}/consents")
    asked = client.post(
        f"/staff/groups/{team.id}/invite",
        data={"csrf_token": csrf_from(page.text), "who": "unanswered"},
    )
    # First who and how many, and nothing sent yet.
    assert asked.status_code == 200 and inbox.messages == []
    assert dad.email in asked.text and mum.email not in asked.text
    response = client.post(
        f"/staff/groups/{team.id}/invite",
        data={"csrf_token": csrf_from(asked.text), "who": "unanswered", "confirmed": "yes"},
    )
    assert response.headers["location"].endswith("?sent=1&skipped=0")
    assert [m["To"] for m in inbox.messages] == [dad.email]
    assert (
        "Reminder" in inbox.messages[0]["Subject"] or "Herinnering" in inbox.messages[0]["Subject"]
    )
    # The group page says to whom, and that it left.
    after = client.get(response.headers["location"])
    assert dad.email in after.text and mum.email not in after.text


def test_a_new_season_expires_old_answers_and_asks_for_renewal(app, client, db, club, inbox):
    org, _staff, mum, team = club
    admin = factories.user(db, org, Role.ADMIN, locale="en")
    kid = factories.child(db, org, first_name="Lien", guardians=(mum,))
    from consentlens.people.models import ChildGroup

    db.add(ChildGroup(child_id=kid.id, group_id=team.id))
    grant_all(db, org, kid, mum)
    old_end = org.season_end
    login(client, admin.email, factories.PASSWORD)
    page = client.get("/staff/season")
    new_end = old_end.replace(year=old_end.year + 1)
    form = {"csrf_token": csrf_from(page.text), "new_end": new_end.isoformat(), "send": "yes"}
    check = client.post("/staff/season", data=form)
    # A confirmation step first: what changes, that the season runs on, who gets mail.
    assert check.status_code == 200 and org.season_end == old_end and inbox.messages == []
    assert "1 parent will get an e-mail" in check.text and mum.email in check.text
    assert "answers given so far stay valid until" in check.text
    done = client.post("/staff/season", data={**form, "confirmed": "yes"})
    assert done.status_code == 200 and mum.email in done.text
    assert org.season_end == new_end
    [renewal] = inbox.to(mum.email)
    # The date in the mail's sentence is written out in the parent's language, not ISO.
    locale = mum.locale or org.default_locale
    assert format_date(old_end, format="long", locale=locale) in inbox.body(renewal)

    uses = consent.list_uses(session=db, organisation=org)
    after_old_end = datetime.combine(old_end + timedelta(days=1), datetime.min.time(), tzinfo=UTC)
    later = consent.effective_consents(
        session=db,
        organisation=org,
        children=[kid],
        uses=uses,
        now=after_old_end + timedelta(hours=1),
    )
    assert later[(kid.id, Use.WEBSITE)].state is ConsentState.EXPIRED
    assert states(db, org, kid)[Use.WEBSITE] is ConsentState.GRANTED  # until the old end

    overview = client.get(f"/staff/groups/{team.id}/consents")
    assert "Renewed" in overview.text and "Not yet" in overview.text
    with TestClient(app, follow_redirects=False) as parent:
        from tests.mail import Inbox

        parent.get(Inbox.link_path(renewal))
        answer(parent, kid, {Use.WEBSITE: "yes"})
    renewed = client.get(f"/staff/groups/{team.id}/consents")
    assert "Not yet" not in renewed.text
    decision = db.exec(select(ConsentDecision).order_by(ConsentDecision.id.desc())).first()
    assert decision.valid_until.date() >= new_end


def test_only_admins_start_a_season_and_bad_dates_are_explained(client, db, club):
    org, staff, _, _ = club
    login(client, staff.email, factories.PASSWORD)
    assert client.get("/staff/season").status_code == 403
    admin = factories.user(db, org, Role.ADMIN, locale="en")
    client.cookies.clear()
    login(client, admin.email, factories.PASSWORD)
    page = client.get("/staff/season")
    response = client.post(
        "/staff/season",
        data={"csrf_token": csrf_from(page.text), "new_end": org.season_end.isoformat()},
    )
    assert response.status_code == 400 and "must end after the current one" in response.text
    response = client.post(
        "/staff/season", data={"csrf_token": csrf_from(page.text), "new_end": "next summer"}
    )
    assert response.status_code == 400 and "last day of the new season" in response.text


def test_consent_api(client, db, club):
    from tests.conftest import bearer

    org, staff, mum, _ = club
    kid = factories.child(db, org, guardians=(mum,))
    headers = bearer(client, staff.email, factories.PASSWORD)
    before = client.get(f"/api/v1/children/{kid.id}/consents", headers=headers)
    assert before.status_code == 200
    assert {c["use"]: c["state"] for c in before.json()}[Use.WEBSITE] == "no_answer"
    created = client.post(
        f"/api/v1/children/{kid.id}/consents",
        headers=headers,
        json={"use": Use.WEBSITE, "decision": "granted", "guardian_id": mum.id, "method": "paper"},
    )
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["effective"]["state"] == "granted" and body["method"] == "paper"
    for bad, detail in [
        ({"use": Use.WEBSITE, "decision": "granted"}, "either guardian_id or by_child"),
        ({"use": "tv", "decision": "granted", "guardian_id": mum.id}, "Unknown use"),
        ({"use": Use.WEBSITE, "decision": "granted", "by_child": True}, "younger than 12"),
    ]:
        response = client.post(f"/api/v1/children/{kid.id}/consents", headers=headers, json=bad)
        assert response.status_code == 422 and detail in response.text
    born = kid.birth_date
    for decided_at, detail in [
        (datetime(born.year, born.month, born.day, tzinfo=UTC) - timedelta(days=1), "was born"),
        (utcnow() + timedelta(days=1), "in the future"),
    ]:
        response = client.post(
            f"/api/v1/children/{kid.id}/consents",
            headers=headers,
            json={
                "use": Use.PRESS,
                "decision": "granted",
                "guardian_id": mum.id,
                "decided_at": decided_at.isoformat(),
            },
        )
        assert response.status_code == 422 and detail in response.text
    other = factories.child(db, factories.organisation(db))
    assert client.get(f"/api/v1/children/{other.id}/consents", headers=headers).status_code == 404
    guardian_headers = bearer(
        client, factories.user(db, org, Role.GUARDIAN).email, factories.PASSWORD
    )
    assert (
        client.get(f"/api/v1/children/{kid.id}/consents", headers=guardian_headers).status_code
        == 403
    )
