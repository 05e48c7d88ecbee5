"""The takedown list: published photos whose consent later lapsed, and telling staff about them.

A publication records, per photo, its faces and their consent then; when a named child's consent
for that use is withdrawn or expires, the photos are flagged and staff told what to take down.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import Membership, Role, User
from consentlens.consent import events
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentUse
from consentlens.consent.policy import ConsentState, EffectiveConsent
from consentlens.core.config import get_settings
from consentlens.core.i18n import N_, get_translations
from consentlens.core.mail import Mail
from consentlens.core.tables import utcnow
from consentlens.core.templating import render_text
from consentlens.faces import protection, verdicts
from consentlens.organisations.models import Organisation
from consentlens.outbox import service as outbox
from consentlens.people import events as people_events
from consentlens.people.models import Child
from consentlens.publishing.models import Publication, PublishedFace, PublishedPhoto
from consentlens.publishing.service import PublishError


@dataclass(frozen=True, slots=True)
class Takedown:
    """A published photo that must come down, with where it was published."""

    published: PublishedPhoto
    publication: Publication
    child: Child | None = None

    def reason(self, locale: str, use_label: str) -> str:
        """Why it must come down, in the reader's language."""
        if not self.published.takedown_kind:
            return self.published.takedown_reason  # flagged before reasons had a kind
        _ = get_translations(locale).gettext
        return reason_text(
            kind=self.published.takedown_kind,
            name=self.child.full_name if self.child else _("A child"),
            use_label=use_label,
            gettext=_,
        )


# Staff hid or deleted the photo itself (`publishing.withdrawn`): no child's consent lapsed.
STAFF_KIND = "staff"


def reason_text(*, kind: str, name: str, use_label: str, gettext: Callable[[str], str]) -> str:
    """The sentence for a kind of takedown reason, in the catalog `gettext` reads."""
    if kind == STAFF_KIND:
        return gettext("Staff took this photo down (a family asked).")[:300]
    if kind == "left":
        text = gettext("%(name)s is no longer a member (%(use)s).")
    elif kind == "protected":
        text = gettext("A protected child is, or may be, in this photo (%(use)s).")
    elif kind == "expired":
        text = gettext("%(name)s: the consent for %(use)s has expired.")
    else:
        text = gettext("%(name)s: the consent for %(use)s was withdrawn.")
    return (text % {"name": name, "use": use_label})[:300]


def _kind(state: EffectiveConsent | None, *, archived: bool) -> str:
    if archived:
        return "left"
    if state is not None and state.state is ConsentState.EXPIRED:
        return "expired"
    return "withdrawn"


def flag_lapsed(
    *,
    session: Session,
    organisation: Organisation,
    now: datetime,
    child_ids: Sequence[int] | None = None,
) -> list[PublishedPhoto]:
    """Flag published photos showing a child whose consent for that use no longer holds."""
    statement = (
        select(PublishedFace, PublishedPhoto, Publication)
        .join(PublishedPhoto, col(PublishedPhoto.id) == PublishedFace.published_photo_id)
        .join(Publication, col(Publication.id) == PublishedPhoto.publication_id)
        .where(
            Publication.organisation_id == organisation.id,
            col(PublishedFace.visible).is_(True),
            col(PublishedFace.child_id).is_not(None),
            col(PublishedPhoto.takedown_flagged_at).is_(None),
            col(PublishedPhoto.taken_down_at).is_(None),
        )
    )
    if child_ids is not None:
        statement = statement.where(col(PublishedFace.child_id).in_(child_ids))
    rows = session.exec(statement).all()
    if not rows:
        return []
    children = {
        child.id: child
        for child in session.exec(
            select(Child).where(col(Child.id).in_({face.child_id for face, _, _ in rows}))
        )
    }
    uses = verdicts.photo_uses(session=session, organisation=organisation)
    states = consent.effective_consents(
        session=session,
        organisation=organisation,
        children=list(children.values()),
        uses=uses,
        now=now,
    )
    uses_by_code = {use.code: use for use in uses}
    flagged: dict[int, PublishedPhoto] = {}
    for face, published, publication in rows:
        state = states.get((face.child_id, publication.use_code))
        child = children.get(face.child_id)
        if state is not None and state.granted and child and child.archived_at is None:
            continue
        if published.id in flagged:
            continue
        published.takedown_flagged_at = now
        kind = _kind(state, archived=bool(child and child.archived_at is not None))
        published.takedown_kind, published.takedown_child_id = kind, face.child_id
        published.takedown_reason = _takedown_reason(
            organisation, child, uses_by_code.get(publication.use_code), kind
        )
        session.add(published)
        assert published.id is not None
        flagged[published.id] = published
        audit.record(
            session=session,
            action="photos.takedown_flagged",
            organisation_id=organisation.id,
            subject_type="published_photo",
            subject_id=published.id,
            details={
                "publication_id": publication.id,
                "photo_id": published.photo_id,
                "use": publication.use_code,
                "child_id": face.child_id,
            },
        )
    session.flush()
    return list(flagged.values())


