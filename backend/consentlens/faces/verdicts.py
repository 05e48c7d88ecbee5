"""Applying the consent policy to stored photos: every verdict a viewer gets is computed here.

The stored verdicts serve lists and filters; the image routes evaluate again at request time, so
an expiry or a birthday that changes a child's consent cannot be missed between two evaluations.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, delete, select

from consentlens.consent import service as consent
from consentlens.consent.models import ConsentUse
from consentlens.consent.policy import (
    EffectiveConsent,
    FaceInput,
    FaceStatus,
    PhotoVerdict,
    UnconsentedAction,
    age_on,
    photo_verdict,
)
from consentlens.consent.protection import Protection, photo_protection, protected_verdict
from consentlens.consent.uses import Use
from consentlens.core.dates import years_after
from consentlens.faces import derivatives
from consentlens.faces.models import NAMED_STATES, Face, FaceState, StoredVerdict
from consentlens.jobs import queue
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child, ChildGroup
from consentlens.photos import storage
from consentlens.photos.models import EventGroup, Photo, PhotoStatus

# The job that brings a photo's stored renderings up to its verdicts (faces.processing).
RENDER_TASK = "photo-render"

# How the policy sees a face that names nobody.
STATUS_OF: dict[str, FaceStatus] = {
    FaceState.UNCERTAIN.value: FaceStatus.UNCERTAIN,
    FaceState.UNKNOWN.value: FaceStatus.UNKNOWN,
    FaceState.TOO_SMALL.value: FaceStatus.TOO_SMALL,
}


@dataclass(frozen=True, slots=True)
class Evaluation:
    """A photo's verdict in every photo use, and until when it holds at the latest."""

    photo: Photo
    faces: tuple[Face, ...]
    verdicts: dict[str, PhotoVerdict]
    valid_until: datetime | None
    protection: Protection = Protection.NONE


def photo_uses(*, session: Session, organisation: Organisation) -> list[ConsentUse]:
    return consent.list_uses(session=session, organisation=organisation, photos_only=True)


def _next_age_change(child: Child, organisation: Organisation, now: datetime) -> datetime | None:
    """The next midnight at which the child reaches an age where other answers count."""
    tz = ZoneInfo(organisation.timezone)
    age = age_on(birth_date=child.birth_date, day=now.astimezone(tz).date())
    for threshold in sorted({organisation.co_consent_age, organisation.sole_consent_age}):
        if age < threshold:
            birthday = years_after(day=child.birth_date, years=threshold)
            return datetime.combine(birthday, time(0, 0), tzinfo=tz)
    return None


def evaluate(
    *,
    session: Session,
    organisation: Organisation,
    photos: Sequence[Photo],
    now: datetime,
    as_if_shown: bool = False,
) -> list[Evaluation]:
    """The policy verdict of each photo in each photo use, from the faces and consents on record.

    `as_if_shown`: judge a photo staff hid as if they had not (what undoing would show): only
    for staff looking at it, never stored.
    """
    if not photos:
        return []
    every_use = consent.list_uses(session=session, organisation=organisation)
    uses = [use for use in every_use if use.applies_to_photos]
    recognition = [use for use in every_use if use.code == Use.FACE_RECOGNITION]
    photo_ids = [photo.id for photo in photos]
    faces_by_photo: dict[int, list[Face]] = {photo_id: [] for photo_id in photo_ids if photo_id}
    for face in session.exec(
        select(Face).where(col(Face.photo_id).in_(photo_ids)).order_by(col(Face.id))
    ):
        faces_by_photo[face.photo_id].append(face)
    child_ids = {
        face.child_id
        for faces in faces_by_photo.values()
        for face in faces
        if face.child_id is not None
    }
    children = {
        child.id: child
        for child in session.exec(
            select(Child).where(
                col(Child.id).in_(child_ids), Child.organisation_id == organisation.id
            )
        )
    }
    consents = consent.effective_consents(
        session=session,
        organisation=organisation,
        children=list(children.values()),
        uses=[*uses, *recognition],
        now=now,
    )
    protected = _protected_groups(session=session, organisation=organisation)
    event_groups = _event_groups(session=session, photos=photos) if protected else {}
    results = []
    for photo in photos:
        assert photo.id is not None
        faces = faces_by_photo.get(photo.id, [])
        protection = photo_protection(
            named_child_ids=[
                face.child_id
                for face in faces
                if face.state in NAMED_STATES and face.child_id is not None
            ],
            unidentified_faces=sum(
                face.state not in NAMED_STATES and face.state != FaceState.NOT_A_FACE.value
                for face in faces
            ),
            event_group_ids=event_groups.get(photo.event_id, ()),
            protected_groups=protected,
        )
        verdicts: dict[str, PhotoVerdict] = {}
        relied_on: list[datetime] = []
        for use in uses:
            inputs = [
                _face_input(face, use.code, children, consents, organisation, now)
                for face in faces
                if face.state != FaceState.NOT_A_FACE.value
            ]
            verdict = photo_verdict(
                use=use.code,
                faces=[face_input for face_input, _ in inputs],
                unconsented=UnconsentedAction(use.unconsented_action),
                analysed=photo.status in (PhotoStatus.READY.value, PhotoStatus.NEEDS_REVIEW.value),
                hidden_by_staff=photo.hidden_at is not None and not as_if_shown,
            )
            verdict = protected_verdict(verdict=verdict, protection=protection)
            verdicts[use.code] = verdict
            visible = {face.face_id for face in verdict.faces if face.visible}
            for face_input, deadlines in inputs:
                if face_input.face_id in visible:
                    relied_on.extend(deadlines)
        results.append(
            Evaluation(
                photo,
                tuple(faces),
                verdicts,
                min(relied_on) if relied_on else None,
                protection,
            )
        )
    return results


