"""Field types for JSON payloads whose pydantic defaults accept more than the schema documents."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BeforeValidator


def _not_a_number(value: object) -> object:
    # Lax pydantic reads 0 as 1970-01-01; the schema says a date is text (YYYY-MM-DD).
    if isinstance(value, int | float):
        raise ValueError("give the date as text, e.g. 2026-11-24")
    return value


IsoDate = Annotated[date, BeforeValidator(_not_a_number)]
