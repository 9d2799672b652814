#!/usr/bin/env python3
"""Write the servicer data of the SYNTHETIC auto-loan deal inputs/synthetic-auto-2025-1:
48 months from a fixed seed (same seed, same bytes).  Its deal file, deal.yaml, is written
by hand: this script writes only what the servicer reports each month.

The receivables are simulated one by one (scripts/loans.py): 25,000 fixed-rate auto loans,
500,000,000.00 at the cut-off, level-pay at APRs around 8.90% with 50 to 72 payments left.
Borrowers prepay about 1.3% of the pool a month (ABS-like), miss payments and roll 30 -> 60
-> 90+ days delinquent (or cure); a loan four payments behind is charged off, its vehicle
repossessed and sold at a loss (the tape's CHGOFF: liquidated, with the net recovery).  The
servicer advances nothing: a delinquent borrower's interest is not collected.  For each month
it writes what the servicer, Example Auto Finance LLC, sends: its loan-level tape
(tapes/YYYY-MM.csv.gz, pipe-delimited, in the format servicer.yaml describes) and its
remittance report (tapes/YYYY-MM.remittance.yaml, its totals); then remit intake reads them
into the period file (periods/YYYY-MM.yaml), as it would a real servicer's.

The deal is made up; its story exercises the rules of an auto-loan ABS:

* months 1-8   excess interest pays principal (turbo) until OC reaches its target, and
               fills the reserve account from 0.50% of the cut-off balance to its target;
* months 1-12  class A-1 (money market, Actual/360) is paid down and off, sequentially;
* month 14     a servicing disruption: the remittance carries only 30% of the interest due
               (the rest left out loan by loan), short of the notes' interest: the reserve
               account is drawn to pay it, and refilled from excess in the months after;
* month 20-30  delinquencies double from month 18, and a wave of loans, delinquent from four
               months before, is charged off and the vehicles sold at a loss: cumulative net
               losses rise;
* after OC is at target, OC released as the pool amortizes (its target is a share of the pool);
* the reserve account's target falls with the pool: what it holds above it is released.

Run from the repository root:  .venv/bin/python scripts/make_auto.py  (remit intake writes the period files)
"""

from __future__ import annotations

import io
import random
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loans as L  # noqa: E402
from story import month  # noqa: E402

SEED = 20250115
DEAL = Path(__file__).resolve().parent.parent / "inputs" / "synthetic-auto-2025-1"
MONTHS = 48
FIRST = (2025, 2)
SERVICER = "Example Auto Finance LLC"
POOL = Decimal("500000000.00")
LOANS = 25000
APR = Decimal("0.0890")
TERMS = (60,) * 4 + (66,) * 2 + (72,) * 4  # original terms, in months
DISRUPTION = 14            # the servicing disruption: its remittance carries ...
REMITTED = 30000           # ... this share (per 100,000) of the interest due
STRESS = range(18, 31)     # months of heavier delinquency ...
STRESS_FACTOR = Decimal(2)  # ... by this factor
WAVE = range(20, 31)       # the loss wave: months its loans are charged off (four payments missed first)
WAVE_PATH = ("missed", "missed", "missed", "missed", "liquidated")
BEHAVIOR = L.Behavior(miss=750, cure_1=40000, roll_1=20000, cure_2=15000, back_2=10000, roll_2=35000,
                      cure_3=8000, roll_3=45000, refer=0, to_bankruptcy=0, to_bankruptcy_late=0, curtail=500,
                      charge_off=4)
COLUMNS = ["LoanId", "BegBal", "SchedPrin", "Curtail", "PayoffAmt", "ChgOffBal", "NetRecovery", "EndBal",
           "IntCollected", "APR", "RemTerm", "NextDue", "Status"]
CODES = {L.CURRENT: "CUR", L.DAYS_30: "D30", L.DAYS_60: "D60", L.DAYS_90: "D90", L.REO: "REPO",
         L.BANKRUPTCY: "BK", L.PAID: "PIF", L.LIQUIDATED: "CHGOFF"}


def key(t: int) -> str:
    return month(FIRST, t)