def _protected_groups(*, session: Session, organisation: Organisation) -> dict[int, frozenset[int]]:
    """Each protected child of the organisation (archived ones too) and the groups they are in."""
    rows = session.exec(
        select(Child.id, ChildGroup.group_id)
        .outerjoin(ChildGroup, col(ChildGroup.child_id) == Child.id)
        .where(Child.organisation_id == organisation.id, col(Child.protected_at).is_not(None))
    ).all()
    groups: dict[int, set[int]] = {}
    for child_id, group_id in rows:
        assert child_id is not None
        members = groups.setdefault(child_id, set())
        if group_id is not None:
            members.add(group_id)
    return {child_id: frozenset(ids) for child_id, ids in groups.items()}


def _event_groups(*, session: Session, photos: Sequence[Photo]) -> dict[int, set[int]]:
    event_ids = {photo.event_id for photo in photos}
    groups: dict[int, set[int]] = {}
    for event_id, group_id in session.exec(
        select(EventGroup.event_id, EventGroup.group_id).where(
            col(EventGroup.event_id).in_(event_ids)
        )
    ):
        groups.setdefault(event_id, set()).add(group_id)
    return groups


def photos_possibly_showing(*, session: Session, child_id: int) -> list[int]:
    """Photos that name this child, or that were taken at an event of one of their groups: the
    photos whose verdicts a change of the child's protection can change."""
    from_events = select(Photo.id).where(
        col(Photo.event_id).in_(
            select(EventGroup.event_id).where(
                col(EventGroup.group_id).in_(
                    select(ChildGroup.group_id).where(ChildGroup.child_id == child_id)
                )
            )
        )
    )
    return sorted(
        set(photos_showing(session=session, child_id=child_id))
        | {photo_id for photo_id in session.exec(from_events) if photo_id is not None}
    )


def _face_input(
    face: Face,
    use: str,
    children: dict[int | None, Child],
    consents: dict[tuple[int | None, str], EffectiveConsent],
    organisation: Organisation,
    now: datetime,
) -> tuple[FaceInput, list[datetime]]:
    """The policy's view of one face, and the moments at which that view may change."""
    assert face.id is not None
    if face.state not in NAMED_STATES:
        return FaceInput(face.id, STATUS_OF.get(face.state, FaceStatus.UNKNOWN)), []
    child = children.get(face.child_id)
    if child is None or child.id is None or child.archived_at is not None:
        return FaceInput(face.id, FaceStatus.UNKNOWN), []
    recognition = consents.get((child.id, Use.FACE_RECOGNITION))
    if recognition is None or not recognition.granted:
        # Without face-recognition consent a child may not be recognised, so not shown either.
        return FaceInput(face.id, FaceStatus.UNKNOWN), []
    use_consent = consents.get((child.id, use))
    deadlines = [
        moment
        for moment in (
            recognition.valid_until,
            use_consent.valid_until if use_consent else None,
            _next_age_change(child, organisation, now),
        )
        if moment is not None
    ]
    return (
        FaceInput(face.id, FaceStatus.IDENTIFIED, child.full_name, use_consent),
        deadlines,
    )


