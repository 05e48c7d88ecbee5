"""What waits for staff, counted for the menu's badges: open removal requests, photos to take
down. Two indexed counts per staff page (ix_removal_requests_org_open, ix_published_photos_flagged).
"""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from consentlens.gallery.models import RemovalRequest
from consentlens.organisations.models import Organisation
from consentlens.publishing.models import Publication, PublishedPhoto

REMOVALS = "removal_requests"
TAKEDOWNS = "takedowns"


def menu_counts(*, session: Session, organisation: Organisation) -> dict[str, int]:
    """How many removal requests are open, and how many published photos must come down."""
    removals = session.exec(
        select(func.count())
        .select_from(RemovalRequest)
        .where(
            RemovalRequest.organisation_id == organisation.id,
            col(RemovalRequest.resolved_at).is_(None),
        )
    ).one()
    takedowns = session.exec(
        select(func.count())
        .select_from(PublishedPhoto)
        .join(Publication, col(Publication.id) == PublishedPhoto.publication_id)
        .where(
            Publication.organisation_id == organisation.id,
            col(PublishedPhoto.takedown_flagged_at).is_not(None),
            col(PublishedPhoto.taken_down_at).is_(None),
        )
    ).one()
    return {REMOVALS: int(removals), TAKEDOWNS: int(takedowns)}
