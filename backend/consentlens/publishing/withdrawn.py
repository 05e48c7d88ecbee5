"""Photos staff took down (hidden from every use, or deleted): their published copies must go too.

Published copies are flagged for takedown, like those whose consent lapsed; for a deleted photo
the link to it is cut, while the record of what was published stays (for the takedown itself).
"""

from __future__ import annotations

from sqlmodel import Session, col, select, update

from consentlens.audit import service as audit
from consentlens.core.i18n import get_translations
from consentlens.gallery.visibility import PhotoWithdrawn
from consentlens.publishing.models import Publication, PublishedFace, PublishedPhoto
from consentlens.publishing.takedowns import STAFF_KIND, reason_text


def on_photo_withdrawn(session: Session, event: PhotoWithdrawn) -> None:
    """Flag the photo's published copies for takedown; unlink them when the photo is deleted."""
    organisation = event.organisation
    # The kind is what pages and e-mails translate; the text is the club's-language fallback.
    reason = reason_text(
        kind=STAFF_KIND,
        name="",
        use_label="",
        gettext=get_translations(organisation.default_locale).gettext,
    )
    rows = session.exec(
        select(PublishedPhoto, Publication)
        .join(Publication, col(Publication.id) == PublishedPhoto.publication_id)
        .where(
            PublishedPhoto.photo_id == event.photo_id,
            Publication.organisation_id == organisation.id,
            col(PublishedPhoto.takedown_flagged_at).is_(None),
            col(PublishedPhoto.taken_down_at).is_(None),
        )
    ).all()
    for published, publication in rows:
        published.takedown_flagged_at = event.now
        published.takedown_reason = reason
        published.takedown_kind = STAFF_KIND
        published.takedown_child_id = None
        session.add(published)
        audit.record(
            session=session,
            action="photos.takedown_flagged",
            organisation_id=organisation.id,
            subject_type="published_photo",
            subject_id=published.id,
            details={
                "publication_id": publication.id,
                "photo_id": event.photo_id,
                "use": publication.use_code,
                "withdrawn_by_staff": True,
            },
        )
    session.flush()
    if event.deleted:
        session.exec(
            update(PublishedFace)
            .where(col(PublishedFace.face_id).in_(event.face_ids))
            .values(face_id=None)
        )
        session.exec(
            update(PublishedPhoto)
            .where(col(PublishedPhoto.photo_id) == event.photo_id)
            .values(photo_id=None)
        )
