"""Scans of signed paper forms, kept privately as evidence of a decision."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import PurePosixPath

from sqlalchemy.orm import Session

from consentlens.core import images, storage, transactions
from consentlens.core.config import get_settings
from consentlens.core.i18n import N_

_KINDS = {
    b"%PDF-": ("pdf", "application/pdf"),
    b"\xff\xd8\xff": ("jpg", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": ("png", "image/png"),
}
MEDIA_TYPES = {ext: media for ext, media in _KINDS.values()}
_FORMATS = {"jpg": "JPEG", "png": "PNG"}
# An A4 page at 600 dpi is 35 megapixels.
SCAN_MAX_PIXELS = 64_000_000


class EvidenceError(ValueError):
    """An upload that cannot be kept as evidence; the message (a msgid) is shown to staff."""


@dataclass(frozen=True)
class Scan:
    extension: str
    media_type: str


def inspect_scan(data: bytes) -> Scan:
    """What kind of scan this is, judged by its content (not its name), or EvidenceError."""
    if not data:
        raise EvidenceError(N_("The scan is empty. Choose the file again."))
    if len(data) > get_settings().evidence_max_bytes:
        raise EvidenceError(
            N_("The scan is too large. Scan at a lower resolution (at most 10 MB).")
        )
    kind = next((value for magic, value in _KINDS.items() if data.startswith(magic)), None)
    if kind is None:
        raise EvidenceError(N_("The scan must be a PDF, JPEG or PNG file."))
    extension, media_type = kind
    if extension == "pdf":
        if b"%%EOF" not in data[-2048:]:
            raise EvidenceError(N_("The PDF is incomplete. Save or scan it again."))
        return Scan(extension, media_type)
    try:
        # The header and structure only: the scan is kept as it came, so nothing here needs its
        # pixels, and decoding a small file can cost gigabytes.
        images.read_header(data, max_pixels=SCAN_MAX_PIXELS, formats=(_FORMATS[extension],))
    except images.ImageRefused as refused:
        if refused.reason is images.Reason.TOO_MANY_PIXELS:
            raise EvidenceError(
                N_("The scan has too many pixels. Scan at a lower resolution (300 dpi is enough).")
            ) from None
        raise EvidenceError(N_("The image is damaged or incomplete. Scan it again.")) from None
    return Scan(extension, media_type)


def store_scan(*, session: Session, data: bytes, organisation_id: int) -> str:
    """Keep the scan in the store; returns the reference stored with the decisions.

    The file is removed again if the transaction recording the decisions does not commit.
    """
    scan = inspect_scan(data)
    reference = f"evidence/{organisation_id}/{uuid.uuid4().hex}.{scan.extension}"
    # A signed form with a child's name and a parent's signature: owner-only, like the originals.
    storage.get_store().put_bytes(reference, data=data)
    transactions.on_rollback(
        session=session,
        action=lambda: discard(reference=reference, organisation_id=organisation_id),
    )
    return reference


def _own(*, reference: str, organisation_id: int) -> bool:
    """Whether a reference names one of this organisation's scans.

    Checked again wherever a reference is opened, not only where it was made: a reference is a
    path, and one that points at another club's folder must never be opened.
    """
    try:
        storage.check_ref(reference)
    except storage.BadRef:
        return False
    path = PurePosixPath(reference)
    return path.parts[:2] == ("evidence", str(organisation_id)) and len(path.parts) == 3


@dataclass(frozen=True)
class StoredScan:
    data: bytes
    extension: str


def read_scan(*, reference: str, organisation_id: int) -> StoredScan | None:
    """The scan behind a stored reference, if it is one of this organisation's and exists."""
    if not _own(reference=reference, organisation_id=organisation_id):
        return None
    extension = PurePosixPath(reference).suffix.lstrip(".")
    if extension not in MEDIA_TYPES:
        return None
    try:
        data = storage.get_store().read_bytes(
            reference, max_bytes=get_settings().evidence_max_bytes
        )
    except (storage.Missing, storage.TooLarge):
        return None
    return StoredScan(data=data, extension=extension)


def discard(*, reference: str, organisation_id: int) -> None:
    """Remove a scan whose decisions could not be recorded."""
    if _own(reference=reference, organisation_id=organisation_id):
        storage.get_store().delete(reference)
