"""Every table, imported in one place so that Alembic and the tests see the whole schema.

Importing this module installs nothing: the append-only guards are wired by `db.guards`.
"""

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
from consentlens.faces.models import Face, ReferenceFace, StoredVerdict
from consentlens.forms.models import PrintedForm
from consentlens.gallery.models import RemovalRequest
from consentlens.organisations.models import Organisation
from consentlens.outbox.models import OutgoingMail
from consentlens.people.models import Child, ChildGroup, Group, Guardianship, PendingGuardianship
from consentlens.photos.models import Event, EventGroup, Photo, PhotoFamilyHiding
from consentlens.publishing.models import Publication, PublishedFace, PublishedPhoto

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
    "OutgoingMail",
    "PendingGuardianship",
    "Photo",
    "PhotoFamilyHiding",
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
