"""Staff pages for event photos (being built)."""

from fastapi import APIRouter

router = APIRouter()
