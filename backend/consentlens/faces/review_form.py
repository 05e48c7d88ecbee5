"""Reading the review queue's one form: every card's ticks and chosen child travel with any button,
so a choice that cannot be applied re-renders the queue with everything staff had chosen.

Each value is prefixed by its card's key ("12:34": card 12, face 34). A value without a prefix
is a form of one card (and the JSON-free clients of the old form), read as it always was.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from consentlens.core.ids import parse_id

# The bulk button's choice: it marks the ticked faces of every selected card as strangers, the
# one choice that can never uncover a face.
BULK = "bulk_stranger"


@dataclass(slots=True)
class Card:
    """What one card of the submitted page had chosen."""

    face_ids: list[int] = field(default_factory=list)
    child_id: int | None = None
    suggested_child_id: int | None = None
    selected: bool = False


@dataclass(frozen=True, slots=True)
class Submitted:
    """The pressed button (its card, or None for the bulk bar) and every card's choices."""

    card: str | None
    choice: str
    cards: dict[str, Card]
    # Values without a card's prefix: one card's own form.
    loose: Card

    def face_ids(self) -> list[int]:
        """The faces the pressed button decides."""
        if self.choice == BULK:
            return [i for card in self.cards.values() if card.selected for i in card.face_ids]
        return (self.cards.get(self.card) or Card()).face_ids if self.card else self.loose.face_ids

    def chosen(self) -> Card:
        return (self.cards.get(self.card) or Card()) if self.card else self.loose


def _split(value: str) -> tuple[str | None, str]:
    key, sep, rest = value.partition(":")
    return (key, rest) if sep else (None, value)


def parse(
    *,
    choice: str,
    face_ids: Sequence[str],
    child_ids: Sequence[str],
    suggested_child_ids: Sequence[str],
    selected: Sequence[str],
) -> Submitted:
    """The submitted review form, card by card."""
    cards: dict[str, Card] = {}
    loose = Card()

    def card(key: str | None) -> Card:
        return loose if key is None else cards.setdefault(key, Card())

    for value in face_ids:
        key, rest = _split(value)
        face_id = parse_id(rest)
        if face_id is not None:
            card(key).face_ids.append(face_id)
    for value in child_ids:
        key, rest = _split(value)
        card(key).child_id = parse_id(rest)
    for value in suggested_child_ids:
        key, rest = _split(value)
        card(key).suggested_child_id = parse_id(rest)
    for key in selected:
        card(key).selected = True
    pressed, what = _split(choice)
    return Submitted(pressed, what, cards, loose)
