"""The typed, immutable model of a deal and of one period's servicer report.

Validation is pydantic's; the types below make sure that every amount is a
``Decimal`` (a float is refused), that money has at most two decimal places,
and that a typo in a field name is an error rather than silently ignored.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from decimal import Decimal
from typing import Annotated, Any, Literal, Union

from pydantic import (AfterValidator, BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag,
                      ValidationInfo, WithJsonSchema, model_validator)

from . import formula
from .number import CENT, cents, decimal_places
from .source import shown


class NumberError(ValueError):
    pass


#: Text that other YAML readers take for a number (hexadecimal, octal, base 60, with
#: underscores or leading zeros, infinities): here it is text, refused by a number field.
_NUMBER_LIKE = re.compile(r"[-+]?(0[xob][0-9a-fA-F_]+|[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?|[0-9_.]+([eE][-+]?[0-9]+)?"
                          r"|\.(inf|Inf|INF|nan|NaN|NAN))")


_QUOTED_NUMBER = re.compile(r"[-+]?(0|[1-9][0-9]*)(\.[0-9]+)?")


def _text_kind(value: str) -> str:
    if _QUOTED_NUMBER.fullmatch(value):
        return f"text {shown(value)} (a number in quotes is text: write it without the quotes)"
    if _NUMBER_LIKE.fullmatch(value):
        return f"text {shown(value)}, which is not a plain decimal number (write digits only, such as 586 or 0.0217)"
    return f"text {shown(value)}"


def _to_decimal(value: Any) -> Decimal:
    if isinstance(value, bool):
        raise NumberError(f"expected a number, got {str(value).lower()}")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise NumberError(f"expected a finite number, got {value}")
        return value
    if isinstance(value, float):  # only reachable from Python callers; YAML never yields one
        raise NumberError(f"a float ({value!r}) is not exact; write the number as text or Decimal")
    if isinstance(value, str):
        raise NumberError(f"expected a number, got {_text_kind(value)}")
    if value is None:
        raise NumberError("expected a number, got nothing (null, ~ or an empty value: write the number, 0 if none)")
    kind = {dict: "a mapping", list: "a list", dt.date: "a date"}.get(type(value), type(value).__name__)
    raise NumberError(f"expected a number, got {kind}")


#: The largest cash amount, a cent short of a quadrillion: beyond any pool, and far enough
#: below Decimal's 28 digits that no sum, product or ratio the engine and the templates form
#: from amounts outgrows them (the factor of a one-cent class, to eight places, has 26).
MAX_MONEY = Decimal("999999999999999.99")
#: The largest whole number (loan counts, terms).
MAX_COUNT = 999_999_999
#: Dates a deal or a servicer's report can carry (the holiday calendars cover them).
FIRST_DATE, LAST_DATE = dt.date(1900, 1, 1), dt.date(2199, 12, 31)


def _decimal(places: int, limit: Decimal, what: str, shown_limit: str, cash: bool = False):
    """A number of at most ``places`` decimal places, from 0 to ``limit``: one check, in the order
    the messages are given (not a number, too many places, negative, too large).  ``cash``:
    written to the cent (``5`` is ``5.00``), as every cash amount is kept."""

    def check(value: Any) -> Decimal:
        if type(value) is not Decimal or not value.is_finite():
            value = _to_decimal(value)
        in_cents = cash and value.same_quantum(CENT)  # most amounts: no need to count their places
        if not in_cents and (written := decimal_places(value)) > places:
            raise NumberError(f"{what} {value} has {written} decimal places (expected at most {places})")
        if value.is_signed():  # -0.00 too: it would print as -0.00
            raise NumberError(f"must not be negative (got {value})" if value else
                              f"{value} is a zero written with a minus sign (expected {-value}: zero has no sign)")
        if value > limit:
            raise NumberError(f"{what} {value} is too large (expected at most {shown_limit})")
        return cents(value) if cash and not in_cents else value

    return check


def _whole(low: int, high: int):
    """A whole number from ``low`` to ``high``: a YAML integer, never ``true``, ``25.0`` or ``"25"``."""

    def check(value: Any) -> int:
        if type(value) is not int:
            if isinstance(value, str):
                kind = _text_kind(value)
            elif isinstance(value, bool):
                kind = str(value).lower()
            elif isinstance(value, Decimal):
                kind = f"the decimal number {value} (write a whole number as digits alone, without a decimal " \
                       "point or an exponent)"
            else:
                kind = shown(value)
            raise NumberError(f"expected a whole number, got {kind}")
        if value < low:
            raise NumberError(f"must not be negative (got {value})" if low == 0
                              else f"{value} is too small (expected at least {low:,})")
        if value > high:
            raise NumberError(f"{value} is too large (expected at most {high:,})")
        return value

    return check


def _to_flag(value: Any) -> bool:
    """A boolean: ``true`` or ``false``, nothing else (not ``yes``, ``on``, ``1``)."""
    if type(value) is not bool:
        raise NumberError(f"expected true or false, got {shown(value)}")
    return value


def _to_date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        raise NumberError(f"expected a date (YYYY-MM-DD), got a date and time {value.isoformat()}")
    if isinstance(value, dt.date):
        if not FIRST_DATE <= value <= LAST_DATE:
            raise NumberError(f"date {value.isoformat()} is out of range "
                              f"(expected a date from {FIRST_DATE.isoformat()} to {LAST_DATE.isoformat()})")
        return value
    raise NumberError(f"expected a date (YYYY-MM-DD), got {shown(value)}")


def printable_line(value: str) -> str | None:
    """What is wrong with ``value`` as one line of printable text (None: nothing).  Text goes
    into fixed-width lines and web pages: no line breaks, tabs or other control characters, no
    invisible format characters (a right-to-left override, a zero-width space, a byte-order
    mark), no separators but the plain space (``str.isprintable``)."""
    if value.isprintable():
        return None
    bad = next(ch for ch in value if not ch.isprintable())
    kind = _NOT_PRINTABLE.get(unicodedata.category(bad), "character")
    name = unicodedata.name(bad, "")
    return (f"text {shown(value)} has the {kind} U+{ord(bad):04X}{f' ({name})' if name else ''} "
            "(expected one line of printable text)")


#: What the characters ``str.isprintable`` refuses are, by Unicode category.
_NOT_PRINTABLE = {"Cc": "control character", "Cf": "invisible format character", "Cs": "surrogate",
                  "Co": "private-use character", "Cn": "unassigned character", "Zs": "special space",
                  "Zl": "line separator", "Zp": "paragraph separator"}


def _one_line(value: str) -> str:
    problem = printable_line(value)
    if problem:
        raise NumberError(problem)
    return value


def _period_key(value: str) -> str:
    if not FIRST_DATE.year <= int(value[:4]) <= LAST_DATE.year:
        raise NumberError(f"period {value} is out of range "
                          f"(expected a month from {FIRST_DATE:%Y-%m} to {LAST_DATE:%Y-%m})")
    return value


def _template_name(value: str) -> str:
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*\.j2", value):
        raise NumberError(f"got {shown(value)} (expected the file name of a template in templates/, "
                          "such as statement.txt.j2)")
    return value


#: A cash amount: Decimal, at most two decimal places, never negative, at most MAX_MONEY.
Money = Annotated[Decimal, BeforeValidator(_decimal(2, MAX_MONEY, "money amount", f"{MAX_MONEY:,}", cash=True)),
                  WithJsonSchema({"type": "number", "minimum": 0, "exclusiveMaximum": 10**15, "multipleOf": 0.01,
                                  "description": "Money: at most two decimal places, never negative."})]
#: A rate or percentage as a fraction (0.0217 is 2.17%); never negative, at most 100%.
Rate = Annotated[Decimal, BeforeValidator(_decimal(10, Decimal(1), "rate", "1, that is 100%")),
                 WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1})]
Count = Annotated[int, BeforeValidator(_whole(0, MAX_COUNT)),
                  WithJsonSchema({"type": "integer", "minimum": 0, "maximum": MAX_COUNT})]
#: A distribution's number, counted from the first (1).
Ordinal = Annotated[int, BeforeValidator(_whole(1, MAX_COUNT)),
                    WithJsonSchema({"type": "integer", "minimum": 1, "maximum": MAX_COUNT})]
#: A day of the month on which classes are paid (at most the 28th, so that every month has it).
DayOfMonth = Annotated[int, BeforeValidator(_whole(1, 28)), WithJsonSchema({"type": "integer", "minimum": 1,
                                                                             "maximum": 28})]
#: ``true`` or ``false``.
Flag = Annotated[bool, BeforeValidator(_to_flag), WithJsonSchema({"type": "boolean"})]
#: A date from FIRST_DATE to LAST_DATE.
Date = Annotated[dt.date, BeforeValidator(_to_date), WithJsonSchema({"type": "string", "format": "date"})]


def cusip_check_digit(base: str) -> str:
    """The check digit of a CUSIP's first eight characters (the modulus-10 double-add-double rule:
    letters count 10 to 35, every second character is doubled, the digits of each are added)."""
    total = 0
    for n, ch in enumerate(base):
        value = int(ch) if ch.isdigit() else ord(ch) - ord("A") + 10 if ch.isalpha() else 36 + "*@#".index(ch)
        if n % 2:
            value *= 2
        total += value // 10 + value % 10
    return str((10 - total % 10) % 10)


def _cusip(value: str) -> str:
    digit = cusip_check_digit(value[:8])
    if value[8] != digit:
        raise ValueError(f"{value!r} is not a CUSIP: its check digit is {value[8]}, and its first eight characters "
                         f"give {digit} (expected the CUSIP as the offering documents give it: is a character "
                         "mistyped?)")
    return value


def _cusip_text(value: Any) -> Any:
    if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
        raise ValueError(f"{value} is read as a number (expected the CUSIP in quotes, as text: a CUSIP of digits, "
                         "or with an E between digits, must be quoted, cusip: '594918104')")
    return value


#: A CUSIP: eight characters and the check digit they give.
Cusip = Annotated[str, BeforeValidator(_cusip_text), Field(pattern=r"^[0-9A-Z*@#]{8}[0-9]$"),
                  AfterValidator(_cusip)]
#: One line of text, without control characters.
Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]
ClassName = Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")]
#: A loan's number, as servicers' tapes give them (remit intake holds a tape's to the same):
#: a spreadsheet never reads one as a formula (=HYPERLINK(...) in a CSV cell), no reader as
#: two fields.
LOAN_NUMBER = r"[A-Za-z0-9][A-Za-z0-9._/-]{0,39}"
LOAN_NUMBER_EXPECTED = "letters, digits and . _ / -, at most 40, the first a letter or digit"


def _loan_number(value: str) -> str:
    if re.fullmatch(LOAN_NUMBER, value) is None:
        raise ValueError(f"{shown(value)} is not a loan number (expected {LOAN_NUMBER_EXPECTED})")
    return value


LoanNumber = Annotated[str, AfterValidator(_loan_number), WithJsonSchema({"type": "string",
                                                                          "pattern": f"^{LOAN_NUMBER}$"})]
PeriodKey = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$"), AfterValidator(_period_key)]
#: The file name of a template in templates/ (that it is there is checked when it renders).
TemplateName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_template_name)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


# --------------------------------------------------------------------------- deal


class Signer(Strict):
    name: Text = Field(description="Name of the officer who signs the report.")
    title: Text = Field(description="The signer's title.")
    organization: Text = Field(description="The signer's organization (the trustee or trust administrator).")


class Filing(Strict):
    """Registrant data for the Form 8-K / 10-D wrapper (static for the deal)."""

    depositor: Text = Field(description="The depositor named as the registrant's sponsor.")
    agreement: Text = Field("pooling and servicing agreement", description="What the governing agreement is called.")
    agreement_date: Date = Field(description="Date of the governing agreement.")
    registrant: Text = Field(description="The registrant (the trust) as named on the filing.")
    state: Text = Field(description="State of organization.")
    commission_file_number: Text = Field(description="The SEC commission file number.")
    irs_employer_id: Text = Field(description="The IRS employer identification number.")
    address: Text = Field(description="Street address of the registrant's principal office.")
    city_state: Text = Field(description="City and state of that office.")
    zip: Text = Field(description="ZIP code, as text (quote it).")
    phone: Text = Field(description="Telephone number, as printed.")
    signer: Signer = Field(description="Who signs the report.")


class Parties(Strict):
    trustee: Text = Field(description="The trustee.")
    trust_administrator: Text | None = Field(None, description="The trust administrator, if the deal has one.")
    servicer: Text = Field(description="The servicer whose report the period files hold.")


class Schedule(Strict):
    closing_date: Date = Field(description="The deal's closing date.")
    first_distribution_date: Date = Field(description="The first distribution date; distributions are numbered "
                                                      "from it (1).")
    distribution_day: DayOfMonth = Field(25, description="Classes are paid on this day of the month, or the next "
                                                         "business day.")
    holiday_calendar: Literal["US", "NYSE"] = Field("US", description="The `holidays` calendar whose public "
                                                                      "holidays close the banks.")
    record_date: Literal["business_day_before", "last_business_day_of_previous_month"] = Field(
        "business_day_before", description="The record date rule: the business day before the distribution date "
                                           "(book-entry floating-rate classes), or the last business day of the "
                                           "month before it.")
    determination_business_days: Annotated[int, BeforeValidator(_whole(1, 20))] | None = Field(
        None, description="The determination date falls this many business days before the distribution date "
                          "(none: the deal has no determination date on its statement).")


#: A formula of the deal language (docs/deal-language.md), checked when the deal is loaded.
def _formula_text(value: str, info: ValidationInfo) -> str:
    """A formula may run over several lines; otherwise it is printable text.  Validated with
    ``context={"formulas": True}`` (a deal file refused for its shape, so never compiled), it
    must parse too: its syntax errors are told beside the shape's."""
    problem = printable_line(value.replace("\n", " "))
    if problem:
        raise NumberError(problem.replace("one line of printable text", "a formula of printable text"))
    if info.context and info.context.get("formulas"):
        try:
            formula.parse(value)
        except formula.FormulaError as exc:
            raise ValueError(f"{formula.shown(value)}: {exc}") from None
    return value


