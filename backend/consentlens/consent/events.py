"""The one hook through which a consent change reaches the rest of the system.

Consent knows no listener: `consentlens.wiring` subscribes them (the photo pipeline, which
re-evaluates affected photos) at every entry point. Listeners run inside the transaction that
recorded the change, so no later request can see a verdict the change made stale. A change with
nobody listening is refused: a process that skipped the wiring must fail, not leave stale verdicts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from sqlmodel import Session


@dataclass(frozen=True, slots=True)
class ConsentChanged:
    organisation_id: int
    child_id: int
    use_code: str
    decision_id: int


ConsentListener = Callable[[Session, ConsentChanged], None]
_listeners: list[ConsentListener] = []


def subscribe(listener: ConsentListener) -> None:
    if listener not in _listeners:
        _listeners.append(listener)


def unsubscribe(listener: ConsentListener) -> None:
    if listener in _listeners:
        _listeners.remove(listener)


def is_subscribed(listener: ConsentListener) -> bool:
    return listener in _listeners


class ListenersMissing(RuntimeError):
    """A consent change was recorded in a process whose entry point did not call the wiring."""


def require_listeners() -> None:
    """Raise unless the wiring has subscribed the listeners (`consentlens.wiring`)."""
    if not _listeners:
        raise ListenersMissing(
            "no consent listener is installed: call consentlens.wiring at start-up, "
            "or photos would keep verdicts this change made stale"
        )


def notify(*, session: Session, change: ConsentChanged) -> None:
    """Tell every listener, inside the caller's transaction; raise if nobody listens."""
    require_listeners()
    for listener in list(_listeners):
        listener(session, change)
