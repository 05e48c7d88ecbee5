"""Calendar arithmetic that every domain shares: pure, no time zones, no I/O."""

from __future__ import annotations

from datetime import date


def is_leap(year: int) -> bool:
    """Whether the year has a 29 February (Gregorian calendar)."""
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def years_after(*, day: date, years: int) -> date:
    """The same calendar day `years` later (earlier when negative); 29 February becomes
    28 February in common years, the day `consent.policy.age_on` counts a leap-day birthday."""
    year = day.year + years
    if (day.month, day.day) == (2, 29) and not is_leap(year):
        return date(year, 2, 28)
    return day.replace(year=year)
