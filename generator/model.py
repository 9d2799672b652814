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

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

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
    raise NumberError(f"expected a number, got {type(value).__name__}")


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
            raise NumberError(f"must not be negative (got {value})")
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
                kind = f"{value} (write a whole number without a decimal point)"
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
                  WithJsonSchema({"type": "number", "minimum": 0, "exclusiveMaximum": 10**15})]
#: A rate or percentage as a fraction (0.0217 is 2.17%); never negative, at most 100%.
Rate = Annotated[Decimal, BeforeValidator(_decimal(10, Decimal(1), "rate", "1, that is 100%")),
                 WithJsonSchema({"type": "number", "minimum": 0, "maximum": 1})]
#: A multiple of a rate (a trigger's fraction of the senior enhancement); never negative, at most 10.
Multiple = Annotated[Decimal, BeforeValidator(_decimal(10, Decimal(10), "multiple", "10")),
                     WithJsonSchema({"type": "number", "minimum": 0, "maximum": 10})]
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
#: One line of text, without control characters.
Text = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_one_line)]
ClassName = Annotated[str, Field(min_length=1, max_length=12, pattern=r"^[A-Za-z0-9][A-Za-z0-9-]*$")]
PeriodKey = Annotated[str, Field(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$"), AfterValidator(_period_key)]
#: The file name of a template in templates/ (that it is there is checked when it renders).
TemplateName = Annotated[str, Field(min_length=1, max_length=100), AfterValidator(_template_name)]


class Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


# --------------------------------------------------------------------------- deal


class Signer(Strict):
    name: Text
    title: Text
    organization: Text


class Filing(Strict):
    """Registrant data for the Form 8-K / 10-D wrapper (static for the deal)."""

    depositor: Text
    agreement: Text = "pooling and servicing agreement"
    agreement_date: Date
    registrant: Text
    state: Text
    commission_file_number: Text
    irs_employer_id: Text
    address: Text
    city_state: Text
    zip: Text
    phone: Text
    signer: Signer


class Parties(Strict):
    trustee: Text
    trust_administrator: Text | None = None
    servicer: Text


class Schedule(Strict):
    closing_date: Date
    first_distribution_date: Date
    #: Classes are paid on this day of the month, or the next business day.
    distribution_day: DayOfMonth = 25
    #: A country code of the ``holidays`` library whose public holidays close the banks.
    holiday_calendar: Literal["US", "NYSE"] = "US"


class Fee(Strict):
    name: Text
    #: Annual rate on the beginning pool balance, paid monthly (rate / 12).
    annual_rate: Rate
    payee: Text | None = None


ClassKind = Literal["senior", "mezzanine", "excess", "prepayment", "residual"]


class CertificateClass(Strict):
    name: ClassName
    kind: ClassKind
    cusip: Annotated[str, Field(pattern=r"^[0-9A-Z]{9}$")] | None = None
    original_balance: Money
    #: Floating classes: margin over the index (0.0033 is 0.33%).
    margin: Rate | None = None
    #: Margin after the optional termination date (usually 2x the senior margin).
    margin_after_optional_termination: Rate | None = None
    #: What a per-$1,000 amount is divided by: the original balance, the current
    #: (beginning) notional balance, or nothing (no per-$1,000 line).
    per_1000_basis: Literal["original", "current_notional", "none"] = "original"
    #: After the stepdown date: the class (with all classes senior to it) may be at most
    #: this fraction of the ending pool balance (e.g. A 0.6140, M-1 0.7390, ...).
    stepdown_target_pct: Rate | None = None


class OCTarget(Strict):
    #: Before the stepdown date: a fixed amount, or a fraction of the cut-off pool balance.
    amount_before_stepdown: Money | None = None
    pct_of_cutoff_before_stepdown: Rate | None = None
    #: After the stepdown date: a fraction of the current (ending) pool balance ...
    pct_of_current_after_stepdown: Rate | None = None
    #: ... but never less than this fraction of the cut-off pool balance.
    floor_pct_of_cutoff: Rate | None = None


class Stepdown(Strict):
    #: The stepdown date is no earlier than this distribution (counted from the first).
    earliest_distribution: Ordinal
    #: ... and no earlier than the senior enhancement percentage reaching this.
    senior_enhancement_target: Rate


class LossStep(Strict):
    from_distribution: Ordinal
    pct_of_cutoff: Rate


class Trigger(Strict):
    #: A trigger event is in effect when the 60+ delinquency percentage exceeds this
    #: fraction of the senior enhancement percentage ...
    delinquency_fraction_of_senior_enhancement: Multiple
    #: ... or cumulative losses exceed the schedule's fraction of the cut-off balance.
    cumulative_loss_schedule: tuple[LossStep, ...] = ()


class FeesStep(Strict):
    step: Literal["fees"]


class InterestStep(Strict):
    """Current interest plus unpaid interest carried forward, pro rata among the classes."""

    step: Literal["interest"]
    classes: tuple[ClassName, ...]
    #: Pay unpaid interest from earlier periods here too (senior classes); mezzanine classes
    #: usually receive it only from excess cash flow (``unpaid_interest`` step).
    include_unpaid: Flag = True


class PrincipalStep(Strict):
    """The principal distribution amount: sequentially in the order given before the stepdown
    date or while a trigger event is in effect; by class targets after it."""

    step: Literal["principal"]
    classes: tuple[ClassName, ...]


class ExtraPrincipalStep(Strict):
    step: Literal["extra_principal"]


class UnpaidInterestStep(Strict):
    step: Literal["unpaid_interest"]
    classes: tuple[ClassName, ...]


class WritedownStep(Strict):
    """Repay unpaid realized loss (written-down) amounts, in the order given."""

    step: Literal["writedown_reimbursement"]
    classes: tuple[ClassName, ...]


class CarryoverStep(Strict):
    step: Literal["net_wac_carryover"]
    classes: tuple[ClassName, ...]


class ResidualStep(Strict):
    step: Literal["residual"]
    class_: ClassName = Field(alias="class")


InterestRule = Annotated[Union[FeesStep, InterestStep], Field(discriminator="step")]
PrincipalRule = Annotated[Union[PrincipalStep], Field(discriminator="step")]
ExcessRule = Annotated[
    Union[ExtraPrincipalStep, UnpaidInterestStep, WritedownStep, CarryoverStep, ResidualStep],
    Field(discriminator="step"),
]


class Waterfall(Strict):
    interest: tuple[InterestRule, ...]
    principal: tuple[PrincipalRule, ...]
    excess: tuple[ExcessRule, ...]
    #: The class that receives prepayment charges.
    prepayment_charges_to: ClassName | None = None
    #: Realized losses beyond OC write down these classes, in this order (most junior first).
    loss_allocation: tuple[ClassName, ...] = ()


class Deal(Strict):
    id: Annotated[str, Field(max_length=64, pattern=r"^[a-z0-9][a-z0-9-]*$")]
    trust: Text
    series: Text
    certificates: Text
    templates: dict[Literal["text", "html"], TemplateName]
    filing: Filing | None = None
    parties: Parties
    schedule: Schedule
    index: Text = "One-month LIBOR"
    fees: tuple[Fee, ...]
    classes: tuple[CertificateClass, ...]
    overcollateralization: OCTarget
    stepdown: Stepdown
    trigger: Trigger
    #: The servicer may call the deal when the pool falls to this fraction of the cut-off balance.
    cleanup_call_pct: Rate = Decimal("0.10")
    #: Optional termination date: margins step up after the first distribution date on which
    #: the clean-up call could have been exercised.
    waterfall: Waterfall

    def cls(self, name: str) -> CertificateClass:
        for c in self.classes:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def cutoff_balance(self) -> Decimal:
        """The cut-off pool balance: certificates plus the initial OC (the excess class's notional)."""
        return sum((c.original_balance for c in self.classes), Decimal(0))


# --------------------------------------------------------------------------- period


class IndexRates(Strict):
    #: The index (one-month LIBOR) set for this accrual period, as a fraction.
    current: Rate
    #: The index set for the next accrual period (shown as the "next rate").
    next: Rate


class Opening(Strict):
    """The state after the previous distribution, for a deal's first period in ``inputs/``."""

    previous_distribution_date: Date
    pool_balance: Money
    loan_count: Count
    class_balances: dict[ClassName, Money]
    cumulative_realized_losses: Money = Decimal("0.00")
    unpaid_interest: dict[ClassName, Money] = {}
    net_wac_carryover: dict[ClassName, Money] = {}
    unpaid_realized_losses: dict[ClassName, Money] = {}
    oc_target: Money | None = None
    stepdown_occurred: Flag = False


class Payoffs(Strict):
    count: Count
    amount: Money


class LiquidatedLoan(Strict):
    loan: Text
    #: Stated principal balance of the loan when liquidated.
    balance: Money
    #: Net liquidation proceeds (after the servicer's expenses).
    proceeds: Money


class Repurchases(Strict):
    count: Count = 0
    amount: Money = Decimal("0.00")


class Collections(Strict):
    #: Interest remittance: interest collected and advanced, plus compensating interest,
    #: before the servicing fee.
    interest: Money
    scheduled_principal: Money
    curtailments: Money
    payoffs: Payoffs
    liquidations: tuple[LiquidatedLoan, ...] = ()
    repurchases: Repurchases = Repurchases()
    prepayment_charges: Money = Decimal("0.00")


class Bucket(Strict):
    count: Count
    unpaid_balance: Money
    stated_balance: Money


class Delinquency(Strict):
    days_30_59: Bucket
    days_60_89: Bucket
    days_90_plus: Bucket
    foreclosure: Bucket
    bankruptcy: Bucket
    bankruptcy_60_plus: Bucket


class ReoLoan(Strict):
    loan: Text
    unpaid_balance: Money
    stated_balance: Money


class Reo(Strict):
    #: Stated principal balance of all REO properties at the end of the period.
    stated_balance: Money = Decimal("0.00")
    book_value: Money = Decimal("0.00")
    #: Loans that became REO in the preceding calendar month.
    new: tuple[ReoLoan, ...] = ()
    principal_amortization: Money = Decimal("0.00")


class Shortfalls(Strict):
    #: Prepayment interest shortfall for the period, and the part the servicer covered
    #: with compensating interest.
    prepayment_interest: Money = Decimal("0.00")
    covered_by_servicer: Money = Decimal("0.00")
    relief_act: Money = Decimal("0.00")


class Period(Strict):
    period: PeriodKey
    #: Only when the deal's rule (the day, or the next business day) does not apply; say why.
    distribution_date: Date | None = None
    opening: Opening | None = None
    index: IndexRates
    collections: Collections
    advances: Money
    #: Weighted-average mortgage rate of the pool at the start of the period, as a fraction.
    wac: Rate
    remaining_term: Count
    delinquency: Delinquency
    reo: Reo = Reo()
    #: Realized losses from bankruptcy (deficient valuations) included in this period's losses.
    bankruptcy_losses: Money = Decimal("0.00")
    shortfalls: Shortfalls = Shortfalls()
    extraordinary_expenses: Money = Decimal("0.00")
    deficiencies: Literal["NO", "YES"] = "NO"
    #: The date a revision of this period's published statement is made (``remit render --revise``).
    revised_on: Date | None = None
