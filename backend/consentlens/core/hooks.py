"""A hook: how news from a lower room reaches the rooms above it, without importing them.

The lower room owns the hook and calls `notify`; `consentlens.wiring` subscribes the listeners at
every entry point. Listeners run inside the caller's transaction. News with nobody listening is
refused: a process that skipped the wiring must fail, not silently leave a safety step undone.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

from sqlmodel import Session

E = TypeVar("E")


class ListenersMissing(RuntimeError):
    """News was sent in a process whose entry point did not call the wiring."""


class Hook(Generic[E]):
    """The listeners of one kind of news, in the order they were subscribed."""

    def __init__(self, name: str, *, unless: str) -> None:
        # `unless`: what would go wrong without a listener, for the error message.
        self.name = name
        self.unless = unless
        self._listeners: list[Callable[[Session, E], None]] = []

    def subscribe(self, listener: Callable[[Session, E], None]) -> None:
        """Add a listener (idempotent)."""
        if listener not in self._listeners:
            self._listeners.append(listener)

    def unsubscribe(self, listener: Callable[[Session, E], None]) -> None:
        """Remove a listener, if subscribed."""
        if listener in self._listeners:
            self._listeners.remove(listener)

    def is_subscribed(self, listener: Callable[[Session, E], None]) -> bool:
        """Whether this listener is subscribed."""
        return listener in self._listeners

    def require(self) -> None:
        """Raise unless the wiring has subscribed at least one listener."""
        if not self._listeners:
            raise ListenersMissing(
                f"no {self.name} listener is installed: call consentlens.wiring at start-up, "
                f"or {self.unless}"
            )

    def notify(self, session: Session, event: E) -> None:
        """Tell every listener, inside the caller's transaction; raise if nobody listens."""
        self.require()
        for listener in list(self._listeners):
            listener(session, event)
