"""The statement's tables (generator.tables) as an Excel workbook and as one CSV file.

The workbook has a sheet per table: numbers are numbers, each with its number format
(money to the cent, rates as percentages, per-$1,000 amounts, factors), dates are dates,
flags are booleans; the header row is frozen and each column is sized to what it holds.
Its bytes depend only on the statement: XlsxWriter stamps every part of the file with a
fixed time, and the document's dates are the distribution date.

The CSV is long-format, one line per figure: ``table,row,column,figure,value``.  One file a
statement (not a folder of them) keeps a statement's formats published as one set, and a
reader that wants wide tables pivots on table, row and column; ``figure`` is the name
``remit explain`` takes, and ``value`` the record's exact decimal text.

A revised statement's workbook opens on its mark (sheets ``revision``: number, date, reason,
the file it supersedes; ``changes``: each figure changed, published and revised), its title
says REVISED, and its CSV starts with the same lines.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import xlsxwriter

from .statement import Revision, Statement
from .tables import NUMBER_FORMATS, Cell, Table, tables

#: The widest a column is sized (characters).
MAX_WIDTH = 60


def xlsx(statement: Statement, title: str, revision: Revision | None = None) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_numbers": False})
    created = dt.datetime.combine(statement.distribution_date, dt.time())
    subject = f"Distribution of {statement.distribution_date.isoformat()}"
    if revision is not None:
        title = f"REVISED (revision {revision.number}): {title}"
        subject += f", revision {revision.number} of {revision.date.isoformat()}"
    book.set_properties({"title": title, "subject": subject,
                         "created": created, "author": "remit", "comments": f"deal {statement.deal_id}"})
    formats = {kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
    header = book.add_format({"bold": True, "bottom": 1})
    for table in tables(statement, revision):
        _sheet(book.add_worksheet(table.name[:31]), table, formats, header)
    book.close()
    return buffer.getvalue()


def _sheet(sheet, table: Table, formats: dict, header) -> None:
    widths = [len(c) for c in table.columns]
    for col, name in enumerate(table.columns):
        sheet.write_string(0, col, name, header)
    for r, row in enumerate(table.rows, 1):
        for col, cell in enumerate(row):
            widths[col] = max(widths[col], len(_shown(cell)))
            _write(sheet, r, col, cell, formats)
    sheet.freeze_panes(1, 1)
    for col, width in enumerate(widths):
        sheet.set_column(col, col, min(MAX_WIDTH, width + 2))


def _write(sheet, row: int, col: int, cell: Cell, formats: dict) -> None:
    value, kind = cell.value, cell.kind
    if value is None:
        sheet.write_blank(row, col, None)
    elif kind == "flag":
        sheet.write_boolean(row, col, bool(value))
    elif kind == "date":
        sheet.write_datetime(row, col, dt.datetime.fromisoformat(value), formats["date"])
    elif kind in formats:
        sheet.write_number(row, col, Decimal(value) if isinstance(value, str) else value, formats[kind])
    else:
        sheet.write_string(row, col, str(value))


def _shown(cell: Cell) -> str:
    """About what a spreadsheet shows for the cell, for sizing its column."""
    if cell.value is None:
        return ""
    if cell.kind in ("money", "thousands"):
        return f"{Decimal(cell.value):,.2f}"
    if cell.kind in ("rate", "per1000", "factor", "number"):
        return f"{Decimal(cell.value):.8f}"[:12]
    return str(cell.value)


#: What a spreadsheet opening a CSV reads as the start of a formula (=1+2, @SUM(...), +A1, -A1,
#: a tab or carriage return before one).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
#: The kinds of cell whose text is a number (a negative amount starts with -, and is one).
_NUMBERS = ("money", "thousands", "rate", "per1000", "factor", "number", "count")


def _text(value: str) -> str:
    """A text cell as the CSV writes it: one a spreadsheet would run as a formula is written with
    an apostrophe before it, which shows it as the text it is (OWASP's advice)."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def long_csv(statement: Statement, revision: Revision | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(("table", "row", "column", "figure", "value"))
    for table in tables(statement, revision):
        for row in table.rows:
            label = _text(str(row[0].value))
            for name, cell in zip(table.columns, row):
                if not cell.figure:  # a label (the row's, a payment's words, a counterparty), not a figure
                    continue
                value = ("" if cell.value is None else str(cell.value).lower() if cell.kind == "flag"
                         else str(cell.value) if cell.kind in _NUMBERS else _text(str(cell.value)))
                writer.writerow((table.name, label, name, cell.figure, value))
    return out.getvalue().encode("utf-8")


__all__ = ["xlsx", "long_csv"]
