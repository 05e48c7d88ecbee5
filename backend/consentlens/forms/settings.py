"""The form settings an admin chooses: paper size, logo and the privacy contact printed."""

from __future__ import annotations

import re

from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.core import transactions
from consentlens.core.i18n import N_
from consentlens.forms import logo, pdf
from consentlens.organisations.models import Organisation

PAGE_SIZES = tuple(pdf.PAGE_SIZES)  # "A4", "letter"
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class SettingsError(ValueError):
    """Form settings that cannot be saved; `messages` are msgids shown to the admin."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


def save_settings(
    *,
    session: Session,
    organisation: Organisation,
    actor: User,
    page_size: str,
    privacy_controller: str,
    privacy_contact_email: str,
    logo_data: bytes | None = None,
    remove_logo: bool = False,
    origin: audit.Origin | None = None,
) -> list[str]:
    """Change the logo, paper size and privacy contact; returns what changed, or SettingsError."""
    controller = " ".join(privacy_controller.split())
    email = privacy_contact_email.strip()
    errors: list[str] = []
    if page_size not in PAGE_SIZES:
        errors.append(N_("Choose A4 or US Letter."))
    if len(controller) > 200:
        errors.append(N_("The name of the controller is too long (at most 200 characters)."))
    if email and (len(email) > 254 or not _EMAIL.match(email)):
        errors.append(
            N_("Fill in a valid e-mail address, like privacy@club.be, or leave it empty.")
        )
    png = None
    if logo_data:
        try:
            png = logo.prepare(logo_data)
        except logo.LogoError as error:
            errors.append(str(error))
    if errors:
        raise SettingsError(errors)
    assert organisation.id is not None
    changed = [
        name
        for name, old, new in (
            ("page_size", organisation.form_page_size, page_size),
            ("privacy_controller", organisation.privacy_controller, controller),
            ("privacy_contact_email", organisation.privacy_contact_email, email),
        )
        if old != new
    ]
    organisation.form_page_size = page_size
    organisation.privacy_controller = controller
    organisation.privacy_contact_email = email
    previous_logo = organisation.logo_ref
    if png is not None:
        stored = logo.store(png=png, organisation_id=organisation.id)
        # The new file goes again if the settings are not saved; the old one once they are.
        transactions.on_rollback(session=session, action=lambda: logo.discard(stored))
        organisation.logo_ref = stored
        changed.append("logo")
    elif remove_logo and previous_logo:
        organisation.logo_ref = None
        changed.append("logo_removed")
    session.add(organisation)
    session.flush()
    if organisation.logo_ref != previous_logo:
        transactions.on_commit(session=session, action=lambda: logo.discard(previous_logo))
    audit.record(
        session=session,
        action="forms.settings_changed",
        organisation_id=organisation.id,
        actor_id=actor.id,
        subject_type="organisation",
        subject_id=organisation.id,
        details={"changed": changed},
        origin=origin,
    )
    return changed
