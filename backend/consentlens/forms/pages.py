"""Downloading printable consent forms (staff and guardians) and the form settings page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
