"""Publishing: the ZIP holds exactly the photos cleared for the use, covered as the verdicts say,
without metadata; a later withdrawal flags the publication and staff are told."""

from __future__ import annotations

import email
import email.policy
import io
import zipfile

from PIL import Image
from sqlmodel import select

from consentlens.audit.models import AuditEvent
from consentlens.core.config import get_settings
from consentlens.core.tables import utcnow
from consentlens.faces.models import Face, ReferenceFace, StoredVerdict
from consentlens.people import children as child_service
from consentlens.publishing import service as publishing
from consentlens.publishing import takedowns
from consentlens.publishing.models import PublishedFace, PublishedPhoto
from tests.factories import consent as make_consent
from tests.factories import photos as make_photos
from tests.images import covered_fraction

# Inside the ZIP, files are named after the event (analysed_club's) and the uploaded file.
OBAMA = "2026-11-21 Tournament - obama_2.jpg"
STRANGER = "2026-11-21 Tournament - kit_harington_1.jpg"
DOGS = "2026-11-21 Tournament - dogs.jpg"


def test_the_zip_holds_exactly_the_cleared_photos_covered_as_judged(db):
    c, _ev, (obama, stranger, dogs) = make_photos.analysed_club(db)

    export = publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="social_media",
        photos=[obama, stranger, dogs],
        size="display",
        title="Instagram",
        now=utcnow(),
    )
    archive = zipfile.ZipFile(io.BytesIO(export.data))
    # Social media hides photos with an unconsented face: the stranger is left out and listed.
    assert sorted(archive.namelist()) == sorted([OBAMA, DOGS, "manifest.txt"])
    manifest = archive.read("manifest.txt").decode()
    assert f"{STRANGER} (photo {stranger.id}): " in manifest and "Left out (1)" in manifest
    for name in (OBAMA, DOGS):
        image = Image.open(io.BytesIO(archive.read(name)))
        assert not image.getexif() and "exif" not in image.info
    (face,) = db.exec(select(Face).where(Face.photo_id == obama.id)).all()
    assert covered_fraction(archive.read(OBAMA), obama, face) < 0.1

    website = publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="website",
        photos=[stranger],
        size="display",
        title="",
        now=utcnow(),
    )
    blurred = zipfile.ZipFile(io.BytesIO(website.data)).read(STRANGER)
    (unknown,) = db.exec(select(Face).where(Face.photo_id == stranger.id)).all()
    assert covered_fraction(blurred, stranger, unknown) > 0.9

    recorded = db.exec(
        select(PublishedFace)
        .join(PublishedPhoto)
        .where(PublishedPhoto.publication_id == export.publication.id)
    ).all()
    assert [(f.child_id, f.visible, f.consent_state) for f in recorded] == [
        (c.obama.id, True, "granted")
    ]
    actions = db.exec(select(AuditEvent.action).where(AuditEvent.organisation_id == c.org.id))
    assert list(actions).count("photos.published") == 2


def test_a_withdrawal_flags_the_publication_and_staff_are_told(db):
    c, _ev, (obama, _stranger, dogs) = make_photos.analysed_club(db)
    export = publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="website",
        photos=[obama, dogs],
        size="thumb",
        title="Club site",
        now=utcnow(),
    )
    assert takedowns.open_takedowns(session=db, organisation=c.org) == []

    make_consent.decide(db, c.org, c.obama, c.guardian, {"print": False})
    assert (
        takedowns.open_takedowns(session=db, organisation=c.org) == []
    )  # another use: nothing to take down

    make_consent.decide(db, c.org, c.obama, c.guardian, {"website": False})
    (takedown,) = takedowns.open_takedowns(session=db, organisation=c.org)
    assert takedown.published.photo_id == obama.id
    assert takedown.publication.id == export.publication.id
    # In the club's language (Dutch here), naming the use as parents saw it.
    assert takedown.published.takedown_reason.endswith("is ingetrokken.")
    assert c.obama.full_name in takedown.published.takedown_reason
    # Staff read it in their own language, whatever the club's.
    name = c.obama.full_name
    assert takedown.reason("en", "Club website") == (
        f"{name}: the consent for Club website was withdrawn."
    )
    assert takedown.reason("fr", "Site du club").startswith(f"{name} : ")
    assert "retiré" in takedown.reason("fr", "Site du club")

    outbox = get_settings().outbox_dir
    before = set(outbox.glob("*.eml")) if outbox.exists() else set()
    assert takedowns.notify_takedowns(session=db, organisation=c.org, now=utcnow()) == 1
    db.commit()
    (mail,) = set(outbox.glob("*.eml")) - before
    message = email.message_from_bytes(mail.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert OBAMA in text and "/staff/takedowns" in text
    # The use under its name as parents saw it, not its code.
    assert "\nwebsite:" not in text and "Website van de club:" in text
    # Told once: the next run sends nothing.
    assert takedowns.notify_takedowns(session=db, organisation=c.org, now=utcnow()) == 0

    takedowns.mark_taken_down(
        session=db,
        organisation=c.org,
        published_id=takedown.published.id,
        user=c.staff,
        now=utcnow(),
    )
    assert takedowns.open_takedowns(session=db, organisation=c.org) == []
    actions = set(db.exec(select(AuditEvent.action).where(AuditEvent.organisation_id == c.org.id)))
    assert {"photos.takedown_flagged", "photos.takedown_notified", "photos.taken_down"} <= actions


def test_archiving_a_child_forgets_their_face_and_flags_their_publications(db):
    c, _ev, (obama, _stranger, dogs) = make_photos.analysed_club(db)
    publishing.publish(
        session=db,
        organisation=c.org,
        user=c.staff,
        use="print",
        photos=[obama, dogs],
        size="display",
        title="Newsletter",
        now=utcnow(),
    )

    child_service.set_child_archived(
        session=db, organisation=c.org, child=c.obama, archived=True, actor=c.staff
    )

    assert db.exec(select(ReferenceFace).where(ReferenceFace.child_id == c.obama.id)).all() == []
    (face,) = db.exec(select(Face).where(Face.photo_id == obama.id)).all()
    assert face.child_id is None and face.embedding is None
    for use in ("internal_gallery", "website", "print"):
        verdict = db.get(StoredVerdict, (obama.id, use))
        assert verdict is not None and verdict.action == "blur", use
    (takedown,) = takedowns.open_takedowns(session=db, organisation=c.org)
    assert takedown.published.photo_id == obama.id
