"""The consent uses every organisation starts with, by code: one name for each, everywhere."""

from __future__ import annotations

from enum import StrEnum


class Use(StrEnum):
    """A consent use's code (`ConsentUse.code`); a `str`, so it compares and stores as one."""

    INTERNAL_GALLERY = "internal_gallery"
    WEBSITE = "website"
    PRINT = "print"
    SOCIAL_MEDIA = "social_media"
    PRESS = "press"
    # Not a use of photos: it allows recognising the child at all (applies_to_photos is False).
    FACE_RECOGNITION = "face_recognition"