def store(
    *,
    session: Session,
    organisation: Organisation,
    evaluations: Sequence[Evaluation],
    now: datetime,
    rendering_here: bool = False,
) -> None:
    """Replace the stored verdicts of the evaluated photos and drop derivatives gone stale.

    `rendering_here`: the caller renders the photo itself right after (the analysis does), so
    the stale renderings go now, in this process, instead of by a job.
    """
    for evaluation in evaluations:
        photo_id = evaluation.photo.id
        assert photo_id is not None
        session.exec(delete(StoredVerdict).where(col(StoredVerdict.photo_id) == photo_id))
        for use, verdict in evaluation.verdicts.items():
            session.add(
                StoredVerdict(
                    photo_id=photo_id,
                    use_code=use,
                    action=verdict.action.value,
                    reason=verdict.reason.message,
                    reason_params=dict(verdict.reason.params),
                    faces_to_blur=list(verdict.faces_to_blur),
                    face_reasons=[
                        {
                            "face_id": face.face_id,
                            "visible": face.visible,
                            "reason": face.reason.message,
                            "params": dict(face.reason.params),
                        }
                        for face in verdict.faces
                    ],
                    evaluated_at=now,
                    valid_until=evaluation.valid_until,
                )
            )
        keep = current_derivatives(evaluation=evaluation, organisation=organisation)
        if rendering_here:
            storage.remove_derivatives(photo_id=photo_id, keep_names=keep)
        else:
            _tidy_renderings(session=session, photo_id=photo_id, keep=keep)
    session.flush()


def _tidy_renderings(*, session: Session, photo_id: int, keep: set[str]) -> None:
    """Once the new verdicts commit, renderings they no longer serve go (a stale one is never
    served: its name no longer matches, see `derivatives.file_name`). On the distributed engine a
    job does it and renders what the new verdicts serve (`processing.render_photo`): a withdrawal
    for a child in 1,000 photos must not wait for 1,000 folders in object storage."""
    queue.enqueue(
        session=session,
        task=RENDER_TASK,
        argument=str(photo_id),
        embedded=lambda: storage.remove_derivatives(photo_id=photo_id, keep_names=keep),
    )


def current_derivatives(*, evaluation: Evaluation, organisation: Organisation) -> set[str]:
    """File names of the renderings the current verdicts can serve."""
    boxes = {face.id: face.box for face in evaluation.faces}
    mark = organisation.name if organisation.watermark_photos else ""
    return {
        derivatives.file_name(
            original=evaluation.photo.original_ref,
            verdict=verdict,
            boxes=boxes,
            size=size,
            watermark=mark,
        )
        for verdict in evaluation.verdicts.values()
        for size in derivatives.SIZES
    }


def refresh(
    *,
    session: Session,
    organisation: Organisation,
    photo_ids: Iterable[int],
    now: datetime,
    rendering_here: bool = False,
) -> list[Evaluation]:
    """Re-evaluate and store the verdicts of some photos of the organisation."""
    ids = sorted(set(photo_ids))
    if not ids:
        return []
    photos = list(
        session.exec(
            select(Photo).where(col(Photo.id).in_(ids), Photo.organisation_id == organisation.id)
        )
    )
    evaluations = evaluate(session=session, organisation=organisation, photos=photos, now=now)
    store(
        session=session,
        organisation=organisation,
        evaluations=evaluations,
        now=now,
        rendering_here=rendering_here,
    )
    return evaluations


def photos_showing(*, session: Session, child_id: int) -> list[int]:
    """Photos in which a face is named as this child."""
    return list(
        session.exec(
            select(Face.photo_id)
            .where(Face.child_id == child_id, col(Face.state).in_(NAMED_STATES))
            .distinct()
        )
    )


def verdict_summary(*, session: Session, photo_ids: Sequence[int]) -> dict[int, dict[str, str]]:
    """Per photo, the stored action per use (for overlays in staff lists)."""
    summary: dict[int, dict[str, str]] = {photo_id: {} for photo_id in photo_ids}
    for photo_id, use, action in session.exec(
        select(StoredVerdict.photo_id, StoredVerdict.use_code, StoredVerdict.action).where(
            col(StoredVerdict.photo_id).in_(photo_ids)
        )
    ):
        summary[photo_id][use] = action
    return summary
