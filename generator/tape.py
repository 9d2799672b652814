"""A servicer's loan-level tape, read and checked cell by cell and loan by loan.

The servicer's mapping (``servicer.yaml``) says how its tape is written: columns, delimiter,
encoding, number and date formats, status and group codes.  polars reads every cell as text
(no type is guessed, so nothing becomes a float); each cell is checked against its pattern
and turned into an exact integer: whole cents (Int64), billionths of a rate, months, dates.
Then each loan is checked on its own (no loan twice, the balance rolls, the status agrees
with the amounts, rate and term in range).  :mod:`generator.intake` ties tapes together and
aggregates them.  Every problem is ``tape.csv:ROW:COLUMN: what is wrong (expected ...)``.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import hashlib
import io
import re
import zlib
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

import polars as pl
from pydantic import Field, model_validator

from .model import FIRST_DATE, LAST_DATE, LOAN_NUMBER, LOAN_NUMBER_EXPECTED, Flag, GroupName, Strict, Text
from .source import InputError, InputErrors, SourceMap, read_input, shown

#: Largest tape read: 1 GiB (a 10,000-loan tape is about 2 MB).
MAX_TAPE_BYTES = 1 << 30
#: Most problems listed for one check of one tape; the rest are counted on one more line.
MAX_LISTED = 50

#: A note rate is kept as a whole number of billionths (0.10125 is 101,250,000).
RATE_SCALE = 10**9


# --------------------------------------------------------------------------- the mapping

#: What a row of the tape says about a loan: our name for each field, its kind, whether every
#: mapping must name a column for it, and what it is.
TAPE_FIELDS: dict[str, tuple[str, bool, str]] = {
    "loan_id": ("id", True, "the servicer's loan number"),
    "group": ("group", False, "the loan group's code (a deal with loan groups)"),
    "as_of": ("date", False, "the tape's reporting date: the last day of the month before the distribution"),
    "beginning_balance": ("money", True, "stated principal balance at the start of the period"),
    "scheduled_principal": ("money", True, "scheduled principal collected or advanced"),
    "curtailment": ("money", True, "partial prepayment"),
    "payoff": ("money", True, "principal paid in full"),
    "liquidated_balance": ("money", False, "stated balance of a loan liquidated this period"),
    "liquidation_proceeds": ("money", False, "net liquidation proceeds"),
    "repurchased_balance": ("money", False, "stated balance of a loan repurchased this period"),
    "ending_balance": ("money", True, "stated principal balance at the end of the period"),
    "actual_balance": ("money", False, "unpaid principal balance: what the borrower owes (default: the ending "
                                       "stated balance)"),
    "interest": ("money", True, "interest remitted: collected, advanced and compensating, before the fees"),
    "advance": ("money", False, "P&I advanced by the servicer"),
    "prepayment_charge": ("money", False, "prepayment charge collected"),
    "prepayment_interest_shortfall": ("money", False, "interest lost to a prepayment in full mid-month"),
    "compensating_interest": ("money", False, "the part of it the servicer covered"),
    "relief_act_shortfall": ("money", False, "interest lost to the Servicemembers Civil Relief Act"),
    "note_rate": ("rate", True, "the loan's note rate at the start of the period"),
    "remaining_term": ("count", True, "months to maturity"),
    "next_due_date": ("date", True, "the oldest unpaid due date"),
    "status": ("status", True, "the loan's state at the reporting date (a code of status_codes)"),
    "reo_book_value": ("money", False, "book value of the REO property"),
    "modified": ("flag", False, "whether the loan's terms were modified (a code of flags)"),
}
MONEY_FIELDS = tuple(name for name, (kind, _, _) in TAPE_FIELDS.items() if kind == "money")

TapeField = Literal[tuple(TAPE_FIELDS)]  # type: ignore[valid-type]
State = Literal["current", "days_30", "days_60", "days_90_plus", "foreclosure", "reo", "bankruptcy",
                "paid_in_full", "liquidated", "repurchased"]
#: States of a loan still in the pool whose delinquency intake counts itself, by the deal's method.
PERFORMING = ("current", "days_30", "days_60", "days_90_plus")
#: States of a loan that left the pool this period, and the amount that took it out.
LEAVING = {"paid_in_full": "payoff", "liquidated": "liquidated_balance", "repurchased": "repurchased_balance"}


class TapeFormat(Strict):
    delimiter: Literal[",", ";", "|", "\t"] = Field(description="What separates the cells of a row.")
    encoding: Literal["utf-8", "utf-8-sig", "cp1252", "latin-1"] = Field(
        description="The text encoding (utf-8-sig: UTF-8 with a byte-order mark, as Excel writes it).")
    decimal: Literal[".", ","] = Field(description="The decimal separator of amounts and rates.")
    thousands: Literal["", ",", ".", " ", "'"] = Field(description="The thousands separator of amounts "
                                                                   "(empty: none).")
    date: Literal["%Y-%m-%d", "%m/%d/%Y", "%d/%m/%Y", "%d.%m.%Y", "%Y%m%d"] = Field(
        description="How dates are written (strftime codes).")
    rate: Literal["percent", "fraction"] = Field(description="Note rates in percent (10.125) or as a fraction "
                                                             "(0.10125).")

    @model_validator(mode="after")
    def _separators(self) -> TapeFormat:
        if self.thousands == self.decimal:
            raise ValueError(f"thousands and decimal are both {self.decimal!r} (expected two different separators)")
        return self


class Mapping(Strict):
    """How one servicer writes its tape: ``servicer.yaml`` beside a deal, or shared by several."""

    servicer: Text = Field(description="The servicer's name.")
    format: TapeFormat = Field(description="Delimiter, encoding, number and date formats.")
    columns: dict[TapeField, Text] = Field(description="Our field: the servicer's column header.")
    ignore: tuple[Text, ...] = Field((), description="Columns of the tape intake does not read.")
    status_codes: dict[Text, State] = Field(description="The servicer's status code: the loan's state.")
    groups: dict[Text, GroupName] = Field({}, description="The servicer's group code: the deal's loan group.")
    flags: dict[Text, Flag] = Field({}, description="The servicer's yes/no codes (the modified column).")


def check_mapping(mapping: Mapping, src: SourceMap, groups: tuple[str, ...]) -> list[InputError]:
    """Rules that tie a mapping's fields together, and it to the deal's loan groups: each error at
    the entry it is about."""
    errors: list[InputError] = []
    missing = [name for name, (_, required, _) in TAPE_FIELDS.items() if required and name not in mapping.columns]
    if missing:
        errors.append(src.error(("columns",), f"names no column for {', '.join(missing)} (expected a column for "
                                              "every field a tape must have)"))
    seen: dict[str, str] = {}
    for name, header in mapping.columns.items():
        if header in seen:
            errors.append(src.error(("columns", name), f"reads column {header!r}, which {seen[header]} reads too "
                                                       "(expected each column read once)"))
        seen.setdefault(header, name)
    for i, header in enumerate(mapping.ignore):
        if header in seen:
            errors.append(src.error(("ignore", i), f"{header!r} is a column columns: reads, as {seen[header]} "
                                                   "(expected a column either read or ignored)"))
    if "modified" in mapping.columns and not mapping.flags:
        errors.append(src.error(("columns", "modified"), "a yes/no column needs flags: (expected the servicer's "
                                                         "codes for yes and no, e.g. flags: {Y: true, N: false})"))
    if "group" in mapping.columns and not mapping.groups:
        example = ", ".join(f'"{i}": {g}' for i, g in enumerate(groups or ("fixed",), 1))
        errors.append(src.error(("columns", "group"), "a group column needs groups: (expected the servicer's code "
                                                      f"for each loan group, e.g. groups: {{{example}}})"))
    for code, group in mapping.groups.items():
        if group not in groups:
            errors.append(src.error(("groups", code), f"{group!r} is not a loan group of the deal (expected: "
                                                      f"{', '.join(groups) or 'none, it has one pool'})"))
    if groups and "group" not in mapping.columns:
        errors.append(src.error(("columns",), "the deal has loan groups but no group column is named (expected "
                                              "columns: group: ...)"))
    return sorted(errors, key=lambda e: e.line)



# --------------------------------------------------------------------------- errors


@dataclass(frozen=True, slots=True)
class TapeError(InputError):
    """A problem in one cell of a tape: ``tape.csv:ROW:COLUMN: what is wrong (expected ...)``."""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        column = self.field if _PLAIN_HEADER.fullmatch(self.field) else shown(self.field)
        return f"{where}:{column}: {self.message}" if self.field else f"{where}: {self.message}"


#: A column header printed as it is; any other (a control character, a colon, very long) is quoted.
_PLAIN_HEADER = re.compile(r"[A-Za-z0-9_ .()#%/&+-]{1,60}")


class Problems:
    """Every problem found, each check's list cut at :data:`MAX_LISTED`."""

    def __init__(self) -> None:
        self.errors: list[InputError] = []
        self._after: dict[int, int] = {}  # a "... and more" line's place in errors -> the error it follows

    def add(self, error: InputError) -> None:
        self.errors.append(error)

    def rows(self, tape: Tape, frame: pl.DataFrame, column: str, message) -> None:
        """One error per row of ``frame`` (its ``row`` and the fields ``message`` reads)."""
        header = tape.headers.get(column, column)
        for i, row in enumerate(frame.iter_rows(named=True)):
            if i == MAX_LISTED:
                self._after[len(self.errors)] = len(self.errors) - 1
                self.add(TapeError(tape.name, 0, "", f"... and {len(frame) - MAX_LISTED:,} more rows like the "
                                                     f"last in column {header}"))
                break
            self.add(TapeError(tape.name, row["row"], header, message(row)))

    def told(self) -> InputErrors:
        """Every problem, file by file in the order first met, row by row (each check's problems
        of one row in the order checked; a list cut short told after its last row), then those of
        the file as a whole (its totals, which its rows' problems often explain)."""
        files = {e.file: i for i, e in reversed(list(enumerate(self.errors)))}
        told = sorted((i for i in range(len(self.errors)) if i not in self._after), key=lambda i: (
            files[self.errors[i].file], self.errors[i].line == 0, self.errors[i].line, i))
        more = {after: i for i, after in self._after.items()}
        return InputErrors([self.errors[j] for i in told for j in ((i, more[i]) if i in more else (i,))])


