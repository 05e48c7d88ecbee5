"""The one type for a row id taken from a request (path, query, form or JSON body).

Every primary key is an `Integer` column: 32 bits on PostgreSQL (SQLAlchemy binds it as
`::INTEGER`, so a larger number is an error there, not "no such row") and 64 bits on SQLite
(beyond that the driver raises OverflowError). An id outside 1..2**31-1 can never name a row,
so it is refused where the request is parsed, as a validation error, on either database, and
the OpenAPI schema says so. Use `Id` for every id parameter or field:

    def read_child(child_id: Id, ...)            # path
    before: Id | None = None                     # query
    group_ids: Annotated[list[Id], Form()] = []  # form
    guardian_id: Id | None = None                # JSON body (a pydantic field)
"""

from __future__ import annotations

from typing import Annotated

from annotated_types import Interval

MAX_ID = 2**31 - 1

Id = Annotated[int, Interval(ge=1, le=MAX_ID)]


def parse_id(raw: str | None) -> int | None:
    """An id typed by hand into a form ("" or anything that cannot be an id is None)."""
    text = (raw or "").strip()
    if not text.isascii() or not text.isdigit():
        return None
    value = int(text)
    return value if 1 <= value <= MAX_ID else None