FormulaText = Annotated[str, Field(min_length=1, max_length=2000,
                                   description="A formula of the deal language, such as "
                                               "min(A.uncapped_rate, net_wac_cap)."), AfterValidator(_formula_text)]
#: The name of a figure a deal defines: words joined by dots (``oc.target``, ``net_wac_cap``), the
#: first of them a class's name where the figure is a class's (``M-1.rate``, ``1A1.target``): the
#: names a formula reads (a ``-`` between letters or digits is part of the name).
FIGURE_NAME = r"^(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+-?[A-Za-z_][A-Za-z0-9_]*)(?:-[A-Za-z0-9_]+)*(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*$"


def _not_a_formula_word(name: str) -> str:
    if name in formula.WORDS:  # a formula could not read the figure
        raise ValueError(f"{name!r} is a word formulas read as their own (expected a figure's name other than "
                         f"{', '.join(formula.WORDS)})")
    return name


FigureName = Annotated[str, Field(min_length=1, max_length=100, pattern=FIGURE_NAME),
                       AfterValidator(_not_a_formula_word)]
#: What a name pattern asks for, in words, for its messages.
PATTERN_WORDS = {FIGURE_NAME: "a figure's name: words of letters, digits and _ joined by dots, such as oc.target, "
                              "or a class's name and a word, such as M-1.rate"}