def money_text(cents: int) -> str:
    return f"{Decimal(cents).scaleb(-2):,.2f}"


def rate_text(billionths: int) -> str:
    """A note rate kept in billionths, as a fraction: 101250000 -> "0.10125"."""
    return f"{Decimal(billionths).scaleb(-9).normalize():f}"


# --------------------------------------------------------------------------- reading a tape


@dataclass
class Tape:
    """A tape read: its rows as exact values (cents, billionths, months, dates), with each
    row's number in the file (the header is row 1)."""

    name: str
    sha256: str
    frame: pl.DataFrame
    headers: dict[str, str]  # our field: the servicer's column
    mapping: Mapping

    @property
    def rows(self) -> int:
        """Loans on the tape."""
        return self.frame.height


def _decode(raw: bytes, name: str, fmt: TapeFormat) -> bytes:
    """The tape's bytes as UTF-8 (what polars reads)."""
    gz = name.lower().endswith(".gz")
    if not gz and raw.startswith(b"\x1f\x8b"):
        raise InputErrors([TapeError(name, 0, "", "is compressed with gzip but its name does not end .gz (expected "
                                                  "a name ending .csv.gz for a compressed tape)")])
    if gz:
        try:  # measured a megabyte at a time before it is kept: a small file inflating to terabytes is
            # refused having held no more than that
            with gzip.GzipFile(fileobj=io.BytesIO(raw)) as unzipped:
                size = 0
                while size <= MAX_TAPE_BYTES and (chunk := unzipped.read(1 << 20)):
                    size += len(chunk)
            if size > MAX_TAPE_BYTES:
                raise InputErrors([TapeError(name, 0, "", f"holds more than {MAX_TAPE_BYTES:,} bytes once "
                                                          "decompressed (expected a tape of at most that)")])
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise InputErrors([TapeError(name, 0, "", f"is not a readable gzip file ({exc}) (expected a CSV "
                                                      "file, or one compressed with gzip)")]) from None
    try:
        text = raw.decode(fmt.encoding)
    except UnicodeDecodeError as exc:
        row = raw.count(b"\n", 0, exc.start) + 1
        line_start = raw.rfind(b"\n", 0, exc.start) + 1
        header_end = raw.find(b"\n")
        header = raw[:header_end if header_end >= 0 else len(raw)].decode(fmt.encoding, "replace")
        before = raw[line_start:exc.start].decode(fmt.encoding, "replace")
        try:
            column_no = len(next(csv.reader([before + "x"], delimiter=fmt.delimiter), [""])) - 1
            columns = next(csv.reader([header.lstrip("\ufeff")], delimiter=fmt.delimiter), [])
        except csv.Error:  # a header or row that is not CSV either (a carriage return in it): no column to name
            column_no, columns = 0, []
        column = columns[column_no] if column_no < len(columns) else f"column {column_no + 1}"
        raise InputErrors([TapeError(name, row, column, f"byte {raw[exc.start:exc.end]!r} is not {fmt.encoding} "
                                                        f"text (expected the mapping's encoding, {fmt.encoding})")])
    if fmt.encoding == "utf-8" and not text.startswith("\ufeff"):
        return raw
    return text.lstrip("\ufeff").encode("utf-8")


