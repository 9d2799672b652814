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
import io
from decimal import Decimal
from typing import Any, Iterable

from .number import places

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


__all__ = ["COLUMNS", "rows", "factor_file"]
