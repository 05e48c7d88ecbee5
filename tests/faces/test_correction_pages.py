"""The photo page's face corrections and the review queue's bulk choice, through the real pages:
what staff see, what a refused choice keeps, and who may do it."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date

from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.faces.models import FaceState, StoredVerdict
from consentlens.people import children as child_service
from tests import factories
from tests.conftest import csrf_from, sign_in
from tests.faces.test_review_pages import blurred
from tests.factories import consent as make_consent
from tests.factories.photos import analysed_group_photo, faces_of, unknown_faces


def _post_correction(client, photo_id, face, correction, **fields):
    page = client.get(f"/staff/photos/{photo_id}")
    data = {
        "csrf_token": csrf_from(page.text),
        "correction": correction,
        "state": face.state,
        **fields,
    }
    return client.post(f"/staff/photos/{photo_id}/faces/{face.id}", data=data)


def test_staff_remove_a_name_and_name_the_face_again_on_the_photo_page(client, db):
    c, _ev, photo = analysed_group_photo(db)
    named = next(f for f in faces_of(db, photo) if f.state == FaceState.IDENTIFIED)
    sign_in(client, c.staff.email)

    page = client.get(f"/staff/photos/{photo.id}").text
    assert f'action="/staff/photos/{photo.id}/faces/{named.id}"' in page
    assert 'name="correction" value="unname"' in page

    response = _post_correction(client, photo.id, named, "unname", use="website")
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == (
        f"/staff/photos/{photo.id}?use=website&done=unname&face={named.id}#face-{named.id}"
    )
    after = client.get(location).text
    assert "has no name any more: it is blurred and waits for review." in after
    db.refresh(named)
    assert named.state == FaceState.UNKNOWN and named.id in blurred(db, photo, "internal_gallery")

    response = _post_correction(client, photo.id, named, "name", child_id=str(c.obama.id))
    assert response.status_code == 303
    after = client.get(response.headers["location"]).text
    assert "is now named Barack Peeters." in after
    db.refresh(named)
    assert named.state == FaceState.CONFIRMED and named.child_id == c.obama.id
    assert named.id not in blurred(db, photo, "internal_gallery")
    actions = db.exec(
        select(AuditEvent.details).where(
            AuditEvent.action == "photos.face_corrected", AuditEvent.subject_id == str(named.id)
        )
    ).all()
    assert [d["correction"] for d in actions] == ["unname", "name"]


def test_a_refused_correction_is_shown_on_the_faces_row(client, db):
    c, _ev, photo = analysed_group_photo(db)
    named = next(f for f in faces_of(db, photo) if f.state == FaceState.IDENTIFIED)
    sign_in(client, c.staff.email)

    response = _post_correction(client, photo.id, named, "name", child_id="")
    assert response.status_code == 400
    row = re.search(rf'<tr id="face-{named.id}">(.*?)</tr>', response.text, re.S)
    assert row and "Choose the child this is." in row.group(1)
    assert "<details open>" in row.group(1) and "autofocus" in row.group(1)

    response = _post_correction(client, photo.id, named, "maybe")
    assert response.status_code == 400 and "Choose what to do with this face." in response.text

    token = csrf_from(client.get(f"/staff/photos/{photo.id}").text)
    stale = client.post(
        f"/staff/photos/{photo.id}/faces/{named.id}",
        data={"csrf_token": token, "correction": "unname", "state": "unknown"},
    )
    assert stale.status_code == 409 and "This face changed since the page was opened" in stale.text
    db.refresh(named)
    assert named.state == FaceState.IDENTIFIED


def test_only_the_clubs_staff_correct_a_face_and_only_on_its_own_photo(client, db):
    c, _ev, photo = analysed_group_photo(db)
    face, _ = unknown_faces(db, photo)
    _, _other_ev, other_photo = analysed_group_photo(db)
    sign_in(client, c.staff.email)
    token = csrf_from(client.get(f"/staff/photos/{photo.id}").text)
    data = {"csrf_token": token, "correction": "not_a_face", "state": "unknown"}
    # A face of another photo (of another club) named in this photo's address.
    (foreign, *_) = faces_of(db, other_photo)
    assert client.post(f"/staff/photos/{photo.id}/faces/{foreign.id}", data=data).status_code == 404

    client.cookies.clear()
    sign_in(client, c.guardian.email)
    token = csrf_from(client.get("/family").text)
    response = client.post(
        f"/staff/photos/{photo.id}/faces/{face.id}", data={**data, "csrf_token": token}
    )
    assert response.status_code == 403

    outsider = factories.user(db, factories.organisation(db), Role.STAFF)
    client.cookies.clear()
    sign_in(client, outsider.email)
    token = csrf_from(client.get("/staff/events").text)
    response = client.post(
        f"/staff/photos/{photo.id}/faces/{face.id}", data={**data, "csrf_token": token}
    )
    assert response.status_code == 404
    db.refresh(face)
    assert face.state == FaceState.UNKNOWN


def test_children_with_the_same_name_are_told_apart_in_the_picker(client, db):
    c, ev, photo = analysed_group_photo(db)
    older = factories.child(db, c.org, first_name="Lotte", birth_date=date(2014, 3, 2))
    younger = factories.child(db, c.org, first_name="Lotte", birth_date=date(2017, 8, 9))
    minis = factories.group(db, c.org, name="U8 Minis")
    child_service.set_child_groups(session=db, organisation=c.org, child=younger, groups=[minis])
    sign_in(client, c.staff.email)

    for url in (f"/staff/photos/{photo.id}", f"/staff/events/{ev.id}/review"):
        page = html_lib.unescape(client.get(url).text)
        assert re.search(rf'value="(\d+:)?{older.id}"[^>]*>Lotte Peeters \(2014\)<', page)
        assert re.search(
            rf'value="(\d+:)?{younger.id}"[^>]*>Lotte Peeters \(2017 · U8 Minis\)<', page
        )


def test_the_bulk_choice_marks_the_selected_people_as_strangers(client, db):
    c, ev, photo = analysed_group_photo(db)
    biden_face, child_face = unknown_faces(db, photo)
    sign_in(client, c.staff.email)
    page = client.get(f"/staff/events/{ev.id}/review").text
    assert 'value="bulk_stranger"' in page
    data = {
        "csrf_token": csrf_from(page),
        "choice": "bulk_stranger",
        "face_ids": [f"{biden_face.id}:{biden_face.id}", f"{child_face.id}:{child_face.id}"],
        "child_id": [f"{biden_face.id}:", f"{child_face.id}:"],
        "selected": [str(biden_face.id), str(child_face.id)],
    }
    response = client.post(f"/staff/events/{ev.id}/review", data=data)
    assert response.status_code == 303
    assert "done=stranger&faces=2" in response.headers["location"]
    for face in (biden_face, child_face):
        db.refresh(face)
        assert face.state == FaceState.UNKNOWN and face.reviewed_at is not None
        assert face.id in blurred(db, photo, "internal_gallery")
    audited = db.exec(
        select(AuditEvent.details).where(AuditEvent.action == "photos.face_reviewed")
    ).all()
    assert sorted(d["choice"] for d in audited) == ["stranger", "stranger"]


def test_a_refused_choice_keeps_what_every_card_had_chosen(client, db):
    c, ev, photo = analysed_group_photo(db)
    biden_face, child_face = unknown_faces(db, photo)
    a, b = str(biden_face.id), str(child_face.id)
    sign_in(client, c.staff.email)
    page = client.get(f"/staff/events/{ev.id}/review").text
    data = {
        "csrf_token": csrf_from(page),
        # Card A: "Name this child" without a child. Card B: its face unticked, a child chosen,
        # and selected for the bulk bar.
        "choice": f"{a}:child",
        "face_ids": [f"{a}:{biden_face.id}"],
        "child_id": [f"{a}:", f"{b}:{c.obama.id}"],
        "selected": [b],
    }
    response = client.post(f"/staff/events/{ev.id}/review", data=data)
    assert response.status_code == 400
    text = response.text
    card_a = re.search(rf'id="rv-card-{a}"(.*?)</section>', text, re.S)
    card_b = re.search(rf'id="rv-card-{b}"(.*?)</section>', text, re.S)
    assert card_a and card_b
    assert "Choose the child this is." in card_a.group(1) and "autofocus" in card_a.group(1)
    assert "Choose the child this is." not in card_b.group(1)
    assert f'value="{a}:{biden_face.id}" checked' in card_a.group(1)
    assert f'value="{b}:{child_face.id}" >' in card_b.group(1)  # unticked, as sent
    assert f'value="{b}:{c.obama.id}" selected' in card_b.group(1)
    assert f'name="selected" value="{b}" checked' in card_b.group(1)

    data["choice"] = "bulk_stranger"
    data["selected"] = []
    response = client.post(f"/staff/events/{ev.id}/review", data=data)
    assert response.status_code == 400
    bulk = re.search(r'<div class="rv-bulk"(.*?)</form>', response.text, re.S)
    assert bulk and "Select at least one face." in bulk.group(1)
    for face in (biden_face, child_face):
        db.refresh(face)
        assert face.reviewed_at is None


def test_the_photo_page_says_why_in_words_even_over_an_old_stored_verdict(client, db):
    """A verdict stored by an older release kept the consent state's code ("(refused)"); the page
    shows the verdict of right now, in the reader's language."""
    c, _ev, photo = analysed_group_photo(db)
    named = next(f for f in faces_of(db, photo) if f.state == FaceState.IDENTIFIED)
    make_consent.decide(db, c.org, c.obama, c.guardian, {"website": False})
    stored = db.exec(
        select(StoredVerdict).where(
            StoredVerdict.photo_id == photo.id, StoredVerdict.use_code == "website"
        )
    ).one()
    stored.face_reasons = [
        {
            "face_id": named.id,
            "visible": False,
            "reason": "{name}: not consented ({state}).",
            "params": {"name": "Barack Peeters", "state": "refused"},
        }
    ]
    db.add(stored)
    db.flush()
    sign_in(client, c.staff.email)
    words = {
        "en": ("Barack Peeters: consent refused or withdrawn.", "Shown, faces blurred: "),
        "nl": ("Barack Peeters: toestemming geweigerd of ingetrokken.", "Getoond, gezichten"),
        "fr": ("Barack Peeters : autorisation refusée ou retirée.", "visages floutés : "),
    }
    for lang, expected in words.items():
        client.cookies.set("lang", lang)
        page = html_lib.unescape(client.get(f"/staff/photos/{photo.id}?use=website").text)
        assert "(refused)" not in page and "refused)" not in page, lang
        for text in expected:
            assert text in page, (lang, text)