def _records(data: bytes, name: str, fmt: TapeFormat):
    """The header, then each data row with the line it starts on (the header is line 1), read
    by Python's csv module: for what polars does not say (looked for only when needed)."""
    reader = csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=fmt.delimiter)
    rows = []
    last = 0
    try:
        header = next(reader, [])
        last = reader.line_num
        for cells in reader:
            if any(c.strip() for c in cells):  # a row with no value in any cell is no loan's
                rows.append((last + 1, cells))
            last = reader.line_num
    except csv.Error as exc:  # a cell over the csv module's limit, a stray carriage return, ...
        raise InputErrors([TapeError(name, last + 1, "", f"is not a CSV row that can be read ({exc}) (expected "
                                                         "cells separated by the mapping's delimiter, one row a "
                                                         "line)")]) from None
    return header, rows


def _ragged(data: bytes, name: str, fmt: TapeFormat) -> list[InputError]:
    """Rows whose number of cells is not the header's, read by the csv module (when polars refuses
    the tape, or a quoted cell holds a line break)."""
    header, rows = _records(data, name, fmt)
    out = [TapeError(name, line, "", f"has {len(cells)} cells (expected {len(header)}, one per column of the "
                                     "header)") for line, cells in rows if len(cells) != len(header)]
    return out[:MAX_LISTED]