def _takedown_reason(
    organisation: Organisation, child: Child | None, use: ConsentUse | None, kind: str
) -> str:
    """The record of why, in the organisation's language."""
    locale = organisation.default_locale
    _ = get_translations(locale).gettext
    name = child.full_name if child else _("A child")
    return reason_text(kind=kind, name=name, use_label=use.label(locale) if use else "", gettext=_)


def open_takedowns(*, session: Session, organisation: Organisation) -> list[Takedown]:
    return [
        Takedown(published, publication, child)
        for published, publication, child in session.exec(
            select(PublishedPhoto, Publication, Child)
            .join(Publication, col(Publication.id) == PublishedPhoto.publication_id)
            .outerjoin(Child, col(Child.id) == PublishedPhoto.takedown_child_id)
            .where(
                Publication.organisation_id == organisation.id,
                col(PublishedPhoto.takedown_flagged_at).is_not(None),
                col(PublishedPhoto.taken_down_at).is_(None),
            )
            .order_by(col(PublishedPhoto.takedown_flagged_at), col(PublishedPhoto.id))
        )
    ]


def mark_taken_down(
    *,
    session: Session,
    organisation: Organisation,
    published_id: int,
    user: User,
    now: datetime,
    origin: audit.Origin | None = None,
) -> PublishedPhoto:
    row = session.exec(
        select(PublishedPhoto, Publication)
        .join(Publication, col(Publication.id) == PublishedPhoto.publication_id)
        .where(PublishedPhoto.id == published_id, Publication.organisation_id == organisation.id)
    ).first()
    if row is None:
        raise PublishError(N_("This takedown no longer exists."))
    published, publication = row
    if published.taken_down_at is None:
        published.taken_down_at = now
        published.taken_down_by_id = user.id
        session.add(published)
        audit.record(
            session=session,
            action="photos.taken_down",
            organisation_id=organisation.id,
            actor_id=user.id,
            subject_type="published_photo",
            subject_id=published.id,
            details={"publication_id": publication.id, "photo_id": published.photo_id},
            origin=origin,
        )
        session.flush()
    return published


def notify_takedowns(*, session: Session, organisation: Organisation, now: datetime) -> int:
    """E-mail staff the flagged photos they have not been told about; returns messages queued."""
    pending = [
        t
        for t in open_takedowns(session=session, organisation=organisation)
        if t.published.takedown_notified_at is None
    ]
    if not pending:
        return 0
    per_use: dict[str, list[Takedown]] = defaultdict(list)
    for takedown in pending:
        per_use[takedown.publication.use_code].append(takedown)
    staff = session.exec(
        select(User)
        .join(Membership, col(Membership.user_id) == User.id)
        .where(
            Membership.organisation_id == organisation.id,
            col(Membership.role).in_([Role.ADMIN.value, Role.STAFF.value]),
            col(User.is_active).is_(True),
        )
        .distinct()
    ).all()
    uses = consent.list_uses(session=session, organisation=organisation)
    sent = 0
    for person in staff:
        locale = person.locale or organisation.default_locale
        _ = get_translations(locale).gettext
        mail = Mail(
            to=person.email,
            subject=_("Take down %(count)s photo(s) from %(club)s's publications")
            % {"count": len(pending), "club": organisation.name},
            text=render_text(
                "mail/takedown.txt",
                locale=locale,
                organisation=organisation,
                person=person,
                per_use=dict(per_use),
                use_labels={use.code: use.label(locale) for use in uses},
                base_url=get_settings().base_url.rstrip("/"),
            ),
            sender_name=organisation.name,
        )
        # Delivered, and retried, by the outbox: queued counts as told.
        outbox.queue_mail(
            session=session, mail=mail, purpose="photos.takedown", organisation_id=organisation.id
        )
        sent += 1
    if sent:
        for takedown in pending:
            takedown.published.takedown_notified_at = now
            session.add(takedown.published)
        audit.record(
            session=session,
            action="photos.takedown_notified",
            organisation_id=organisation.id,
            subject_type="organisation",
            subject_id=organisation.id,
            details={"published_photos": [t.published.id for t in pending], "emails": sent},
        )
        session.flush()
    return sent