#: The name of an account of the deal's cash.
AccountName = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[a-z][a-z0-9_]*$")]
FigureType = Literal["money", "amount", "rate", "number", "count", "date", "flag", "text"]


class Fee(Strict):
    name: Text = Field(description="The fee's name (Servicing, Trustee, ...); the flow of funds shows it as "
                                   "'<name> fee'.")
    annual_rate: Rate | None = Field(None, description="Annual rate, paid monthly: base x annual_rate / 12, "
                                                       "rounded half-up to the cent.")
    amount: Money | None = Field(None, description="A fixed fee: this amount each month (instead of a rate).")
    payee: Text | None = Field(None, description="Who receives it (default: its name).")
    base: FormulaText = Field("pool.beginning_balance",
                              description="The balance the rate applies to: a formula giving money (the pool, a "
                                          "group, a set of classes: total(senior, beginning_balance)).")

    @model_validator(mode="after")
    def _rate_or_amount(self) -> "Fee":
        if (self.annual_rate is None) == (self.amount is None):
            raise NumberError("a fee has annual_rate: (a rate on its base) or amount: (a fixed amount each month), "
                              "one of the two")
        return self


ClassKind = Literal["senior", "mezzanine", "excess", "prepayment", "residual", "interest_only"]
#: The name of a loan group (``fixed``, ``group_1``); its figures are ``groups.<name>.<figure>``.
GroupName = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[a-z][a-z0-9_]*$")]


DayCount = Literal["actual/360", "30/360", "actual/365"]