def _quoted_breaks(data: bytes, rows: int) -> bool:
    """Whether a quoted cell holds a line break: the tape has more lines than polars read rows."""
    return data.count(b"\n") - (0 if data.endswith(b"\n") else -1) != rows + 1


def _short_or_long_rows(data: bytes, name: str, fmt: TapeFormat, rows: int) -> list[InputError]:
    """Rows whose number of cells is not the header's.  Each line's separators outside quotes are
    counted at once (by polars); a tape whose quoted cells hold line breaks is read by the csv
    module instead, row by row."""
    if _quoted_breaks(data, rows):
        return _ragged(data, name, fmt)
    lines = pl.Series(data.decode("utf-8").split("\n"))
    cells = lines.str.replace_all('"[^"]*"', "").str.count_matches(fmt.delimiter, literal=True) + 1
    frame = pl.DataFrame({"line": pl.int_range(1, len(lines) + 1, eager=True), "cells": cells,
                          "blank": lines.str.strip_chars() == ""})
    expected = frame["cells"][0]
    bad = frame.filter(~pl.col("blank") & (pl.col("cells") != expected) & (pl.col("line") > 1)).head(MAX_LISTED)
    return [TapeError(name, line, "", f"has {n} cells (expected {expected}, one per column of the header)")
            for line, n in bad.select("line", "cells").iter_rows()]


#: The most digits before the decimal point: an amount up to the model's largest (15 digits),
#: a rate up to 100 (percent); more is refused before it could overflow a 64-bit integer.
WHOLE_DIGITS = {2: 15, 7: 3, 9: 3}


def _number_pattern(fmt: TapeFormat, places: int, digits: int | None = None) -> str:
    t, d = re.escape(fmt.thousands), re.escape(fmt.decimal)
    n = digits or WHOLE_DIGITS[places]
    groups = (n - 1) // 3
    whole = (rf"(?:[0-9]{{1,3}}(?:{t}[0-9]{{3}}){{1,{groups}}}|[0-9]{{1,{n}}})" if fmt.thousands and groups
             else rf"[0-9]{{1,{n}}}")
    return rf"^{whole}(?:{d}[0-9]{{1,{places}}})?$"


def _scaled(col: pl.Expr, fmt: TapeFormat, places: int) -> pl.Expr:
    """A checked number's text as a whole number of 10**-places units (Int64)."""
    plain = col.str.replace_all(fmt.thousands, "", literal=True) if fmt.thousands else col
    parts = plain.str.split_exact(fmt.decimal, 1)
    frac = parts.struct.field("field_1").fill_null("").str.pad_end(places, "0")
    return parts.struct.field("field_0").cast(pl.Int64) * (10**places) + frac.cast(pl.Int64)


