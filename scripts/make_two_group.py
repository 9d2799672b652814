#!/usr/bin/env python3
"""Write the servicer data of the SYNTHETIC two-group deal inputs/synthetic-two-group-2025-1:
48 months, each group reported apart, from a fixed seed (same seed, same bytes).  Its deal
file, deal.yaml, is written by hand.

The loans are simulated one by one (scripts/loans.py): Group I, 2,400 fixed-rate loans of
300,000,000.00 at the cut-off; Group II, 1,600 adjustable-rate loans of 200,000,000.00,
reset every six months to the index plus their margins (within their floors and caps).
For each month it writes what the servicer, Example Loan Servicing, sends: its loan-level
tape (tapes/YYYY-MM.csv.gz, in the format servicer.yaml describes) and its remittance
report (tapes/YYYY-MM.remittance.yaml, its totals for the pool and each group); then remit
intake reads them into the period file (periods/YYYY-MM.yaml), as it would a real
servicer's (delinquency counted by the OTS method, as deal.yaml says).  fixings.yaml holds
the index set for each month.

The story:

* months 1-4   the index (4.30%) is over the swap's fixed rate: the swap pays the trust;
* months 5-8   the index spikes to 8.20% before Group II's adjustable loans reset: A-3's
               coupon is capped at Group II's net WAC; its carryover is paid from excess later;
* month 10     a servicing disruption: the remittance carries only a tenth of the interest
               due on Group I's loans and 41% of Group II's (the rest left out loan by loan);
               what Group II's seniors leave covers part of Group I's senior interest
               (cross-collateralization) and the insurance policy pays the rest; the
               mezzanine classes' interest goes unpaid;
* months 11-   excess cash flow reimburses the insurer, with interest, and the mezzanine
               classes' unpaid interest;
* months 14-24 Group II loans, delinquent from six months before, are liquidated out of
               foreclosure at a loss; OC absorbs it;
* month 20-    the index falls to 2.60%: the trust pays the swap counterparty;
* A-IO's notional steps down every 12 months, to nothing at the 37th distribution.

Run from the repository root:  .venv/bin/python scripts/make_two_group.py  (remit intake writes the period files)
"""

from __future__ import annotations

import csv
import io
import random
import shutil
import sys
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import loans as L  # noqa: E402
from story import month  # noqa: E402

SEED = 20250225
DEAL = Path(__file__).resolve().parent.parent / "inputs" / "synthetic-two-group-2025-1"
MONTHS = 48
FIRST = (2025, 3)
SERVICER = "Example Loan Servicing"
GROUPS = {"fixed": "I", "adjustable": "II"}
DISRUPTION = 10                                    # the month of the servicing disruption: the remittance
REMITTED = {"fixed": 10000, "adjustable": 41000}   # carries this share (per 100,000) of the interest due
WAVE = range(14, 25)                               # Group II liquidations, the months they come in
WAVE_PATH = ("missed", "missed", "missed", "foreclosure", "foreclosure", "foreclosure", "liquidated")
STRESS = {"adjustable": range(7, 25)}              # months of heavier delinquency in a group ...
STRESS_FACTOR = Decimal("1.5")                     # ... by this factor
#: no REO: a foreclosure ends in reinstatement, redemption or (the wave's) a sale to a third party
BEHAVIOR = {"fixed": L.Behavior(miss=800, reinstate=10000, redeem=8000, to_reo=0, curtail=1200),
            "adjustable": L.Behavior(miss=1200, reinstate=10000, redeem=8000, to_reo=0, curtail=1200)}
STATES = ["CA"] * 20 + ["FL"] * 12 + ["TX"] * 9 + ["NY"] * 7 + ["IL"] * 6 + ["NJ"] * 5 + ["OH"] * 5 + \
    ["PA"] * 5 + ["GA"] * 4 + ["MI"] * 4 + ["AZ"] * 4 + ["WA"] * 4 + ["MA"] * 3 + ["NC"] * 3 + ["CO"] * 3 + \
    ["MN"] * 2 + ["IN"] * 2 + ["MO"] * 2
COLUMNS = ["LoanID", "Pool", "AsOfDate", "OpeningBalance", "ScheduledPrincipal", "Curtailment", "PayoffAmount",
           "LiquidatedBalance", "LiquidationProceeds", "ClosingBalance", "InterestRemitted", "Advance", "NoteRate",
           "RemainingTerm", "NextDueDate", "Status", "Modified"]
CODES = {L.CURRENT: "CURRENT", L.DAYS_30: "DQ30", L.DAYS_60: "DQ60", L.DAYS_90: "DQ90", L.FORECLOSURE: "FCL",
         L.REO: "REO", L.BANKRUPTCY: "BKY", L.PAID: "PAIDOFF", L.LIQUIDATED: "LIQ"}


def key(t: int) -> str:
    return month(FIRST, t)


def index_for(t: int) -> Decimal:
    if t <= 4:
        return Decimal("0.0430")
    if t <= 8:
        return Decimal("0.0820")
    if t < 20:
        return Decimal("0.0400")
    return Decimal("0.0260")


def share(rng: random.Random) -> int:
    """A loan's place in the 40,000-450,000 range (millionths): most of them small."""
    return rng.randint(0, 10**6) * rng.randint(0, 10**6) // 10**6


class Spec:
    def __init__(self, name: str, balance: str, count: int, wac: str, terms: tuple[int, ...], cpr: str):
        self.name, self.balance, self.count, self.wac = name, Decimal(balance), count, Decimal(wac)
        self.terms, self.cpr = terms, Decimal(cpr)