class Coupon(Strict):
    """A class's coupon: floating (the index plus a margin, with a floor) or fixed, stepped up
    after the optional termination date, capped by a named rate, on its own day count."""

    kind: Literal["floating", "fixed"] = Field("floating", description="floating: the index plus margin; fixed: "
                                                                       "rate.")
    margin: Rate | None = Field(None, description="Floating: the margin over the index (0.0033 is 0.33%).")
    floor: Rate | None = Field(None, description="Floating: the least the index plus margin may be.")
    step_up_margin: Rate | None = Field(None, description="Floating: the margin after the optional termination "
                                                          "date (performance.optional_termination).")
    rate: Rate | None = Field(None, description="Fixed: the coupon rate.")
    step_up_rate: Rate | None = Field(None, description="Fixed: the rate after the optional termination date.")
    cap: FormulaText | None = Field(None, description="A rate the coupon may not exceed (net_wac_cap, a group's "
                                                      "available funds rate, ...); interest lost to it is carried "
                                                      "over.")
    day_count: DayCount = Field("actual/360", description="actual/360, 30/360 or actual/365.")
    accrual_period: Literal["month", "distribution_dates"] | None = Field(
        None, description="30/360 only: month (every accrual period is a month of 30 days, the default) or "
                          "distribution_dates (30/360 days between the previous and this distribution date as "
                          "paid).  Actual day counts always run from the previous distribution date to this one.")

    @model_validator(mode="after")
    def _kind_fields(self) -> "Coupon":
        own = {"floating": ("margin",), "fixed": ("rate",)}[self.kind]
        other = {"floating": ("rate", "step_up_rate"), "fixed": ("margin", "floor", "step_up_margin")}[self.kind]
        missing = [f for f in own if getattr(self, f) is None]
        extra = [f for f in other if getattr(self, f) is not None]
        if missing:
            raise NumberError(f"a {self.kind} coupon needs {missing[0]}:")
        if extra:
            raise NumberError(f"{extra[0]}: is not part of a {self.kind} coupon (expected "
                              f"{', '.join(own + ('floor', 'step_up_margin') if self.kind == 'floating' else own + ('step_up_rate',))}"
                              ", cap, day_count)")
        if self.accrual_period is not None and self.day_count != "30/360":
            raise NumberError(f"accrual_period: applies to 30/360 coupons; {self.day_count} accrues the actual days "
                              "from the previous distribution date")
        return self


class CertificateClass(Strict):
    name: ClassName = Field(description="The class's name (A, M-1, ...); its figures are <name>.<figure>.")
    kind: ClassKind = Field(description="senior, mezzanine, excess (the OC / residual interest class), "
                                        "prepayment (receives prepayment charges) or residual (REMIC residual).")
    cusip: Cusip | None = Field(None, description="Its CUSIP: nine characters, the last the check digit of the "
                                                   "first eight (a CUSIP whose check digit does not agree is refused).")
    original_balance: Money = Field(description="Original principal balance (or notional, for the excess class).")
    coupon: Coupon | None = Field(None, description="Its coupon; a class without one accrues no interest.")
    group: GroupName | None = Field(None, description="The loan group whose collections pay it (none: shared by "
                                                      "every group, or a deal of one pool).  total(<group>, field) "
                                                      "sums the classes of a group.")
    notional: FormulaText | None = Field(None, description="An interest-only class's notional balance this "
                                                           "period: a formula giving money (a schedule, or other "
                                                           "classes' balances).")
    principal_only: Flag = Field(False, description="A principal-only class: senior or mezzanine, paid principal, "
                                                    "with no coupon (it accrues no interest).")
    accretes: FormulaText | None = Field(None, description="An accrual class: while this condition holds (a "
                                                           "formula giving a flag, such as total(senior, "
                                                           "beginning_balance) > 0.00) its interest is added to its "
                                                           "balance (<name>.accreted) instead of paid.")
    per_1000_basis: Literal["original", "current_notional", "none"] = Field(
        "original", description="What its per-$1,000 amounts are divided by: its original balance, its "
                                "beginning (current) notional, or nothing (no per-$1,000 amounts).")


class FigureDef(Strict):
    """A figure the deal defines: its formula, and what it is called."""

    formula: FormulaText = Field(description="How it is computed (for a carried figure: its value for the deal's "
                                             "first period on file).")
    label: Text | None = Field(None, description="What it means, as remit explain shows it.")
    type: FigureType | None = Field(None, description="Its type, checked against the formula's (by default: "
                                                      "the formula's).")
    carried_from: FigureName | None = Field(None, description="A figure carried from one statement to the next: "
                                                              "its value is the previous statement's figure of "
                                                              "this name (an amount owed to an insurer, ...).")


#: A figure of the deal: its formula alone, or a mapping with its formula, label and type.
FigureSpec = Annotated[Union[Annotated[FormulaText, Tag("formula")], Annotated[FigureDef, Tag("figure")]],
                       Discriminator(lambda v: "figure" if isinstance(v, (dict, BaseModel)) else "formula")]


class TriggerDef(Strict):
    """A trigger test: it is breached when its value exceeds its threshold."""

    name: Text = Field(description="The test's name on the statement (Delinquency, Cumulative losses).")
    value: FormulaText = Field(description="What is tested (a rate).")
    threshold: FormulaText = Field(description="What the value may reach; none (a schedule not yet started) "
                                               "means the test does not apply this month.")


class Account(Strict):
    """An account of the deal's cash: what is deposited, and how the flow of funds names it."""

    name: AccountName = Field(description="The account's name, as actions name it (from:, to:).")
    label: Text | None = Field(None, description="How the flow of funds names it (default: its name, with "
                                                 "spaces for underscores).")
    deposit: FormulaText | None = Field(None, description="What is deposited at the start of the distribution "
                                                          "(money); none for an account that only receives "
                                                          "transfers.")
    payee: Text | None = Field(None, description="How a transfer into it is named as a payee in the flow of "
                                                 "funds (default: its label).")
    draw: Flag = Field(False, description="Cash drawn on demand from outside the trust (an insurer's policy, a "
                                          "liquidity facility): an action paying from it draws what is due, and "
                                          "the draws are accounts.<name>.drawn.")
    carried: Flag = Field(False, description="Its balance is kept from one distribution to the next (a reserve "
                                             "account): it starts with what it held after the previous one "
                                             "(accounts.<name>.beginning), and its roll-forward is shown.")
    target: FormulaText | None = Field(None, description="A carried account's target balance (money): "
                                                         "accounts.<name>.target.")
    floor: FormulaText | None = Field(None, description="The least its target may be (money): "
                                                        "accounts.<name>.floor; a target below it is an error.")

    @model_validator(mode="after")
    def _carried_fields(self) -> "Account":
        if not self.carried and (self.target is not None or self.floor is not None):
            raise NumberError("target: and floor: belong to a carried account (expected carried: true)")
        if self.floor is not None and self.target is None:
            raise NumberError("floor: without target: (expected the target the floor bounds)")
        return self


