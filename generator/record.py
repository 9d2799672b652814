"""The JSON Schema of one deal's figures record (``<deal-id>_<date>.json``), for the data
vendors and investors who parse it.

The record's shape is the statement's (:mod:`generator.view` builds it from the same field
lists read here); each figure's type and description are its figure's, as the deal's
compiled program declares them (the standard figures of ``generator/prelude.yaml``, the
deal's own, the inputs' descriptions), so the schema describes the deal it is written for:
its classes, fees, triggers, accounts, loan groups, hedges and reported figures by name.
Money is a decimal string of exactly two places; rates, ratios, per-$1,000 amounts and
factors are decimal strings of the fraction, unrounded; counts are integers, flags booleans,
dates ISO text.  A figure is null where it has no value for the deal or the month (a class
without a coupon has no rate), so every figure's schema admits null.
"""

from __future__ import annotations

from typing import Any

from . import view
from .model import Deal
from .program import BUILTIN_LABELS, BUILTINS, Program

DRAFT = "https://json-schema.org/draft/2020-12/schema"
#: Each figure type as JSON: money is exact cents, other numbers exact decimals, as text.
_DECIMAL = r"^-?[0-9]+(\.[0-9]+)?$"
TYPES: dict[str, dict[str, Any]] = {
    "money": {"type": ["string", "null"], "pattern": r"^-?[0-9]+\.[0-9]{2}$"},
    "amount": {"type": ["string", "null"], "pattern": _DECIMAL},
    "rate": {"type": ["string", "null"], "pattern": _DECIMAL},
    "number": {"type": ["string", "null"], "pattern": _DECIMAL},
    "count": {"type": ["integer", "null"]},
    "flag": {"type": ["boolean", "null"]},
    "date": {"type": ["string", "null"], "format": "date", "pattern": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"},
    "text": {"type": ["string", "null"]},
}
_UNITS = {"money": "dollars and cents, a decimal string of two places",
          "amount": "an amount not rounded to the cent, an exact decimal string",
          "rate": "a fraction (0.0217 is 2.17%), an exact decimal string",
          "number": "an exact decimal string", "count": "a whole number", "flag": "true or false",
          "date": "an ISO date", "text": "text"}


def _obj(description: str, properties: dict[str, Any], optional: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "description": description, "properties": properties,
            "required": [k for k in properties if k not in optional], "additionalProperties": False}


def _list(description: str, items: dict[str, Any]) -> dict[str, Any]:
    return {"type": "array", "description": description, "items": items}


class _Figures:
    """Each figure's schema, from its declared type and its label."""

    def __init__(self, program: Program):
        self.program = program
        self.items = {d.name: d for d in program.items}

    def known(self, name: str) -> bool:
        return name in self.program.defs or self.program.type_of(name) is not None

    def __call__(self, name: str) -> dict[str, Any]:
        p = self.program
        d = p.defs.get(name) or self.items.get(name)
        found_type, found_label = (d.type, d.label) if d is not None else (p.type_of(name), "")
        if d is None and name in BUILTINS:
            found_label = BUILTIN_LABELS[name]
        elif d is None and name in p.deal_values:
            found_label = p.deal_values[name][3]
        elif d is None and name in p.period_inputs:
            found_label = p.period_inputs[name].label
        kind = found_type or "number"
        words = found_label or name
        return {**TYPES[kind], "description": f"{words[:1].upper()}{words[1:]} (figure {name}; {_UNITS[kind]})."}


def record_schema(deal: Deal, program: Program) -> dict[str, Any]:
    """The JSON Schema of ``deal``'s figures record."""
    fig = _Figures(program)
    keys = program.keys
    doc: dict[str, Any] = {"$schema": DRAFT, "title": f"remit figures record of {deal.id}",
                           **_obj(f"The figures of one statement of {deal.trust} {deal.series}: the authority the "
                                  "statement's other formats are read from.", _top(deal, fig, keys), ("revision",
                                                                                                       "extra"))}
    return doc


def _top(deal: Deal, fig: _Figures, keys: dict[str, str]) -> dict[str, Any]:
    text = TYPES["text"] | {"type": "string"}
    out: dict[str, Any] = {
        "revision": _revision(),
        "deal_id": {**text, "const": deal.id, "description": "The deal's id (its folder's name)."},
        "period": {**text, "pattern": r"^[0-9]{4}-[0-9]{2}$", "description": "The month reported, YYYY-MM."},
    }
    for name in ("distribution_number", "distribution_date", "previous_distribution_date", "next_distribution_date",
                 "record_date", *view.TOP):
        out[name] = fig(name)
    out["classes"] = {"type": "array", "description": "Each class, senior to junior, as the deal file lists them.",
                      "prefixItems": [_class(c, fig) for c in deal.classes], "items": False,
                      "minItems": len(deal.classes)}
    out["totals"] = _obj("Every class's figures added up.", {k: fig(f"totals.{k}") for k in view.TOTALS})
    out["fees"] = _obj("Each fee paid, by its name.", {x.name: fig(f"fees.{keys[f'fee:{x.name}']}.paid")
                                                        for x in deal.fees})
    out["fees_unpaid"] = _obj("Each fee still owed after the distribution, by its name.",
                              {x.name: fig(f"fees.{keys[f'fee:{x.name}']}.unpaid_after") for x in deal.fees})
    out["pool"] = _obj("The pool.", {k: fig(f"pool.{k}") for k in view.POOL})
    out["delinquency"] = _obj("Delinquent loans by status.", {
        b: _obj(f"Loans {b.replace('_', ' ')}.", {k: fig(f"delinquency.{b}.{k}") for k in view.BUCKET_FIELDS})
        for b in view.BUCKETS})
    out["reo"] = _obj("Real estate owned (the deal's words for it are its statement's).", {
        "stated_balance": fig("reo.stated_balance"), "book_value": fig("reo.book_value"),
        "new": _list("Each loan that became REO in the preceding calendar month.",
                     _obj("A loan that became REO.", {k: fig(f"reo.new[{{i}}].{k}") for k in view.REO_NEW})),
        "principal_amortization": fig("reo.principal_amortization")})
    losses = {k: fig(f"losses.{k}") for k in view.LOSSES}
    losses["liquidated"] = _list("Each loan liquidated this period.", _obj("A liquidated loan.", {
        k: fig(f"losses.liquidated[{{i}}].{k}") for k in view.LIQUIDATED}))
    out["losses"] = _obj("Realized losses.", losses)
    out["shortfalls"] = _obj("Interest shortfalls.", {k: fig(f"shortfalls.{k}") for k in view.SHORTFALLS})
    out["oc"] = _obj("Overcollateralization.", {k: fig(f"oc.{k}") for k in view.OC})
    out["performance"] = _obj("Credit enhancement, delinquency and the stepdown.",
                              {k: fig(f"performance.{k}") for k in view.PERFORMANCE})
    out["triggers"] = _list("Each trigger tested this period (one whose threshold has no value yet is left out).",
                            {"oneOf": [_trigger(t.name, keys[f"trigger:{t.name}"], fig) for t in deal.triggers]}
                            if deal.triggers else False)
    out["cash"] = _obj("Cash available and paid out.", {k: fig(f"cash.{k}") for k in view.CASH})
    out["waterfall"] = _list("The flow of funds, each payment or transfer in order (flow[1] first).", _obj(
        "One line of the flow of funds.", {
            "section": {"type": "string", "description": "The fund it is paid from."},
            "description": {"type": "string", "description": "What it pays, as the statement words it."},
            "payee": {"type": "string", "description": "Who is paid: a class, a fee's payee, a fund."},
            "amount": TYPES["money"] | {"type": "string", "description": "What it paid (dollars and cents)."},
            "remaining": TYPES["money"] | {"type": "string",
                                           "description": "What its fund held after it (dollars and cents)."}}))
    out["checks"] = _list("The statement's reconciliation: each check with both sides; every one agrees, or the "
                          "statement is not written.", _obj("One check.", {
                              "name": {"type": "string", "description": "What is checked."},
                              "left": TYPES["number"] | {"type": "string", "description": "One side."},
                              "right": TYPES["number"] | {"type": "string", "description": "The other side."},
                              "ok": {"const": True, "description": "The two sides agree."}}))
    for name in ("advances", "extraordinary_expenses", "deficiencies"):
        out[name] = fig(name)
    out["extra"] = _extra(deal, fig)
    return out


def _class(c: Any, fig: _Figures) -> dict[str, Any]:
    n = c.name
    props: dict[str, Any] = {
        "name": {"const": n, "description": "The class's name."},
        "kind": {"const": c.kind, "description": "The class's kind (senior, mezzanine, excess, prepayment, "
                                                 "residual, interest_only)."},
        "cusip": {"const": c.cusip, "description": "The class's CUSIP (null where it has none)."},
        "original_balance": fig(f"{n}.original_balance"),
    }
    for k in view.CLASS_FIELDS[:-2]:
        props[k] = fig(f"{n}.{k}")
    props["per_1000_basis"] = fig(f"{n}.per_1000_basis")
    per = _obj(f"Class {n}'s figures per $1,000 of its per_1000_basis (null where it has none).",
               {k: fig(f"{n}.per_1000.{k}") for k in view.PER_1000})
    props["per_1000"] = {**per, "type": ["object", "null"]}
    props["factor"] = fig(f"{n}.factor")
    return _obj(f"Class {n}.", props)


def _trigger(name: str, key: str, fig: _Figures) -> dict[str, Any]:
    k = f"triggers.{key}"
    return _obj(f"The {name} trigger.", {"name": {"const": name, "description": "The trigger's name."},
                                          "value": fig(f"{k}.value"), "threshold": fig(f"{k}.threshold"),
                                          "breached": fig(f"{k}.breached")})


def _extra(deal: Deal, fig: _Figures) -> dict[str, Any]:
    """What the deal has beyond the standard statement, as :func:`generator.view._extra` gives it."""
    props: dict[str, Any] = {}
    bearing = [c for c in deal.classes if c.coupon is not None]
    props["coupons"] = _obj("Each class's coupon terms (given once any class's are other than floating Actual/360).",
                            {c.name: _obj(f"Class {c.name}'s coupon.", {
                                "kind": {"type": "string", "description": "floating or fixed."},
                                "day_count": {"type": "string", "description": "actual/360, 30/360 or actual/365."},
                                "accrual_days": fig(f"{c.name}.accrual_days"),
                                "floor": TYPES["rate"] | {"description": "The coupon's floor (null: none)."},
                                **({"accreted": fig(f"{c.name}.accreted")} if c.accretes is not None else {})})
                             for c in bearing})
    accounts = {a.name: _obj(f"Account {a.name}" + (f" ({a.label})." if a.label else "."), {
        "label": {"type": "string", "description": "The account's name as the statement words it."},
        **{k: fig(f"accounts.{a.name}.{k}") for k in view.ACCOUNT_FIELDS if fig.known(f"accounts.{a.name}.{k}")}},
        tuple(view.ACCOUNT_FIELDS)) for a in deal.accounts if a.carried or a.draw}
    if accounts:
        props["accounts"] = _obj("Each account carried from one distribution to the next, or drawn on demand.",
                                 accounts)
    if deal.groups:
        props["groups"] = _obj("Each loan group.", {g.name: _obj(f"Loan group {g.name}" + (f" ({g.label})." if g.label else "."), {
            "label": {"type": "string", "description": "The group's name as the statement words it."},
            **{k: fig(f"groups.{g.name}.{name}") for k, name in view.GROUP_FIELDS}}) for g in deal.groups})
    hedges = {f"swap {sw.name}": _obj(f"The {sw.name} swap.", {
        "counterparty": {"type": "string", "description": "The counterparty."},
        **{k: fig(f"swaps.{sw.name}.{k}") for k in view.SWAP_FIELDS}}) for sw in deal.swaps}
    hedges.update({f"cap {cap.name}": _obj(f"The {cap.name} cap.", {
        "counterparty": {"type": "string", "description": "The counterparty."},
        **{k: fig(f"caps.{cap.name}.{k}") for k in view.CAP_FIELDS}}) for cap in deal.caps})
    if hedges:
        props["hedges"] = _obj("Each swap and cap.", hedges)
    if deal.report:
        props["figures"] = _obj("The figures of the deal's own rules that its statement reports.",
                                {name: fig(name) for name in deal.report})
    props["determination_date"] = fig("determination_date")
    return _obj("What the deal has beyond the standard statement (left out when it has none).", props,
                tuple(props))


def _revision() -> dict[str, Any]:
    return _obj("What marks a revised statement (only on one).", {
        "number": {"type": "integer", "description": "Which revision: 1 for the first."},
        "reason": {"type": "string", "description": "Why the statement was revised."},
        "date": TYPES["date"] | {"type": "string", "description": "When it was revised (an ISO date)."},
        "supersedes": {"type": "string", "description": "The file name of the version it replaces."},
        "changes": _list("Each figure the revision changed.", _obj("One change.", {
            "figure": {"type": "string", "description": "The figure, as remit explain names it."},
            "old": {"type": "string", "description": "Its value as published."},
            "new": {"type": "string", "description": "Its value as revised."}}))})


__all__ = ["record_schema", "TYPES"]
