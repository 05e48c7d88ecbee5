"""The organisation's photo settings: how long photos are kept, and the publications' watermark."""

from __future__ import annotations

from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core.i18n import N_
from consentlens.organisations.models import Organisation

MIN_MONTHS, MAX_MONTHS = 1, 120


class SettingsError(ValueError):
    """Photo settings that cannot be saved; `message` is a msgid."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def parse_months(raw: str) -> int:
    """The retention period the form asks for, in whole months, or why it is refused."""
    text = raw.strip()
    # isascii: str.isdigit() also takes '²', which int() refuses.
    months = int(text) if text.isascii() and text.isdigit() and len(text) < 4 else 0
    if not MIN_MONTHS <= months <= MAX_MONTHS:
        raise SettingsError(
            N_("Enter how many months photos are kept: a whole number from 1 to 120.")
        )
    return months


def save_photo_settings(
    *,
    session: Session,
    organisation: Organisation,
    user: User,
    retention_months: int,
    watermark: bool,
    origin: audit.Origin,
) -> None:
    """Store the photo settings; a change is audited with the old and new values."""
    changes: dict[str, list[int | bool]] = {}
    if organisation.retention_months != retention_months:
        changes["retention_months"] = [organisation.retention_months, retention_months]
    if organisation.watermark_photos != watermark:
        changes["watermark_photos"] = [organisation.watermark_photos, watermark]
    if not changes:
        return
    organisation.retention_months = retention_months
    organisation.watermark_photos = watermark
    session.add(organisation)
    audit.record(
        session=session,
        action="photos.settings_changed",
        organisation_id=organisation.id,
        actor_id=user.id,
        subject_type="organisation",
        subject_id=organisation.id,
        details=changes,
        origin=origin,
    )
    session.flush()
