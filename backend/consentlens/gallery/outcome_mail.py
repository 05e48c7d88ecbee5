"""Telling a guardian what became of their request to remove a photo, in their language.

The message is built here and written to the outbox in `_send` alone: it leaves once the
transaction that resolved the request commits, and never if that rolls back.
"""

from __future__ import annotations

from sqlmodel import Session

from consentlens.auth.models import User
from consentlens.core.config import get_settings
from consentlens.core.i18n import N_, get_translations
from consentlens.core.mail import Mail
from consentlens.core.templating import render_text
from consentlens.gallery.models import RemovalRequest
from consentlens.organisations.models import Organisation
from consentlens.outbox import service as outbox

# What the guardian reads about each outcome (page and e-mail); "removed"/"kept" are answers
# recorded before staff could act from the request.
OUTCOME_TEXTS = {
    "hidden": N_("The club removed the photo: nobody sees it in the gallery any more."),
    "hidden_family": N_("The club removed the photo from your family's gallery."),
    "deleted": N_("The club deleted the photo."),
    "declined": N_("The club decided to keep the photo."),
    "removed": N_("The club dealt with your request."),
    "kept": N_("The club decided to keep the photo."),
}


def outcome_text(resolution: str) -> str:
    """The untranslated sentence for a resolution (empty while the request is open)."""
    return OUTCOME_TEXTS.get(resolution, "")


def build(*, organisation: Organisation, removal: RemovalRequest, user: User) -> Mail:
    """The e-mail telling `user` the outcome of `removal`."""
    locale = user.locale or organisation.default_locale
    _ = get_translations(locale).gettext
    return Mail(
        to=user.email,
        subject=_("%(club)s: your request to remove a photo") % {"club": organisation.name},
        text=render_text(
            "mail/removal_outcome.txt",
            locale=locale,
            user=user,
            organisation=organisation,
            removal=removal,
            outcome=outcome_text(removal.resolution),
            url=f"{get_settings().base_url.rstrip('/')}/gallery",
        ),
        reply_to=organisation.privacy_contact_email,
        sender_name=organisation.name,
    )


def _send(session: Session, mail: Mail, organisation: Organisation) -> None:
    outbox.queue_mail(
        session=session,
        mail=mail,
        purpose="gallery.removal_outcome",
        organisation_id=organisation.id,
    )


def tell_guardian(*, session: Session, organisation: Organisation, removal: RemovalRequest) -> bool:
    """E-mail the guardian who asked (after commit); False when they have no address."""
    user = session.get(User, removal.requested_by_id)
    if user is None or not user.email:
        return False
    _send(session, build(organisation=organisation, removal=removal, user=user), organisation)
    return True
