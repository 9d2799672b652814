#!/usr/bin/env python3
"""Write the servicer reports of the SYNTHETIC auto-loan deal inputs/synthetic-auto-2025-1:
48 months from a fixed seed (same seed, same bytes).  Its deal file, deal.yaml, is written
by hand: this script writes only what a servicer reports each month.

The deal is made up; its story exercises the rules of an auto-loan ABS:

* months 1-8   excess interest pays principal (turbo) until OC reaches its target, and
               fills the reserve account from 0.50% of the cut-off balance to its target;
* months 1-12  class A-1 (money market, Actual/360) is paid down and off, sequentially;
* month 14     a servicing disruption: collections fall short of the notes' interest, the
               reserve account is drawn to pay it, and refilled from excess in the months
               after;
* month 20-30  repossessed vehicles are sold at a loss: cumulative net losses rise;
* after OC is at target, OC released as the pool amortizes (its target is a share of the pool);
* the reserve account's target falls with the pool: what it holds above it is released.

Run from the repository root:  python3 scripts/make_auto.py
"""

from __future__ import annotations

import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from story import cents, money, month  # noqa: E402

SEED = 20250115
DEAL = Path(__file__).resolve().parent.parent / "inputs" / "synthetic-auto-2025-1"
MONTHS = 48
FIRST = (2025, 2)
POOL = Decimal("500000000.00")
NOTES = {"A-1": "95000000.00", "A-2": "160000000.00", "A-3": "130000000.00", "A-4": "52500000.00",
         "B": "20000000.00", "C": "17500000.00"}


def key(t: int) -> str:
    return month(FIRST, t)


def bucket(count: int, stated: Decimal) -> str:
    return f"{{count: {count}, unpaid_balance: {money(stated)}, stated_balance: {money(stated)}}}"


def write(deal_dir: Path = DEAL, months: int = MONTHS) -> None:
    rng = random.Random(SEED)
    (deal_dir / "periods").mkdir(parents=True, exist_ok=True)
    pool, count = POOL, 25000
    apr = Decimal("0.0890")
    term = 62
    loan_no = 5000000
    for t in range(1, months + 1):
        avg = pool / count
        # level-pay amortization on the remaining term, and prepayments of about 1.3% ABS
        sched = cents(pool * apr / 12 / (1 - (1 + apr / 12) ** -max(term, 1)) - pool * apr / 12)
        sched = min(sched, pool)
        repossessed = []
        if 20 <= t <= 30:
            for _ in range(rng.randint(30, 42)):
                loan_no += rng.randint(1, 900)
                balance = Decimal(rng.randint(900000, 2400000)) / 100
                repossessed.append((f"AU{loan_no}", balance, cents(balance * Decimal(rng.randint(38, 58)) / 100)))
        else:
            for _ in range(rng.randint(4, 9)):
                loan_no += rng.randint(1, 900)
                balance = Decimal(rng.randint(600000, 2000000)) / 100
                repossessed.append((f"AU{loan_no}", balance, cents(balance * Decimal(rng.randint(45, 65)) / 100)))
        liq_balance = sum((b for _, b, _ in repossessed), Decimal(0))
        performing = pool - sched - liq_balance
        prepaid = cents(performing * Decimal(rng.randint(110, 150)) / 10000)
        curtail = cents(prepaid * Decimal("0.08"))
        payoff = prepaid - curtail
        payoff_count = min(max(1, int(payoff / avg)), count - len(repossessed) - 1)
        interest = cents(pool * apr / 12)
        if t == 14:
            interest = cents(interest * Decimal("0.30"))  # a servicing disruption: most of it late
        end_pool = pool - sched - curtail - payoff - liq_balance
        stress = Decimal(2) if 18 <= t <= 30 else Decimal(1)
        pct = lambda lo, hi: Decimal(rng.randint(lo, hi)) / 10000 * stress  # noqa: E731
        b30 = cents(end_pool * pct(140, 220))
        b60 = cents(end_pool * pct(40, 70))
        b90 = cents(end_pool * pct(15, 30))
        n = lambda b: max(1, int(b / avg)) if b else 0  # noqa: E731
        lines = [f"# SYNTHETIC servicer report, month {t} of the synthetic auto deal (scripts/make_auto.py).",
                 f"period: {key(t)}"]
        if t == 1:
            lines += ["# The first period on file starts at closing: the notes are dated the cut-off date,",
                      "# 2025-01-15, and interest accrues from it; the reserve account was funded at closing",
                      "# with 0.50% of the cut-off balance.",
                      "opening:",
                      "  previous_distribution_date: 2025-01-15",
                      f"  pool_balance: {money(pool)}",
                      f"  loan_count: {count}",
                      "  class_balances: {" + ", ".join(f"{k}: {v}" for k, v in NOTES.items()) + "}",
                      "  accounts: {reserve: 2500000.00}"]
        lines += [
            "collections:",
            f"  interest: {money(interest)}",
            f"  scheduled_principal: {money(sched)}",
            f"  curtailments: {money(curtail)}",
            f"  payoffs: {{count: {payoff_count}, amount: {money(payoff)}}}",
            "  liquidations:",
        ]
        lines += [f"    - {{loan: \"{loan}\", balance: {money(b)}, proceeds: {money(p)}}}" for loan, b, p in repossessed]
        lines += [
            "advances: 0.00",
            f"wac: {apr}",
            f"remaining_term: {term}",
            "delinquency:",
            f"  days_30_59: {bucket(n(b30), b30)}",
            f"  days_60_89: {bucket(n(b60), b60)}",
            f"  days_90_plus: {bucket(n(b90), b90)}",
            f"  foreclosure: {bucket(0, Decimal(0))}",
            f"  bankruptcy: {bucket(0, Decimal(0))}",
            f"  bankruptcy_60_plus: {bucket(0, Decimal(0))}",
        ]
        (deal_dir / "periods" / f"{key(t)}.yaml").write_text("\n".join(lines) + "\n")
        pool = end_pool
        count -= payoff_count + len(repossessed)
        term -= 1


if __name__ == "__main__":
    write()
