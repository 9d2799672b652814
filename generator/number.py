"""Exact numbers: every amount and rate in the project is a ``Decimal``.

This module owns construction and quantization, so that the rounding mode is
named at every place a number is rounded.  Cash moves in whole cents; rates,
ratios and factors stay exact until a template's filter displays them.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_EVEN, ROUND_HALF_UP, Context, Decimal, localcontext

#: Zero as a cash amount (two places), so sums of cash keep whole cents.
ZERO = Decimal("0.00")
_NO_QUOTIENT = Decimal(0)
ONE = Decimal("1")
CENT = Decimal("0.01")
THOUSAND = Decimal("1000")
MONTHS_PER_YEAR = Decimal("12")

#: Cash is rounded half-up to the cent, as pooling and servicing agreements of
#: this vintage do ("rounded to the nearest cent").
CASH_ROUNDING = ROUND_HALF_UP
#: Display rounding of whole dollars, per-$1,000 amounts, factors, percents.
DISPLAY_ROUNDING = ROUND_HALF_UP

#: Precision for intermediate ratios: 34 significant digits (IEEE decimal128),
#: far beyond any displayed place, so display rounding decides every digit.
PRECISION = 34


def D(value: str | int | Decimal) -> Decimal:
    """Build a Decimal from text or an int; a float is refused (it is already inexact)."""
    if isinstance(value, bool) or isinstance(value, float):
        raise TypeError(f"refusing to build a Decimal from {type(value).__name__} {value!r}")
    if isinstance(value, Decimal):
        return value
    return Decimal(value)


#: Cash is rounded from its value to GUARD_DIGITS significant digits.  A quotient is cut at
#: PRECISION digits, so a product of one can fall a unit of its 34th digit short of an exact
#: half cent: the home equity deal's M-4 accrues (0.0998 * 30 / 28) * 28 / 360 of its
#: 9,999,900.00, which is 83,165.835 exactly (83,165.84 half-up) and 83,165.8349...9 as
#: computed (83,165.83).  The ten digits between are that error's, never an amount's (cents
#: and rates of a few places give no product anywhere near 24 digits).
GUARD_DIGITS = 24
_GUARD = Context(prec=GUARD_DIGITS, rounding=ROUND_HALF_EVEN)


def cents(value: Decimal) -> Decimal:
    """Round a cash amount to the cent, half-up (from its value to GUARD_DIGITS digits)."""
    return _GUARD.plus(value).quantize(CENT, rounding=CASH_ROUNDING)


def places(value: Decimal, n: int, rounding: str = DISPLAY_ROUNDING) -> Decimal:
    """Round to ``n`` decimal places with the named rounding mode."""
    return value.quantize(Decimal(1).scaleb(-n), rounding=rounding)


def truncate(value: Decimal, n: int) -> Decimal:
    """Cut to ``n`` decimal places toward zero (for amounts that must not exceed a cap), from
    the value to GUARD_DIGITS digits, as :func:`cents` rounds."""
    return _GUARD.plus(value).quantize(Decimal(1).scaleb(-n), rounding=ROUND_DOWN)


#: The context quotients are taken in: PRECISION digits, rounded half-even in the last of them.
RATIO_CONTEXT = Context(prec=PRECISION, rounding=ROUND_HALF_EVEN)


def arithmetic():
    """The decimal context every figure is computed in (a ``with`` block): sums, differences and
    products to PRECISION digits, rounded half-even in the last, as quotients are -- not Python's
    default of 28 digits, which would cut a product of a quotient short."""
    return localcontext(RATIO_CONTEXT)


def ratio(numerator: Decimal, denominator: Decimal) -> Decimal:
    """Exact-enough quotient (34 significant digits); zero when the denominator is zero (a
    plain 0, as a quotient is written, not the cent-valued 0.00 of an amount)."""
    if not denominator:
        return _NO_QUOTIENT
    return RATIO_CONTEXT.divide(numerator, denominator)


def decimal_places(value: Decimal) -> int:
    """How many decimal places a Decimal was written with (``2.170`` has 3)."""
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0
