"""What a gallery grid shows of each photo: where it links, its thumbnail, the thumbnail's size."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from consentlens.faces import derivatives
from consentlens.organisations.models import Organisation
from consentlens.photos import service
from consentlens.photos.models import Event, Photo


@dataclass(frozen=True, slots=True)
class Tile:
    """One photo in a grid: where it links, its thumbnail and the size the thumbnail will have."""

    id: int
    url: str
    thumb_url: str | None
    width: int
    height: int
    event: Event | None
    photo: Photo


def fit(*, photo: Photo, size: str) -> tuple[int, int]:
    """The rendering's size (it fits in a square, never enlarged), so the grid does not jump."""
    limit = derivatives.SIZES[size]
    longest = max(photo.width, photo.height, 1)
    scale = min(1.0, limit / longest)
    return max(1, round(photo.width * scale)), max(1, round(photo.height * scale))


def image_url(*, photo_id: int, size: str) -> str:
    return f"/gallery/photos/{photo_id}/image?size={size}"


def events_of(
    *, session: Session, organisation: Organisation, photos: list[Photo]
) -> dict[int, Event]:
    events = {}
    for event_id in {p.event_id for p in photos}:
        event = service.get_event(session=session, organisation=organisation, event_id=event_id)
        if event is not None:
            events[event_id] = event
    return events


def tiles(
    *,
    session: Session,
    organisation: Organisation,
    photos: list[Photo],
    link: str,
    hidden: set[int] | None = None,
) -> list[Tile]:
    events = events_of(session=session, organisation=organisation, photos=photos)
    tiles = []
    for photo in photos:
        assert photo.id is not None
        width, height = fit(photo=photo, size="thumb")
        tiles.append(
            Tile(
                id=photo.id,
                url=link.format(id=photo.id),
                thumb_url=None
                if hidden and photo.id in hidden
                else image_url(photo_id=photo.id, size="thumb"),
                width=width,
                height=height,
                event=events.get(photo.event_id),
                photo=photo,
            )
        )
    return tiles