class Group(Strict):
    """A loan group: its loans' collections are reported and accounted for apart."""

    name: GroupName = Field(description="How figures and classes name it: groups.<name>.pool.ending_balance.")
    label: Text = Field(description="How the statement names it (Group I, Fixed Rate Group).")
    cutoff_balance: Money = Field(description="Its loans' balance at the cut-off date.")


#: The name of a swap or cap: its figures are swaps.<name>.* and caps.<name>.*.
HedgeName = Annotated[str, Field(min_length=1, max_length=24, pattern=r"^[A-Za-z][A-Za-z0-9_]*$")]


class Swap(Strict):
    """An interest rate swap: the trust pays a fixed rate and receives the index on a notional."""

    name: HedgeName = Field(description="Its figures are swaps.<name>.payment (the trust pays) and "
                                        "swaps.<name>.receipt (it receives).")
    counterparty: Text = Field(description="The swap counterparty.")
    notional: FormulaText = Field(description="The notional this period (money): a schedule(...) or a balance.")
    fixed_rate: Rate = Field(description="The fixed rate the trust pays.")
    day_count: DayCount = Field("actual/360", description="Both legs' day count (30/360 accrues 30 days a month).")


class Cap(Strict):
    """An interest rate cap: the trust receives the index over the strike on a notional."""

    name: HedgeName = Field(description="Its receipt is caps.<name>.receipt.")
    counterparty: Text = Field(description="The cap provider.")
    notional: FormulaText = Field(description="The notional this period (money).")
    strike: Rate = Field(description="The strike rate.")
    day_count: DayCount = Field("actual/360", description="Its day count.")


class ActionBase(Strict):
    when: FormulaText | None = Field(None, description="A condition: the action runs only when it is true ...")
    else_: tuple["Action", ...] = Field((), alias="else", description="... and these actions run instead when it "
                                                                      "is false.")


class PayFees(ActionBase):
    """Each fee of the deal, in order: its base x annual rate / 12, rounded half-up to the cent."""

    pay: Literal["fees"] = Field(description="Pay the deal's fees.")
    from_: AccountName = Field(alias="from", description="The account paid from.")
    fees: tuple[Text, ...] | None = Field(None, description="Only these fees, by name, in this order (a group's "
                                                            "servicing fee from its own interest); default: all.")


class PayAmount(ActionBase):
    """An amount to a payee outside the classes (extraordinary expenses, an insurer)."""

    pay: Literal["amount"] = Field(description="Pay an amount to a payee.")
    name: FigureName = Field(description="Names what it pays: its amount paid is the figure <name>.paid.")
    from_: AccountName = Field(alias="from", description="The account paid from.")
    amount: FormulaText = Field(description="What is due (money); at most what the account holds is paid.")
    to: Text = Field(description="The payee.")
    description: Text = Field(description="The line of the flow of funds.")


class PayInterest(ActionBase):
    """Current interest (and unpaid interest from earlier periods, if include_unpaid) to the
    classes listed, pro rata among them when the account is short."""

    pay: Literal["interest"] = Field(description="Pay class interest.")
    from_: AccountName = Field(alias="from", description="The account paid from.")
    classes: tuple[ClassName, ...] = Field(description="The classes paid, pro rata among them.")
    include_unpaid: Flag = Field(True, description="Also pay unpaid interest from earlier periods (senior "
                                                   "classes); mezzanine classes usually get it from excess "
                                                   "(pay: unpaid_interest).")


class PayPrincipal(ActionBase):
    """Principal from the principal distribution amount (``amount``): sequentially in the order
    given, or, with ``targets``, so that each class with the classes before it stands at its
    target.  What the account cannot fund is still due, for ``pay: extra_principal``."""

    pay: Literal["principal"] = Field(description="Pay class principal.")
    from_: AccountName = Field(alias="from", description="The account paid from.")
    classes: tuple[ClassName, ...] = Field(description="The classes paid, in order.")
    amount: FormulaText = Field(description="The principal distribution amount (money): every principal action "
                                            "naming the same amount shares it, so it is paid once.")
    group: GroupName | None = Field(None, description="The loan group whose principal this is: principal actions of "
                                                      "different groups may pay from different amounts (each "
                                                      "statement checks they add up to no more than "
                                                      "principal_distribution_amount).")
    targets: dict[ClassName, FormulaText] | None = Field(
        None, description="Per class: the most the class and the classes before it may stand at after the "
                          "payment (money).  Without targets principal is paid sequentially.")


class PayExtraPrincipal(ActionBase):
    """The principal still due from the principal actions, in their order."""

    pay: Literal["extra_principal"] = Field(description="Pay the principal the principal account could not fund.")
    from_: AccountName = Field(alias="from", description="The account paid from.")


