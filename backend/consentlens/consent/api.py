"""Consent for integrations: effective consent per use, and recording decisions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlmodel import Session

from consentlens.audit.service import origin_of
from consentlens.auth.deps import CurrentStaff, Principal
from consentlens.consent import service as consent
from consentlens.core.api_errors import AUTHENTICATED, UNREADABLE_BODY, not_found, unprocessable
from consentlens.core.db import SessionDep
from consentlens.core.ids import Id
from consentlens.core.tables import utcnow
from consentlens.people.children import get_child
from consentlens.people.guardians import get_guardian
from consentlens.people.models import Child

router = APIRouter(prefix="/api/v1", tags=["consent"], responses=AUTHENTICATED)


class EffectiveConsentPublic(BaseModel):
    use: str
    state: Literal["granted", "refused", "no_answer", "expired", "waiting"]
    granted: bool
    reason: str
    valid_until: datetime | None


class DecisionCreate(BaseModel):
    # No storage path is ever taken from a client (a path to another club's scan was accepted
    # once): scans come only from the paper-form page. Unknown fields are refused, not ignored,
    # so a client still sending `evidence_ref` learns that it is not kept.
    model_config = ConfigDict(extra="forbid")

    use: str = Field(description="A consent use code, e.g. `website`.")
    decision: Literal["granted", "refused"]
    guardian_id: Id | None = Field(default=None, description="The guardian who decided.")
    by_child: bool = Field(
        default=False, description="The child decided (from the co-consent age)."
    )
    # Not "online": that method means the guardian (or child) answered themselves on the consent
    # page, and staff recording it would make a forged answer look self-given.
    method: Literal["paper", "staff"] = Field(
        default="staff",
        description="`paper`: from a signed form; `staff`: told to staff (online answers are "
        "recorded only by the guardian's own consent page).",
    )
    decided_at: datetime | None = Field(
        default=None, description="When the decision was made (a paper form's date); default now."
    )

    @model_validator(mode="after")
    def _one_decider(self) -> DecisionCreate:
        if self.by_child == (self.guardian_id is not None):
            raise ValueError("give either guardian_id or by_child: true")
        if self.decided_at is not None and self.decided_at.tzinfo is None:
            raise ValueError("decided_at needs a time zone, e.g. 2026-11-24T10:00:00+01:00")
        return self


class DecisionPublic(BaseModel):
    id: int
    child_id: int
    use: str
    decision: Literal["granted", "refused"]
    party: str
    guardian_id: int | None
    method: str
    decided_at: datetime
    valid_until: datetime
    effective: EffectiveConsentPublic


def _child(session: Session, principal: Principal, child_id: int) -> Child:
    child = get_child(session=session, organisation=principal.organisation, child_id=child_id)
    if child is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "No such child.")
    return child


def _effective(
    session: Session, principal: Principal, child: Child
) -> list[EffectiveConsentPublic]:
    uses = consent.list_uses(session=session, organisation=principal.organisation)
    states = consent.effective_consents(
        session=session,
        organisation=principal.organisation,
        children=[child],
        uses=uses,
        now=utcnow(),
    )
    return [
        EffectiveConsentPublic(
            use=use.code,
            state=states[(child.id, use.code)].state.value,
            granted=states[(child.id, use.code)].granted,
            reason=str(states[(child.id, use.code)].reason),
            valid_until=states[(child.id, use.code)].valid_until,
        )
        for use in uses
    ]


@router.get(
    "/children/{child_id}/consents",
    response_model=list[EffectiveConsentPublic],
    responses=not_found("No such child"),
)
def read_consents(
    child_id: Id, session: SessionDep, principal: CurrentStaff
) -> list[EffectiveConsentPublic]:
    """The effective consent of a child for every use now, with the policy's reason."""
    return _effective(session, principal, _child(session, principal, child_id))


@router.post(
    "/children/{child_id}/consents",
    response_model=DecisionPublic,
    status_code=status.HTTP_201_CREATED,
    responses={
        **not_found("No such child"),
        **UNREADABLE_BODY,
        422: {"description": "Not recordable"},
    },
)
def create_decision(
    child_id: Id,
    payload: DecisionCreate,
    request: Request,
    session: SessionDep,
    principal: CurrentStaff,
) -> DecisionPublic:
    """Record one decision (append-only) by a guardian or by the child, and return the new state."""
    child = _child(session, principal, child_id)
    uses = {
        u.code: u for u in consent.list_uses(session=session, organisation=principal.organisation)
    }
    if payload.use not in uses:
        raise unprocessable(
            f"Unknown use '{payload.use}'; use one of {', '.join(uses)}.", "body", "use"
        )
    # Only this organisation's guardians: another club's account is "no guardian" here too.
    guardian = (
        get_guardian(
            session=session, organisation=principal.organisation, guardian_id=payload.guardian_id
        )
        if payload.guardian_id is not None
        else None
    )
    if payload.guardian_id is not None and guardian is None:
        raise unprocessable(f"No guardian with id {payload.guardian_id}.", "body", "guardian_id")
    try:
        decision = consent.record_decision(
            session=session,
            organisation=principal.organisation,
            child=child,
            use=uses[payload.use],
            granted=payload.decision == "granted",
            method=payload.method,
            now=utcnow(),
            guardian=guardian,
            by_child=payload.by_child,
            recorded_by=principal.user,
            decided_at=payload.decided_at,
            origin=origin_of(request),
        )
    except consent.ConsentError as error:
        raise unprocessable(str(error), "body") from error
    assert decision.id is not None
    effective = next(e for e in _effective(session, principal, child) if e.use == payload.use)
    return DecisionPublic(
        id=decision.id,
        child_id=child_id,
        use=payload.use,
        decision=payload.decision,
        party=decision.party,
        guardian_id=decision.guardian_id,
        method=decision.method,
        decided_at=decision.decided_at,
        valid_until=decision.valid_until,
        effective=effective,
    )
