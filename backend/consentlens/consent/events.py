"""The one hook through which a consent change reaches the rest of the system.

The photo pipeline subscribes here to re-evaluate affected photos. Listeners run inside the
transaction that recorded the change, so no later request can see a verdict the change made stale.
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


def _subscribe_built_in() -> None:
    # Imported here, not at the top: the photo pipeline depends on the consent package. Whatever
    # entry point records a decision (web, API, CLI, tests), the photos always hear of it.
    import consentlens.photos.enrollment  # noqa: F401


def notify(session: Session, change: ConsentChanged) -> None:
    _subscribe_built_in()
    for listener in list(_listeners):
        listener(session, change)
