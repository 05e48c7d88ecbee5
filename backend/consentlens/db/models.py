"""Every table, imported in one place so that Alembic and the tests see the whole schema."""

from sqlalchemy import event
from sqlalchemy.orm import Mapper
from sqlmodel import SQLModel

from consentlens.audit.models import AuditEvent
from consentlens.auth.models import (
    ApiToken,
    AuthSession,
    ConsentLink,
    LinkKind,
    LoginAttempt,
    Membership,
    Role,
    User,
)
from consentlens.consent.models import ConsentDecision, ConsentUse
from consentlens.forms.models import PrintedForm
from consentlens.people.models import (
    Child,
    ChildGroup,
    Group,
    Guardianship,
    Organisation,
    PendingGuardianship,
)
from consentlens.photos.models import (
    Event,
    EventGroup,
    Face,
    Photo,
    Publication,
    PublishedFace,
    PublishedPhoto,
    ReferenceFace,
    RemovalRequest,
    StoredVerdict,
)

__all__ = [
    "ApiToken",
    "AuditEvent",
    "AuthSession",
    "Child",
    "ChildGroup",
    "ConsentDecision",
    "ConsentLink",
    "ConsentUse",
    "Event",
    "EventGroup",
    "Face",
    "Group",
    "Guardianship",
    "LinkKind",
    "LoginAttempt",
    "Membership",
    "Organisation",
    "PendingGuardianship",
    "Photo",
    "PrintedForm",
    "Publication",
    "PublishedFace",
    "PublishedPhoto",
    "ReferenceFace",
    "RemovalRequest",
    "Role",
    "SQLModel",
    "StoredVerdict",
    "User",
]


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a row of an append-only log."""


def _refuse_change(_mapper: Mapper, _connection: object, target: object) -> None:
    raise AppendOnlyError(f"{type(target).__name__} rows are append-only")


for _model in (ConsentDecision, AuditEvent):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
