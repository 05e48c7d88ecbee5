"""Publishing photos for one use as a ZIP, and the takedown list when consent later lapses.

A publication records, per photo, which faces were in it and each face's consent state at that
moment; when a named child's consent for that use is withdrawn or expires, the photos are flagged
and staff are told what to take down where.
"""

from __future__ import annotations

import io
import zipfile
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlmodel import Session, col, select

from consentlens.audit import service as audit
from consentlens.auth.models import Membership, Role, User
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentUse
from consentlens.consent.policy import ConsentState, EffectiveConsent, VerdictAction
from consentlens.core.config import get_settings
from consentlens.core.i18n import N_, get_translations
from consentlens.core.mail import Mail, MailError, get_mailer
from consentlens.core.templating import render_text
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child
from consentlens.photos import serving, verdicts
from consentlens.photos.models import (
    FaceState,
    Photo,
    Publication,
    PublishedFace,
    PublishedPhoto,
)

PUBLISH_USES = ("website", "social_media", "print", "press")


class PublishError(ValueError):
    """A publication that cannot be made; `message` is a msgid shown to staff."""

    def __init__(self, message: str, **params: str) -> None:
        super().__init__(message.format(**params))
        self.message = message
        self.params = params


@dataclass
class Export:
    """The ZIP and what went into it."""

    publication: Publication
    data: bytes
    included: list[tuple[Photo, str]] = field(default_factory=list)
    left_out: list[tuple[Photo, str]] = field(default_factory=list)


def publish(
    *,
    session: Session,
    organisation: Organisation,
    user: User,
    use: str,
    photos: Sequence[Photo],
    size: str,
    title: str,
    now: datetime,
    origin: audit.Origin | None = None,
) -> Export:
    """Build the ZIP of the photos cleared for `use`, and record the publication."""
    uses = {u.code: u for u in verdicts.photo_uses(session, organisation)}
    if use not in uses or use not in PUBLISH_USES:
        raise PublishError(N_("Choose where the photos will be published."))
    if size not in ("thumb", "display"):
        raise PublishError(N_("Choose a size."))
    if not photos:
        raise PublishError(N_("Select at least one photo."))
    assert organisation.id is not None
    publication = Publication(
        organisation_id=organisation.id,
        use_code=use,
        size=size,
        title=" ".join(title.split())[:200],
        created_by_id=user.id,
        created_at=now,
    )
    session.add(publication)
    session.flush()
    assert publication.id is not None
    buffer = io.BytesIO()
    export = Export(publication, b"")
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for photo in photos:
            assert photo.id is not None
            evaluation = serving.current_evaluation(
                session=session, organisation=organisation, photo=photo, now=now
            )
            verdict = evaluation.verdicts[use]
            if verdict.action is VerdictAction.HIDE:
                export.left_out.append((photo, verdict.reason.text()))
                continue
            data = serving.rendered(
                organisation=organisation, evaluation=evaluation, use=use, size=size
            )
            name = f"photo-{photo.id}.jpg"
            # Fixed timestamp: the archive itself must not leak when each photo was rendered.
            info = zipfile.ZipInfo(name, date_time=(2000, 1, 1, 0, 0, 0))
            archive.writestr(info, data)
            export.included.append((photo, name))
            _record_photo(session, organisation, publication, evaluation, use, name, now)
        archive.writestr(
            zipfile.ZipInfo("manifest.txt", date_time=(2000, 1, 1, 0, 0, 0)),
            _manifest(organisation, publication, export),
        )
    publication.photo_count = len(export.included)
    publication.left_out_count = len(export.left_out)
    session.add(publication)
    audit.record(
        session=session,
        action="photos.published",
        organisation_id=organisation.id,
        actor_id=user.id,
        subject_type="publication",
        subject_id=publication.id,
        details={
            "use": use,
            "size": size,
            "photos": [photo.id for photo, _ in export.included],
            "left_out": [photo.id for photo, _ in export.left_out],
        },
        origin=origin,
    )
    session.flush()
    export.data = buffer.getvalue()
    return export


