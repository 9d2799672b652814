"""What the seeded period writers (make_auto.py, make_two_group.py) share: cents, the
month of the t-th distribution, amounts as the period files write them."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def cents(x: Decimal) -> Decimal:
    """Rounded half-up to the cent."""
    return x.quantize(CENT, rounding=ROUND_HALF_UP)


def month(first: tuple[int, int], t: int) -> str:
    """``YYYY-MM`` of the t-th month counted from ``first`` (1: ``first`` itself)."""
    index = first[0] * 12 + first[1] - 1 + (t - 1)
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def money(x: Decimal) -> str:
    return f"{x:.2f}"
