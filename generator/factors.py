"""The month's factor file: one CSV line per class of every deal of a batch, the figures data
vendors load each month (README, "The factor file").

Each line is read off the class's figures in the statement's figures record (its JSON, as
published): a statement rendered now and one published by an earlier run give their lines
alike.  The factor is rounded to eight places, the coupons (as percentages) to five and the
per-$1,000 amounts to six, half-up (the display rounding of every other output,
generator.number.places).
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import os
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Iterable, Sequence

from . import formats as fmt
from .load import PERIOD, deal_file_values, list_periods
from .model import DEAL_ID
from .number import places
from .pipeline import next_month, select_periods
from .publish import RECORD, RESTORE, PublishRefused, latest_version, read_record, version_name

#: The factor file's name in the output folder.
FACTOR_FILE = "factors.csv"
COLUMNS = ("cusip", "deal", "class", "distribution_date", "record_date", "factor", "coupon", "next_coupon",
           "principal_per_1000", "interest_per_1000", "losses_per_1000", "total_per_1000")


def _fixed(value: str | None, n: int, scale: int = 1) -> str:
    return "" if value is None else f"{places(Decimal(value) * scale, n):f}"


def rows(record: dict[str, Any]) -> list[tuple[str, ...]]:
    """The lines of the factor file of a statement's figures record (``to_plain`` of the
    statement, or its published JSON), one per class, in the deal's order."""
    out = []
    for c in record["classes"]:
        per = c["per_1000"] or {}
        out.append((c["cusip"] or "", record["deal_id"], c["name"], record["distribution_date"],
                    record["record_date"], _fixed(c["factor"], 8), _fixed(c["rate"], 5, 100),
                    _fixed(c["next_rate"], 5, 100), _fixed(per.get("principal"), 6), _fixed(per.get("interest"), 6),
                    _fixed(per.get("losses"), 6), _fixed(per.get("total"), 6)))
    return out


def factor_file(lines: Iterable[tuple[str, ...]]) -> bytes:
    """The file: its header, then the lines sorted by deal and distribution date (each deal's
    classes in its own order)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    indexed = list(enumerate(lines))
    writer.writerows(line for _, line in sorted(indexed, key=lambda x: (x[1][1], x[1][3], x[0])))
    return buffer.getvalue().encode("utf-8")


# ------------------------------------------------------------------ a failed deal's lines


def as_published(outcomes: Sequence[Any], period: str, out: Path) -> list[Any]:
    """Batch outcomes (in deal order) with each failed deal's lines: those of its statements of
    ``period`` that ``out`` has published, since a deal whose run now fails (a re-run that would
    change a published file, inputs that no longer read, a CUSIP or folder name another deal
    has) still has them published, and the factor file lists what is published.  Looked up
    once per deal id.  A record that cannot be read, or lines that would give a CUSIP another
    line has, leave the deal's lines out, and its outcome says why."""
    claimed = {line[0] for o in outcomes if o.ok for line in o.factors if line[0]}
    done: set[str] = set()
    settled = []
    for o in outcomes:
        name = Path(o.deal).name
        if o.ok or name in done:
            settled.append(o)
            continue
        done.add(name)
        lines, problems = published_lines(Path(o.deal), period, out)
        taken = sorted({line[0] for line in lines if line[0]} & claimed)
        if taken:
            problems = [f"{out / FACTOR_FILE}: lists none of {name}'s published classes: CUSIP {taken[0]} of its "
                        "published statement is another deal's line there (expected each CUSIP once in the file)"]
            lines = []
        claimed |= {line[0] for line in lines if line[0]}
        settled.append(dataclasses.replace(o, errors=o.errors + tuple(problems), factors=tuple(lines)))
    return settled


#: A statement's figures record as published: ``<deal-id>_<distribution date>[.revN].json``.
_RECORD_NAME = re.compile(r"(?P<stem>(?P<deal>[a-z0-9-]+)_(?P<date>[0-9]{4}-[0-9]{2}-[0-9]{2}))(?:\.rev[0-9]+)?\.json")


def published_id(deal_dir: Path) -> str:
    """The id a deal's statements are published under: its deal file's, when that file says one
    (a folder renamed since is refused, and its statements are still that id's), else its
    folder's name."""
    deal_id = deal_file_values(deal_dir).get("id")
    return deal_id if isinstance(deal_id, str) and re.fullmatch(DEAL_ID, deal_id) else Path(deal_dir).name