def _number_problem(text: str | None, fmt: TapeFormat, places: int, what: str) -> str:
    if text is None or text == "":
        return f"is empty (expected {what})"
    loose = _number_pattern(fmt, 99, 99)
    if text.startswith("-") and re.fullmatch(loose, text[1:]):
        return f"{shown(text)} is negative (expected {what}, 0 or more)"
    if re.fullmatch(_number_pattern(fmt, 99, WHOLE_DIGITS[places]), text):
        return f"{shown(text)} has more than {places} decimal places (expected {what})"
    if re.fullmatch(loose, text):
        return f"{shown(text)} is too large (expected {what}, at most {WHOLE_DIGITS[places]} digits before the point)"
    sep = f"{fmt.decimal!r} for decimals" + (f", {fmt.thousands!r} between thousands" if fmt.thousands else "")
    return f"{shown(text)} is not a number (expected {what}, written with {sep})"


#: The most columns a tape's header may have, and the longest a line may be on average: a
#: tape row is a few hundred bytes.  Past them a file is no tape (a header of 100,000 empty
#: columns, a gigabyte on one line), refused before it is parsed into gigabytes of memory.
MAX_COLUMNS = 1_000
MAX_LINE = 1 << 16


def _check_shape(data: bytes, name: str, fmt: TapeFormat) -> None:
    end = data.find(b"\n")
    header = data[:end if end >= 0 else MAX_LINE + 1]
    columns = header.count(fmt.delimiter.encode("utf-8")) + 1
    if columns > MAX_COLUMNS:
        raise InputErrors([TapeError(name, 1, "", f"the header has {columns:,} columns (expected a tape's, at most "
                                                  f"{MAX_COLUMNS:,})")])
    if b"\n" not in data and b"\r" in data:
        raise InputErrors([TapeError(name, 0, "", "its lines end in a carriage return alone (expected lines ending "
                                                  "in a line feed, or a carriage return and a line feed)")])
    if len(data) > MAX_LINE:  # a file shorter than that has no line longer
        longest = max(map(len, data.split(b"\n")))
        if longest > MAX_LINE:
            line = next(i for i, x in enumerate(data.split(b"\n"), 1) if len(x) == longest)
            raise InputErrors([TapeError(name, line, "", f"is a line of {longest:,} bytes (expected a row per line, "
                                                         f"each a few hundred bytes, at most {MAX_LINE:,})")])


def _read_text(data: bytes, name: str, fmt: TapeFormat) -> pl.DataFrame:
    """Every cell of the tape as text (no type guessed), or every reason it cannot be read."""
    try:
        frame = pl.read_csv(data, separator=fmt.delimiter, infer_schema=False, has_header=True, quote_char='"',
                            empty_string_is_null=False, raise_if_empty=False)
    except pl.exceptions.PolarsError as exc:
        problems = _ragged(data, name, fmt) or [TapeError(name, 0, "", f"is not a CSV file polars can read "
                                                                      f"({str(exc).splitlines()[0]})")]
        raise InputErrors(problems) from None
    if frame.width == 0 or frame.height == 0:
        raise InputErrors([TapeError(name, 2 if frame.width else 1, "", "the tape has no loans (expected a header "
                                                                        "row, then one row per loan)")])
    return frame


