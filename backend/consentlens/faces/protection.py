"""Protected children in the photo pipeline: a change of protection re-judges their photos now."""

from __future__ import annotations

from sqlmodel import Session, col, select

from consentlens.consent.protection import REASONS
from consentlens.faces import verdicts
from consentlens.faces.models import StoredVerdict
from consentlens.people import events as people_events

# The stored reasons of a verdict hidden for a protected child (faces.verdicts applies the rule).
PROTECTED_REASONS = tuple(REASONS.values())


# Subscribed to `people.events.child_protection_changed` by `consentlens.wiring`, before publishing.
def on_child_protection_changed(
    session: Session, event: people_events.ChildProtectionChanged
) -> None:
    """Every photo that names the child or was taken at an event of their groups is judged again
    in the transaction that changes the mark: no moment in which a protected child is served."""
    verdicts.refresh(
        session=session,
        organisation=event.organisation,
        photo_ids=verdicts.photos_possibly_showing(session=session, child_id=event.child_id),
        now=event.now,
    )


def protected_photos(*, session: Session, photo_ids: list[int]) -> list[int]:
    """Those of the photos whose stored verdicts hide them for a protected child."""
    if not photo_ids:
        return []
    return sorted(
        set(
            session.exec(
                select(StoredVerdict.photo_id).where(
                    col(StoredVerdict.photo_id).in_(photo_ids),
                    col(StoredVerdict.reason).in_(PROTECTED_REASONS),
                )
            )
        )
    )
