"""What the staff child page shows that only another domain knows, provided through a hook.

Consent knows nothing of photos: `consentlens.wiring` installs the provider (the photo pipeline's
count of a child's reference faces) at every entry point, as it subscribes the consent listeners.
There is no default: a page asking for the count in a process that skipped the wiring fails
loudly rather than show staff "no reference photos" for a child who has some.
"""

from __future__ import annotations

from typing import Protocol

from sqlmodel import Session


class ReferenceCount(Protocol):
    """How many reference faces the child has."""

    def __call__(self, *, session: Session, child_id: int) -> int: ...


_reference_count: list[ReferenceCount] = []


class ProviderMissing(RuntimeError):
    """A page needed a provider in a process whose entry point did not call the wiring."""


def install_reference_count(provider: ReferenceCount) -> None:
    """Install the provider of reference-face counts (idempotent; a second one replaces it)."""
    _reference_count[:] = [provider]


def uninstall_reference_count() -> None:
    """Remove the provider (tests of an unwired process)."""
    _reference_count.clear()


def installed_reference_count() -> ReferenceCount | None:
    """The installed provider, if any."""
    return _reference_count[0] if _reference_count else None


def reference_count(*, session: Session, child_id: int) -> int:
    """How many reference faces the child has; raise if the wiring installed no provider."""
    if not _reference_count:
        raise ProviderMissing(
            "no reference-count provider is installed: call consentlens.wiring at start-up"
        )
    return _reference_count[0](session=session, child_id=child_id)
