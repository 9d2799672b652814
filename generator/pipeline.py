"""From a deal directory to checked statements: load -> validate -> roll forward -> reconcile.

Each stage is a function of what the stage before it returned; nothing is
written until every requested statement has been computed and reconciled.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Callable, Iterable

from .engine import State, distribution_date_for, opening_state, run_period
from .load import Loaded, list_periods, load_deal, load_period, period_path
from .model import Deal, Period
from .number import ZERO
from .source import InputError, InputErrors, SourceMap
from .statement import Revision, Statement


class ReconciliationError(Exception):
    """A statement that does not tie out; it is never written."""

    def __init__(self, period: str, failures: list[str]):
        self.period = period
        self.failures = failures
        super().__init__("\n".join(f"{period}: does not reconcile: {f}" for f in failures))


def fmt(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def reconcile(statement: Statement) -> None:
    failures = []
    for check in statement.checks:
        if not check.ok:
            diff = check.left - check.right
            failures.append(f"{check.name}: {fmt(check.left)} != {fmt(check.right)} (off by {fmt(abs(diff))})")
    if failures:
        raise ReconciliationError(statement.period, failures)


# ------------------------------------------------------------------ period checks


def check_period(deal: Deal, state: State | None, period: Period, src: SourceMap) -> list[InputError]:
    """Rules that tie a period to its deal and to the state it starts from."""
    errors: list[InputError] = []
    names = [c.name for c in deal.classes]
    known = set(names)

    def unknown_classes(path: tuple, mapping: dict) -> None:
        for name in mapping:
            if name not in known:
                errors.append(src.error(path + (name,), f"class {name!r} is not a class of deal {deal.id} "
                                                        f"(expected one of: {', '.join(names)})"))

    op = period.opening
    if op is not None:
        for key in ("class_balances", "unpaid_interest", "net_wac_carryover", "unpaid_realized_losses"):
            unknown_classes(("opening", key), getattr(op, key))
        excess = [c.name for c in deal.classes if c.kind == "excess"]
        for name in excess:
            if name in op.class_balances:
                errors.append(src.error(("opening", "class_balances", name),
                                        f"class {name}'s notional is the pool balance less the certificates; "
                                        "it is derived, not given"))
        certificates = sum((v for k, v in op.class_balances.items() if k in known and k not in excess), ZERO)
        if certificates > op.pool_balance:
            errors.append(src.error(("opening", "class_balances"),
                                    f"opening class balances add up to {fmt(certificates)}, more than the pool "
                                    f"balance {fmt(op.pool_balance)} (expected at most the pool balance)"))
        for c in deal.classes:
            if c.name in op.class_balances and op.class_balances[c.name] > c.original_balance:
                errors.append(src.error(("opening", "class_balances", c.name),
                                        f"{fmt(op.class_balances[c.name])} is more than class {c.name}'s "
                                        f"original balance {fmt(c.original_balance)}"))
    start = state if state is not None else (opening_state(deal, op) if op is not None else None)
    if start is None:
        return errors
    date = distribution_date_for(deal, period)
    path = ("distribution_date",) if period.distribution_date else ("period",)
    if date <= start.distribution_date:
        errors.append(src.error(path, f"distribution date {date.isoformat()} is not after the previous "
                                      f"distribution date {start.distribution_date.isoformat()}"))
    first = deal.schedule.first_distribution_date
    if date < first:
        errors.append(src.error(path, f"distribution date {date.isoformat()} is before the deal's first "
                                      f"distribution date {first.isoformat()} (expected on or after it)"))
    coll = period.collections
    if coll.prepayment_charges and not deal.waterfall.prepayment_charges_to:
        errors.append(src.error(("collections", "prepayment_charges"),
                                f"{fmt(coll.prepayment_charges)} collected, but deal {deal.id} names no class to "
                                "receive them (expected 0, or waterfall.prepayment_charges_to in the deal)"))
    liq_balance = sum((l.balance for l in coll.liquidations), ZERO)
    removed = (coll.scheduled_principal + coll.curtailments + coll.payoffs.amount + liq_balance
               + coll.repurchases.amount)
    if removed > start.pool_balance:
        errors.append(src.error(("collections",), f"principal collected and liquidated ({fmt(removed)}) is more "
                                                  f"than the pool balance {fmt(start.pool_balance)}"))
    for i, loan in enumerate(coll.liquidations):
        if loan.proceeds > loan.balance:
            errors.append(src.error(("collections", "liquidations", i, "proceeds"),
                                    f"proceeds {fmt(loan.proceeds)} exceed the loan's balance {fmt(loan.balance)}"))
    removed_loans = coll.payoffs.count + len(coll.liquidations) + coll.repurchases.count
    if removed_loans > start.loan_count:
        errors.append(src.error(("collections", "payoffs", "count"),
                                f"{removed_loans} loans paid off, liquidated or repurchased, but the pool has "
                                f"only {start.loan_count}"))
    pool_end = start.pool_balance - removed
    dq = period.delinquency
    buckets = ("days_30_59", "days_60_89", "days_90_plus", "foreclosure", "bankruptcy")
    stated = sum((getattr(dq, b).stated_balance for b in buckets), ZERO) + period.reo.stated_balance
    if stated > pool_end:
        errors.append(src.error(("delinquency",), f"delinquent and REO stated balances add up to {fmt(stated)}, "
                                                  f"more than the ending pool balance {fmt(pool_end)}"))
    for b in buckets + ("bankruptcy_60_plus",):
        bucket = getattr(dq, b)
        if bucket.stated_balance > pool_end:
            errors.append(src.error(("delinquency", b, "stated_balance"),
                                    f"{fmt(bucket.stated_balance)} is more than the ending pool balance {fmt(pool_end)}"))
        if bucket.count and not bucket.stated_balance or bucket.stated_balance and not bucket.count:
            errors.append(src.error(("delinquency", b), "count and stated balance must both be zero or both not"))
    if dq.bankruptcy_60_plus.stated_balance > dq.bankruptcy.stated_balance:
        errors.append(src.error(("delinquency", "bankruptcy_60_plus"),
                                "bankrupt loans 60+ days delinquent are part of all bankrupt loans; "
                                f"{fmt(dq.bankruptcy_60_plus.stated_balance)} > {fmt(dq.bankruptcy.stated_balance)}"))
    if period.reo.stated_balance > pool_end:
        errors.append(src.error(("reo", "stated_balance"), f"more than the ending pool balance {fmt(pool_end)}"))
    return errors


def agree_with_opening(deal: Deal, state: State, period: Period, src: SourceMap) -> list[InputError]:
    """An opening state given after the first period must equal the computed one."""
    op = period.opening
    given = opening_state(deal, op)
    errors = []
    pairs = [(("opening", "previous_distribution_date"), given.distribution_date, state.distribution_date),
             (("opening", "pool_balance"), given.pool_balance, state.pool_balance),
             (("opening", "loan_count"), given.loan_count, state.loan_count),
             (("opening", "cumulative_realized_losses"), given.cumulative_losses, state.cumulative_losses)]
    for c in deal.classes:
        if c.name in op.class_balances:
            pairs.append((("opening", "class_balances", c.name), given.balances[c.name], state.balances[c.name]))
    for key, mine in (("unpaid_interest", state.unpaid_interest), ("net_wac_carryover", state.carryover),
                      ("unpaid_realized_losses", state.unpaid_losses)):
        for name, value in getattr(op, key).items():
            pairs.append((("opening", key, name), value, mine.get(name, ZERO)))
    for path, stated, computed in pairs:
        if stated != computed:
            if isinstance(stated, Decimal):
                detail = f"given {fmt(stated)}, computed {fmt(computed)} ({fmt(abs(stated - computed))} apart)"
            else:
                detail = f"given {stated}, computed {computed}"
            errors.append(src.error(path, f"does not agree with the previous period's closing state: {detail}"))
    return errors


# ------------------------------------------------------------------ running periods


@dataclass(frozen=True, slots=True)
class Computed:
    deal: Deal
    deal_source: SourceMap
    period: Period
    source: SourceMap
    statement: Statement
    #: Set when the statement is rendered as a revision of a published one.
    revision: Revision | None = None


def select_periods(available: list[str], spec: str) -> list[str]:
    """``2002-05``, ``all``, ``latest`` (the last on file), or a range ``2002-05..2004-12`` (inclusive)."""
    if spec == "all":
        return list(available)
    if spec == "latest":
        return list(available[-1:])
    if ".." in spec:
        first, last = spec.split("..", 1)
        return [p for p in available if first <= p <= last]
    return [spec]


def run(deal_dir: Path, spec: str) -> list[Computed]:
    """Compute and reconcile the statements for ``spec``, rolling every period forward from
    the deal's first period on file.  Raises :class:`InputErrors` (every problem found) or
    :class:`ReconciliationError`."""
    deal_dir = Path(deal_dir)
    loaded_deal = load_deal(deal_dir)
    deal: Deal = loaded_deal.value
    available = list_periods(deal_dir)
    wanted = select_periods(available, spec)
    missing = [p for p in wanted if p not in available]
    if missing or not wanted:
        where = str(deal_dir / "periods")
        raise InputErrors([InputError(where, 0, "", f"no period file for {p} (expected {period_path(deal_dir, p)}; "
                                                     f"on file: {', '.join(available) or 'none'})")
                           for p in (missing or [spec])])
    last = max(wanted)
    state: State | None = None
    out: list[Computed] = []
    for key in available:
        if key > last:
            break
        loaded = load_period(deal_dir, key)
        period: Period = loaded.value
        first = state is None
        if first and period.opening is not None:
            state = opening_state(deal, period.opening)  # checked with the period, just below
        errors = check_period(deal, state, period, loaded.source)
        if first and period.opening is None:
            errors.append(loaded.source.error(("opening",),
                                              "the deal's first period on file needs an opening state "
                                              "(balances after the previous distribution)"))
        elif not first and period.opening is not None:
            errors += agree_with_opening(deal, state, period, loaded.source)
        if errors:
            raise InputErrors(errors)
        assert state is not None
        statement, state = run_period(deal, state, period)
        reconcile(statement)
        if key in wanted:
            out.append(Computed(deal, loaded_deal.source, period, loaded.source, statement))
    return out


# ------------------------------------------------------------------ writing


_UMASK = os.umask(0)
os.umask(_UMASK)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that a reader sees the old file or the whole new one, and a
    process killed while writing leaves no partial file behind.

    On Linux the data goes to an unnamed file (``O_TMPFILE``) that gets a name only once it is
    complete and synced, so even ``kill -9`` cannot leave a partial file.  Elsewhere a named
    temporary file is renamed into place (and removed on any error the process survives)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = _open_unnamed(path.parent)
    if fd is not None:
        tmp = path.parent / f".{path.name}.{os.getpid()}.tmp"
        if _commit(fd, data, tmp, path, name=lambda fileno: _name_unnamed(fileno, tmp)):
            return
    fd, named = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.fchmod(fd, 0o666 & ~_UMASK)  # mkstemp makes 0600; a statement is an ordinary file
    _commit(fd, data, Path(named), path)


def _open_unnamed(directory: Path) -> int | None:
    """An ``O_TMPFILE`` file in ``directory``, or None when the system or file system lacks it."""
    flag = getattr(os, "O_TMPFILE", None)
    if flag is None:
        return None
    try:
        return os.open(directory, flag | os.O_WRONLY, 0o666)  # the umask applies, as for any new file
    except OSError:
        return None


def _commit(fd: int, data: bytes, tmp: Path, path: Path, name: Callable[[int], bool] | None = None) -> bool:
    """Write and sync ``data`` through ``fd``, give the file the name ``tmp`` if it has none yet
    (``name``; False if that fails, and nothing is left), then rename ``tmp`` to ``path``.  On any
    error ``tmp`` is removed."""
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
            if name is not None and not name(fh.fileno()):
                return False
        os.replace(tmp, path)
        return True
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _name_unnamed(fd: int, name: Path) -> bool:
    """Give the ``O_TMPFILE`` file ``fd`` a name: linkat(2) through /proc/self/fd, following
    the link (Python calls linkat only when given a directory fd)."""
    try:
        proc = os.open("/proc/self/fd", os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        for _ in range(2):
            try:
                os.link(str(fd), name, src_dir_fd=proc, follow_symlinks=True)
                return True
            except FileExistsError:
                os.unlink(name)  # left by a killed process that had this pid
        return False
    except OSError:
        return False
    finally:
        os.close(proc)


def output_name(statement: Statement, ext: str) -> str:
    return f"{statement.deal_id}_{statement.distribution_date.isoformat()}.{ext}"