class PayClasses(ActionBase):
    """An amount each class is owed, in the order given (or, with ``pro_rata``, pro rata among
    the classes when the account is short)."""

    pay: Literal["unpaid_interest", "writedown_reimbursement", "carryover"] = Field(
        description="unpaid_interest: interest still unpaid; writedown_reimbursement: written-down amounts not "
                    "yet repaid; carryover: Net WAC carryover owed.")
    from_: AccountName = Field(alias="from", description="The account paid from.")
    classes: tuple[ClassName, ...] = Field(description="The classes paid, in order.")
    pro_rata: Flag = Field(False, description="When the account cannot pay every class what it is owed, share "
                                              "what it holds among them by what each is owed (classes of equal "
                                              "rank, such as the seniors drawing on a reserve), instead of paying "
                                              "them in order.")
    this_period: Flag = Field(False, description="writedown_reimbursement only: also this period's write-down, "
                                                 "the same day (an insurer's policy paying the insured classes' "
                                                 "losses); the action then follows allocate: losses.")


class PayRest(ActionBase):
    """Everything left in the account, to one class."""

    pay: Literal["residual", "prepayment_charges"] = Field(
        description="residual: the rest of the excess cash flow; prepayment_charges: the prepayment charges.")
    from_: AccountName = Field(alias="from", description="The account paid from.")
    class_: ClassName = Field(alias="class", description="The class that receives it.")


class Transfer(ActionBase):
    """Cash moved from one account to another (everything left, or an amount up to a limit)."""

    transfer: Literal["remaining", "amount"] = Field(description="remaining: all the account holds; amount: the "
                                                                 "amount: formula, at most what it holds.")
    from_: AccountName = Field(alias="from", description="The account moved from.")
    to: AccountName = Field(description="The account moved to.")
    amount: FormulaText | None = Field(None, description="With transfer: amount, what is moved (money).")
    description: Text = Field(description="The line of the flow of funds.")


class AllocateLosses(ActionBase):
    """Realized losses beyond the overcollateralization write down these classes, in order."""

    allocate: Literal["losses"] = Field(description="Write down classes by the losses OC does not absorb.")
    classes: tuple[ClassName, ...] = Field(description="The classes written down, most junior first.")


def _action_kind(value: Any) -> str | None:
    """Which kind of action a mapping is, by the key that names it (pay:, transfer:, allocate:)."""
    if isinstance(value, BaseModel):
        for key in ("pay", "transfer", "allocate"):
            if hasattr(value, key):
                return f"{key}:{getattr(value, key)}" if key != "transfer" else "transfer"
        return None
    if not isinstance(value, dict):
        return None
    if "pay" in value:
        return f"pay:{value['pay']}" if isinstance(value["pay"], str) else "pay:?"
    if "transfer" in value:
        return "transfer"
    if "allocate" in value:
        return f"allocate:{value['allocate']}" if isinstance(value["allocate"], str) else "allocate:?"
    return None


#: The kinds of action, by the tag _action_kind gives.
ACTIONS = {"pay:fees": PayFees, "pay:amount": PayAmount, "pay:interest": PayInterest,
           "pay:principal": PayPrincipal, "pay:extra_principal": PayExtraPrincipal,
           "pay:unpaid_interest": PayClasses, "pay:writedown_reimbursement": PayClasses, "pay:carryover": PayClasses,
           "pay:residual": PayRest, "pay:prepayment_charges": PayRest, "transfer": Transfer,
           "allocate:losses": AllocateLosses}
Action = Annotated[Union[tuple(Annotated[model, Tag(tag)] for tag, model in ACTIONS.items())],
                   Discriminator(_action_kind)]


#: A file a deal names beside its deal.yaml (a servicer's mapping, the index fixings): a
#: relative path, which may reach a folder shared by several deals (../servicers/acme.yaml).
RelativePath = Annotated[str, Field(min_length=1, max_length=200, pattern=r"^[^/\\][^\\]*$"), AfterValidator(_one_line)]


class Intake(Strict):
    """How ``remit intake`` turns the servicer's loan-level tape into this deal's period file."""

    mapping: RelativePath = Field(description="The servicer's mapping (its columns, formats and codes), relative "
                                              "to the deal folder: servicer.yaml, or one shared by several deals.")
    delinquency_method: Literal["MBA", "OTS"] = Field(
        description="How delinquency is counted (the pooling agreement says): MBA, a payment unpaid at the end of "
                    "the month it was due is 30 days delinquent; OTS, only once it is unpaid at the next due date "
                    "(one bucket later).")
    fixings: RelativePath | None = Field(None, description="The index fixing of each distribution month (YYYY-MM: "
                                                           "rate), relative to the deal folder: a deal with an "
                                                           "index needs it.")
    dated_date: Date | None = Field(None, description="The date interest first accrues, when it is not the closing "
                                                      "date (the certificates' dated date): the first period's "
                                                      "opening starts from it.")
    opening_accounts: dict[AccountName, Money] = Field({}, description="What each carried account (a reserve) "
                                                                      "held at closing: the first period's "
                                                                      "opening.")
    substitutions: Flag = Field(False, description="Whether loans may join the pool after the cut-off date "
                                                   "(qualified substitute loans).")
    max_note_rate: Rate = Field(Decimal("0.25"), description="The highest note rate a loan of the tape may carry "
                                                             "(a fraction); above it the tape is refused.")
    max_remaining_term: Count = Field(480, description="The longest remaining term a loan may have, in months.")


#: A deal's id, which names its folder and its output files: lower-case letters, digits, hyphens.
DEAL_ID = r"[a-z0-9][a-z0-9-]*"


