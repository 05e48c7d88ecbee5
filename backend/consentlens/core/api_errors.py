"""The API's refusals in the shapes its OpenAPI schema documents.

A 422 always carries FastAPI's validation shape, `{"detail": [{"loc": [...], "msg": ..., "type":
...}]}`, whether pydantic or a service refused the request: clients parse one shape. Every other
refusal (401, 403, 404, 409, 429) is `{"detail": "a sentence"}`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from fastapi import HTTPException, status
from pydantic import BaseModel


class ErrorMessage(BaseModel):
    """A refusal other than a validation error."""

    detail: str


def unprocessable(message: str, *loc: str | int, kind: str = "value_error") -> HTTPException:
    """A 422 for one problem at `loc` (e.g. `"body", "use"` or `"query", "group_id"`)."""
    return unprocessable_all([(loc or ("body",), message)], kind=kind)


def unprocessable_all(
    problems: Sequence[tuple[Sequence[str | int], str]], *, kind: str = "value_error"
) -> HTTPException:
    """A 422 listing several problems, each a (loc, message) pair."""
    return HTTPException(
        status.HTTP_422_UNPROCESSABLE_CONTENT,
        detail=[{"loc": list(loc), "msg": message, "type": kind} for loc, message in problems],
    )


def _error(description: str) -> dict[str, Any]:
    return {"model": ErrorMessage, "description": description}


# Responses every bearer-token route can give; routers declare them once.
AUTHENTICATED: dict[int | str, dict[str, Any]] = {
    401: _error("No valid bearer token"),
    403: _error("The token's account may not use this route"),
}


# The body could not be read at all (not UTF-8 JSON, broken multipart): before any validation.
UNREADABLE_BODY: dict[int | str, dict[str, Any]] = {400: _error("The body cannot be parsed")}


def not_found(description: str) -> dict[int | str, dict[str, Any]]:
    return {404: _error(description)}


def error(*, status_code: int, description: str) -> dict[int | str, dict[str, Any]]:
    return {status_code: _error(description)}
