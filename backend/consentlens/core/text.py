"""Text the database can store: no NUL character, on either database.

PostgreSQL refuses a NUL (U+0000) in text and JSON columns (a 500 where it reached a query)
while SQLite stores it; a name or message with one is never what anyone meant. Every write is
checked before it is flushed, and refused as a client error (`core.errors` answers 400 or 422),
the same on both databases. A NUL in a query parameter on PostgreSQL gets the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, inspect
from sqlalchemy.orm import Session

from consentlens.core.i18n import N_

NUL = "\x00"
MESSAGE = N_("Text cannot contain a NUL character (code 0). Remove it and try again.")


class TextRefused(ValueError):
    """A value to be written holds a NUL character."""


def holds_nul(value: Any) -> bool:
    """Whether a column value (text, or JSON made of dicts, lists and text) holds a NUL."""
    if isinstance(value, str):
        return NUL in value
    if isinstance(value, dict):
        return any(holds_nul(k) or holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(holds_nul(item) for item in value)
    return False


def _refuse_nul(session: Session, _context: Any, _instances: Iterable[Any] | None) -> None:
    for instance in (*session.new, *session.dirty):
        state = inspect(instance)
        for column in state.mapper.column_attrs:
            if holds_nul(state.dict.get(column.key)):
                raise TextRefused(f"{type(instance).__name__}.{column.key} holds a NUL character")


def install_text_guard() -> None:
    """Check every flush of every session for NUL characters (idempotent)."""
    if not event.contains(Session, "before_flush", _refuse_nul):
        event.listen(Session, "before_flush", _refuse_nul)


def text_guard_installed() -> bool:
    """Whether `install_text_guard` ran in this process."""
    return event.contains(Session, "before_flush", _refuse_nul)
