"""Consent pages: the staff overview and history, paper forms, and the guardians' own page."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
