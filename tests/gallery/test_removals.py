"""Removal requests that remove: the services on a real database (gallery lists, the one serving
path, publications, the family a hiding covers, deleting with its files, the guardian's e-mail)."""

from __future__ import annotations

import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlmodel import Session, select

from consentlens.audit.models import AuditEvent
from consentlens.auth.deps import Principal
from consentlens.auth.models import Role, User
from consentlens.consent.uses import Use
from consentlens.core.tables import utcnow
from consentlens.faces import processing, serving
from consentlens.faces.models import Face, StoredVerdict
from consentlens.gallery import removals, scopes, visibility
from consentlens.gallery.models import RemovalRequest
from consentlens.gallery.removals import Outcome, RemovalError
from consentlens.people import children as child_service
from consentlens.people import guardianships
from consentlens.photos import storage
from consentlens.photos.models import Event, Photo, PhotoFamilyHiding
from consentlens.publishing import retention
from consentlens.publishing import service as publishing
from consentlens.publishing.models import PublishedPhoto
from tests import factories
from tests.factories import photos as make_photos

DOGS = "negative/dogs.jpg"  # no faces: every use shows it as it is


@dataclass
class Scene:
    c: make_photos.Club
    event: Event
    photo: Photo
    other: Photo  # a second photo of the same event, untouched
    co_parent: User  # Barack's other guardian: the same family
    neighbour: User  # a guardian of another child in the team: another family
    staff: Principal


def _principal(user: User, c: make_photos.Club, role: Role) -> Principal:
    return Principal(user=user, organisation=c.org, roles=frozenset({role}))


def _scene(db: Session, tmp_path: Path) -> Scene:
    c = make_photos.club(db)
    co_parent = factories.user(db, c.org, Role.GUARDIAN)
    guardianships.create_guardianship(session=db, organisation=c.org, child=c.obama, user=co_parent)
    neighbour = factories.user(db, c.org, Role.GUARDIAN, locale="fr")
    nina = factories.child(db, c.org, first_name="Nina", guardians=(neighbour,))
    for kid in (c.obama, nina):
        child_service.set_child_groups(session=db, organisation=c.org, child=kid, groups=[c.team])
    ev = make_photos.event(db, c)
    plain = tmp_path / "pitch.jpg"
    Image.new("RGB", (320, 200), (40, 140, 60)).save(plain, "JPEG")
    photo, other = make_photos.upload(db, c, ev, [DOGS, plain])
    while processing.process_next(session=db):
        pass
    db.refresh(photo)
    db.refresh(other)
    return Scene(c, ev, photo, other, co_parent, neighbour, _principal(c.staff, c, Role.STAFF))


def _listed(db: Session, scene: Scene, user: User) -> set[int | None]:
    principal = _principal(user, scene.c, Role.GUARDIAN)
    page = scopes.guardian_photos(session=db, principal=principal, event_id=scene.event.id)
    return {p.id for p in page.photos}


def _ask(db: Session, scene: Scene, user: User, message: str = "") -> RemovalRequest:
    return removals.request_removal(
        session=db,
        principal=_principal(user, scene.c, Role.GUARDIAN),
        photo=scene.photo,
        message=message,
        origin=None,  # type: ignore[arg-type]
    )


def _gallery_image(db: Session, scene: Scene, **kwargs: bool) -> bytes:
    return serving.image(
        session=db,
        organisation=scene.c.org,
        photo=scene.photo,
        use=Use.INTERNAL_GALLERY,
        size="thumb",
        now=utcnow(),
        **kwargs,
    )


