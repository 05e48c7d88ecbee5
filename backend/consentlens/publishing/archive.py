"""How a publication's ZIP looks once unpacked: file names people recognise (the event and the
photo's own name), each file dated when the photo was taken, ordinary permissions, and times in
the club's time zone rather than the server's."""

from __future__ import annotations

import re
import stat
import unicodedata
import zipfile
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import PurePosixPath
from zoneinfo import ZoneInfo

from consentlens.photos.models import Event, Photo

# Characters that Windows, macOS or a shell refuse or misread in a file name.
_UNSAFE = re.compile(r'[\x00-\x1f\x7f<>:"/\\|?*]+')
# PublishedPhoto.file_name is 120 characters; these leave room for " (99)" and ".jpg".
_EVENT_CHARS, _STEM_CHARS = 45, 50
# The earliest and latest moments a ZIP entry can carry (DOS date fields).
_ZIP_YEARS = range(1980, 2108)
FILE_MODE = stat.S_IFREG | 0o644
_UNIX = 3  # ZipInfo.create_system: unpackers read external_attr as Unix permissions


def _clean(text: str, limit: int) -> str:
    text = unicodedata.normalize("NFC", _UNSAFE.sub(" ", text))
    # Trailing dots and spaces vanish on Windows; leading ones make hidden files elsewhere.
    return " ".join(text.split())[:limit].strip(" .")


def entry_name(*, event: Event | None, photo: Photo) -> str:
    """`2026-11-28 U10 toernooi - IMG_0042.jpg`: a rendering is always a JPEG, whatever the
    upload was, so the original's extension is replaced."""
    original = PurePosixPath(photo.original_name.replace("\\", "/")).name
    stem = _clean(PurePosixPath(original).stem if "." in original else original, _STEM_CHARS)
    stem = stem or f"photo {photo.id}"
    if event is None:
        return f"{stem}.jpg"
    title = _clean(event.name, _EVENT_CHARS)
    prefix = f"{event.event_date.isoformat()} {title}".strip()
    return f"{prefix} - {stem}.jpg"


def unique(name: str, *, taken: set[str]) -> str:
    """`name`, or `name (2)`, `(3)`… when a file of that name (in any case: Windows and macOS
    do not tell them apart) is already in the archive; records the name given in `taken`."""
    base, dot, extension = name.rpartition(".")
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{base} ({number}){dot}{extension}"
    taken.add(candidate.casefold())
    return candidate


def local_time(moment: datetime, *, timezone: str) -> datetime:
    """`moment` (stored in UTC) on the club's clock."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(ZoneInfo(timezone))


def photo_date(*, photo: Photo, timezone: str) -> datetime:
    """When the photo was taken (the camera's clock, which is local time already), else when it
    was uploaded on the club's clock; naive, as a ZIP entry's time is."""
    if photo.taken_at is not None and photo.taken_at.year in _ZIP_YEARS:
        return photo.taken_at.replace(tzinfo=None)
    return local_time(photo.uploaded_at, timezone=timezone).replace(tzinfo=None)


def entry(name: str, *, moment: datetime) -> zipfile.ZipInfo:
    """A ZIP entry dated `moment` that unpacks as an ordinary file readable by all (0644)."""
    date_time = moment.timetuple()[:6]
    info = zipfile.ZipInfo(name, date_time=date_time)
    info.create_system = _UNIX
    info.external_attr = FILE_MODE << 16
    return info


def manifest(
    *,
    heading: str,
    made: datetime,
    timezone: str,
    size: str,
    title: str,
    included: Iterable[str],
    left_out: Iterable[tuple[str, str]],
) -> str:
    """The text file that goes with the photos: what this is, and why photos are missing."""
    included, left_out = list(included), list(left_out)
    when = local_time(made, timezone=timezone).strftime("%Y-%m-%d %H:%M")
    lines = [
        heading,
        f"Made {when} ({timezone}); size {size}.",
        *([f"Title: {title}"] if title else []),
        "Faces without consent for this use are covered. If consent is withdrawn later,",
        "ConsentLens lists the photos to take down.",
        "",
        f"Included ({len(included)}):",
        *(f"  {name}" for name in included),
        "",
        f"Left out ({len(left_out)}):",
        *(f"  {name}: {reason}" for name, reason in left_out),
    ]
    return "\n".join(lines) + "\n"
