"""Small answers every HTML route gives: post/redirect/get and the one "not found"."""

from __future__ import annotations

from typing import TypeVar

from fastapi import HTTPException, status
from fastapi.responses import RedirectResponse

from consentlens.core.i18n import N_

T = TypeVar("T")

# One message for "not yours" and "does not exist": both answer the same 404, so ids reveal nothing.
NOT_FOUND = N_("This page does not exist.")


def see_other(url: str) -> RedirectResponse:
    """The redirect after a successful form post (303, so the browser follows with GET)."""
    return RedirectResponse(url, status_code=status.HTTP_303_SEE_OTHER)


def not_found() -> HTTPException:
    """The 404 every page raises for a missing or foreign record."""
    return HTTPException(status.HTTP_404_NOT_FOUND, NOT_FOUND)


def found_or_404(value: T | None) -> T:
    """The record a lookup returned, or the page's 404 when there is none."""
    if value is None:
        raise not_found()
    return value