def _check_header(frame: pl.DataFrame, mapping: Mapping, name: str, data: bytes, mapped_at: dict[str, str]) -> None:
    """Every column the mapping reads is on the tape once, and every column on it the mapping
    knows.  ``mapped_at``: where the mapping names each field's column (``file:line``)."""
    problems = Problems()
    headers = dict(mapping.columns)
    present = list(frame.columns)
    if any("_duplicated_" in h for h in present):  # polars renames a second column of a name: say it as written
        first_line = data.split(b"\n", 1)[0].rstrip(b"\r")
        written = next(csv.reader([first_line.decode("utf-8")], delimiter=mapping.format.delimiter), [])
        seen: dict[str, list[int]] = {}
        for i, h in enumerate(written, 1):
            seen.setdefault(h.strip(), []).append(i)
        for h, where in seen.items():
            if len(where) > 1:
                problems.add(TapeError(name, 1, h, f"column appears {'twice' if len(where) == 2 else f'{len(where)} times'} (columns "
                                                   f"{', '.join(map(str, where[:-1]))} and {where[-1]}) (expected "
                                                   "each column once)"))
        raise problems.told()
    known = set(headers.values()) | set(mapping.ignore)
    unknown = [h for h in present if h not in known]
    for header in unknown[:MAX_LISTED]:
        problems.add(TapeError(name, 1, header, "unknown column (expected one the mapping reads, under "
                                                "columns:, or lists under ignore:)"))
    if len(unknown) > MAX_LISTED:
        problems.add(TapeError(name, 1, "", f"... and {len(unknown) - MAX_LISTED:,} more unknown columns"))
    for f, header in headers.items():
        if header not in present:
            at = f", as {mapped_at[f]} maps it" if f in mapped_at else ""
            problems.add(TapeError(name, 1, header, f"column is missing (expected it for {f}: "
                                                    f"{TAPE_FIELDS[f][2]}{at})"))
    if problems.errors:
        raise problems.told()


def _date_shape(style: str) -> str:
    """The digits a date written ``style`` has: each field its full width, nothing else (the
    parser alone takes a sign, or a month or day without its zero)."""
    return "^" + re.escape(style).replace("%Y", "[0-9]{4}").replace("%m", "[0-9]{2}").replace("%d", "[0-9]{2}") + "$"


def _date_problem(text: str | None, fmt: TapeFormat) -> str:
    four = ", its year in four digits" if "%Y" in fmt.date else ""
    expected = f"a date such as {dt.date(2024, 1, 31).strftime(fmt.date)}{four}"
    if not text:
        return f"is empty (expected {expected})"
    return f"{shown(text)} is not a date written {fmt.date} (expected {expected})"


def _dates(f: str, col: pl.Expr, fmt: TapeFormat) -> tuple[pl.Expr, list[tuple[str, pl.Expr, Any]]]:
    """A date column's dates, and its checks: each cell a date written as the mapping says, and
    one every input may hold (a year written in two digits, ``06/01/24`` read by ``%Y``, would
    otherwise be the year 24, and a current loan 2,000 years delinquent)."""
    day = col.str.strptime(pl.Date, fmt.date, strict=False)
    unread = ~col.str.contains(_date_shape(fmt.date)).fill_null(False) | day.is_null()
    return day, [(f, unread, lambda r: _date_problem(r[f], fmt)),
                 (f, ~unread & ~day.is_between(FIRST_DATE, LAST_DATE),
                  lambda r: f"date {shown(r[f])} is out of range (expected a date from {FIRST_DATE:{fmt.date}} to "
                            f"{LAST_DATE:{fmt.date}})")]


