"""The consent policy: effective consent per child and use, and the photo verdict per use.

Pure functions over plain dataclasses. No database, no clock, no I/O: callers pass `now`.
Every image ConsentLens serves is rendered from a `PhotoVerdict` produced here.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from consentlens.core.dates import is_leap
from consentlens.core.i18n import N_


class Party(enum.StrEnum):
    """Whose decision a record is: one of the child's guardians, or the child."""

    GUARDIAN = "guardian"
    CHILD = "child"


class ConsentState(enum.StrEnum):
    GRANTED = "granted"
    REFUSED = "refused"
    NO_ANSWER = "no_answer"
    EXPIRED = "expired"
    # Someone said yes, but another party whose answer is needed has not (yet).
    WAITING = "waiting"


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One entry of a child's append-only decision log for one use."""

    decision_id: int
    party: Party
    granted: bool
    decided_at: datetime
    valid_until: datetime
    guardian_id: int | None = None
    decided_by: str = ""


@dataclass(frozen=True, slots=True)
class ConsentRules:
    """The organisation's settings that the policy depends on."""

    co_consent_age: int = 12
    sole_consent_age: int = 16
    # Fail safe by default: with two guardians on record, one yes is not enough.
    require_all_guardians: bool = True
    timezone: str = "Europe/Brussels"


@dataclass(frozen=True, slots=True)
class Reason:
    """Why the policy decided as it did: a translatable message and its parameters."""

    message: str
    params: Mapping[str, str] = field(default_factory=dict)

    def text(self, gettext: Callable[[str], str] | None = None) -> str:
        """The reason as a sentence, translated when a gettext function is given."""
        template = gettext(self.message) if gettext is not None else self.message
        return template.format(**self.params)

    def __str__(self) -> str:
        return self.text()


@dataclass(frozen=True, slots=True)
class EffectiveConsent:
    """A child's consent for one use at one moment, with the reason."""

    use: str
    state: ConsentState
    reason: Reason
    # When a granted consent lapses unless renewed; None when not granted.
    valid_until: datetime | None = None

    @property
    def granted(self) -> bool:
        return self.state is ConsentState.GRANTED


def age_on(*, birth_date: date, day: date) -> int:
    """Age in whole years on `day`.

    Someone born on 29 February turns a year older on 28 February in common years: reaching an age
    earlier only ever gives the child more say (their refusal counts, their own answer is needed),
    so it is the protective reading.
    """
    years = day.year - birth_date.year
    birthday_month, birthday_day = birth_date.month, birth_date.day
    if (birthday_month, birthday_day) == (2, 29) and not is_leap(day.year):
        birthday_day = 28
    if (day.month, day.day) < (birthday_month, birthday_day):
        years -= 1
    return years


