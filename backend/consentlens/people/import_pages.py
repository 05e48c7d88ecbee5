"""Staff pages to import members from a CSV export (upload, preview, confirm)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["pages"], include_in_schema=False)