def read_tape(path: Path, mapping: Mapping, name: str | None = None, max_note_rate: Decimal = Decimal("0.25"),
              max_term: int = 480, mapped_at: dict[str, str] | None = None) -> Tape:
    """Read and check one tape cell by cell; raise :class:`InputErrors` with every problem.
    ``mapped_at``: where the mapping names each field's column, for a column the tape lacks."""
    name = name or str(path)
    fmt = mapping.format
    raw = read_input(Path(path), name, limit=MAX_TAPE_BYTES, what="a servicer's tape")
    sha = hashlib.sha256(raw).hexdigest()
    data = _decode(raw, name, fmt)
    _check_shape(data, name, fmt)
    text_frame = _read_text(data, name, fmt)
    # polars pads a short row with empty cells: a row missing one would have the ones after it
    # read from the wrong columns (a payoff as a curtailment).  Every row's cells are counted.
    ragged = _short_or_long_rows(data, name, fmt, text_frame.height)
    if ragged:
        raise InputErrors(ragged)
    _check_header(text_frame, mapping, name, data, mapped_at or {})
    headers = dict(mapping.columns)
    problems = Problems()

    # a row with no value in any cell (a blank line, one at the end of the file) holds no loan: skipped
    blank = pl.all_horizontal([pl.col(c).fill_null("").str.strip_chars() == "" for c in text_frame.columns])
    frame = text_frame.select([pl.col(h).str.strip_chars().alias(f) for f, h in headers.items()] + [blank.alias("_blank")])
    frame = frame.with_row_index("row", offset=2)
    frame = frame.filter(~pl.col("_blank")).drop("_blank")
    if not frame.height:
        raise InputErrors([TapeError(name, 2, "", "the tape has no loans (expected a header row, then one row per "
                                                  "loan)")])
    if _quoted_breaks(data, text_frame.height):
        # a quoted cell holds a line break: rows are no longer lines, so number each by its first line
        lines = [line for line, _ in _records(data, name, fmt)[1]]
        frame = frame.with_columns(pl.Series("row", lines, dtype=pl.Int64)[:frame.height])
    tape = Tape(name, sha, frame, headers, mapping)
    parsed: list[pl.Expr] = [pl.col("row"), pl.col("loan_id")]
    checks: list[tuple[str, pl.Expr, Any]] = []  # field, bad-cell mask, message(row)

    bad_id = ~pl.col("loan_id").str.contains(f"^{LOAN_NUMBER}$")
    checks.append(("loan_id", bad_id, lambda r: f"{shown(r['loan_id'])} is not a loan number (expected "
                                               f"{LOAN_NUMBER_EXPECTED})"))
    for f in headers:
        kind = TAPE_FIELDS[f][0]
        col = pl.col(f)
        if kind == "money":
            pattern = _number_pattern(fmt, 2)
            checks.append((f, ~col.str.contains(pattern).fill_null(False),
                           lambda r, f=f: _number_problem(r[f], fmt, 2, "an amount in dollars and cents")))
            parsed.append(_scaled(col, fmt, 2).alias(f))
        elif kind == "rate":
            places = 7 if fmt.rate == "percent" else 9
            pattern = _number_pattern(fmt, places)
            what = "a rate in percent" if fmt.rate == "percent" else "a rate as a fraction"
            checks.append((f, ~col.str.contains(pattern).fill_null(False),
                           lambda r, f=f, places=places, what=what: _number_problem(r[f], fmt, places, what)))
            # percent to 7 places and a fraction to 9 are both billionths of the rate
            parsed.append(_scaled(col, fmt, places).alias(f))
        elif kind == "count":
            checks.append((f, ~col.str.contains(r"^[0-9]{1,9}$").fill_null(False),
                           lambda r, f=f: f"{shown(r[f]) + ' is not' if r[f] else 'is empty, not'} a whole number "
                                          "of months (expected digits only)"))
            parsed.append(col.cast(pl.Int64).alias(f))
        elif kind == "date":
            day, date_checks = _dates(f, col, fmt)
            checks += date_checks
            parsed.append(day.alias(f))
        elif kind in ("status", "group", "flag"):  # a code of the mapping, for what it stands for
            codes, dtype = {"status": (dict(mapping.status_codes), pl.String),
                            "group": (dict(mapping.groups), pl.String),
                            "flag": ({k: bool(v) for k, v in mapping.flags.items()}, pl.Boolean)}[kind]
            checks.append((f, ~col.is_in(list(codes)), lambda r, f=f, kind=kind, codes=codes: (
                f"{shown(r[f]) + ' is not' if r[f] else 'is empty, not'} a {kind} code of the mapping (expected "
                f"one of: {', '.join(codes)})")))
            parsed.append(col.replace_strict(codes, default=None, return_dtype=dtype).alias(f))
    masks = frame.select([m.alias(f"bad_{i}") for i, (_, m, _) in enumerate(checks)])
    for i, (f, _, message) in enumerate(checks):
        bad = frame.filter(masks[f"bad_{i}"])
        if bad.height:
            problems.rows(tape, bad, f, message)
    if problems.errors:  # the rows whose every cell reads are checked loan by loan too, all reported at once
        frame = frame.filter(~masks.select(pl.any_horizontal(pl.all())).to_series())

    values = frame.select(parsed)  # every cell left is checked: each parses
    zero = pl.lit(0, dtype=pl.Int64)
    values = values.with_columns([zero.alias(f) for f in MONEY_FIELDS if f not in values.columns])
    if "actual_balance" not in headers:
        values = values.with_columns(pl.col("ending_balance").alias("actual_balance"))
    if "group" not in values.columns:
        values = values.with_columns(pl.lit("", dtype=pl.String).alias("group"))
    if "modified" not in values.columns:
        values = values.with_columns(pl.lit(False).alias("modified"))
    tape.frame = values
    _check_rows(tape, problems, max_note_rate, max_term)
    if problems.errors:
        raise problems.told()
    return tape