def published_lines(deal_dir: Path, period: str, out: Path) -> tuple[list[tuple[str, ...]], list[str]]:
    """The lines of the deal's statements of ``period`` published in ``out`` (each statement's
    latest version), and the problems of any such record that cannot be read.  Only the
    records of those months are read: their distribution dates fall in the month or, moved
    to a business day, in the next."""
    name = published_id(deal_dir)
    # every month of the run; for all, every month published too (one whose file is gone since)
    wanted = None if period == "all" else set(select_periods(list_periods(deal_dir), period))
    months = None if wanted is None else wanted | {next_month(m) for m in wanted}
    try:
        found = [m for entry in os.scandir(out) if (m := _RECORD_NAME.fullmatch(entry.name))]
    except OSError:
        return [], []
    stems = sorted({m["stem"]: m["date"] for m in found
                    if m["deal"] == name and (months is None or m["date"][:7] in months)}.items())
    lines: list[tuple[str, ...]] = []
    for stem_, date in stems:
        path = out / version_name(stem_, latest_version(out, stem_) or 0, fmt.FORMATS[RECORD][0])
        try:
            record = read_record(path)
            month = record.get("period")
            if not (isinstance(month, str) and PERIOD.fullmatch(month) and date[:7] in (month, next_month(month))):
                raise ValueError(f"its period {month!r} is not the month of its distribution date {date}")
            if wanted is None or month in wanted:
                lines += _checked_rows(record, name, date)
        except PublishRefused as exc:
            return [], [*exc.problems, _none_listed(out, name)]
        except (ValueError, TypeError, KeyError, AttributeError, ArithmeticError, RecursionError) as exc:
            why = str(exc) if isinstance(exc, ValueError) else f"{type(exc).__name__}: {exc}"
            return [], [f"{path}: the figures record of this published statement is damaged ({why}; {RESTORE})",
                        _none_listed(out, name)]
    return lines, []


def _none_listed(out: Path, name: str) -> str:
    return f"{out / FACTOR_FILE}: lists none of {name}'s published classes (its figures record above cannot be read)"


def _checked_rows(record: dict[str, Any], deal: str, date: str) -> list[tuple[str, ...]]:
    """:func:`rows` of a record read from disk, once it is the statement its name says, with
    every figure the lines read of the type the record gives it.  Raises ValueError."""
    if record.get("deal_id") != deal or record.get("distribution_date") != date:
        raise ValueError(f"it is the record of {record.get('deal_id')!r}'s {record.get('distribution_date')!r} "
                         f"statement, not {deal!r}'s {date!r}")
    _date(record.get("record_date"), "record_date")
    classes = record.get("classes")
    if not isinstance(classes, list) or not all(isinstance(c, dict) for c in classes):
        raise ValueError("its classes are not a list of classes")
    for i, c in enumerate(classes):
        if not isinstance(c.get("name"), str) or not isinstance(c.get("cusip"), (str, type(None))):
            raise ValueError(f"classes[{i}] has no name or a CUSIP that is not text")
        per = c.get("per_1000")
        if not isinstance(per, (dict, type(None))):
            raise ValueError(f"classes[{i}].per_1000 is not a mapping")
        figures = [("factor", c.get("factor")), ("rate", c.get("rate")), ("next_rate", c.get("next_rate"))]
        figures += [(f"per_1000.{k}", (per or {}).get(k)) for k in ("principal", "interest", "losses", "total")]
        for field_, value in figures:
            if value is not None and not _number(value):
                raise ValueError(f"classes[{i}].{field_} is {value!r}, not a number")
    return rows(record)


def _number(value: Any) -> bool:
    try:
        return isinstance(value, str) and value.isascii() and Decimal(value).is_finite()
    except InvalidOperation:
        return False


def _date(value: Any, field_: str) -> None:
    if not (isinstance(value, str) and value.isascii() and len(value) == 10):
        raise ValueError(f"{field_} is {value!r}, not a date")
    dt.date.fromisoformat(value)


__all__ = ["FACTOR_FILE", "COLUMNS", "rows", "factor_file", "as_published", "published_lines"]
