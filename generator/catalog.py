"""What a formula may name from the input files: every value of a period file and of the
deal file, by its path, with its type and where it is read from.

Period values keep their path in the file (``collections.payoffs.amount``, ``index.current``,
``opening.class_balances.A``); a list gives its items (``collections.liquidations[0].balance``)
and, for ``sum()`` and ``count()``, the list as a whole (``collections.liquidations[].balance``,
``collections.liquidations``).  Deal values are named by what they belong to: a class's by the
class (``A.original_balance``, ``A.coupon.margin``), a fee's by the fee
(``fees.Servicing.annual_rate``), the schedule's as written (``schedule.distribution_day``).
"""

from __future__ import annotations

import datetime as dt
import operator
import re
import typing
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any, Callable, Literal

from pydantic import BaseModel

from . import model as m

#: Each value type of the model, by its validator, as a formula type.
_TYPES = {id(t.__metadata__[0]): name for t, name in (
    (m.Money, "money"), (m.Rate, "rate"), (m.Count, "count"), (m.Ordinal, "count"), (m.DayOfMonth, "count"),
    (m.Flag, "flag"), (m.Date, "date"))}


@dataclass(frozen=True, slots=True)
class InputSpec:
    """One value of an input file."""

    name: str
    type: str
    file: Literal["period", "deal"]
    path: tuple[str | int, ...]  # where it stands in the file
    get: Callable[[Any], Any]  # from the validated model (the period, or the deal)
    default: Any = None  # the value when the file leaves it out (the model's default)
    label: str = ""  # what it is (the model's description of the field)


def _field_type(info: Any) -> tuple[str | None, type | None]:
    """(formula type, nested model or list item model) of a pydantic field."""
    for meta in getattr(info, "metadata", ()):
        if id(meta) in _TYPES:
            return _TYPES[id(meta)], None
    return _annotation_type(info.annotation)


def _annotation_type(tp: Any) -> tuple[str | None, type | None]:
    origin = typing.get_origin(tp)
    if origin is typing.Annotated:
        for meta in tp.__metadata__:
            if id(meta) in _TYPES:
                return _TYPES[id(meta)], None
        return _annotation_type(typing.get_args(tp)[0])
    if origin in (typing.Union, getattr(__import__("types"), "UnionType", None)):
        for arg in typing.get_args(tp):
            if arg is not type(None):
                return _annotation_type(arg)
    if origin is tuple:
        item = typing.get_args(tp)[0]
        return "list", item if isinstance(item, type) and issubclass(item, BaseModel) else None
    if origin is dict:
        return "dict", typing.get_args(tp)[1]
    if origin is Literal or tp is str:
        return "text", None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        return None, tp
    if tp is bool:
        return "flag", None
    if tp is int:
        return "count", None
    if tp is Decimal:
        return "rate", None
    if tp is dt.date:
        return "date", None
    return "text", None


def _walk(model: type[BaseModel], path: tuple, classes: list[str], out: dict[str, InputSpec],
          file: Literal["period", "deal"], context: str = "", accounts: tuple[str, ...] = (),
          groups: tuple[str, ...] = (), fees: tuple[str, ...] = ()) -> None:
    for field, info in model.model_fields.items():
        alias = info.alias or field
        here = path + (alias,)
        name = ".".join(str(p) for p in here)
        kind, nested = _field_type(info)
        default = None if info.is_required() else info.get_default(call_default_factory=True)
        label = _label(info.description or name)
        label = f"{context}: {label}" if context else label
        if kind == "list":
            out[name] = InputSpec(name, "list", file, here, _attr(path, field), (), label)
            if nested is not None:
                for sub, sub_info in nested.model_fields.items():
                    sub_kind, _ = _field_type(sub_info)
                    sub_label = f"{label}: {_label(sub_info.description or sub)}"
                    out[f"{name}[].{sub}"] = InputSpec(f"{name}[].{sub}", f"list:{sub_kind}", file, here,
                                                       _column(path, field, sub), (), sub_label)
                    out[f"{name}[{{i}}].{sub}"] = InputSpec(f"{name}[{{i}}].{sub}", sub_kind or "text", file,
                                                           here + ("{i}", sub), _attr(path, field), None, sub_label)
            continue
        if kind == "dict" and isinstance(nested, type) and issubclass(nested, BaseModel):  # a report per group
            for g in groups:
                _walk(nested, here + (g,), classes, out, file, f"group {g}", accounts, groups, fees)
            continue
        if kind == "dict":  # keyed by class (or by carried account, loan group, fee): one value for each
            keys, what = {"accounts": (accounts, "account"), "group_balances": (groups, "group"),
                          "group_loan_counts": (groups, "group"), "unpaid_fees": (fees, "fee")}.get(alias, (classes, "class"))
            type_ = "count" if alias == "group_loan_counts" else "money"
            for c in keys:  # a fee is named in figures by its key (Insurance_Premium), in the file as written
                k = key(c) if alias == "unpaid_fees" else c
                out[f"{name}.{k}"] = InputSpec(f"{name}.{k}", type_, file, here + (c,),
                                               _keyed(path, field, c), 0 if type_ == "count" else Decimal("0.00"),
                                               f"{label} ({what} {c})")
            continue
        if nested is not None:  # the fields of a section below the top are named with it
            _walk(nested, here, classes, out, file, label if path else context, accounts, groups, fees)
            continue
        out[name] = InputSpec(name, kind or "text", file, here, _attr(path, field), default, label)


