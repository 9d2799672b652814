#!/usr/bin/env python3
"""Write a SYNTHETIC book of N deals (default 1,000) for month-end benchmarks: each a copy
of the synthetic deal, onboarded seasoned, with one month to report.

Deal ``book-NNNN`` (NNNN = i, from 0001) has the synthetic deal's terms under its own id,
series and CUSIPs, and one period file: month k = 2 + (i - 1) % 59 of the synthetic story
(2..60).  That file's ``opening:`` block is the closing state of month k - 1 as the engine
computes it from inputs/synthetic-home-equity-2024-1, so the book covers every stage of
the story: OC build-up, capped rates, shortfalls, losses and write-downs, the stepdown, the
trigger event, the clean-up call.  So that no two statements are alike, each deal's
interest remittance is 1 + (i - 1) // 59 cents higher than the synthetic month's, and its
index is -1, 0 or +1 basis point off it.

The synthetic deal is run once; the files are then written from text, every amount an
exact decimal string.  Same N, same bytes; deal i does not depend on N.

Run from the repository root:  .venv/bin/python scripts/make_book.py --deals 1000 --out build/book
(book deal directories already in DIR are replaced; nothing else there is touched).
"""

from __future__ import annotations

import re
import shutil
import sys
from decimal import Decimal
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from generator.engine import Run  # noqa: E402
from generator.load import list_periods, period_path  # noqa: E402
from generator.model import Deal, cusip_check_digit  # noqa: E402
from generator.pipeline import run  # noqa: E402

SYNTHETIC = ROOT / "inputs" / "synthetic-home-equity-2024-1"
DEALS = 1000
MAX_DEALS = 99999  # the CUSIPs' issuer part is B and five digits
FIRST_MONTH = 2  # month 1 starts at closing; a seasoned deal is onboarded from month 2 on
CENT = Decimal("0.01")
BASIS_POINT = Decimal("0.0001")
BOOK_DEAL = re.compile(r"^book-[0-9]{4,}$")

DEAL_HEADER = """\
# SYNTHETIC DEAL: not a real trust.  Written by scripts/make_book.py, deal {i} of a book of
# copies of inputs/synthetic-home-equity-2024-1 (its terms, under its own id, series and
# CUSIPs); regenerate rather than edit.
"""

PERIOD_HEADER = """\
# SYNTHETIC servicer report, month {k} of the synthetic deal, for book deal {id}
# (scripts/make_book.py): interest remittance {cents} more, index {bp:+d} bp.
"""

OPENING_COMMENT = ("# Onboarded seasoned: the opening state is the closing state of month {k} of the "
                   "synthetic deal.")


def book_id(i: int) -> str:
    return f"book-{i:04d}"


def month_for(i: int) -> int:
    """The synthetic month deal ``i`` (from 1) reports: 2..60, in turn."""
    return FIRST_MONTH + (i - 1) % (60 - FIRST_MONTH + 1)


def variation(i: int) -> tuple[int, int]:
    """(cents added to the interest remittance, basis points added to the current index)."""
    return 1 + (i - 1) // (60 - FIRST_MONTH + 1), (i - 1) % 3 - 1


def cusip(base: str) -> str:
    """``base`` (8 characters) with its check digit, as the deal file's check wants it."""
    return base + cusip_check_digit(base)


def money(x: Decimal) -> str:
    if x != x.quantize(CENT):
        raise ValueError(f"{x} is not a whole number of cents")
    return f"{x:.2f}"


def _mapping(values: dict[str, Decimal]) -> str:
    return "{" + ", ".join(f"{name}: {money(v)}" for name, v in values.items()) + "}"


def closing_states(deal_dir: Path = SYNTHETIC) -> tuple[Deal, dict[str, Run]]:
    """Run the deal once: for each period, the distribution before it (whose closing state it starts from)."""
    computed = run(deal_dir, "all")
    states = {later.period.period: earlier.run for earlier, later in zip(computed, computed[1:])}
    return computed[0].deal, states


def opening_block(deal: Deal, state: Run, k: int) -> list[str]:
    """``state``'s closing figures as a period file's ``opening:`` block (the excess class's
    notional is derived)."""
    v = state.values
    names = [c.name for c in deal.classes if c.kind != "excess"]
    lines = [OPENING_COMMENT.format(k=k - 1),
             "opening:",
             f"  previous_distribution_date: {v['distribution_date'].isoformat()}",
             f"  pool_balance: {money(v['pool.ending_balance'])}",
             f"  loan_count: {v['pool.ending_count']}",
             f"  class_balances: {_mapping({n: v[f'{n}.ending_balance'] for n in names})}",
             f"  cumulative_realized_losses: {money(v['losses.cumulative'])}"]
    for key, figure in (("unpaid_interest", "unpaid_interest_after"), ("net_wac_carryover", "carryover_after"),
                        ("unpaid_realized_losses", "unpaid_losses_after")):
        owed = {c.name: v[f"{c.name}.{figure}"] for c in deal.classes if v[f"{c.name}.{figure}"]}
        if owed:
            lines.append(f"  {key}: {_mapping(owed)}")
    if v["oc.target"] is not None:
        lines.append(f"  oc_target: {money(v['oc.target'])}")
    lines.append(f"  stepdown_occurred: {'true' if v['performance.stepdown'] else 'false'}")
    return lines


