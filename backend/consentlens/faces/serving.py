"""The only way an image of a photo leaves the server: rendered from the current verdict.

Renderings are cached in the store under a name derived from exactly what they cover, so a
changed verdict can never be answered with an old file: it simply names a different one. The
worker writes the renderings of the verdicts it stores (`prerender`); any other is made on request.
"""

from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col, select

from consentlens.consent.policy import (
    VerdictAction,
    review_crop_visible,
)
from consentlens.core.storage import StorageUnavailable
from consentlens.faces import derivatives, imaging, verdicts
from consentlens.faces.models import Face, StoredVerdict
from consentlens.organisations.models import Organisation
from consentlens.photos import storage
from consentlens.photos.models import Photo, PhotoStatus

log = logging.getLogger(__name__)


class NotServable(LookupError):
    """No image for this request: the verdict hides the photo or the face may not be shown."""


def current_evaluation(
    *, session: Session, organisation: Organisation, photo: Photo, now: datetime
) -> verdicts.Evaluation:
    """The photo's verdicts right now; stored verdicts that went stale are corrected (in the
    caller's transaction, which commits them with the rest of its work)."""
    (evaluation,) = verdicts.evaluate(
        session=session, organisation=organisation, photos=[photo], now=now
    )
    assert photo.id is not None
    stored = {
        v.use_code: (v.action, v.faces_to_blur)
        for v in stored_verdicts(session=session, photo_id=photo.id)
    }
    fresh = {
        use: (verdict.action.value, list(verdict.faces_to_blur))
        for use, verdict in evaluation.verdicts.items()
    }
    # A photo not analysed yet is hidden either way; the worker stores its verdicts.
    analysed = photo.status not in (PhotoStatus.PENDING.value, PhotoStatus.PROCESSING.value)
    if stored != fresh and analysed:
        try:
            with session.begin_nested():
                verdicts.store(
                    session=session, organisation=organisation, evaluations=[evaluation], now=now
                )
        except OperationalError:
            # A reading request on SQLite may not get the write lock; what is served still
            # follows `evaluation`, and the worker corrects the stored verdicts within a minute.
            log.warning("photo %s: stale verdicts not corrected now (database busy)", photo.id)
    return evaluation


def image(
    *,
    session: Session,
    organisation: Organisation,
    photo: Photo,
    use: str,
    size: str,
    now: datetime,
    as_if_shown: bool = False,
) -> bytes:
    """The JPEG of `photo` for `use` at `size`, or NotServable when the verdict hides it.

    `as_if_shown` (staff pages only): a photo staff hid renders as undoing would show it, so
    staff can judge it; the stored verdicts, which every other viewer follows, stay hidden.
    """
    if size not in derivatives.SIZES:
        raise ValueError(size)
    evaluation = current_evaluation(
        session=session, organisation=organisation, photo=photo, now=now
    )
    if as_if_shown and photo.hidden_at is not None:
        (evaluation,) = verdicts.evaluate(
            session=session, organisation=organisation, photos=[photo], now=now, as_if_shown=True
        )
    return rendered(organisation=organisation, evaluation=evaluation, use=use, size=size)


def rendered(
    *, organisation: Organisation, evaluation: verdicts.Evaluation, use: str, size: str
) -> bytes:
    """The JPEG for `use` at `size` from an evaluation made just now (see `image`)."""
    photo = evaluation.photo
    verdict = evaluation.verdicts[use]  # KeyError: not a photo use
    if verdict.action is VerdictAction.HIDE:
        raise NotServable(verdict.reason.text())
    assert photo.id is not None
    boxes = {face.id: face.box for face in evaluation.faces}
    mark = organisation.name if organisation.watermark_photos else ""
    name = derivatives.file_name(
        original=photo.original_ref, verdict=verdict, boxes=boxes, size=size, watermark=mark
    )
    cached = storage.read_derivative(photo_id=photo.id, name=name)
    if cached is not None:
        return cached
    with storage.local_copy(photo.original_ref) as original:
        # DCT draft decoding at about the size asked for: a fraction of a full 12-MP decode.
        source = imaging.load_for_analysis(original, max_side=derivatives.SIZES[size])
    data = derivatives.render(
        original=source.image,
        original_size=source.original_size,
        verdict=verdict,
        boxes=boxes,
        size=size,
        watermark=mark,
    )
    if data is None:
        raise NotServable(verdict.reason.text())
    storage.put_derivative(photo_id=photo.id, name=name, data=data)
    return data


def prerender(
    *, evaluation: verdicts.Evaluation, organisation: Organisation, image: imaging.AnalysisImage
) -> int:
    """Write every rendering the evaluation's verdicts can serve, from the image the analysis
    decoded (`PhotoFaces.image`), so a photo is gallery-ready when its analysis is stored.

    Sizes larger than that image (unless it is the whole original) are left to `rendered`, which
    makes them on first request, as is everything when the store is down: the analysis is
    stored all the same. Returns the number of files written.
    """
    photo = evaluation.photo
    assert photo.id is not None
    try:
        return _prerender(evaluation=evaluation, organisation=organisation, image=image)
    except StorageUnavailable as error:
        log.warning("photo %s: renderings left for later: %s", photo.id, error)
        return 0


def _prerender(
    *, evaluation: verdicts.Evaluation, organisation: Organisation, image: imaging.AnalysisImage
) -> int:
    photo = evaluation.photo
    assert photo.id is not None
    boxes = {face.id: face.box for face in evaluation.faces}
    mark = organisation.name if organisation.watermark_photos else ""
    stored = storage.derivative_names(photo.id)
    done: set[str] = set()
    for verdict in evaluation.verdicts.values():
        if verdict.action is VerdictAction.HIDE:
            continue
        names = {
            size: derivatives.file_name(
                original=photo.original_ref, verdict=verdict, boxes=boxes, size=size, watermark=mark
            )
            for size in derivatives.SIZES
        }
        todo = [size for size, name in names.items() if name not in done and name not in stored]
        if not todo:
            continue
        todo = [size for size in todo if _large_enough(image, derivatives.SIZES[size])]
        if not todo:
            continue
        rendered = derivatives.render_sizes(
            source=image.image,
            original_size=image.original_size,
            verdict=verdict,
            boxes=boxes,
            sizes=todo,
            watermark=mark,
        )
        for size, data in (rendered or {}).items():
            storage.put_derivative(photo_id=photo.id, name=names[size], data=data)
            done.add(names[size])
    return len(done)


def _large_enough(image: imaging.AnalysisImage, side: int) -> bool:
    """Whether `image` holds all the detail a rendering of long side `side` can show."""
    return max(image.size) >= min(side, max(image.original_size))


def face_crop(*, session: Session, photo: Photo, face: Face, viewer_is_staff: bool) -> bytes:
    """The crop of one face awaiting review, for staff naming it; NotServable otherwise."""
    status = verdicts.STATUS_OF.get(face.state)
    if status is None or face.photo_id != photo.id:
        raise NotServable("not awaiting review")
    if not review_crop_visible(
        status=status, reviewed=face.reviewed_at is not None, viewer_is_staff=viewer_is_staff
    ):
        raise NotServable("not awaiting review")
    with storage.local_copy(photo.original_ref) as path:
        original = derivatives.open_upright(str(path))
        return derivatives.render_crop(original=original, box=face.box)


def stored_verdicts(*, session: Session, photo_id: int) -> list[StoredVerdict]:
    return list(
        session.exec(
            select(StoredVerdict)
            .where(StoredVerdict.photo_id == photo_id)
            .order_by(col(StoredVerdict.use_code))
        )
    )