def _require_aware(moment: datetime, what: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{what} must be timezone-aware, got {moment!r}")


def _local_date(moment: datetime, tz: ZoneInfo) -> str:
    return moment.astimezone(tz).date().isoformat()


def _latest_per_party(
    decisions: Iterable[DecisionRecord], guardian_ids: frozenset[int], now: datetime
) -> tuple[DecisionRecord | None, dict[int, DecisionRecord]]:
    child: DecisionRecord | None = None
    guardians: dict[int, DecisionRecord] = {}
    for record in sorted(decisions, key=lambda d: (d.decided_at, d.decision_id)):
        _require_aware(record.decided_at, "decided_at")
        _require_aware(record.valid_until, "valid_until")
        if record.decided_at > now:
            continue
        if record.party is Party.CHILD:
            child = record
        elif record.guardian_id in guardian_ids:
            # A former guardian's decisions no longer speak for the child.
            guardians[record.guardian_id] = record
    return child, guardians


def effective_consent(
    *,
    use: str,
    birth_date: date,
    guardian_ids: Iterable[int],
    decisions: Iterable[DecisionRecord],
    rules: ConsentRules,
    now: datetime,
) -> EffectiveConsent:
    """The effective consent of one child for one use at `now`, from the decision log."""
    _require_aware(now, "now")
    tz = ZoneInfo(rules.timezone)
    age = age_on(birth_date=birth_date, day=now.astimezone(tz).date())
    current_guardians = frozenset(guardian_ids)
    child, guardians = _latest_per_party(decisions, current_guardians, now)

    def result(
        state: ConsentState, message: str, until: datetime | None = None, **params: str
    ) -> EffectiveConsent:
        return EffectiveConsent(use, state, Reason(message, params), until)

    def on(record: DecisionRecord) -> str:
        return _local_date(record.decided_at, tz)

    if age >= rules.sole_consent_age:
        age_text = str(rules.sole_consent_age)
        if child is None:
            return result(
                ConsentState.WAITING,
                N_("From age {age} only the child's own answer counts, and there is none yet."),
                age=age_text,
            )
        if child.valid_until <= now:
            return result(
                ConsentState.EXPIRED,
                N_("The child's own answer expired on {date}."),
                date=_local_date(child.valid_until, tz),
            )
        if child.granted:
            return result(
                ConsentState.GRANTED,
                N_("Granted by the child on {date}; from age {age} their own answer counts."),
                child.valid_until,
                date=on(child),
                age=age_text,
            )
        return result(
            ConsentState.REFUSED,
            N_("Refused by the child on {date}; from age {age} their own answer counts."),
            date=on(child),
            age=age_text,
        )

    child_counts = child is not None and age >= rules.co_consent_age and child.valid_until > now
    if child_counts and child is not None and not child.granted:
        return result(
            ConsentState.REFUSED,
            N_("Refused by the child on {date}; from age {age} the child's refusal counts."),
            date=on(child),
            age=str(rules.co_consent_age),
        )

    active = {gid: rec for gid, rec in guardians.items() if rec.valid_until > now}
    refusals = [rec for rec in active.values() if not rec.granted]
    if refusals:
        latest = max(refusals, key=lambda d: (d.decided_at, d.decision_id))
        return result(
            ConsentState.REFUSED,
            N_("Refused by guardian {name} on {date}."),
            name=latest.decided_by,
            date=on(latest),
        )

    grants = sorted(active.values(), key=lambda d: (d.decided_at, d.decision_id))
    if not grants:
        expired = [rec for rec in guardians.values() if rec.valid_until <= now]
        if expired:
            last = max(expired, key=lambda d: d.valid_until)
            return result(
                ConsentState.EXPIRED,
                N_("The guardians' answer expired on {date}."),
                date=_local_date(last.valid_until, tz),
            )
        if child_counts:
            return result(ConsentState.WAITING, N_("The child said yes; waiting for a guardian."))
        return result(ConsentState.NO_ANSWER, N_("No answer on record."))

    names = ", ".join(rec.decided_by for rec in grants)
    if rules.require_all_guardians:
        missing = current_guardians - active.keys()
        if missing:
            return result(
                ConsentState.WAITING,
                N_("Granted by {names}; waiting for the other guardian."),
                names=names,
            )
    return result(
        ConsentState.GRANTED,
        N_("Granted by {names} on {date}."),
        min(rec.valid_until for rec in grants),
        names=names,
        date=on(grants[-1]),
    )


class FaceStatus(enum.StrEnum):
    """What is known about who a face in a photo is."""

    IDENTIFIED = "identified"
    UNKNOWN = "unknown"
    UNCERTAIN = "uncertain"
    TOO_SMALL = "too_small"
    PENDING_REVIEW = "pending_review"


class UnconsentedAction(enum.StrEnum):
    """What the organisation does, per use, with a photo holding a face without consent."""

    BLUR = "blur"
    HIDE = "hide"


class VerdictAction(enum.StrEnum):
    SHOW = "show"
    BLUR = "blur"
    HIDE = "hide"


@dataclass(frozen=True, slots=True)
class FaceInput:
    """One face of a photo as the policy needs it."""

    face_id: int
    status: FaceStatus
    person_name: str = ""
    # The identified person's effective consent for the use being judged.
    consent: EffectiveConsent | None = None


@dataclass(frozen=True, slots=True)
class FaceVerdict:
    face_id: int
    visible: bool
    reason: Reason


@dataclass(frozen=True, slots=True)
class PhotoVerdict:
    """How a photo may appear in one use."""

    use: str
    action: VerdictAction
    faces_to_blur: tuple[int, ...]
    reason: Reason
    faces: tuple[FaceVerdict, ...] = ()


# Why a named face is covered, in words (the state's code would show untranslated on the page).
_NOT_GRANTED: dict[ConsentState, str] = {
    ConsentState.REFUSED: N_("{name}: consent refused or withdrawn."),
    ConsentState.NO_ANSWER: N_("{name}: no answer yet."),
    ConsentState.EXPIRED: N_("{name}: consent expired."),
    ConsentState.WAITING: N_("{name}: waiting for another guardian's answer."),
}
_FACE_REASONS: dict[FaceStatus, str] = {
    FaceStatus.UNKNOWN: N_("Not recognised."),
    FaceStatus.UNCERTAIN: N_("Recognition is uncertain."),
    FaceStatus.TOO_SMALL: N_("Too small to recognise."),
    FaceStatus.PENDING_REVIEW: N_("Waiting for staff review."),
}


def _face_verdict(face: FaceInput, use: str) -> FaceVerdict:
    if face.status is not FaceStatus.IDENTIFIED:
        return FaceVerdict(face.face_id, False, Reason(_FACE_REASONS[face.status]))
    consent = face.consent
    if consent is None or consent.use != use:
        # A consent for another use (or none at all) proves nothing for this one.
        return FaceVerdict(
            face.face_id,
            False,
            Reason(N_("{name}: no consent on record for this use."), {"name": face.person_name}),
        )
    if not consent.granted:
        return FaceVerdict(
            face.face_id,
            False,
            Reason(
                _NOT_GRANTED.get(consent.state, N_("{name}: not consented.")),
                {"name": face.person_name},
            ),
        )
    return FaceVerdict(
        face.face_id, True, Reason(N_("{name}: consented."), {"name": face.person_name})
    )


def photo_verdict(
    *,
    use: str,
    faces: Sequence[FaceInput],
    unconsented: UnconsentedAction,
    analysed: bool,
    hidden_by_staff: bool = False,
) -> PhotoVerdict:
    """Show, blur (which faces) or hide a photo in `use`; anything unproven is not consented."""
    if hidden_by_staff:
        # Whatever the consents say: staff took the photo down (a family asked, say).
        return PhotoVerdict(
            use,
            VerdictAction.HIDE,
            (),
            Reason(N_("Staff hid this photo from every use.")),
            tuple(_face_verdict(face, use) for face in faces) if analysed else (),
        )
    if not analysed:
        return PhotoVerdict(
            use, VerdictAction.HIDE, (), Reason(N_("The photo has not been analysed yet."))
        )
    ids = [face.face_id for face in faces]
    if len(ids) != len(set(ids)):
        raise ValueError("face ids must be unique within a photo")

    verdicts = tuple(_face_verdict(face, use) for face in faces)
    hidden = tuple(v.face_id for v in verdicts if not v.visible)
    if not hidden:
        message = N_("Every face has consent.") if faces else N_("No faces found.")
        return PhotoVerdict(use, VerdictAction.SHOW, (), Reason(message), verdicts)
    count = str(len(hidden))
    if unconsented is UnconsentedAction.HIDE:
        return PhotoVerdict(
            use,
            VerdictAction.HIDE,
            (),
            Reason(
                N_("1 face without consent; this use hides such photos.")
                if len(hidden) == 1
                else N_("{count} faces without consent; this use hides such photos."),
                {"count": count},
            ),
            verdicts,
        )
    return PhotoVerdict(
        use,
        VerdictAction.BLUR,
        hidden,
        Reason(
            N_("1 face without consent is blurred.")
            if len(hidden) == 1
            else N_("{count} faces without consent are blurred."),
            {"count": count},
        ),
        verdicts,
    )


def review_crop_visible(*, status: FaceStatus, reviewed: bool, viewer_is_staff: bool) -> bool:
    """May a face be shown uncovered, cropped, in the staff review queue?

    Staff can only name a face they can see; the crop shows that one face and nothing else, and
    only while it awaits review. Everyone else, and every other face, gets nothing.
    """
    return (
        viewer_is_staff
        and not reviewed
        and status in (FaceStatus.UNCERTAIN, FaceStatus.UNKNOWN, FaceStatus.PENDING_REVIEW)
    )