class Deal(Strict):
    id: Annotated[str, Field(max_length=64, pattern=f"^{DEAL_ID}$",
                             description="The deal's id: names its output files (<id>_<date>.txt).")]
    trust: Text = Field(description="The trust's name.")
    series: Text = Field(description="The series (quote it: \"2002-1\").")
    certificates: Text = Field(description="What the certificates are called.")
    securities: Literal["certificates", "notes"] = Field(
        "certificates", description="What the deal issued: certificates (paid to certificateholders) or notes "
                                    "(paid to noteholders).  The standard web page and PDF word their headings "
                                    "by it: Statement to Noteholders, Notes, note factors.")
    templates: dict[Literal["text", "html"], TemplateName] = Field(
        description="The statement's templates in templates/: text (required) and html (default "
                    "statement.html.j2).")
    filing: Filing | None = Field(None, description="Registrant data, for layouts with the Form 8-K wrapper.")
    parties: Parties = Field(description="Trustee, trust administrator and servicer.")
    schedule: Schedule = Field(description="Closing and distribution dates.")
    index: Text | None = Field(None, description="The index's name, as the statement prints it (none for a deal "
                                                 "whose coupons are all fixed).")
    groups: tuple[Group, ...] = Field((), description="The loan groups (none: one pool).  Each period file "
                                                      "then reports each group apart under groups:.")
    fees: tuple[Fee, ...] = Field(description="Fees paid from collections (pay: fees), in order.")
    swaps: tuple[Swap, ...] = Field((), description="Interest rate swaps.")
    caps: tuple[Cap, ...] = Field((), description="Interest rate caps.")
    classes: tuple[CertificateClass, ...] = Field(description="The classes, senior to junior.")
    figures: dict[FigureName, FigureSpec] = Field(
        default_factory=dict, description="The deal's rules as named formulas: caps, targets, tests.  A name may "
                                          "also replace a standard figure of generator/prelude.yaml.")
    triggers: tuple[TriggerDef, ...] = Field((), description="Trigger tests; a trigger event is in effect when "
                                                             "any is breached (performance.trigger).")
    accounts: tuple[Account, ...] = Field(description="The accounts the deal's cash lives in.")
    waterfall: tuple[Action, ...] = Field(description="The priority of payments: actions over the accounts, "
                                                      "in order.")
    report: tuple[FigureName, ...] = Field((), description="Figures the statement shows beyond the standard ones "
                                                           "(a reserve target, a swap payment, an insured amount): "
                                                           "templates read s.extra.figures[name], and the record "
                                                           "carries them.")
    intake: Intake | None = Field(None, description="How remit intake reads the servicer's loan-level tape into a "
                                                    "period file (none: period files are written by hand).")


# --------------------------------------------------------------------------- period


class IndexRates(Strict):
    current: Rate = Field(description="The index (one-month LIBOR, SOFR, ...) set for this accrual period, as a "
                                      "fraction.")
    next: Rate = Field(description="The index set for the next accrual period (the statement's next rates).")


class Opening(Strict):
    """The state after the previous distribution, for a deal's first period in ``inputs/``."""

    previous_distribution_date: Date = Field(description="The previous distribution date (the accrual period "
                                                         "starts on it).")
    pool_balance: Money = Field(description="The pool balance after the previous distribution.")
    loan_count: Count = Field(description="The number of loans in the pool after the previous distribution.")
    class_balances: dict[ClassName, Money] = Field(description="Each certificate class's balance after the previous "
                                                               "distribution (the excess class's notional is "
                                                               "derived, not given).")
    cumulative_realized_losses: Money = Field(Decimal("0.00"), description="Realized losses since closing.")
    unpaid_interest: dict[ClassName, Money] = Field({}, description="Each class's interest still unpaid.")
    net_wac_carryover: dict[ClassName, Money] = Field({}, description="Each class's Net WAC carryover still owed.")
    unpaid_realized_losses: dict[ClassName, Money] = Field({}, description="Each class's written-down amount not yet "
                                                                           "repaid.")
    accounts: dict[AccountName, Money] = Field({}, description="What each carried account (a reserve account) "
                                                               "held after the previous distribution.")
    unpaid_fees: dict[Text, Money] = Field({}, description="Each fee still unpaid after the previous distribution, "
                                                           "by the fee's name as the deal file writes it.")
    oc_target: Money | None = Field(None, description="The OC target of the previous distribution.")
    stepdown_occurred: Flag = Field(False, description="Whether the stepdown date has occurred.")


class Payoffs(Strict):
    count: Count = Field(description="Loans paid in full.")
    amount: Money = Field(description="Principal of the loans paid in full.")


class LiquidatedLoan(Strict):
    loan: LoanNumber = Field(description="The loan's number.")
    balance: Money = Field(description="Stated principal balance of the loan when liquidated.")
    proceeds: Money = Field(description="Net liquidation proceeds (after the servicer's expenses).")


class Repurchases(Strict):
    count: Count = Field(0, description="Loans repurchased (for breaches of representations).")
    amount: Money = Field(Decimal("0.00"), description="Principal of the loans repurchased.")


class Collections(Strict):
    interest: Money = Field(description="Interest remittance: interest collected and advanced, plus compensating "
                                        "interest, before the fees.")
    scheduled_principal: Money = Field(description="Scheduled principal collected and advanced.")
    curtailments: Money = Field(description="Partial prepayments.")
    payoffs: Payoffs = Field(description="Payments in full.")
    liquidations: tuple[LiquidatedLoan, ...] = Field((), description="Loans liquidated this period.")
    repurchases: Repurchases = Field(Repurchases(), description="Loans repurchased.")
    prepayment_charges: Money = Field(Decimal("0.00"), description="Prepayment charges collected.")


class Bucket(Strict):
    count: Count = Field(description="Number of loans.")
    unpaid_balance: Money = Field(description="Their unpaid principal balance (what the borrowers owe).")
    stated_balance: Money = Field(description="Their stated principal balance (as if scheduled payments were made).")


class Delinquency(Strict):
    days_30_59: Bucket = Field(description="Loans 30 to 59 days delinquent.")
    days_60_89: Bucket = Field(description="Loans 60 to 89 days delinquent.")
    days_90_plus: Bucket = Field(description="Loans 90 or more days delinquent.")
    foreclosure: Bucket = Field(description="Loans in foreclosure.")
    bankruptcy: Bucket = Field(description="Loans whose borrowers are in bankruptcy.")
    bankruptcy_60_plus: Bucket = Field(description="Bankrupt loans 60 or more days delinquent.")