def test_hidden_from_everyone_leaves_every_list_image_and_publication_and_can_be_undone(
    db, inbox, tmp_path
):
    scene = _scene(db, tmp_path)
    everyone = (scene.c.guardian, scene.co_parent, scene.neighbour)
    assert all(scene.photo.id in _listed(db, scene, user) for user in everyone)
    removal = _ask(db, scene, scene.c.guardian, "Please take it down")
    assert removal.event_name == scene.event.name

    answered = removals.resolve_removal(
        session=db, principal=scene.staff, removal=removal, outcome=Outcome.HIDDEN
    )
    assert answered == [removal] and removal.resolution == "hidden"
    assert all(scene.photo.id not in _listed(db, scene, user) for user in everyone)
    assert all(scene.other.id in _listed(db, scene, user) for user in everyone)
    for user in everyone:
        principal = _principal(user, scene.c, Role.GUARDIAN)
        assert not scopes.guardian_may_see(session=db, principal=principal, photo=scene.photo)
    stored = db.exec(select(StoredVerdict).where(StoredVerdict.photo_id == scene.photo.id)).all()
    assert stored and {v.action for v in stored} == {"hide"}
    with pytest.raises(serving.NotServable):
        _gallery_image(db, scene)
    # Staff judging whether to undo it see what undoing would show; nothing else changes.
    assert _gallery_image(db, scene, as_if_shown=True)[:2] == b"\xff\xd8"
    assert {
        v.action
        for v in db.exec(select(StoredVerdict).where(StoredVerdict.photo_id == scene.photo.id))
    } == {"hide"}
    export = publishing.publish(
        session=db,
        organisation=scene.c.org,
        user=scene.c.staff,
        use="website",
        photos=[scene.photo, scene.other],
        size="thumb",
        title="Website",
        now=utcnow(),
    )
    assert [p.id for p, _ in export.included] == [scene.other.id]
    assert [p.id for p, _ in export.left_out] == [scene.photo.id]
    with zipfile.ZipFile(io.BytesIO(export.data)) as archive:
        assert len([n for n in archive.namelist() if n.endswith(".jpg")]) == 1

    db.commit()  # the e-mail leaves once the outcome is committed
    [mail] = inbox.to(scene.c.guardian.email)
    # In the club's language (nl), as this guardian chose none.
    assert "uw verzoek om een foto weg te halen" in mail["Subject"]
    assert "niemand ziet hem nog in de galerij" in inbox.body(mail)

    assert visibility.show_again(session=db, principal=scene.staff, photo=scene.photo)
    assert all(scene.photo.id in _listed(db, scene, user) for user in everyone)
    assert _gallery_image(db, scene)[:2] == b"\xff\xd8"
    actions = [
        e.action
        for e in db.exec(
            select(AuditEvent)
            .where(AuditEvent.subject_type == "photo")
            .where(AuditEvent.subject_id == str(scene.photo.id))
            .order_by(AuditEvent.id)  # type: ignore[arg-type]
        )
    ]
    assert actions[-2:] == ["photos.hidden", "photos.unhidden"]


def test_hidden_from_a_family_covers_both_parents_and_no_other_family(db, inbox, tmp_path):
    scene = _scene(db, tmp_path)
    removal = _ask(db, scene, scene.co_parent)
    removals.resolve_removal(
        session=db, principal=scene.staff, removal=removal, outcome=Outcome.HIDDEN_FAMILY
    )
    assert scene.photo.id not in _listed(db, scene, scene.co_parent)
    assert scene.photo.id not in _listed(db, scene, scene.c.guardian), "the same family"
    assert scene.photo.id in _listed(db, scene, scene.neighbour), "another family"
    neighbour = _principal(scene.neighbour, scene.c, Role.GUARDIAN)
    assert scopes.guardian_may_see(session=db, principal=neighbour, photo=scene.photo)
    assert _gallery_image(db, scene)[:2] == b"\xff\xd8", "the photo itself is not hidden"
    assert inbox.to(scene.co_parent.email) == [], "not before the commit"
    db.commit()
    [mail] = inbox.to(scene.co_parent.email)
    assert "uit de galerij van uw gezin gehaald" in inbox.body(mail)

    assert visibility.show_to_family(
        session=db, principal=scene.staff, photo=scene.photo, guardian_id=scene.co_parent.id
    )
    assert scene.photo.id in _listed(db, scene, scene.c.guardian)
    assert db.exec(select(PhotoFamilyHiding)).all() == []


