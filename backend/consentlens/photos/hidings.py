"""Which families' galleries staff took a photo out of (the staff photo page lists them)."""

from __future__ import annotations

from sqlmodel import Session, col, select

from consentlens.auth.models import User
from consentlens.photos.models import Photo, PhotoFamilyHiding


def family_hidings(*, session: Session, photo: Photo) -> list[tuple[PhotoFamilyHiding, User]]:
    """The guardians whose family no longer sees this photo, oldest hiding first."""
    return [
        (hiding, user)
        for hiding, user in session.exec(
            select(PhotoFamilyHiding, User)
            .join(User, col(User.id) == PhotoFamilyHiding.guardian_id)
            .where(PhotoFamilyHiding.photo_id == photo.id)
            .order_by(col(PhotoFamilyHiding.created_at), col(PhotoFamilyHiding.id))
        )
    ]
