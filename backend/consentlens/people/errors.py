"""What people services refuse, and why: problems tied to the form field they are about."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with the input: the field it is about, and a message id shown to the user."""

    field: str
    message: str


class PeopleError(ValueError):
    """Bad input for a people operation; the message(s) are shown to the user."""

    def __init__(self, message: str = "", *, problems: Sequence[Problem] = ()) -> None:
        self.problems = list(problems) or [Problem("", message)]
        super().__init__(" ".join(p.message for p in self.problems))

    @property
    def messages(self) -> list[str]:
        return [p.message for p in self.problems]

    @property
    def fields(self) -> set[str]:
        return {p.field for p in self.problems if p.field}