def _check_rows(tape: Tape, problems: Problems, max_note_rate: Decimal, max_term: int) -> None:
    """Each loan on its own: no loan twice, the balance rolls, the status agrees with the amounts."""
    f = tape.frame
    dup = f.filter(pl.col("loan_id").is_duplicated())
    if dup.height:
        first = dup.group_by("loan_id").agg(pl.col("row").min().alias("first"))
        later = dup.join(first, on="loan_id").filter(pl.col("row") != pl.col("first")).sort("row")
        problems.rows(tape, later, "loan_id", lambda r: f"loan {r['loan_id']} is also on row {r['first']} "
                                                        "(expected each loan once)")
    rolled = (pl.col("beginning_balance") - pl.col("scheduled_principal") - pl.col("curtailment") - pl.col("payoff")
              - pl.col("liquidated_balance") - pl.col("repurchased_balance"))
    bad = f.with_columns(rolled.alias("rolled")).filter(pl.col("ending_balance") != pl.col("rolled"))
    problems.rows(tape, bad, "ending_balance", lambda r: (
        f"ending balance {money_text(r['ending_balance'])} does not roll from the beginning balance: "
        f"{money_text(r['beginning_balance'])} - scheduled {money_text(r['scheduled_principal'])} - curtailment "
        f"{money_text(r['curtailment'])} - payoff {money_text(r['payoff'])} - liquidated {money_text(r['liquidated_balance'])}"
        f" - repurchased {money_text(r['repurchased_balance'])} = {money_text(r['rolled'])} (expected "
        f"{money_text(r['rolled'])})"))
    codes = {state: code for code, state in tape.mapping.status_codes.items()}
    code = lambda state: shown(codes.get(state, state))  # noqa: E731
    problems.rows(tape, f.filter(pl.col("beginning_balance") == 0), "beginning_balance",
                  lambda r: f"loan {r['loan_id']} has no balance at the start of the period (expected only loans "
                            "in the pool: one that left last month is not on this month's tape)")
    for state, amount in LEAVING.items():
        left = f.filter((pl.col("status") == state) & ((pl.col(amount) == 0) | (pl.col("ending_balance") != 0)))
        problems.rows(tape, left, "status", lambda r, state=state, amount=amount: (
            f"status {code(state)} ({state.replace('_', ' ')}) with {amount.replace('_', ' ')} "
            f"{money_text(r[amount])} and an ending balance of {money_text(r['ending_balance'])} (expected the "
            f"{amount.replace('_', ' ')} to take the whole balance, leaving 0.00)"))
        stray = f.filter((pl.col(amount) > 0) & (pl.col("status") != state))
        problems.rows(tape, stray, amount, lambda r, state=state, amount=amount: (
            f"{amount.replace('_', ' ')} {money_text(r[amount])} on a loan whose status is {code(r['status'])} "
            f"({r['status'].replace('_', ' ')}) (expected status {code(state)}, {state.replace('_', ' ')})"))
    recovered = f.filter((pl.col("liquidation_proceeds") != 0) & (pl.col("status") != "liquidated"))
    problems.rows(tape, recovered, "liquidation_proceeds", lambda r: (
        f"liquidation proceeds {money_text(r['liquidation_proceeds'])} on a loan whose status is {code(r['status'])} "
        f"({r['status'].replace('_', ' ')}) (expected status {code('liquidated')}, liquidated: proceeds are "
        "collected only on a loan liquidated this period)"))
    gone = f.filter((pl.col("ending_balance") == 0) & ~pl.col("status").is_in(list(LEAVING)))
    problems.rows(tape, gone, "ending_balance", lambda r: (
        f"loan {r['loan_id']} ends with no balance but its status is {code(r['status'])} "
        f"({r['status'].replace('_', ' ')}) (expected a loan to leave the pool only paid in full, liquidated or "
        "repurchased)"))
    top = int(max_note_rate * RATE_SCALE)
    problems.rows(tape, f.filter((pl.col("note_rate") == 0) | (pl.col("note_rate") > top)), "note_rate",
                  lambda r: f"note rate {rate_text(r['note_rate'])} is out of range "
                            f"(expected more than 0 and at most {max_note_rate}, the deal's max_note_rate)")
    problems.rows(tape, f.filter(pl.col("remaining_term") > max_term), "remaining_term",
                  lambda r: f"remaining term {r['remaining_term']} is more than {max_term} months (expected at "
                            "most the deal's max_remaining_term)")