def test_declining_needs_a_reason_which_the_guardian_reads_in_their_language(db, inbox, tmp_path):
    scene = _scene(db, tmp_path)
    removal = _ask(db, scene, scene.neighbour)
    with pytest.raises(RemovalError):
        removals.resolve_removal(
            session=db, principal=scene.staff, removal=removal, outcome=Outcome.DECLINED
        )
    assert removal.resolved_at is None and inbox.to(scene.neighbour.email) == []
    removals.resolve_removal(
        session=db,
        principal=scene.staff,
        removal=removal,
        outcome=Outcome.DECLINED,
        reason="  C'est la photo d'équipe officielle.  ",
    )
    assert removal.resolution == "declined"
    assert removal.reason == "C'est la photo d'équipe officielle."
    assert scene.photo.id in _listed(db, scene, scene.neighbour)
    db.commit()
    [mail] = inbox.to(scene.neighbour.email)
    body = inbox.body(mail)
    assert "Le club a décidé de garder la photo." in body
    assert "C'est la photo d'équipe officielle." in body
    with pytest.raises(RemovalError):
        removals.resolve_removal(
            session=db, principal=scene.staff, removal=removal, outcome=Outcome.HIDDEN
        )


def test_deleting_answers_every_open_request_and_removes_the_files_after_commit(
    db, inbox, tmp_path
):
    scene = _scene(db, tmp_path)
    first = _ask(db, scene, scene.c.guardian)
    second = _ask(db, scene, scene.neighbour)
    publishing.publish(
        session=db,
        organisation=scene.c.org,
        user=scene.c.staff,
        use="website",
        photos=[scene.photo],
        size="thumb",
        title="Website",
        now=utcnow(),
    )
    db.commit()
    original = storage.path_of(scene.photo.original_ref)
    assert original.is_file()
    photo_id = scene.photo.id
    answered = removals.resolve_removal(
        session=db, principal=scene.staff, removal=first, outcome=Outcome.DELETED
    )
    assert {r.id for r in answered} == {first.id, second.id}
    assert original.is_file(), "files go only once the deletion has committed"
    db.commit()
    assert not original.exists()
    assert storage.derivative_names(photo_id) == set()
    assert db.get(Photo, photo_id) is None
    assert db.exec(select(Face).where(Face.photo_id == photo_id)).all() == []
    for request in (first, second):
        db.refresh(request)
        assert request.photo_id is None and request.resolution == "deleted"
        assert request.event_name == scene.event.name
    published = db.exec(select(PublishedPhoto)).one()
    assert published.photo_id is None and published.takedown_flagged_at is not None
    assert "Le club a supprimé la photo." in inbox.body(inbox.to(scene.neighbour.email)[0])
    assert "De club heeft de foto verwijderd." in inbox.body(inbox.to(scene.c.guardian.email)[0])
    deleted = db.exec(select(AuditEvent).where(AuditEvent.action == "photos.deleted")).one()
    assert deleted.subject_id == str(photo_id) and deleted.details["request_id"] == first.id


def test_hiding_flags_published_copies_for_takedown(db, tmp_path):
    scene = _scene(db, tmp_path)
    publishing.publish(
        session=db,
        organisation=scene.c.org,
        user=scene.c.staff,
        use="website",
        photos=[scene.photo],
        size="thumb",
        title="Website",
        now=utcnow(),
    )
    visibility.hide_everywhere(session=db, principal=scene.staff, photo=scene.photo)
    published = db.exec(select(PublishedPhoto)).one()
    assert published.photo_id == scene.photo.id
    assert published.takedown_flagged_at is not None and published.takedown_kind == "staff"
    assert (
        published.takedown_reason
        == "Het clubteam heeft deze foto weggehaald (op vraag van een gezin)."
    )


def test_retention_deletes_an_event_whose_photo_a_family_no_longer_sees(db, tmp_path):
    scene = _scene(db, tmp_path)
    visibility.hide_for_family(
        session=db, principal=scene.staff, photo=scene.photo, guardian_id=scene.c.guardian.id
    )
    visibility.hide_everywhere(session=db, principal=scene.staff, photo=scene.other)
    deleted = retention.delete_event(
        session=db, organisation=scene.c.org, event=scene.event, reason="retention"
    )
    assert deleted == 2
    assert db.exec(select(PhotoFamilyHiding)).all() == []
    assert db.get(Photo, scene.photo.id) is None
