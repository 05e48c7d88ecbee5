"""Payloads of the people API: children with their groups and guardians."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from consentlens.core.api_types import IsoDate
from consentlens.core.ids import Id

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class GuardianIn(BaseModel):
    """A guardian to link: an existing account with this e-mail is reused, never duplicated."""

    model_config = ConfigDict(extra="forbid")

    full_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] = Field(
        description="Needed when no account with this e-mail exists yet."
    )
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    locale: Literal["nl", "fr", "en"] | None = Field(
        default=None, description="Language of the messages this guardian receives."
    )
    relation: Literal["parent", "guardian", "other"] = "parent"


class ChildCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: Name
    last_name: Name
    birth_date: IsoDate = Field(description="Not in the future and at most 25 years ago.")
    external_id: Annotated[str, StringConstraints(strip_whitespace=True, max_length=80)] | None = (
        Field(default=None, description="Your own id for the child, unique in the organisation.")
    )
    group_ids: list[Id] = Field(default_factory=list, description="Active groups to join.")
    guardians: list[GuardianIn] = Field(default_factory=list, max_length=10)


class GuardianPublic(BaseModel):
    id: int
    full_name: str
    email: str
    relation: str


class ChildPublic(BaseModel):
    id: int
    first_name: str
    last_name: str
    birth_date: date
    external_id: str | None
    group_ids: list[int]
    guardians: list[GuardianPublic]
    archived: bool