def _replace_one(text: str, pattern: str, fn: Callable[[re.Match[str]], str]) -> str:
    out, n = re.subn(pattern, fn, text, count=0, flags=re.MULTILINE)
    if n != 1:
        raise ValueError(f"expected one match of {pattern!r} in the synthetic file, found {n}")
    return out


def deal_yaml(source: str, i: int) -> str:
    """The synthetic deal's terms under book deal ``i``'s id, series and CUSIPs."""
    body = "".join(line for line in source.splitlines(keepends=True) if not line.startswith("#"))
    body = _replace_one(body, r"^id: .*$", lambda m: f"id: {book_id(i)}")
    body = _replace_one(body, r"^series: .*$", lambda m: f'series: "2024-B{i}"')
    issues = iter("ABCDEFGHJKLMNPQRSTUVWXYZ")
    issuer = f"B{i:05d}"
    body, n = re.subn(r"cusip: [0-9A-Z]{9}", lambda m: f"cusip: {cusip(issuer + 'K' + next(issues))}", body)
    if not n:
        raise ValueError("expected CUSIPs in the synthetic deal.yaml")
    return DEAL_HEADER.format(i=i) + body


def period_yaml(source: str, opening: list[str], deal_id: str, k: int, cents: int, bp: int) -> str:
    """Synthetic month ``k``'s report with an opening block, ``cents`` more interest remittance
    and the current index ``bp`` basis points off."""
    body = [line for line in source.splitlines() if not line.startswith("#")]
    if any(line.startswith("opening:") for line in body):
        raise ValueError(f"synthetic month {k} already has an opening block")
    at = next(n for n, line in enumerate(body) if line.startswith("period:")) + 1
    text = "\n".join(body[:at] + opening + body[at:]) + "\n"
    text = _replace_one(text, r"^  interest: ([0-9.]+)$",
                        lambda m: f"  interest: {money(Decimal(m.group(1)) + cents * CENT)}")
    text = _replace_one(text, r"^  current: ([0-9.]+)$",
                        lambda m: f"  current: {Decimal(m.group(1)) + bp * BASIS_POINT}")
    return PERIOD_HEADER.format(k=k, id=deal_id, cents=money(cents * CENT), bp=bp) + text


def write_book(out: Path, n: int = DEALS, synthetic: Path = SYNTHETIC) -> list[Path]:
    """Write book deals 1..``n`` under ``out``; returns their directories, in name order."""
    if not 1 <= n <= MAX_DEALS:
        raise ValueError(f"a book has 1 to {MAX_DEALS} deals (got {n})")
    out = Path(out)
    deal, states = closing_states(synthetic)
    keys = list_periods(synthetic)
    deal_source = (synthetic / "deal.yaml").read_text()
    period_sources = {key: period_path(synthetic, key).read_text() for key in keys}
    out.mkdir(parents=True, exist_ok=True)
    wanted = {book_id(i) for i in range(1, n + 1)}
    for old in out.iterdir():
        if BOOK_DEAL.match(old.name) and old.name not in wanted and (old / "deal.yaml").exists():
            shutil.rmtree(old)
    dirs = []
    for i in range(1, n + 1):
        k = month_for(i)
        key = keys[k - 1]
        cents, bp = variation(i)
        deal_dir = out / book_id(i)
        if deal_dir.exists():
            if not (deal_dir / "deal.yaml").exists():
                raise FileExistsError(f"{deal_dir} exists and is not a book deal; not replacing it")
            shutil.rmtree(deal_dir)
        (deal_dir / "periods").mkdir(parents=True)
        (deal_dir / "deal.yaml").write_text(deal_yaml(deal_source, i))
        opening = opening_block(deal, states[key], k)
        (deal_dir / "periods" / f"{key}.yaml").write_text(
            period_yaml(period_sources[key], opening, book_id(i), k, cents, bp))
        dirs.append(deal_dir)
    return sorted(dirs)


def main() -> None:
    import argparse
    import time

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--deals", type=int, default=DEALS, help=f"number of deals (default {DEALS})")
    parser.add_argument("--out", type=Path, required=True, help="directory to write the deal directories to")
    args = parser.parse_args()
    if not 1 <= args.deals <= MAX_DEALS:
        parser.error(f"--deals must be 1 to {MAX_DEALS}")
    start = time.perf_counter()
    dirs = write_book(args.out, args.deals)
    print(f"{len(dirs)} deals in {args.out} ({time.perf_counter() - start:.2f} s)")


if __name__ == "__main__":
    main()