class ReoLoan(Strict):
    loan: LoanNumber = Field(description="The loan's number.")
    unpaid_balance: Money = Field(description="Its unpaid principal balance.")
    stated_balance: Money = Field(description="Its stated principal balance.")


class Reo(Strict):
    stated_balance: Money = Field(Decimal("0.00"), description="Stated principal balance of all REO properties at the "
                                                               "end of the period.")
    book_value: Money = Field(Decimal("0.00"), description="Book value of the REO properties.")
    new: tuple[ReoLoan, ...] = Field((), description="Loans that became REO in the preceding calendar month.")
    principal_amortization: Money = Field(Decimal("0.00"), description="Principal amortization of REO properties.")


class Shortfalls(Strict):
    prepayment_interest: Money = Field(Decimal("0.00"), description="Prepayment interest shortfall for the period.")
    covered_by_servicer: Money = Field(Decimal("0.00"), description="The part of it the servicer covered with "
                                                                    "compensating interest.")
    relief_act: Money = Field(Decimal("0.00"), description="Interest lost to the Servicemembers Civil Relief Act.")


class Period(Strict):
    period: PeriodKey = Field(description="The month of the distribution, YYYY-MM (the file's name).")
    distribution_date: Date | None = Field(None, description="Only when the deal's rule (the day, or the next "
                                                             "business day) does not apply; say why in a comment.")
    opening: Opening | None = Field(None, description="The state after the previous distribution: for the deal's "
                                                      "first period on file.")
    index: IndexRates | None = Field(None, description="The index for this and the next accrual period (a deal "
                                                       "with floating coupons or a swap needs it).")
    collections: Collections = Field(description="What the servicer collected.")
    advances: Money = Field(description="P&I advances made for the period.")
    wac: Rate = Field(description="Weighted-average mortgage rate of the pool at the start of the period.")
    remaining_term: Count = Field(description="Weighted-average remaining term of the loans, in months.")
    delinquency: Delinquency = Field(description="Delinquent loans, by bucket.")
    reo: Reo = Field(Reo(), description="Real estate owned.")
    bankruptcy_losses: Money = Field(Decimal("0.00"), description="Realized losses from bankruptcy (deficient "
                                                                  "valuations) included in this period's losses.")
    shortfalls: Shortfalls = Field(Shortfalls(), description="Interest shortfalls.")
    extraordinary_expenses: Money = Field(Decimal("0.00"), description="Extraordinary trust fund expenses withdrawn "
                                                                       "from the interest remittance.")
    deficiencies: Literal["NO", "YES"] = Field("NO", description="Whether deficiencies occurred (as the statement "
                                                                 "reports it).")
    revised_on: Date | None = Field(None, description="The date a revision of this period's published statement is "
                                                      "made (remit render --revise).")


# --------------------------------------------------------------------------- a period of a deal with loan groups


class GroupReport(Strict):
    """What the servicer reports for one loan group: the fields a one-pool period has at its top."""

    collections: Collections = Field(description="What the servicer collected on the group's loans.")
    advances: Money = Field(description="P&I advances made on the group's loans.")
    wac: Rate = Field(description="Weighted-average mortgage rate of the group at the start of the period.")
    remaining_term: Count = Field(description="Weighted-average remaining term of the group's loans, in months.")
    delinquency: Delinquency = Field(description="The group's delinquent loans, by bucket.")
    reo: Reo = Field(Reo(), description="The group's real estate owned.")


class GroupedOpening(Opening):
    """The state after the previous distribution of a deal with loan groups."""

    group_balances: dict[GroupName, Money] = Field(description="Each group's pool balance after the previous "
                                                               "distribution (they add up to pool_balance).")
    group_loan_counts: dict[GroupName, Count] = Field(description="Each group's number of loans (they add up to "
                                                                  "loan_count).")


class PoolTotals(Strict):
    """The servicer's totals for the whole pool, where its report states them: each is checked
    against the sum of the groups' figures."""

    interest: Money | None = Field(None, description="Interest remittance of every group.")
    scheduled_principal: Money | None = Field(None, description="Scheduled principal of every group.")
    curtailments: Money | None = Field(None, description="Partial prepayments of every group.")
    payoffs: Money | None = Field(None, description="Principal of the loans paid in full, every group.")
    prepayment_charges: Money | None = Field(None, description="Prepayment charges of every group.")
    advances: Money | None = Field(None, description="P&I advances of every group.")


class GroupedPeriod(Strict):
    """A period of a deal with loan groups: each group's report under groups:, the rest as in a
    one-pool period."""

    period: PeriodKey = Field(description="The month of the distribution, YYYY-MM (the file's name).")
    distribution_date: Date | None = Field(None, description="Only when the deal's rule (the day, or the next "
                                                             "business day) does not apply; say why in a comment.")
    opening: GroupedOpening | None = Field(None, description="The state after the previous distribution: for the "
                                                             "deal's first period on file.")
    index: IndexRates | None = Field(None, description="The index for this and the next accrual period.")
    groups: dict[GroupName, GroupReport] = Field(description="Each loan group's report, by the group's name in the "
                                                             "deal file.")
    pool_totals: PoolTotals | None = Field(None, description="The servicer's totals for the pool, checked against "
                                                             "the groups'.")
    bankruptcy_losses: Money = Field(Decimal("0.00"), description="Realized losses from bankruptcy included in this "
                                                                  "period's losses.")
    shortfalls: Shortfalls = Field(Shortfalls(), description="Interest shortfalls.")
    extraordinary_expenses: Money = Field(Decimal("0.00"), description="Extraordinary trust fund expenses.")
    deficiencies: Literal["NO", "YES"] = Field("NO", description="Whether deficiencies occurred.")
    revised_on: Date | None = Field(None, description="The date a revision of this period's published statement is "
                                                      "made (remit render --revise).")