def share(rng: random.Random) -> int:
    """A loan's place in the 3,000-60,000 range (millionths): most of them small."""
    return (rng.randint(0, 10**6) + rng.randint(0, 10**6) * rng.randint(0, 10**6) // 10**6) // 2


def cutoff_pool(rng: random.Random, wave: random.Random) -> list[L.Loan]:
    balances = L.cutoff_balances(rng, LOANS, POOL, Decimal("3000.00"), Decimal("60000.00"), share)
    rates = [Decimal("0.0001") * (500 + rng.randint(0, 260) + rng.randint(0, 260) + rng.randint(0, 260))
             for _ in range(LOANS)]  # 5.00% to 12.80%, in hundredths of a percent
    rates = L.aim_rates(rng, balances, rates, APR)
    pool, n = [], 5000000
    for balance, rate in zip(balances, rates):
        n += rng.randint(1, 3)
        term = rng.choice(TERMS)
        age = rng.randint(1, 8)
        pool.append(L.Loan(f"AU{n}", "pool", balance, rate, term - age + 1, balance, ""))
    candidates = [x for x in pool if Decimal("9000") <= x.balance <= Decimal("24000")]
    for m in WAVE:  # the loss wave: the first of four payments missed four months before the charge-off
        for _ in range(wave.randint(24, 34)):
            x = candidates.pop(wave.randrange(len(candidates)))
            x.path, x.path_start = WAVE_PATH, m - 4
    early = [x for x in pool if x.path is None and Decimal("6000") <= x.balance <= Decimal("20000")]
    for m in range(1, 5):  # before the first delinquencies can reach a charge-off: loans late at the cut-off
        for _ in range(wave.randint(4, 9)):
            x = early.pop(wave.randrange(len(early)))
            x.path, x.path_start = WAVE_PATH, m - 4
    return pool


class Recovery:
    """Net proceeds of a repossessed vehicle's sale, as a fraction of the loan's balance: less
    in the loss wave's months (a glut of used cars)."""

    t = 0

    def __call__(self, rng: random.Random, x: L.Loan) -> Decimal:
        return Decimal(rng.randint(38, 58) if self.t in WAVE else rng.randint(45, 65)) / 100


def month_inputs(t: int, rng: random.Random) -> L.Month:
    monthly = Decimal(rng.randint(105, 145)) / 10000  # about 1.25% of the pool a month
    return L.Month(t, 1 - (1 - monthly) ** 12, stress=STRESS_FACTOR if t in STRESS else Decimal(1),
                   advancing=False, remitted=REMITTED if t == DISRUPTION else L.PER)


def amount(x: Decimal) -> str:
    return f"{x:.2f}" if x else "0"


def tape(rows: list[L.Row]) -> str:
    out = io.StringIO()
    out.write("|".join(COLUMNS) + "\n")
    for r in rows:
        out.write("|".join([r.id, amount(r.beginning), amount(r.scheduled), amount(r.curtailment), amount(r.payoff),
                            amount(r.liquidated), amount(r.proceeds), amount(r.ending), amount(r.interest),
                            f"{(r.rate * 100).normalize():f}", str(r.remaining_term), r.next_due.isoformat(),
                            CODES[r.status]]) + "\n")
    return out.getvalue()


def write(deal_dir: Path = DEAL, months: int = MONTHS) -> None:
    import shutil

    deal_dir = Path(deal_dir)
    for sub in ("periods", "tapes"):
        (deal_dir / sub).mkdir(parents=True, exist_ok=True)
    if deal_dir.resolve() != DEAL.resolve():
        for name in ("deal.yaml", "servicer.yaml"):
            shutil.copy(DEAL / name, deal_dir / name)
    recovery = Recovery()
    group = L.Group("pool", cutoff_pool(random.Random(SEED), random.Random(SEED + 1)), BEHAVIOR,
                    random.Random(SEED + 2), FIRST, recovery)
    macro = random.Random(SEED + 3)
    for t in range(1, months + 1):
        recovery.t = t
        rows = group.month(month_inputs(t, macro))
        L.write_gzip(deal_dir / "tapes" / f"{key(t)}.csv.gz", tape(rows), "utf-8")
        report = [f"# {SERVICER}: remittance report for the {key(t)} distribution.", f"period: {key(t)}", "totals:"]
        # the servicer advances nothing: its report states no advances (nor does its tape)
        report += [x for x in L.remittance_lines(L.totals(rows), "  ", charges=False) if not x.startswith("  advances:")]
        (deal_dir / "tapes" / f"{key(t)}.remittance.yaml").write_text("\n".join(report) + "\n")
        L.intake(deal_dir, key(t))


if __name__ == "__main__":
    write()
