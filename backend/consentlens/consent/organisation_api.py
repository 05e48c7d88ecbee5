"""The organisation as integrations see it: its settings and its consent uses."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from pydantic import BaseModel

from consentlens.auth.deps import CurrentStaff
from consentlens.consent import service as consent
from consentlens.core.api_errors import AUTHENTICATED
from consentlens.core.db import SessionDep

router = APIRouter(prefix="/api/v1", tags=["organisation"], responses=AUTHENTICATED)


class ConsentUsePublic(BaseModel):
    code: str
    applies_to_photos: bool
    unconsented_action: str
    labels: dict[str, str]


class OrganisationPublic(BaseModel):
    id: int
    name: str
    slug: str
    timezone: str
    default_locale: str
    season_end: date
    co_consent_age: int
    sole_consent_age: int
    require_all_guardians: bool
    retention_months: int
    uses: list[ConsentUsePublic]


@router.get("/organisation", response_model=OrganisationPublic)
def read_organisation(session: SessionDep, principal: CurrentStaff) -> OrganisationPublic:
    """The organisation the caller works for, with its consent uses (staff only)."""
    organisation = principal.organisation
    uses = consent.list_uses(session=session, organisation=organisation)
    return OrganisationPublic(
        **organisation.model_dump(
            include={
                "id",
                "name",
                "slug",
                "timezone",
                "default_locale",
                "season_end",
                "co_consent_age",
                "sole_consent_age",
                "require_all_guardians",
                "retention_months",
            }
        ),
        uses=[
            ConsentUsePublic(
                code=use.code,
                applies_to_photos=use.applies_to_photos,
                unconsented_action=use.unconsented_action,
                labels={"nl": use.label_nl, "fr": use.label_fr, "en": use.label_en},
            )
            for use in uses
        ],
    )
