"""Paper consent forms copied in by staff: the fields checked (pure), the decisions recorded."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from sqlmodel import Session

from consentlens.audit import service as audit
from consentlens.auth.models import User
from consentlens.consent import evidence
from consentlens.consent import service as consent
from consentlens.consent.models import ConsentUse
from consentlens.core.i18n import N_
from consentlens.core.ids import parse_id
from consentlens.organisations.models import Organisation
from consentlens.people.models import Child

_ANSWERS = ("yes", "no")


class PaperFormError(ValueError):
    """A paper form that cannot be recorded; `messages` are msgids shown to staff."""

    def __init__(self, messages: list[str]) -> None:
        super().__init__(" ".join(messages))
        self.messages = messages


@dataclass(frozen=True)
class PaperForm:
    """A checked paper form: who signed it (no guardian: the child), when, and what it says."""

    guardian: User | None
    signed_on: date
    # Use code -> granted, for the uses ticked yes or no, in the order of the uses.
    answers: dict[str, bool]
    scan: bytes


def read_paper_form(
    *,
    values: Mapping[str, str],
    uses: Sequence[ConsentUse],
    guardians: Sequence[User],
    birth_date: date,
    today: date,
    scan: bytes,
) -> PaperForm:
    """The form's fields as a PaperForm, or PaperFormError naming every problem at once."""
    errors: list[str] = []
    signer = values.get("signer", "")
    guardian: User | None = None
    if (signer_id := parse_id(signer)) is not None:
        guardian = next((u for u in guardians if u.id == signer_id), None)
    if guardian is None and signer != "child":
        errors.append(N_("Choose who signed the form."))
    signed_on: date | None
    try:
        signed_on = date.fromisoformat(values.get("signed_on", ""))
    except ValueError:
        signed_on = None
        errors.append(N_("Fill in the date the form was signed."))
    # Checked here, not only by the service: a later date would be moved to now without a word.
    if signed_on is not None and signed_on > today:
        errors.append(N_("The date signed cannot be in the future."))
    if signed_on is not None and signed_on < birth_date:
        errors.append(N_("The date signed cannot be before the child's date of birth."))
    ticked = {u.code: values.get(f"use-{u.code}", "") for u in uses}
    if not any(answer in _ANSWERS for answer in ticked.values()):
        errors.append(N_("Tick yes or no for at least one use, as on the form."))
    if not scan:
        errors.append(N_("Add the scan or photo of the signed form."))
    if errors:
        raise PaperFormError(errors)
    assert signed_on is not None
    answers = {code: answer == "yes" for code, answer in ticked.items() if answer in _ANSWERS}
    return PaperForm(guardian=guardian, signed_on=signed_on, answers=answers, scan=scan)


def _signed_moment(signed_on: date, tz: str, now: datetime) -> datetime:
    """A paper form carries a date only: take noon that day, but never later than now."""
    return min(datetime.combine(signed_on, time(12, 0), tzinfo=ZoneInfo(tz)), now)


def record_paper_form(
    *,
    session: Session,
    organisation: Organisation,
    child: Child,
    uses: Sequence[ConsentUse],
    form: PaperForm,
    recorded_by: User,
    now: datetime,
    origin: audit.Origin | None = None,
) -> int:
    """Keep the scan and record each answer as a paper decision; returns how many were recorded.

    All or nothing: if the scan or one decision is refused (PaperFormError), the savepoint
    drops every decision recorded so far and the scan file with it (`evidence.store_scan`),
    while the request's transaction goes on to commit normally.
    """
    assert organisation.id is not None
    saved = 0
    try:
        with session.begin_nested():
            reference = evidence.store_scan(
                session=session, data=form.scan, organisation_id=organisation.id
            )
            decided_at = _signed_moment(form.signed_on, organisation.timezone, now)
            for use in uses:
                if use.code not in form.answers:
                    continue
                consent.record_decision(
                    session=session,
                    organisation=organisation,
                    child=child,
                    use=use,
                    granted=form.answers[use.code],
                    method="paper",
                    now=now,
                    guardian=form.guardian,
                    by_child=form.guardian is None,
                    recorded_by=recorded_by,
                    decided_at=decided_at,
                    evidence_ref=reference,
                    origin=origin,
                )
                saved += 1
    except (evidence.EvidenceError, consent.ConsentError) as error:
        raise PaperFormError([str(error)]) from error
    return saved
