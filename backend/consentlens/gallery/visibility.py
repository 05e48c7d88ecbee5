"""Staff taking a photo down: hidden from everyone, hidden from one family, or deleted (audited).

Hidden from everyone is a verdict: every use hides the photo (`consent.policy.photo_verdict`), so
the gallery lists, the image routes and publications all follow from the one serving path; staff
still find it, marked hidden, and can show it again. Hidden from a family only takes it out of
that family's gallery (`gallery.scopes`). Deleting removes the rows now and the files once the
deletion has committed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, delete, select, update

from consentlens.audit import service as audit
from consentlens.audit.service import Origin
from consentlens.auth.deps import Principal
from consentlens.core.hooks import Hook
from consentlens.core.tables import utcnow
from consentlens.faces import verdicts
from consentlens.faces.models import Face, ReferenceFace, StoredVerdict
from consentlens.gallery.models import RemovalRequest
from consentlens.organisations.models import Organisation
from consentlens.photos import storage
from consentlens.photos.models import Photo, PhotoFamilyHiding


@dataclass(frozen=True, slots=True)
class PhotoWithdrawn:
    """Staff took a photo out of every use (hidden or deleted): its published copies must go."""

    organisation: Organisation
    photo_id: int
    face_ids: tuple[int, ...]
    deleted: bool
    now: datetime


photo_withdrawn: Hook[PhotoWithdrawn] = Hook(
    "photo-withdrawn", unless="a published copy of a photo staff took down would stay online"
)


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    photo: Photo,
    origin: Origin | None,
    **details: object,
) -> None:
    audit.record(
        session=session,
        action=action,
        organisation_id=principal.organisation.id,
        actor_id=principal.user.id,
        subject_type="photo",
        subject_id=photo.id,
        details={"event_id": photo.event_id, **details},
        origin=origin,
    )


def _rejudge(session: Session, organisation: Organisation, photo: Photo, now: datetime) -> None:
    # At once, in this transaction: the next request must not see the old verdict.
    assert photo.id is not None
    verdicts.refresh(session=session, organisation=organisation, photo_ids=[photo.id], now=now)


def _face_ids(session: Session, photo_id: int) -> tuple[int, ...]:
    return tuple(
        face_id
        for face_id in session.exec(select(Face.id).where(Face.photo_id == photo_id))
        if face_id is not None
    )


def hide_everywhere(
    *, session: Session, principal: Principal, photo: Photo, origin: Origin | None = None
) -> bool:
    """Take the photo out of every use and gallery; False when it already was."""
    if photo.hidden_at is not None:
        return False
    assert photo.id is not None
    now = utcnow()
    photo.hidden_at, photo.hidden_by_id = now, principal.user.id
    session.add(photo)
    session.flush()
    _rejudge(session, principal.organisation, photo, now)
    photo_withdrawn.notify(
        session,
        PhotoWithdrawn(
            principal.organisation, photo.id, _face_ids(session, photo.id), deleted=False, now=now
        ),
    )
    _audit(session, principal, "photos.hidden", photo, origin)
    return True


def show_again(
    *, session: Session, principal: Principal, photo: Photo, origin: Origin | None = None
) -> bool:
    """Undo `hide_everywhere`: the consents decide again; False when it was not hidden."""
    if photo.hidden_at is None:
        return False
    photo.hidden_at, photo.hidden_by_id = None, None
    session.add(photo)
    session.flush()
    _rejudge(session, principal.organisation, photo, utcnow())
    _audit(session, principal, "photos.unhidden", photo, origin)
    return True


def hide_for_family(
    *,
    session: Session,
    principal: Principal,
    photo: Photo,
    guardian_id: int,
    origin: Origin | None = None,
) -> bool:
    """Take the photo out of this guardian's family's gallery; False when it already was."""
    existing = session.exec(
        select(PhotoFamilyHiding).where(
            PhotoFamilyHiding.photo_id == photo.id, PhotoFamilyHiding.guardian_id == guardian_id
        )
    ).first()
    if existing is not None:
        return False
    assert photo.id is not None
    session.add(
        PhotoFamilyHiding(
            photo_id=photo.id, guardian_id=guardian_id, created_by_id=principal.user.id
        )
    )
    session.flush()
    _audit(session, principal, "photos.hidden_for_family", photo, origin, guardian_id=guardian_id)
    return True


def show_to_family(
    *,
    session: Session,
    principal: Principal,
    photo: Photo,
    guardian_id: int,
    origin: Origin | None = None,
) -> bool:
    """Undo `hide_for_family`; False when this family's gallery did not hide the photo."""
    hiding = session.exec(
        select(PhotoFamilyHiding).where(
            PhotoFamilyHiding.photo_id == photo.id, PhotoFamilyHiding.guardian_id == guardian_id
        )
    ).first()
    if hiding is None:
        return False
    session.delete(hiding)
    session.flush()
    _audit(session, principal, "photos.unhidden_for_family", photo, origin, guardian_id=guardian_id)
    return True


def delete_photo(
    *,
    session: Session,
    principal: Principal,
    photo: Photo,
    origin: Origin | None = None,
    request_id: int | None = None,
) -> None:
    """Delete the photo with its faces and verdicts; its files go once this has committed."""
    photo_id, ref = photo.id, photo.original_ref
    assert photo_id is not None
    face_ids = _face_ids(session, photo_id)
    # Publishing unlinks (and flags) what was published of it: the record of what left stays.
    photo_withdrawn.notify(
        session,
        PhotoWithdrawn(principal.organisation, photo_id, face_ids, deleted=True, now=utcnow()),
    )
    session.exec(
        update(ReferenceFace).where(col(ReferenceFace.face_id).in_(face_ids)).values(face_id=None)
    )
    session.exec(
        update(RemovalRequest).where(col(RemovalRequest.photo_id) == photo_id).values(photo_id=None)
    )
    session.exec(delete(PhotoFamilyHiding).where(col(PhotoFamilyHiding.photo_id) == photo_id))
    session.exec(delete(Face).where(col(Face.photo_id) == photo_id))
    session.exec(delete(StoredVerdict).where(col(StoredVerdict.photo_id) == photo_id))
    _audit(
        session,
        principal,
        "photos.deleted",
        photo,
        origin,
        request_id=request_id,
    )
    session.delete(photo)
    session.flush()
    storage.remove_after_commit(session=session, refs=[ref], photo_ids=[photo_id])
