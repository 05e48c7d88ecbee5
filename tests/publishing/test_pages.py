"""The publishing pages through the real application: the ZIP download, the takedown list, and the
admin's photo settings with the events due for deletion."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date

from babel.dates import format_date
from PIL import Image
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import Role
from consentlens.core.tables import utcnow
from consentlens.organisations import service as organisations
from consentlens.photos import service
from consentlens.publishing import retention
from consentlens.publishing.models import Publication
from tests import factories
from tests.conftest import csrf_from, login, sign_in
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos

# Inside the ZIP, files are named after the event (analysed_club's) and the uploaded file.
OBAMA = "2026-11-21 Tournament - obama_2.jpg"
STRANGER = "2026-11-21 Tournament - kit_harington_1.jpg"
DOGS = "2026-11-21 Tournament - dogs.jpg"


def _lang(html: str) -> str:
    return html.split('<html lang="', 1)[1].split('"', 1)[0]


def _tile(html: str, photo_id: int) -> str:
    match = re.search(
        rf'<li class="pub-tile[^"]*">\s*<input[^>]*id="photo-{photo_id}".*?</li>', html, re.S
    )
    assert match, f"no tile for photo {photo_id}"
    return match.group(0)


def _publish(client, use: str, photos, *, size: str = "display", title: str = "", page: str = ""):
    token = csrf_from(client.get(page or "/staff/publish").text)
    return client.post(
        "/staff/publish",
        data={
            "csrf_token": token,
            "use": use,
            "size": size,
            "title": title,
            "photo": [str(photo.id) for photo in photos],
        },
    )


def _actions(db, org) -> list[str]:
    return list(db.exec(select(AuditEvent.action).where(AuditEvent.organisation_id == org.id)))


def test_the_page_marks_each_photo_with_its_verdict_for_the_chosen_use(client, db):
    c, ev, (obama, stranger, dogs) = make_photos.analysed_club(db)
    sign_in(client, c.staff.email)

    page = client.get(f"/staff/publish?event={ev.id}&use=website")
    assert page.status_code == 200
    # The website covers a face without consent; social media leaves such a photo out.
    assert "Faces covered" in _tile(page.text, stranger.id)
    assert "Shown" in _tile(page.text, obama.id) and "Shown" in _tile(page.text, dogs.id)
    assert f"/staff/photos/{obama.id}/image?use=website&amp;size=thumb" in page.text

    social = client.get(f"/staff/publish?event={ev.id}&use=social_media").text
    left_out = _tile(social, stranger.id)
    assert "Left out" in left_out and "checked" not in left_out
    assert "checked" in _tile(social, obama.id)

    # A selection made elsewhere (?photo=…) is offered without choosing an event.
    chosen = client.get(f"/staff/publish?use=print&photo={dogs.id}&photo={obama.id}").text
    assert f'id="photo-{dogs.id}"' in chosen and f'id="photo-{stranger.id}"' not in chosen
    assert f'name="selection" value="{obama.id}"' in chosen


def test_the_download_holds_exactly_the_cleared_photos_without_metadata(client, db):
    c, _ev, (obama, stranger, dogs) = make_photos.analysed_club(db)
    sign_in(client, c.staff.email)

    response = _publish(
        client, "social_media", [obama, stranger, dogs], size="thumb", title="Instagram"
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["cache-control"] == "private, no-store"
    disposition = response.headers["content-disposition"]
    assert re.fullmatch(
        r'attachment; filename="consentlens-social-media-\d{4}-\d{2}-\d{2}\.zip"', disposition
    )
    archive = zipfile.ZipFile(io.BytesIO(response.content))
    assert sorted(archive.namelist()) == sorted([OBAMA, DOGS, "manifest.txt"])
    for name in (OBAMA, DOGS):
        image = Image.open(io.BytesIO(archive.read(name)))
        assert image.format == "JPEG" and max(image.size) <= 400
        assert not image.getexif() and "exif" not in image.info
    assert f"{STRANGER} (photo {stranger.id}): " in archive.read("manifest.txt").decode()
    assert "photos.published" in _actions(db, c.org)

    listed = client.get("/staff/publications")
    assert listed.status_code == 200
    row = re.search(r"<tr>\s*<td class=\"pub-nowrap\">.*?</tr>", listed.text, re.S)
    assert row and "Instagram" in row.group(0) and c.staff.full_name in row.group(0)
    counts = re.findall(r'<td class="num">(\d+)</td>', row.group(0))
    assert counts[:2] == ["2", "1"]  # included, left out


def test_a_bad_choice_shows_the_message_and_keeps_the_choices(client, db):
    c, ev, (obama, _stranger, _dogs) = make_photos.analysed_club(db)
    sign_in(client, c.staff.email)
    page = f"/staff/publish?event={ev.id}&use=website"

    token = csrf_from(client.get(page).text)
    nothing = client.post(
        "/staff/publish",
        data={
            "csrf_token": token,
            "use": "website",
            "size": "thumb",
            "title": "Club site",
            "event": str(ev.id),
        },
    )
    assert nothing.status_code == 400
    assert "Select at least one photo." in nothing.text
    assert 'value="Club site"' in nothing.text
    assert re.search(r'id="size-thumb" name="size" value="thumb" checked', nothing.text)
    assert f'<option value="{ev.id}" selected>' in nothing.text
    # Kept as posted: nothing was ticked, so nothing is ticked again.
    assert "checked" not in _tile(nothing.text, obama.id)

    unknown = _publish(client, "billboard", [obama], page=page)
    assert unknown.status_code == 400
    assert "Choose where the photos will be published." in unknown.text
    assert "application/zip" not in unknown.headers["content-type"]
    # Face recognition is a consent use, but not a place to publish.
    assert _publish(client, "face_recognition", [obama], page=page).status_code == 400
    assert db.exec(select(Publication).where(Publication.organisation_id == c.org.id)).all() == []


def test_a_download_for_another_use_than_the_photos_shown_is_shown_again_first(client, db):
    c, ev, (obama, stranger, dogs) = make_photos.analysed_club(db)
    sign_in(client, c.staff.email)
    page = client.get(f"/staff/publish?event={ev.id}&use=website").text
    # One form: the dropdown itself is posted, the use the photos were judged for beside it.
    form = page.split('id="publish-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="use"' in form and 'name="shown_use" value="website"' in form
    assert 'formaction="/staff/publish/preview"' in form

    # The dropdown was switched to social media, the website's photos still ticked.
    stale = client.post(
        "/staff/publish",
        data={
            "csrf_token": csrf_from(page),
            "use": "social_media",
            "shown_use": "website",
            "event": str(ev.id),
            "size": "thumb",
            "title": "Instagram",
            "photo": [str(obama.id), str(stranger.id), str(dogs.id)],
        },
    )
    assert stale.status_code == 409
    assert "application/zip" not in stale.headers["content-type"]
    assert "was changed after they were shown" in stale.text
    assert "2. Photos for: Social media" in stale.text
    assert 'name="shown_use" value="social_media"' in stale.text
    assert "Left out" in _tile(stale.text, stranger.id)
    assert 'value="Instagram"' in stale.text
    assert db.exec(select(Publication).where(Publication.organisation_id == c.org.id)).all() == []

    # Downloaded again from that page: for social media, recorded as such.
    done = client.post(
        "/staff/publish",
        data={
            "csrf_token": csrf_from(stale.text),
            "use": "social_media",
            "shown_use": "social_media",
            "size": "thumb",
            "photo": [str(obama.id), str(stranger.id), str(dogs.id)],
        },
    )
    assert done.status_code == 200 and "social-media" in done.headers["content-disposition"]
    assert sorted(zipfile.ZipFile(io.BytesIO(done.content)).namelist()) == sorted(
        [OBAMA, DOGS, "manifest.txt"]
    )
    (publication,) = db.exec(select(Publication).where(Publication.organisation_id == c.org.id))
    assert publication.use_code == "social_media" and publication.left_out_count == 1


def test_show_the_photos_leads_to_the_page_for_the_choices(client, db):
    c, ev, (obama, _stranger, dogs) = make_photos.analysed_club(db)
    sign_in(client, c.staff.email)
    token = csrf_from(client.get("/staff/publish").text)
    shown = client.post(
        "/staff/publish/preview",
        data={
            "csrf_token": token,
            "use": "print",
            "event": str(ev.id),
            "size": "thumb",
            "title": "News & views",
            "photo": [str(dogs.id)],  # a tick is not a choice of photos
        },
    )
    assert shown.status_code == 303
    location = shown.headers["location"]
    assert location == f"/staff/publish?use=print&event={ev.id}&size=thumb&title=News+%26+views"
    page = client.get(location).text
    assert "2. Photos for: Newsletter and print" in page
    assert 'value="News &amp; views"' in page
    assert re.search(r'id="size-thumb" name="size" value="thumb" checked', page)

    # A selection made elsewhere stays the selection.
    chosen = client.post(
        "/staff/publish/preview",
        data={
            "csrf_token": token,
            "use": "website",
            "selection": [str(obama.id), str(dogs.id)],
        },
    )
    assert chosen.headers["location"] == (
        f"/staff/publish?use=website&photo={obama.id}&photo={dogs.id}&size=display"
    )
    assert client.post("/staff/publish/preview", data={"use": "print"}).status_code == 403


def test_a_withdrawal_after_publication_lists_the_photo_until_it_is_taken_down(client, db):
    c, _ev, (obama, _stranger, dogs) = make_photos.analysed_club(db)
    sign_in(client, c.staff.email)
    assert _publish(client, "website", [obama, dogs], title="Club site").status_code == 200

    calm = client.get("/staff/takedowns")
    assert calm.status_code == 200 and "Nothing to take down." in calm.text

    make_consent.decide(db, c.org, c.obama, c.guardian, {"website": False})
    listed = client.get("/staff/takedowns")
    assert OBAMA in listed.text and DOGS not in listed.text
    assert "Club site" in listed.text and "website" in listed.text
    # The club gallery still shows the photo, so staff see which one it is.
    assert f"/staff/photos/{obama.id}/image?use=internal_gallery&amp;size=thumb" in listed.text
    (action,) = re.findall(r'action="(/staff/takedowns/\d+)"', listed.text)
    assert "must be taken down" in client.get("/staff/publish").text

    done = client.post(action, data={"csrf_token": csrf_from(listed.text)})
    assert done.status_code == 303 and done.headers["location"] == "/staff/takedowns?done=1"
    after = client.get(done.headers["location"]).text
    assert "Marked as taken down." in after and "Nothing to take down." in after
    (audited,) = db.exec(
        select(AuditEvent).where(
            AuditEvent.organisation_id == c.org.id, AuditEvent.action == "photos.taken_down"
        )
    ).all()
    assert audited.actor_id == c.staff.id

    missing = client.post("/staff/takedowns/999999", data={"csrf_token": csrf_from(after)})
    assert missing.status_code == 404


def test_admins_change_retention_and_watermark_within_bounds(client, db):
    c = make_photos.club(db)
    admin = factories.user(db, c.org, Role.ADMIN)
    sign_in(client, admin.email)
    page = client.get("/admin/photo-settings")
    assert page.status_code == 200
    assert 'name="retention_months"' in page.text and 'value="24"' in page.text
    assert "deleted this long after their event" in page.text

    for wrong in ("0", "500", "twelve", ""):
        response = client.post(
            "/admin/photo-settings",
            data={
                "csrf_token": csrf_from(page.text),
                "retention_months": wrong,
                "watermark": "yes",
            },
        )
        assert response.status_code == 400, wrong
        assert "a whole number from 1 to 120" in response.text
        assert 'aria-invalid="true"' in response.text
        db.refresh(c.org)
        assert (c.org.retention_months, c.org.watermark_photos) == (24, False)
    assert "photos.settings_changed" not in _actions(db, c.org)

    saved = client.post(
        "/admin/photo-settings",
        data={"csrf_token": csrf_from(page.text), "retention_months": "36", "watermark": "yes"},
    )
    assert saved.status_code == 303 and saved.headers["location"] == "/admin/photo-settings?saved=1"
    db.refresh(c.org)
    assert (c.org.retention_months, c.org.watermark_photos) == (36, True)
    (audited,) = db.exec(
        select(AuditEvent).where(
            AuditEvent.organisation_id == c.org.id, AuditEvent.action == "photos.settings_changed"
        )
    ).all()
    assert audited.actor_id == admin.id
    assert audited.details == {"retention_months": [24, 36], "watermark_photos": [False, True]}
    shown = client.get(saved.headers["location"]).text
    assert "The photo settings are saved." in shown and 'value="36"' in shown

    # Staff who are not admins may publish, but not change how long photos are kept.
    client.cookies.clear()
    sign_in(client, c.staff.email)
    assert client.get("/admin/photo-settings").status_code == 403


def test_the_settings_page_lists_events_due_for_deletion(client, db):
    c = make_photos.club(db)
    admin = factories.user(db, c.org, Role.ADMIN)
    today = organisations.local_today(organisation=c.org, now=utcnow())
    old = service.create_event(
        session=db,
        organisation=c.org,
        name="Old tournament",
        event_date=date(today.year - 3, today.month, min(today.day, 28)),
        group_ids=[],
        user=admin,
    )
    make_photos.upload(db, c, old, ["negative/dogs.jpg"])
    recent = make_photos.event(db, c, name="Recent match")
    recent.event_date = today
    db.add(recent)
    db.flush()
    sign_in(client, admin.email)

    page = client.get("/admin/photo-settings").text
    due = page.split('id="due-heading"', 1)[1]
    assert "Old tournament" in due and "Recent match" not in due
    deleted_on = retention.deletion_date(organisation=c.org, event_date=old.event_date)
    # Written out in the page's language, as in a sentence.
    assert format_date(deleted_on, format="long", locale=_lang(page)) in due
    assert f'href="/staff/publish?event={old.id}"' in due
    assert "1 photo ·" in due
    assert "At the next clean-up" in due  # three years is past the 24 months kept

    export = client.get(f"/staff/publish?event={old.id}")
    assert export.status_code == 200 and f'<option value="{old.id}" selected>' in export.text


def test_guardians_may_not_publish_take_down_or_change_settings(client, db):
    c = make_photos.club(db)
    login(client, c.guardian.email, factories.PASSWORD)
    for url in (
        "/staff/publish",
        "/staff/publications",
        "/staff/takedowns",
        "/admin/photo-settings",
    ):
        assert client.get(url).status_code == 403, url
    token = csrf_from(client.get("/family").text)
    for url, data in (
        ("/staff/publish", {"use": "website", "size": "thumb"}),
        ("/staff/publish/preview", {"use": "website"}),
        ("/staff/takedowns/1", {}),
        ("/admin/photo-settings", {"retention_months": "1"}),
    ):
        assert client.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    db.refresh(c.org)
    assert c.org.retention_months == 24