def _record_photo(
    session: Session,
    organisation: Organisation,
    publication: Publication,
    evaluation: verdicts.Evaluation,
    use: str,
    name: str,
    now: datetime,
) -> None:
    verdict = evaluation.verdicts[use]
    assert publication.id is not None and evaluation.photo.id is not None
    published = PublishedPhoto(
        publication_id=publication.id,
        photo_id=evaluation.photo.id,
        file_name=name,
        action=verdict.action.value,
    )
    session.add(published)
    session.flush()
    assert published.id is not None
    visible = {face.face_id for face in verdict.faces if face.visible}
    children = {
        child.id: child
        for child in session.exec(
            select(Child).where(
                col(Child.id).in_([f.child_id for f in evaluation.faces if f.child_id])
            )
        )
    }
    uses = [u for u in verdicts.photo_uses(session, organisation) if u.code == use]
    states = consent.effective_consents(
        session=session,
        organisation=organisation,
        children=list(children.values()),
        uses=uses,
        now=now,
    )
    for face in evaluation.faces:
        if face.state == FaceState.NOT_A_FACE.value:
            continue
        state = states.get((face.child_id, use)) if face.child_id else None
        session.add(
            PublishedFace(
                published_photo_id=published.id,
                face_id=face.id,
                child_id=face.child_id,
                state=face.state,
                visible=face.id in visible,
                consent_state=state.state.value if state else "",
            )
        )


def _manifest(organisation: Organisation, publication: Publication, export: Export) -> str:
    lines = [
        f"{organisation.name} - publication {publication.id} for '{publication.use_code}'",
        f"Made {publication.created_at.isoformat(timespec='minutes')}; size {publication.size}.",
        "Faces without consent for this use are covered. If consent is withdrawn later,",
        "ConsentLens lists the photos to take down.",
        "",
        f"Included ({len(export.included)}):",
        *(f"  {name}" for _, name in export.included),
        "",
        f"Left out ({len(export.left_out)}):",
        *(f"  photo {photo.id}: {reason}" for photo, reason in export.left_out),
    ]
    return "\n".join(lines) + "\n"


# --- Takedowns ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Takedown:
    """A published photo that must come down, with where it was published."""

    published: PublishedPhoto
    publication: Publication


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
    uses = verdicts.photo_uses(session, organisation)
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
        state = states.get((face.child_id, publication.use_code))  # type: ignore[arg-type]
        child = children.get(face.child_id)
        if state is not None and state.granted and child and child.archived_at is None:
            continue
        if published.id in flagged:
            continue
        published.takedown_flagged_at = now
        published.takedown_reason = _takedown_reason(
            organisation,
            child,
            uses_by_code.get(publication.use_code),
            state,
            archived=bool(child and child.archived_at is not None),
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
    organisation: Organisation,
    child: Child | None,
    use: ConsentUse | None,
    state: EffectiveConsent | None,
    *,
    archived: bool,
) -> str:
    """Why a photo must come down, in the organisation's language (staff read it, and the mail)."""
    locale = organisation.default_locale
    _ = get_translations(locale).gettext
    name = child.full_name if child else _("A child")
    use_label = use.label(locale) if use else ""
    if archived:
        text = _("%(name)s is no longer a member (%(use)s).")
    elif state is not None and state.state is ConsentState.EXPIRED:
        text = _("%(name)s: the consent for %(use)s has expired.")
    else:
        text = _("%(name)s: the consent for %(use)s was withdrawn.")
    return (text % {"name": name, "use": use_label})[:300]


def open_takedowns(session: Session, organisation: Organisation) -> list[Takedown]:
    return [
        Takedown(published, publication)
        for published, publication in session.exec(
            select(PublishedPhoto, Publication)
            .join(Publication, col(Publication.id) == PublishedPhoto.publication_id)
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
    """E-mail staff the flagged photos they have not been told about; returns messages sent."""
    pending = [
        t for t in open_takedowns(session, organisation) if t.published.takedown_notified_at is None
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
                base_url=get_settings().base_url.rstrip("/"),
            ),
        )
        try:
            get_mailer().send(mail)
            sent += 1
        except MailError:
            continue  # told again at the next run: notified_at stays empty
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
