"""The hook through which news about children reaches the rooms above people.

People knows no listener: `consentlens.wiring` subscribes them (the photo pipeline forgets an
archived child's faces and flags publications that show them) at every entry point. Listeners
run inside the transaction that archived the child; with nobody listening the archive is refused.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from consentlens.core.hooks import Hook
from consentlens.organisations.models import Organisation


@dataclass(frozen=True, slots=True)
class ChildArchived:
    """A child was archived: it must be recognised, and shown unblurred, nowhere from now on."""

    organisation: Organisation
    child_id: int
    actor_id: int | None
    now: datetime
    reason: str


child_archived: Hook[ChildArchived] = Hook(
    "child-archived", unless="an archived child's faces would still be recognised"
)


@dataclass(frozen=True, slots=True)
class ChildProtectionChanged:
    """A child was marked protected, or no longer is: every photo that may show them is judged
    again at once (and, once protected, what was published of them must come down)."""

    organisation: Organisation
    child_id: int
    protected: bool
    actor_id: int | None
    now: datetime


child_protection_changed: Hook[ChildProtectionChanged] = Hook(
    "child-protection-changed", unless="a protected child's photos would stay visible"
)
