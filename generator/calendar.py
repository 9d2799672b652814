"""Distribution dates: the deal's day of the month, or the next business day.

Business days come from the maintained ``holidays`` library (its version is
pinned in ``pyproject.toml`` because a calendar change moves dates).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

import holidays


@lru_cache(maxsize=None)
def _holidays(calendar: str, year: int) -> frozenset[dt.date]:
    if calendar == "NYSE":
        days = holidays.financial_holidays("NYSE", years=year)
    else:
        days = holidays.country_holidays(calendar, years=year)
    return frozenset(days.keys())


def is_business_day(day: dt.date, calendar: str) -> bool:
    return day.weekday() < 5 and day not in _holidays(calendar, day.year)


def next_business_day(day: dt.date, calendar: str) -> dt.date:
    """``day`` itself when banks are open, else the next day they are."""
    while not is_business_day(day, calendar):
        day += dt.timedelta(days=1)
    return day


def previous_business_day(day: dt.date, calendar: str) -> dt.date:
    while not is_business_day(day, calendar):
        day -= dt.timedelta(days=1)
    return day


def period_month(key: str) -> tuple[int, int]:
    year, month = key.split("-")
    return int(year), int(month)


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + n
    return index // 12, index % 12 + 1


@lru_cache(maxsize=4096)  # pure, and asked for every statement
def distribution_date(year: int, month: int, day: int, calendar: str) -> dt.date:
    """The distribution date of a month by the deal's rule."""
    return next_business_day(dt.date(year, month, day), calendar)


@lru_cache(maxsize=4096)  # pure, and asked for every statement
def record_date(distribution: dt.date, calendar: str, rule: str = "business_day_before") -> dt.date:
    """The record date by the deal's rule: the business day before the distribution date (a
    floating-rate book-entry certificate), or the last business day of the month before it."""
    if rule == "last_business_day_of_previous_month":
        return previous_business_day(distribution.replace(day=1) - dt.timedelta(days=1), calendar)
    return previous_business_day(distribution - dt.timedelta(days=1), calendar)


@lru_cache(maxsize=4096)  # pure, and asked for every statement
def business_days_before(day: dt.date, n: int, calendar: str) -> dt.date:
    """The business day ``n`` business days before ``day``."""
    for _ in range(n):
        day = previous_business_day(day - dt.timedelta(days=1), calendar)
    return day


def months_between(first: dt.date, later: dt.date) -> int:
    return (later.year - first.year) * 12 + (later.month - first.month)


def _closed_because(day: dt.date, calendar: str) -> str:
    if day.weekday() >= 5:
        return f"{day.isoformat()} is a {day.strftime('%A')}"
    if calendar == "NYSE":
        names = holidays.financial_holidays("NYSE", years=day.year)
    else:
        names = holidays.country_holidays(calendar, years=day.year)
    return f"{day.isoformat()} is {names.get(day, 'a bank holiday')}"


def why_business_day(nominal: dt.date, calendar: str) -> str:
    """Why the first business day on or after ``nominal`` falls where it does."""
    value = next_business_day(nominal, calendar)
    if value == nominal:
        return f"{nominal.isoformat()} is a business day ({calendar} calendar)"
    closed = []
    day = nominal
    while day < value:
        closed.append(_closed_because(day, calendar))
        day += dt.timedelta(days=1)
    return f"{', '.join(closed)} ({calendar} calendar): the next business day is {value.isoformat()}"