def _attr(path: tuple, field: str) -> Callable[[Any], Any]:
    """A field's value (None when a section on its way is none: a period without an opening)."""
    if "groups" in path:  # through the mapping of the groups' reports
        return _through((*path, field))
    attrs = operator.attrgetter(".".join((*path, field)))

    def get(root: Any) -> Any:
        try:
            return attrs(root)
        except AttributeError:  # a section that is not there (None)
            return None

    return get


def _through(path: tuple) -> Callable[[Any], Any]:
    def get(root: Any) -> Any:
        value = root
        for part in path:
            if value is None:
                return None
            value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
        return value

    return get


def _column(path: tuple, field: str, sub: str) -> Callable[[Any], Any]:
    items = _attr(path, field)
    return lambda root: [getattr(item, sub) for item in (items(root) or ())]


def _keyed(path: tuple, field: str, key: str) -> Callable[[Any], Any]:
    mapping = _attr(path, field)

    def get(root: Any) -> Any:
        found = mapping(root)
        return None if found is None else found.get(key, Decimal("0.00"))

    return get


def key(text: str) -> str:
    """A fee's or trigger's name as it stands in figure names: ``Cumulative losses`` -> ``Cumulative_losses``."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_") or "_"


def period_inputs(classes: list[str], accounts: tuple[str, ...] = (), groups: tuple[str, ...] = (),
                  fees: tuple[str, ...] = ()) -> dict[str, InputSpec]:
    """Every value a period file can hold, by name (``accounts``: the deal's carried accounts;
    ``groups``: its loan groups, whose reports are ``groups.<name>.collections.interest``, ...;
    ``fees``: its fees' names, as the deal file writes them)."""
    out: dict[str, InputSpec] = {}
    _walk(m.GroupedPeriod if groups else m.Period, (), classes, out, "period", accounts=accounts, groups=groups,
          fees=fees)
    if groups:
        _pooled_lists(groups, out)
    return out


#: The lists of a group's report that the pool has too: every group's items, in the deal's order of groups.
POOLED_LISTS = {"collections.liquidations": m.LiquidatedLoan, "reo.new": m.ReoLoan}


def _pooled_lists(groups: tuple[str, ...], out: dict[str, InputSpec]) -> None:
    """A deal with loan groups: the pool's liquidated loans (and new REO) are every group's."""
    for name, model in POOLED_LISTS.items():
        parts = [out[f"groups.{g}.{name}"].get for g in groups]

        def joined(root: Any, parts: list = parts) -> list:
            return [item for get in parts for item in (get(root) or ())]

        path = tuple(name.split("."))
        out[name] = InputSpec(name, "list", "period", path, joined, (), f"{name.replace('.', ' ')} of every group")
        for sub, sub_info in model.model_fields.items():
            sub_kind, _ = _field_type(sub_info)
            label = _label(sub_info.description or sub)
            out[f"{name}[].{sub}"] = InputSpec(f"{name}[].{sub}", f"list:{sub_kind}", "period", path,
                                               lambda root, j=joined, f=sub: [getattr(x, f) for x in j(root)], (),
                                               f"every group: {label}")
            out[f"{name}[{{i}}].{sub}"] = InputSpec(f"{name}[{{i}}].{sub}", sub_kind or "text", "period",
                                                   path + ("{i}", sub), joined, None, f"every group: {label}")


def pooled_item_path(groups: tuple[str, ...], period: Any, name: str, i: int) -> tuple:
    """Where item ``i`` of a pooled list (``collections.liquidations``) stands in a grouped period file."""
    for g in groups:
        items = _through(("groups", g, *name.split(".")))(period) or ()
        if i < len(items):
            return ("groups", g, *name.split("."), i)
        i -= len(items)
    return tuple(name.split(".")) + (i,)


def item(spec: InputSpec, i: int) -> tuple[str, tuple, Callable[[Any], Any]]:
    """The name, path and getter of item ``i`` of a list input's field (``collections.liquidations[{i}].balance``)."""
    list_path = spec.path[:-2]
    field = spec.path[-1]
    name = spec.name.replace("{i}", str(i))
    items = spec.get

    def get(root: Any) -> Any:
        values = items(root)
        return getattr(values[i], field) if values is not None and i < len(values) else None

    return name, list_path + (i, field), get


def deal_inputs(deal: m.Deal, plan: tuple | None = None) -> dict[str, tuple[str, tuple, Any, str]]:
    """The deal file's values that formulas name: (type, path in the file, value, what it is), by
    name.  ``plan``: :func:`input_plan` of a deal of the same structure (made once for them all)."""
    return {name: (type_, path, get(deal), label) for name, type_, path, get, label in plan or input_plan(deal)}


def input_plan(deal: m.Deal) -> tuple[tuple[str, str, tuple, Callable[[Any], Any], str], ...]:
    """Each value of :func:`deal_inputs`: (name, type, path in the file, how to read it from a deal,
    what it is).  The same for every deal whose classes, coupons, fees, groups, swaps and caps
    are named and kinded alike."""
    out: list[tuple[str, str, tuple, Callable[[Any], Any], str]] = []

    def add(name: str, type_: str, path: tuple, model: type[BaseModel], field: str, owner: str,
            get: Callable[[Any], Any] | None = None) -> None:
        out.append((name, type_, path, get or _at(path), f"{owner}: {_field_label(model, field)}"))

    cls = m.CertificateClass
    for i, c in enumerate(deal.classes):
        base, owner = ("classes", i), f"class {c.name}"
        for field, type_ in (("name", "text"), ("kind", "text"), ("cusip", "text"), ("original_balance", "money")):
            add(f"{c.name}.{field}", type_, base + (field,), cls, field, owner)
        if c.coupon is not None:
            for field, type_ in (("margin", "rate"), ("step_up_margin", "rate"), ("kind", "text"), ("floor", "rate"),
                                 ("rate", "rate"), ("step_up_rate", "rate"), ("day_count", "text")):
                add(f"{c.name}.coupon.{field}", type_, base + ("coupon", field), m.Coupon, field, owner)
    for i, fee in enumerate(deal.fees):
        owner, k = f"{fee.name} fee", key(fee.name)
        if fee.annual_rate is not None:
            add(f"fees.{k}.annual_rate", "rate", ("fees", i, "annual_rate"), m.Fee, "annual_rate", owner)
        else:  # a fixed fee: its amount, and no rate (its rate counts as 0 in the fees' rates)
            add(f"fees.{k}.amount", "money", ("fees", i, "amount"), m.Fee, "amount", owner)
            out.append((f"fees.{k}.annual_rate", "rate", ("fees", i, "annual_rate"), lambda _: Decimal("0"),
                        f"{owner}: a fixed amount (amount:), so no annual rate (0)"))
        add(f"fees.{k}.payee", "text", ("fees", i, "payee"), m.Fee, "payee", owner,
            lambda d, i=i: d.fees[i].payee or d.fees[i].name)
    for name in ("closing_date", "first_distribution_date", "distribution_day", "holiday_calendar"):
        type_ = {"distribution_day": "count", "holiday_calendar": "text"}.get(name, "date")
        add(f"schedule.{name}", type_, ("schedule", name), m.Schedule, name, "schedule")
    for i, g in enumerate(deal.groups):
        add(f"groups.{g.name}.cutoff_balance", "money", ("groups", i, "cutoff_balance"), m.Group, "cutoff_balance",
            f"group {g.name}")
        add(f"groups.{g.name}.label", "text", ("groups", i, "label"), m.Group, "label", f"group {g.name}")
    for i, sw in enumerate(deal.swaps):
        add(f"swaps.{sw.name}.fixed_rate", "rate", ("swaps", i, "fixed_rate"), m.Swap, "fixed_rate", f"swap {sw.name}")
    for i, cap in enumerate(deal.caps):
        add(f"caps.{cap.name}.strike", "rate", ("caps", i, "strike"), m.Cap, "strike", f"cap {cap.name}")
    add("deal_id", "text", ("id",), m.Deal, "id", "deal")
    return tuple(out)


def _at(path: tuple) -> Callable[[Any], Any]:
    """The value at ``path`` in a deal (a field's name, or an item's index)."""
    def get(deal: Any) -> Any:
        value = deal
        for part in path:
            value = value[part] if type(part) is int else getattr(value, part)
        return value

    return get


@lru_cache(maxsize=256)
def _field_label(model: type[BaseModel], field: str) -> str:
    return _label(model.model_fields[field].description or field)


def _label(description: str) -> str:
    """A field's description as the label of its value: its first sentence, lower-case, no full stop."""
    first = description.split(". ")[0].rstrip(".")
    return first[:1].lower() + first[1:] if first[:2] != first[:2].upper() else first


__all__ = ["InputSpec", "period_inputs", "deal_inputs", "input_plan", "item", "POOLED_LISTS", "pooled_item_path"]