SPECS = [Spec("fixed", "300000000.00", 2400, "0.0720", (360,) * 17 + (180,) * 3, "0.10"),
         Spec("adjustable", "200000000.00", 1600, "0.0840", (360,), "0.18")]


def cutoff_group(spec: Spec, rng: random.Random, wave: random.Random) -> list[L.Loan]:
    balances = L.cutoff_balances(rng, spec.count, spec.balance, Decimal("40000.00"), Decimal("450000.00"), share)
    mean = int(spec.wac / L.EIGHTH) - 12  # eighths: the draws below add 12 on average
    rates = L.aim_rates(rng, balances, [L.EIGHTH * (mean + rng.randint(0, 8) + rng.randint(0, 8) + rng.randint(0, 8))
                                        for _ in balances], spec.wac)
    prefix, n = f"G{1 if spec.name == 'fixed' else 2}", 700000
    loans = []
    for balance, rate in zip(balances, rates):
        n += rng.randint(1, 3)
        age = rng.randint(2, 5)
        x = L.Loan(f"{prefix}{n}", spec.name, balance, rate, rng.choice(spec.terms) - age + 1,
                   L.cents(balance * (1 + Decimal(age) / 400)), rng.choice(STATES), modified=rng.randrange(1000) < 12)
        if spec.name == "adjustable":
            margin = L.EIGHTH * rng.randint(24, 32)  # 3.00% to 4.00%
            x.arm = L.Arm(margin=margin, floor=margin, cap=L.EIGHTH * rng.randint(80, 88))  # caps 10.00% to 11.00%
        loans.append(x)
    if spec.name == "adjustable":  # Group II's losses: six months from the first missed installment
        candidates = [x for x in loans if Decimal("90000") <= x.balance <= Decimal("220000")]
        for m in WAVE:
            for _ in range(wave.randint(4, 8)):
                x = candidates.pop(wave.randrange(len(candidates)))
                x.path, x.path_start = WAVE_PATH, m - 6
    return loans


def recovery(rng: random.Random, x: L.Loan) -> Decimal:
    """Net proceeds of a foreclosure sale, as a fraction of the loan's balance."""
    return Decimal(rng.randint(40, 70)) / 100


def month_inputs(spec: Spec, t: int) -> L.Month:
    reset = index_for(t - 1) if spec.name == "adjustable" and t > 1 and t % 6 == 1 else None
    return L.Month(t, spec.cpr, stress=STRESS_FACTOR if t in STRESS.get(spec.name, ()) else Decimal(1),
                   remitted=REMITTED[spec.name] if t == DISRUPTION else L.PER, reset=reset)


def number(x: Decimal, places: int = 2) -> str:
    return f"{x:.{places}f}".replace(".", ",")


def tape(rows: list[L.Row], asof) -> str:
    out = io.StringIO()
    w = csv.writer(out, delimiter=";", lineterminator="\n")
    w.writerow(COLUMNS)
    date = asof.strftime("%d.%m.%Y")
    for r in rows:
        w.writerow([r.id, GROUPS[r.group], date, number(r.beginning), number(r.scheduled), number(r.curtailment),
                    number(r.payoff), number(r.liquidated), number(r.proceeds), number(r.ending), number(r.interest),
                    number(r.advance), number(r.rate, 5), r.remaining_term, r.next_due.strftime("%d.%m.%Y"),
                    CODES[r.status], "1" if r.modified else "0"])
    return out.getvalue()


def write(deal_dir: Path = DEAL, months: int = MONTHS) -> None:
    deal_dir = Path(deal_dir)
    for sub in ("periods", "tapes"):
        (deal_dir / sub).mkdir(parents=True, exist_ok=True)
    fixings = {key(t): index_for(t) for t in range(1, months + 2)}
    L.write_fixings(deal_dir / "fixings.yaml", fixings)
    pool_rng, wave_rng = random.Random(SEED), random.Random(SEED + 1)
    groups = [L.Group(s.name, cutoff_group(s, pool_rng, wave_rng), BEHAVIOR[s.name], random.Random(SEED + 2 + i),
                      FIRST, recovery) for i, s in enumerate(SPECS)]
    if deal_dir.resolve() != DEAL.resolve():
        for name in ("deal.yaml", "servicer.yaml"):
            shutil.copy(DEAL / name, deal_dir / name)
    for t in range(1, months + 1):
        asof = L.as_of(FIRST, t)
        rows, parts = [], {}
        for spec, g in zip(SPECS, groups):
            group_rows = g.month(month_inputs(spec, t))
            parts[spec.name] = L.totals(group_rows)
            rows += group_rows
        L.write_gzip(deal_dir / "tapes" / f"{key(t)}.csv.gz", tape(sorted(rows, key=lambda r: r.id), asof), "utf-8-sig")
        pool = L.pooled(list(parts.values()))
        report = [f"# {SERVICER}: remittance report for the {key(t)} distribution.", f"period: {key(t)}", "totals:"]
        report += L.remittance_lines(pool, "  ", charges=False)
        report.append("groups:")
        for name, f in parts.items():
            report += [f"  {name}:"] + L.remittance_lines(f, "    ", charges=False)
        (deal_dir / "tapes" / f"{key(t)}.remittance.yaml").write_text("\n".join(report) + "\n")
        L.intake(deal_dir, key(t))


if __name__ == "__main__":
    write()
