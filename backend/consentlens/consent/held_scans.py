"""A paper form's scan held while staff correct the rest of the form, so it is not uploaded twice.

The scan waits in the store's scratch folder under a random name; the form carries a signed token
naming it, the organisation and the child, so no other club, child or guessed name can claim it.
Using it removes it; one never used is removed by the start-up sweep of the scratch folder
(`photos.storage.sweep`: files named `*.part` older than half an hour).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Any

from itsdangerous import BadSignature, URLSafeSerializer

from consentlens.core import storage
from consentlens.core.config import get_settings
from consentlens.core.files import private_dir, write_private

_SALT = "consentlens.held-scan"


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(get_settings().resolved_secret_key, salt=_SALT)


def _path(name: str) -> Path:
    folder = private_dir(get_settings().resolved_media_dir / storage.SCRATCH)
    return folder / f"held-{name}.part"


def hold(*, data: bytes, organisation_id: int, child_id: int) -> str:
    """Keep a checked scan for the next try of the same form; returns the form's token."""
    name = secrets.token_hex(16)
    write_private(path=_path(name), data=data)
    return _serializer().dumps([organisation_id, child_id, name])


def _name(token: str, organisation_id: int, child_id: int) -> str | None:
    try:
        payload: Any = _serializer().loads(token)
    except BadSignature:
        return None
    if not (isinstance(payload, list) and len(payload) == 3):
        return None
    org, child, name = payload
    if (org, child) != (organisation_id, child_id) or not isinstance(name, str):
        return None
    return name if len(name) == 32 and all(c in "0123456789abcdef" for c in name) else None


def read(*, token: str, organisation_id: int, child_id: int) -> bytes:
    """The held scan, or b"" when the token is not this form's or the scan is gone."""
    name = _name(token, organisation_id, child_id)
    if name is None:
        return b""
    try:
        return _path(name).read_bytes()[: get_settings().evidence_max_bytes + 1]
    except OSError:
        return b""


def release(*, token: str, organisation_id: int, child_id: int) -> None:
    """Remove the held scan once the form is recorded (or a new scan replaced it)."""
    name = _name(token, organisation_id, child_id)
    if name is not None:
        _path(name).unlink(missing_ok=True)