PUBLICATIONS_SHOWN = 200


@dataclass(frozen=True, slots=True)
class PublicationRow:
    publication: Publication
    by: str
    open_takedowns: int


def recent_publications(*, session: Session, organisation: Organisation) -> list[PublicationRow]:
    """The most recent publications, with who made them and how many photos must come down."""
    waiting = Counter(
        takedown.publication.id
        for takedown in open_takedowns(session=session, organisation=organisation)
    )
    rows = session.exec(
        select(Publication, User.full_name)
        .join(User, col(User.id) == Publication.created_by_id, isouter=True)
        .where(Publication.organisation_id == organisation.id)
        .order_by(col(Publication.created_at).desc(), col(Publication.id).desc())
        .limit(PUBLICATIONS_SHOWN)
    )
    return [
        PublicationRow(publication, by or "", waiting[publication.id]) for publication, by in rows
    ]


# Subscribed to `consent.events` by `consentlens.wiring`, after the photos are re-judged.
def on_consent_changed(session: Session, change: events.ConsentChanged) -> None:
    """Flag what this child's changed consent makes a takedown, before the change commits."""
    organisation = session.get(Organisation, change.organisation_id)
    if organisation is None:
        return
    flag_lapsed(
        session=session, organisation=organisation, now=utcnow(), child_ids=[change.child_id]
    )


# Subscribed to `people.events.child_archived` by `consentlens.wiring`, after the faces room.
def on_child_archived(session: Session, event: people_events.ChildArchived) -> None:
    """Publications showing an archived child are flagged for takedown."""
    flag_lapsed(
        session=session, organisation=event.organisation, now=event.now, child_ids=[event.child_id]
    )


# Subscribed to `people.events.child_protection_changed` by `consentlens.wiring`, after faces.
def on_child_protection_changed(
    session: Session, event: people_events.ChildProtectionChanged
) -> None:
    """Every earlier publication of a photo now hidden for the child's protection must come down."""
    if event.protected:
        flag_protected(
            session=session,
            organisation=event.organisation,
            now=event.now,
            photo_ids=protection.protected_photos(
                session=session,
                photo_ids=verdicts.photos_possibly_showing(
                    session=session, child_id=event.child_id
                ),
            ),
            child_id=event.child_id,
        )


def flag_protected(
    *,
    session: Session,
    organisation: Organisation,
    now: datetime,
    photo_ids: Sequence[int],
    child_id: int | None = None,
) -> list[PublishedPhoto]:
    """Flag every open publication of these photos, blurred or not: a blurred protected child is
    still located by the event, the place and a shirt number. The reason names no child."""
    if not photo_ids:
        return []
    rows = session.exec(
        select(PublishedPhoto, Publication)
        .join(Publication, col(Publication.id) == PublishedPhoto.publication_id)
        .where(
            Publication.organisation_id == organisation.id,
            col(PublishedPhoto.photo_id).in_(photo_ids),
            col(PublishedPhoto.takedown_flagged_at).is_(None),
            col(PublishedPhoto.taken_down_at).is_(None),
        )
    ).all()
    uses = {
        use.code: use for use in verdicts.photo_uses(session=session, organisation=organisation)
    }
    flagged = []
    for published, publication in rows:
        published.takedown_flagged_at = now
        # The child is not named on the takedown list or in the mail: kind "protected" only.
        published.takedown_kind, published.takedown_child_id = "protected", None
        published.takedown_reason = _takedown_reason(
            organisation, None, uses.get(publication.use_code), "protected"
        )
        session.add(published)
        flagged.append(published)
        audit.record(
            session=session,
            action="photos.takedown_flagged",
            organisation_id=organisation.id,
            subject_type="published_photo",
            subject_id=published.id,
            details={
                "publication_id": publication.id,
                "photo_id": published.photo_id,
                "use": publication.use_code,
                "child_id": child_id,
                "protected": True,
            },
        )
    session.flush()
    return flagged
