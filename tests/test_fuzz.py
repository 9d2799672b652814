"""Robustness: however the inputs are mangled, ``remit render`` answers with errors or a statement.

A property test mutates a copy of the reference deal at random -- keys deleted at any
depth, values of the wrong type, extreme numbers, dates out of order, huge and odd
unicode strings, unknown and duplicate keys, and the raw text of the files truncated,
broken or salted with bytes that are not UTF-8 -- then runs the real command.  The
command must either write a reconciled statement (exit 0) or print every problem as
``file:line: field: message`` (or a reconciliation or template error in their own
formats) and write nothing (exit 1).  An exception escaping the command fails the test.

Half the examples are wild (any of the above); the other half change the inputs gently --
numbers scaled or set to the bounds of their kind, dates moved, words swapped for other
words of the inputs, sections given or left out, an earlier period added on file -- so
that most of them get through validation to the engine and the templates.

The budget is small so that the suite stays quick and the same examples run every time;
``FUZZ_EXAMPLES=5000`` runs more, with a fresh random seed each time, and
``--hypothesis-show-statistics`` tallies which answers they got.

Below the property, each input that once escaped as an exception, or got a misleading
answer (a class paid twice, a statement that did not reconcile, an unreadable message),
is kept as a plain regression test with the message it must produce now.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import os
import re
import shutil
import tempfile
import traceback
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator.cli import main
from generator.model import MAX_COUNT, MAX_MONEY
from generator.number import decimal_places
from generator.render import TEMPLATES
from generator.source import load_yaml

from .conftest import REFERENCE_DEAL

DEAL = "deal.yaml"
PERIOD = "periods/2002-05.yaml"
EARLIER = "periods/2002-04.yaml"  # added by some examples: the period is then the second on file
FILES = (DEAL, PERIOD)
ORIGINAL = {name: (REFERENCE_DEAL / name).read_bytes() for name in FILES}
PARSED = {name: load_yaml(REFERENCE_DEAL / name)[0] for name in FILES}
PARSED[EARLIER] = {**PARSED[PERIOD], "period": "2002-04",
                   "opening": {**PARSED[PERIOD]["opening"], "previous_distribution_date": dt.date(2002, 3, 25)}}

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))


# ------------------------------------------------------------------ writing mutated YAML


class Raw(str):
    """Text written as a plain scalar, so that YAML resolves it (``2002-02-30``, ``.nan``, ``0x1F``)."""


class Big(str):
    """A huge string that hypothesis's report shows by how it is made, not by its 100,000 characters."""

    recipe = ""

    def __repr__(self) -> str:
        return self.recipe


def big(text: str, times: int) -> Big:
    out = Big(text * times)
    out.recipe = f"{text!r} * {times}"
    return out


class Dumper(yaml.SafeDumper):
    pass


def _decimal(dumper: yaml.SafeDumper, value: Decimal) -> yaml.ScalarNode:
    text = str(value)
    tag = dumper.resolve(yaml.ScalarNode, text, (True, False))
    if tag not in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float"):
        tag = "tag:yaml.org,2002:float"  # 1E+30: written as !!float 1E+30
    return dumper.represent_scalar(tag, text)


def _raw(dumper: yaml.SafeDumper, value: Raw) -> yaml.ScalarNode:
    return dumper.represent_scalar(dumper.resolve(yaml.ScalarNode, str(value), (True, False)), str(value))


Dumper.add_representer(Decimal, _decimal)
Dumper.add_representer(Raw, _raw)
Dumper.add_representer(Big, lambda dumper, value: dumper.represent_str(str(value)))


def dump(doc: Any) -> bytes:
    return yaml.dump(doc, Dumper=Dumper, allow_unicode=True, sort_keys=False, width=10**9).encode("utf-8")


# ------------------------------------------------------------------ values


BIG_STRINGS = [big("A", 100_000), big("\U0001F4B8", 100_000), big("\u05e9\u05dc\u05d5\u05dd ", 20_000),
               big("x\u0301", 50_000), big("M-1", 10_000)]


ODD_TEXT = [
    "", " ", "  padded  ", "\U0001F4B8\U0001F3E6", "\u202eRTL override\u202c", "\u05e9\u05dc\u05d5\u05dd",
    "e\u0301\u0301\u0301\u0301", "NUL\x00inside", "\x00", "tab\tinside", "two\nlines", "\r\n", "\ufeffBOM",
    "\u2028", "\uffff", "null", "~", "yes", "no", "0x1F", "1e5", "1,277,953", "2002-05-28", "A" * 201,
    "-", "M-1 ", "a" * 13, "CE\U0001F4B8", "{{ 1 }}", "{% raw %}", "<script>", "../../etc/passwd",
    "new-century-8k.txt.j2 ", "_statement-body.txt.j2", "statement.css", "statement.txt.j2",
    "statement.html.j2", "nonexistent.txt.j2",
]
RAW_SCALARS = [
    "2002-02-30", "2002-13-01", "2002-05-28 10:00:00", "2002-05-28T10:00:00Z", "1:30", "0x1F", "0o17",
    ".inf", "-.inf", ".nan", "1_000.50", "+12", "1.5e+400", "1.0e-400", "0.", ".5", "~", "Yes", "off",
    "1e5", "12:30:00.5", "0b101", "-0", "+.5e3", big("1", 5000), big("9", 101), "1" + "0" * 99,
    "1." + "0" * 98, "1e999999999", "1e-999999999", "0e999999999", "-1e+30", "0x" + "f" * 200,
]
EXTREME_NUMBERS = [
    0, 1, -1, 10**40, -(10**40), 10**400, 2**63, 2**64, -(2**63),
    Decimal("1E+30"), Decimal("-1E+30"), Decimal("1E+400"), Decimal("1E-30"), Decimal("1E-400"),
    Decimal("0.01"), Decimal("-0.01"), Decimal("0.00"), Decimal("0.5"), Decimal("1.0"), Decimal("2"),
    Decimal("0." + "0" * 40 + "1"), Decimal("1" * 60 + ".25"), Decimal("99999999999999999999.99"),
    Decimal("9" * 40 + ".99"), Decimal("1.123456789012345678901234567890"), Decimal("0.0000000001"),
    Decimal("123456789012.34"), Decimal("1E+6"), Decimal("1000000000000.00"),
]
ODD_DATES = [
    dt.date(1, 1, 1), dt.date(1, 1, 2), dt.date(9999, 12, 31), dt.date(9999, 12, 1), dt.date(1900, 1, 1),
    dt.date(2100, 2, 28), dt.date(2002, 5, 28), dt.date(2002, 5, 29), dt.date(2002, 4, 25), dt.date(2002, 2, 26),
    dt.date(2002, 3, 25), dt.date(2002, 5, 27), dt.date(2002, 6, 25), dt.date(2000, 2, 29),
    dt.date(1899, 12, 31), dt.date(1900, 1, 2), dt.date(2199, 12, 31), dt.date(2199, 12, 26), dt.date(2200, 1, 1),
]

numbers = st.one_of(
    st.sampled_from(EXTREME_NUMBERS),
    st.integers(),
    st.integers(min_value=-(10**45), max_value=10**45),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.decimals(min_value=0, max_value=10**14, places=2),
    st.decimals(min_value=0, max_value=2, places=6),
    st.integers(0, 10**12).map(lambda c: Decimal(c).scaleb(-2)),
)
dates = st.one_of(
    st.sampled_from(ODD_DATES),
    st.dates(),
    st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2003, 12, 31)),
    st.datetimes(min_value=dt.datetime(2002, 1, 1), max_value=dt.datetime(2002, 12, 31)),
    st.sampled_from(RAW_SCALARS[:4]).map(Raw),
)
texts = st.one_of(
    st.sampled_from(ODD_TEXT),
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=300),
    st.sampled_from(BIG_STRINGS),
)
scalars = st.one_of(st.none(), st.booleans(), numbers, texts, dates, st.sampled_from(RAW_SCALARS).map(Raw))
values = st.one_of(
    scalars,
    st.lists(scalars, max_size=3),
    st.dictionaries(texts, scalars, max_size=3),
    st.just({}),
    st.just([]),
)
keys = st.one_of(st.sampled_from(ODD_TEXT[:20]), st.text(max_size=12), st.integers(-5, 5), st.none(), st.booleans())


# ------------------------------------------------------------------ structural mutations


def nodes(doc: Any, path: tuple = ()) -> list[tuple[tuple, Any]]:
    """Every (path, value) below the document's root, parents before children."""
    out = []
    if isinstance(doc, dict):
        items = list(doc.items())
    elif isinstance(doc, list):
        items = list(enumerate(doc))
    else:
        return out
    for key, value in items:
        out.append((path + (key,), value))
        out.extend(nodes(value, path + (key,)))
    return out


def parent_of(doc: Any, path: tuple) -> Any:
    for part in path[:-1]:
        doc = doc[part]
    return doc


def replace(doc: Any, path: tuple, value: Any) -> None:
    parent_of(doc, path)[path[-1]] = value


def _retyped(value: Any, how: str) -> Any:
    if how == "mapping":
        return {}
    if how == "list":
        return []
    if how == "wrap_in_list":
        return [value]
    if how == "wrap_in_mapping":
        return {"value": value}
    if how == "unwrap":  # a mapping or list becomes one of its values, or a scalar
        if isinstance(value, dict) and value:
            return next(iter(value.values()))
        if isinstance(value, list) and value:
            return value[0]
        return "scalar"
    if how == "to_text":  # 0.0184 becomes '0.0184', a date '2002-05-28'
        return str(value) if not isinstance(value, (dict, list)) else json.dumps(value, default=str)
    if how == "to_number":
        return len(value) if isinstance(value, (str, dict, list)) else 7
    if how == "null":
        return None
    return True  # bool


RETYPES = ["mapping", "list", "wrap_in_list", "wrap_in_mapping", "unwrap", "to_text", "to_number", "null", "bool"]


def _number_change(value: Any, how: str, new: Any) -> Any:
    if not isinstance(value, (int, Decimal)) or isinstance(value, bool):
        return new
    value = Decimal(value)
    if how == "negate":
        return -value
    if how == "scale_up":
        return value * Decimal(10) ** 30
    if how == "scale_down":
        return value.scaleb(-30)
    if how == "more_places":
        return value + Decimal("0." + "0" * 12 + "7")
    if how == "plus_one_cent":
        return value + Decimal("0.01")
    return new


def _date_change(value: Any, days: int, new: Any) -> Any:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        try:
            return value + dt.timedelta(days=days)
        except OverflowError:
            return new
    return new


def apply_structural(doc: Any, op: tuple) -> None:
    op = copy.deepcopy(op)  # a value drawn once (st.just({})) must not be shared between places
    kind = op[0]
    every = nodes(doc)

    def pick(candidates: list, sel: int):
        return candidates[sel % len(candidates)] if candidates else None

    if kind == "delete":
        found = pick(every, op[1])
        if found:
            del parent_of(doc, found[0])[found[0][-1]]
    elif kind == "replace":
        found = pick(every, op[1])
        if found:
            replace(doc, found[0], op[2])
    elif kind == "retype":
        found = pick(every, op[1])
        if found:
            replace(doc, found[0], _retyped(found[1], op[2]))
    elif kind == "number":
        found = pick([n for n in every if isinstance(n[1], (int, Decimal)) and not isinstance(n[1], bool)], op[1])
        if found:
            replace(doc, found[0], _number_change(found[1], op[2], op[3]))
    elif kind == "date":
        found = pick([n for n in every if isinstance(n[1], dt.date)], op[1])
        if found:
            replace(doc, found[0], _date_change(found[1], op[2], op[3]))
    elif kind == "text":
        found = pick([n for n in every if isinstance(n[1], str)], op[1])
        if found:
            replace(doc, found[0], op[2])
    elif kind == "add_key":
        mappings = [((), doc)] if isinstance(doc, dict) else []
        found = pick(mappings + [n for n in every if isinstance(n[1], dict)], op[1])
        if found:
            found[1][op[2]] = op[3]
    elif kind == "rename_key":
        found = pick([n for n in every if isinstance(n[0][-1], str)], op[1])
        if found:
            parent = parent_of(doc, found[0])
            value = parent.pop(found[0][-1])
            parent[op[2]] = value
    elif kind == "duplicate_item":
        found = pick([n for n in every if isinstance(n[1], list) and n[1]], op[1])
        if found:
            found[1].insert(op[2] % (len(found[1]) + 1), copy.deepcopy(found[1][op[2] % len(found[1])]))
    elif kind == "many_items":
        found = pick([n for n in every if isinstance(n[1], list) and n[1]], op[1])
        if found:
            found[1].extend(copy.deepcopy(found[1][-1]) for _ in range(op[2]))
    elif kind == "swap":
        a, b = pick(every, op[1]), pick(every, op[2])
        if a and b and a[0][: len(b[0])] != b[0] and b[0][: len(a[0])] != a[0]:
            replace(doc, a[0], copy.deepcopy(b[1]))
            replace(doc, b[0], copy.deepcopy(a[1]))
    elif kind == "whole":  # the document itself is not a mapping
        doc.clear()
        doc["__whole__"] = op[1]
    elif kind == "scale":  # a number times num/den, with the places it had: mostly still valid
        found = pick([n for n in every if isinstance(n[1], (int, Decimal)) and not isinstance(n[1], bool)], op[1])
        if found:
            value, factor = found[1], Decimal(op[2]) / Decimal(op[3])
            if isinstance(value, int):
                replace(doc, found[0], int(value * factor))
            else:
                replace(doc, found[0], (value * factor).quantize(value if value.as_tuple().exponent < 0 else 1))
    elif kind == "bound":  # the smallest or largest value of the number's kind
        found = pick([n for n in every if isinstance(n[1], (int, Decimal)) and not isinstance(n[1], bool)], op[1])
        if found:
            value = found[1]
            if isinstance(value, int):
                choices = [0, 1, MAX_COUNT, MAX_COUNT + 1]
            elif decimal_places(value) <= 2:
                choices = [Decimal("0.00"), Decimal("0.01"), MAX_MONEY, MAX_MONEY + Decimal("0.01")]
            else:
                choices = [Decimal("0"), Decimal("0.0000000001"), Decimal("1"), Decimal("1.0000000001")]
            replace(doc, found[0], choices[op[2] % len(choices)])
    elif kind == "vocabulary":  # a string another valid word of the inputs: a kind, a class, a step
        found = pick([n for n in every if isinstance(n[1], str)], op[1])
        if found:
            replace(doc, found[0], VOCABULARY[op[2] % len(VOCABULARY)])
    elif kind == "drop":  # a section the inputs have, left out
        path = op[1]
        try:
            del parent_of(doc, path)[path[-1]]
        except (KeyError, IndexError, TypeError):
            pass
    elif kind == "set":  # a value where the inputs may have none
        path, value = op[1], op[2]
        try:
            target = parent_of(doc, path)
        except (KeyError, IndexError, TypeError):
            return
        if isinstance(target, dict):
            target[path[-1]] = value


def _strings(doc: Any) -> set[str]:
    return {v for _, v in nodes(doc) if isinstance(v, str)} | {k for p, _ in nodes(doc) for k in p[-1:]
                                                                 if isinstance(k, str)}


VOCABULARY = sorted(_strings(PARSED[DEAL]) | _strings(PARSED[PERIOD]) | {
    "senior", "mezzanine", "excess", "prepayment", "residual", "original", "current_notional", "none",
    "fees", "interest", "principal", "extra_principal", "unpaid_interest", "writedown_reimbursement",
    "net_wac_carryover", "residual", "US", "NYSE", "YES", "NO", "statement.txt.j2", "statement.html.j2"})

selector = st.integers(0, 10**6)
structural_ops = st.one_of(
    st.tuples(st.just("delete"), selector),
    st.tuples(st.just("replace"), selector, values),
    st.tuples(st.just("retype"), selector, st.sampled_from(RETYPES)),
    st.tuples(st.just("number"), selector,
              st.sampled_from(["negate", "scale_up", "scale_down", "more_places", "plus_one_cent", "new"]), numbers),
    st.tuples(st.just("date"), selector, st.integers(-400, 400) | st.sampled_from([-(10**6), 10**6]), dates),
    st.tuples(st.just("text"), selector, texts),
    st.tuples(st.just("add_key"), selector, keys, values),
    st.tuples(st.just("rename_key"), selector, keys),
    st.tuples(st.just("duplicate_item"), selector, selector),
    st.tuples(st.just("many_items"), selector, st.integers(1, 300)),
    st.tuples(st.just("swap"), selector, selector),
    st.tuples(st.just("whole"), st.one_of(scalars, st.lists(scalars, max_size=2))),
)


# ------------------------------------------------------------------ raw text mutations


ODD_BYTES = [
    b"\xff", b"\xfe\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\x01", b"\x1b[31m", b"\x7f", b"\t", b"\r",
    b"\xef\xbb\xbf", b"\xe2\x80\xae", b"\xc2\x85", b"\xe2\x80\xa8", b'"\\ud800"', b'"\\0"', b'"\\x1b"',
    b"!!int ", b"!!float ", b"!!bool ", b"!!null ", b"!!timestamp ", b"!!str ", b"!!map ", b"!!seq ", b"!!set ",
    b"{", b"}", b"[", b"]", b"'", b'"', b"&a ", b"*a", b"*nowhere", b"? ",
    b": ", b"- ", b"!!python/object:os.system ", b"!!binary ", b"!custom ", b"%YAML 1.1\n---\n", b"---\n",
    b"...\n", b"\n---\nsecond: doc\n", b"|\n", b">\n", b"#", b"<<: *a\n", b"\\", b"%", b"@", b"`",
]
LINES = [
    b"", b"  ", b"a: &a [*a]", b"x: &x {y: *x}", b"[[[[[[[[[[[[[[[[[[[[[[[[", b"{a: 1, a: 2}",
    b"? [complex, key]\n: value", b"<<: {merge: 1}", b"- a list item", b"just text",
    b"key: value\n  bad: indentation", b"\tkey: tab-indented", b"!!str 12", b"&anchor key: 1",
    b"period: 2002-05", b"wac: 0.0865983", b'name: "\\ud800"', b'"\\udc00": 1', b"n: !!int 12abc",
    b"b: !!bool maybe", b"d: !!timestamp tomorrow", b"d: !!timestamp 2002-02-30", b"x: !!float nan",
    b"opening: ~", b"classes: []", b"id: x", b"dup: 1\ndup: 2",
    b"l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n"  # a million values from six short lines
    + b"".join(b"l%d: &l%d [%s]\n" % (i, i, b", ".join([b"*l%d" % (i - 1)] * 10)) for i in range(1, 6)),
    b"deep: " + b"[" * 5000 + b"]" * 5000, b"deep: " + b"{a: " * 2000 + b"1" + b"}" * 2000,
    b"deep:\n" + b"".join(b" " * i + b"- \n" for i in range(0, 4000, 2)),
]

text_ops = st.one_of(
    st.tuples(st.just("truncate"), selector),
    st.tuples(st.just("insert"), selector, st.sampled_from(ODD_BYTES) | st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("indent"), selector, st.sampled_from([-4, -2, -1, 1, 2, 3, "tab"])),
    st.tuples(st.just("duplicate_line"), selector),
    st.tuples(st.just("delete_line"), selector),
    st.tuples(st.just("replace_line"), selector, st.sampled_from(LINES)),
    st.tuples(st.just("swap_lines"), selector, selector),
    st.tuples(st.just("whole_file"), st.sampled_from([b"", b"\n", b"# only a comment\n", b"- 1\n", b"42\n",
                                                      b"~\n", b"---\n---\n", b"\xff\xfe\x00\x00", b"{}\n", b"[]\n"])),
)


def apply_text(data: bytes, op: tuple) -> bytes:
    kind = op[0]
    lines = data.split(b"\n")
    if kind == "truncate":
        return data[: op[1] % (len(data) + 1)]
    if kind == "insert":
        at = op[1] % (len(data) + 1)
        return data[:at] + op[2] + data[at:]
    if kind == "whole_file":
        return op[1]
    i = op[1] % len(lines)
    if kind == "indent":
        if op[2] == "tab":
            lines[i] = b"\t" + lines[i]
        elif op[2] > 0:
            lines[i] = b" " * op[2] + lines[i]
        else:
            stripped = lines[i].lstrip(b" ")
            keep = max(0, len(lines[i]) - len(stripped) + op[2])
            lines[i] = b" " * keep + stripped
    elif kind == "duplicate_line":
        lines.insert(i, lines[i])
    elif kind == "delete_line":
        del lines[i]
    elif kind == "replace_line":
        lines[i] = op[2]
    elif kind == "swap_lines":
        j = op[2] % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
    return b"\n".join(lines)


# ------------------------------------------------------------------ one example


@st.composite
def file_mutations(draw) -> tuple[list, list]:
    structural = draw(st.lists(structural_ops, max_size=4))
    raw = draw(st.lists(text_ops, max_size=2)) if draw(st.integers(0, 3)) == 0 else []
    return structural, raw


def cents(low: int, high: int):
    return st.integers(low, high).map(lambda c: Decimal(c).scaleb(-2))


money = st.one_of(cents(0, 10**6), cents(0, 10**10), cents(0, 10**17 - 1))
class_names = st.sampled_from([c["name"] for c in PARSED[DEAL]["classes"]] + ["X"])
liquidation = st.fixed_dictionaries({"loan": st.sampled_from(["L1", "L2", "0001"]), "balance": money,
                                     "proceeds": money})
bucket = st.fixed_dictionaries({"count": st.integers(0, 20), "unpaid_balance": money, "stated_balance": money})
WHERE_VALUES_MAY_GO = [
    ((PERIOD, ("distribution_date",)), dates),
    ((PERIOD, ("opening", "previous_distribution_date")), dates),
    ((PERIOD, ("opening", "stepdown_occurred")), st.booleans()),
    ((PERIOD, ("opening", "oc_target")), money),
    ((PERIOD, ("opening", "unpaid_interest")), st.dictionaries(class_names, money, max_size=3)),
    ((PERIOD, ("opening", "net_wac_carryover")), st.dictionaries(class_names, money, max_size=3)),
    ((PERIOD, ("opening", "unpaid_realized_losses")), st.dictionaries(class_names, money, max_size=3)),
    ((PERIOD, ("opening", "class_balances")), st.dictionaries(class_names, money, max_size=8)),
    ((PERIOD, ("collections", "liquidations")), st.lists(liquidation, max_size=4)),
    ((PERIOD, ("collections", "repurchases")), st.fixed_dictionaries({"count": st.integers(0, 5), "amount": money})),
    ((PERIOD, ("reo",)), st.fixed_dictionaries({
        "stated_balance": money, "book_value": money, "principal_amortization": money,
        "new": st.lists(st.fixed_dictionaries({"loan": st.just("R1"), "unpaid_balance": money,
                                               "stated_balance": money}), max_size=3)})),
    ((PERIOD, ("delinquency", "bankruptcy_60_plus")), bucket),
    ((PERIOD, ("delinquency", "days_90_plus")), bucket),
    ((PERIOD, ("shortfalls",)), st.fixed_dictionaries({"prepayment_interest": money, "covered_by_servicer": money,
                                                       "relief_act": money})),
    ((PERIOD, ("extraordinary_expenses",)), money),
    ((PERIOD, ("bankruptcy_losses",)), money),
    ((PERIOD, ("deficiencies",)), st.sampled_from(["YES", "NO"])),
    ((DEAL, ("schedule", "distribution_day")), st.integers(-1, 31)),
    ((DEAL, ("schedule", "holiday_calendar")), st.sampled_from(["US", "NYSE", "GB"])),
    ((DEAL, ("schedule", "first_distribution_date")), dates),
    ((DEAL, ("schedule", "closing_date")), dates),
    ((DEAL, ("templates", "text")), st.sampled_from(["statement.txt.j2", "new-century-8k.txt.j2", "statement.html.j2",
                                                     "missing.txt.j2", "_statement-body.txt.j2"])),
    ((DEAL, ("filing",)), st.none()),
    ((DEAL, ("cleanup_call_pct",)), st.decimals(0, 1, places=4)),
    ((DEAL, ("overcollateralization",)), st.fixed_dictionaries(
        {"pct_of_cutoff_before_stepdown": st.decimals(0, 1, places=4)},
        optional={"pct_of_current_after_stepdown": st.decimals(0, 1, places=4),
                  "floor_pct_of_cutoff": st.decimals(0, 1, places=4)})),
    ((DEAL, ("stepdown", "earliest_distribution")), st.integers(0, 400)),
    ((DEAL, ("stepdown", "senior_enhancement_target")), st.decimals(0, 1, places=4)),
    ((DEAL, ("trigger", "delinquency_fraction_of_senior_enhancement")), st.decimals(0, 11, places=4)),
    ((DEAL, ("fees",)), st.lists(st.fixed_dictionaries({"name": st.sampled_from(["Servicing", "Trustee", "MI"]),
                                                        "annual_rate": st.decimals(0, 1, places=5)}), max_size=3)),
    ((DEAL, ("waterfall", "loss_allocation")), st.lists(class_names, max_size=5)),
    ((DEAL, ("waterfall", "prepayment_charges_to")), class_names),
]


@st.composite
def gentle_mutations(draw) -> dict[str, tuple[list, list]]:
    """Changes that mostly keep the inputs valid, so that the engine and the templates see them."""
    ops: dict[str, list] = {DEAL: [], PERIOD: []}
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["scale", "bound", "date", "vocabulary", "set", "set", "delete",
                                     "duplicate_item", "swap"]))
        file = draw(st.sampled_from(FILES))
        if kind == "scale":
            op = ("scale", draw(selector), draw(st.integers(0, 1000)), draw(st.sampled_from([1, 10, 100, 1000])))
        elif kind == "bound":
            op = ("bound", draw(selector), draw(st.integers(0, 3)))
        elif kind == "date":
            op = ("date", draw(selector), draw(st.integers(-40, 40)), draw(dates))
        elif kind == "vocabulary":
            op = ("vocabulary", draw(selector), draw(selector))
        elif kind == "set":
            (file, path), values_ = draw(st.sampled_from(WHERE_VALUES_MAY_GO))
            op = ("set", path, draw(values_))
        elif kind == "duplicate_item":
            op = ("duplicate_item", draw(selector), draw(selector))
        else:
            op = (kind, draw(selector), draw(selector)) if kind == "swap" else (kind, draw(selector))
        ops[file].append(op)
    out = {name: (ops[name], []) for name in FILES}
    if draw(st.integers(0, 3)) == 0:  # an earlier period on file: this one starts from its closing state
        earlier = draw(st.lists(st.tuples(st.just("scale"), selector, st.integers(0, 1000), st.just(1000)),
                                max_size=2))
        out[EARLIER] = ([("set", ("period",), "2002-04"), *earlier], [])
        if draw(st.booleans()):  # an opening state given after the first period must agree with it
            out[PERIOD][0].append(("drop", ("opening",)))
    return out


wild_mutations = st.fixed_dictionaries({DEAL: file_mutations(), PERIOD: file_mutations()}).filter(
    lambda m: any(s or r for s, r in m.values()))
mutations = st.one_of(wild_mutations, gentle_mutations())


def mutated_files(muts: dict[str, tuple[list, list]]) -> dict[str, bytes]:
    out = {}
    for name, (structural, raw) in muts.items():
        if structural:
            doc = copy.deepcopy(PARSED[name])
            for op in structural:
                apply_structural(doc, op)
            if list(doc) == ["__whole__"]:
                doc = doc["__whole__"]
            data = dump(doc)
        else:
            data = ORIGINAL[name]
        for op in raw:
            data = apply_text(data, op)
        out[name] = data
    return out


ERROR_COUNT = re.compile(r"^(\d+) errors?; nothing written$")


def render(files: dict[str, bytes], root: Path):
    """Write the deal directory and run ``remit render`` on it, as a user would."""
    deal = root / "new-century-2002-1"
    shutil.copytree(REFERENCE_DEAL, deal)
    for name, data in files.items():
        (deal / name).write_bytes(data)
    out = root / "out"
    result = CliRunner().invoke(main, ["render", str(deal), "--period", "2002-05", "--format", "text",
                                       "--format", "json", "--out", str(out)], catch_exceptions=True)
    return deal, out, result


def assert_answered_properly(deal: Path, out: Path, result) -> None:
    """A reconciled statement written, or errors in their formats and nothing written; no traceback."""
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError("".join(traceback.format_exception(result.exception))) from None
    assert result.exit_code in (0, 1), result.output
    if result.exit_code == 0:
        assert result.stderr == ""
        record, text = written = sorted(out.iterdir())
        assert [record.suffix, text.suffix] == [".json", ".txt"], written
        assert result.stdout.splitlines() == [str(text), str(record)]
        assert text.read_bytes().decode("utf-8").strip()
        doc = json.loads(record.read_text(encoding="utf-8"))
        assert doc["checks"] and all(c["ok"] for c in doc["checks"]), doc["checks"]
        assert text.name == f"{doc['deal_id']}_{doc['distribution_date']}.txt"
        return
    assert result.stdout == ""
    assert not out.exists() or list(out.iterdir()) == []
    lines = result.stderr.splitlines()
    assert lines, "exit 1 with nothing said"
    count = ERROR_COUNT.match(lines[-1])
    assert count, lines[-1]
    assert int(count.group(1)) == len(lines) - 1 >= 1, lines
    inputs = [str(deal / name) for name in (*FILES, EARLIER, "periods")]
    line_counts = {f: Path(f).read_bytes().count(b"\n") + 1 for f in inputs if Path(f).is_file()}
    input_error = re.compile(r"^(?P<file>" + "|".join(map(re.escape, inputs)) + r")(?::(?P<line>[1-9][0-9]*))?: \S.*$")
    other_error = re.compile(r"^([0-9]{4}-[0-9]{2}: does not reconcile: |templates/[^:\s]+(:[1-9][0-9]*)?: )\S.*$")
    for line in lines[:-1]:
        assert len(line) < 2000, f"an error line of {len(line)} characters: {line[:300]}..."
        m = input_error.match(line)
        if m:
            if m.group("line"):
                assert int(m.group("line")) <= line_counts.get(m.group("file"), 1), line
            continue
        assert other_error.match(line), f"not an error line: {line!r}"
        # a template fails only on a value too wide for its column; anything else is a gap in validation
        assert not line.startswith("templates/") or "too wide for its" in line, line


def outcome(stderr: str) -> str:
    """What kind of answer an example got (``--hypothesis-show-statistics`` tallies them)."""
    first = stderr.splitlines()[0] if stderr else ""
    for kind in ("YAML syntax", "not UTF-8", "does not reconcile", "templates/", "unknown field", "required field",
                 "duplicate key", "expected a mapping", "expected a list", "expected a number", "too large",
                 "out of range", "decimal places", "must not be negative", "is not after", "expected text",
                 "more than the"):
        if kind in first:
            return kind
    return "statement" if not first else "other input error"


# ------------------------------------------------------------------ the property


@settings(max_examples=EXAMPLES or 300, deadline=None, derandomize=not EXAMPLES, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much,
                                 HealthCheck.large_base_example])
@given(mutations)
def test_any_mutation_gets_errors_or_a_reconciled_statement(muts):
    files = mutated_files(muts)
    with tempfile.TemporaryDirectory() as tmp:
        deal, out, result = render(files, Path(tmp))
        assert_answered_properly(deal, out, result)
    event(f"exit {result.exit_code}: {outcome(result.stderr)}")


def test_the_unmutated_reference_renders(tmp_path: Path):
    deal, out, result = render({}, tmp_path)
    assert result.exit_code == 0
    assert_answered_properly(deal, out, result)


# ------------------------------------------------------------------ what it found


def replacing(old: bytes, new: bytes):
    def edit(data: bytes) -> bytes:
        assert old in data, f"test setup: {old!r} not in the file"
        return data.replace(old, new, 1)

    return edit


def cutting(start: bytes, end: bytes):
    """Remove the lines from ``start`` up to (not including) ``end``."""

    def edit(data: bytes) -> bytes:
        i = data.index(start)
        return data[:i] + data[data.index(end, i):]

    return edit


ALIAS_BOMB = b"".join(
    [b"l0: &l0 [a, a, a, a, a, a, a, a, a, a]\n"]
    + [b"l%d: &l%d [%s]\n" % (i, i, b", ".join([b"*l%d" % (i - 1)] * 10)) for i in range(1, 9)])
TRUST = b"trust: New Century Home Equity Loan Trust\n"
TEXT_TEMPLATE = b"text: new-century-8k.txt.j2"
A_INTEREST = b"  - {pay: interest, from: interest, classes: [A]}\n"

#: Inputs that once escaped as an exception (a traceback, or a hang), and the message each gets now.
CRASHED = [
    ("an alias to the value that holds it", PERIOD, replacing(b"reo:\n", b"loop: &loop [*loop]\nreo:\n"),
     ["{p}:51: loop[0]: an alias (*name) to a value that contains it (expected a finite value)"]),
    ("values nested thousands deep", PERIOD,
     replacing(b"reo:\n", b"deep: " + b"[" * 5000 + b"]" * 5000 + b"\nreo:\n"),
     ["{p}:51: deep" + "[0]" * 50 + ": nested more than 50 levels deep (expected at most 50)"]),
    ("aliases that expand to a billion values", PERIOD, replacing(b"reo:\n", ALIAS_BOMB + b"reo:\n"),
     ["{p}:56: more than 200,000 values once aliases (*name) are expanded (expected a deal or period file)"]),
    ("a control character in the text", DEAL, replacing(b"trust: New", b"trust: \x1b[1mNew"),
     ["{d}:10: YAML syntax error: character U+001B is not allowed in YAML text (expected printable characters)"]),
    ("a NUL byte", PERIOD, replacing(b"wac: 0.0865983", b"wac: 0.08\x0065983"),
     ["{p}:40: YAML syntax error: character U+0000 is not allowed in YAML text (expected printable characters)"]),
    ("!!int on text that is not a whole number", PERIOD,
     replacing(b"remaining_term: 356", b"remaining_term: !!int 356 months"),
     ["{p}:41: remaining_term: the tag 'tag:yaml.org,2002:int' is not used in deal and period files (expected a "
      "plain value, or !!str for text)"]),
    ("!!bool on text that is not true or false", DEAL,
     replacing(b"holiday_calendar: US", b"holiday_calendar: !!bool maybe"),
     ["{d}:42: schedule.holiday_calendar: the tag 'tag:yaml.org,2002:bool' is not used in deal and period files "
      "(expected a plain value, or !!str for text)"]),
    ("!!timestamp on text that is not a date", DEAL,
     replacing(b"closing_date: 2002-02-26", b"closing_date: !!timestamp soon"),
     ["{d}:39: schedule.closing_date: the tag 'tag:yaml.org,2002:timestamp' is not used in deal and period files "
      "(expected a plain value, or !!str for text)"]),
    ("a number of 5,000 digits", PERIOD, replacing(b"loan_count: 586", b"loan_count: " + b"5" * 5000),
     ["{p}:16: opening.loan_count: '" + "5" * 59 + "... (5,000 characters) is too long for a number "
      "(expected at most 100 characters)"]),
    ("money too large for a Decimal to round to the cent", PERIOD,
     replacing(b"advances: 1277953.00", b"advances: 1.0e+30"),
     ["{p}:39: advances: money amount 1.0E+30 is too large (expected at most 999,999,999,999,999.99)"]),
    ("a margin of 10^30", DEAL, replacing(b"margin: 0.0033,", b"margin: 1000000000000000000000000000000.0,"),
     ["{d}:55: classes[0].coupon.margin: rate 1000000000000000000000000000000.0 is too large (expected at most 1, "
      "that is 100%)"]),
    ("a distribution on the last day of year 9999", PERIOD,
     replacing(b"period: 2002-05\n", b"period: 2002-05\ndistribution_date: 9999-12-31\n"),
     ["{p}:10: distribution_date: date 9999-12-31 is out of range (expected a date from 1900-01-01 to 2199-12-31)"]),
    ("a deal id too long for a file name", DEAL, replacing(b"id: new-century-2002-1", b"id: " + b"n" * 300),
     ["{d}:9: id: string should have at most 64 characters (got '" + "n" * 59 + "... (300 characters))"]),
    ("a text template that does not exist", DEAL, replacing(TEXT_TEMPLATE, b"text: new-century-10d.txt.j2"),
     ["{d}:14: templates.text: no template 'new-century-10d.txt.j2' in {t} (expected one of: auto-abs.txt.j2, "
      "new-century-8k.txt.j2, statement.txt.j2, two-group.txt.j2)"]),
    ("an HTML template as the text template", DEAL, replacing(TEXT_TEMPLATE, b"text: statement.html.j2"),
     ["{d}:14: templates.text: 'statement.html.j2' is not a text template (expected a name ending in .txt.j2)"]),
    ("the 8-K template without the filing section", DEAL, cutting(b"filing:\n", b"parties:\n"),
     ["{d}:9: filing: is missing, and template new-century-8k.txt.j2 shows it (expected filing: with depositor, "
      "agreement_date, registrant, state, commission_file_number, irs_employer_id, address, city_state, zip, phone, "
      "signer)"]),
    ("an excess class with no original balance", DEAL,
     replacing(b"original_balance: 4022346.63", b"original_balance: 0"),
     ["{d}:62: classes[5].original_balance: class CE (excess) has an original balance of 0 (expected more than 0: "
      "its certificate factor is its balance over its original balance)"]),
]

#: Inputs that got a misleading answer: a statement that paid a class twice, one that did not
#: reconcile instead of naming the input at fault, or a message that broke its line or ran on.
MISLED = [
    ("a class paid interest by two steps", DEAL, replacing(A_INTEREST, A_INTEREST * 2),
     ["{d}:145: waterfall[3].classes: class A is already paid by interest action waterfall[2] on one path through "
      "the waterfall (expected each class once per kind of action)"]),
    ("a second fees step", DEAL, replacing(b"  - {pay: fees, from: interest}\n", b"  - {pay: fees, from: interest}\n" * 2),
     ["{d}:144: waterfall[2]: a second payment of the Servicing fee on one path through the waterfall (expected one; the first is "
      "waterfall[1])"]),
    ("a fee listed twice", DEAL,
     replacing(b"    payee: Servicer\n", b"    payee: Servicer\n  - {name: Servicing, annual_rate: 0.001}\n"),
     ["{d}:50: fees[1].name: fee 'Servicing' is listed twice (expected each fee once)"]),
    ("a duplicate key beside a wrong type", PERIOD,
     replacing(b"  prepayment_charges: 12525.30\n\nadvances: 1277953.00",
               b"  prepayment_charges: 12525.30\n  prepayment_charges: 1.00\n\nadvances: '1277953.00'"),
     ["{p}:38: collections.prepayment_charges: duplicate key (first given on line 37)",
      "{p}:40: advances: expected a number, got text '1277953.00' (a number in quotes is text: write it without the "
      "quotes)"]),
    ("a CUSIP given two classes", DEAL, replacing(b"cusip: 64352VCC3,", b"cusip: 64352VCD1,"),
     ["{d}:56: classes[1].cusip: CUSIP 64352VCD1 is class A's too (expected each class's own CUSIP)"]),
    ("no residual step", DEAL, replacing(b"  - {pay: residual, from: excess, class: CE}\n", b""),
     ["{d}:140: waterfall: no residual payment: the cash the other actions leave would stay in the trust "
      "(expected - {{pay: residual, from: ACCOUNT, class: NAME}})"]),
    ("prepayment charges to the excess class", DEAL,
     replacing(b"from: prepayment_charges, class: P}", b"from: prepayment_charges, class: CE}"),
     ["{d}:172: waterfall[15].class: class CE is the excess class, whose interest is the residual cash "
      "flow (expected a prepayment or other class)"]),
    ("the residual to a senior class", DEAL, replacing(b"{pay: residual, from: excess, class: CE}",
                                                       b"{pay: residual, from: excess, class: A}"),
     ["{d}:171: waterfall[14].class: class A is a senior class: the residual would be paid to it as interest "
      "beyond its coupon (expected the excess or residual class: CE, R)"]),
    ("no class receives prepayment charges", DEAL,
     replacing(b"  - {pay: prepayment_charges, from: prepayment_charges, class: P}\n", b""),
     ["{d}:140: waterfall: no class receives prepayment charges (expected - {{pay: prepayment_charges, from: ACCOUNT, "
      "class: P}})"]),
    ("extraordinary expenses beyond the interest remittance", PERIOD,
     replacing(b"extraordinary_expenses: 0", b"extraordinary_expenses: 1425963.32"),
     ["{p}:62: extraordinary_expenses: 1,425,963.32 is more than the interest remittance 1,425,963.31 it is "
      "withdrawn from (expected at most 1,425,963.31)"]),
    ("a key with a line break", PERIOD, replacing(b"remaining_term: 356", b'"remaining\\nterm": 356'),
     ["{p}:9: remaining_term: required field is missing",
      "{p}:41: 'remaining\\nterm': unknown field (expected one of: period, distribution_date, opening, index, "
      "collections, advances, wac, remaining_term, delinquency, reo, bankruptcy_losses, shortfalls, "
      "extraordinary_expenses, deficiencies, revised_on)"]),
    ("a value of 100,000 characters", PERIOD, replacing(b"period: 2002-05", b"period: " + b"A" * 100_000),
     ["{p}:9: period: got '" + "A" * 59 + "... (100,000 characters) (expected text matching "
      "^[0-9]{{4}}-(0[1-9]|1[0-2])$)"]),
    ("a name with a line break", DEAL, replacing(TRUST, b'trust: "New Century\\nHome Equity Loan Trust"\n'),
     ["{d}:10: trust: text 'New Century\\nHome Equity Loan Trust' has the control character U+000A "
      "(expected one line of printable text)"]),
    ("an unpaired surrogate escape", DEAL, replacing(TRUST, b'trust: "\\ud800 New Century"\n'),
     ["{d}:10: YAML syntax error: while parsing a quoted scalar found invalid Unicode character escape code"]),
    ("a line separator (U+2028) in a comment", PERIOD, replacing(b"# New Century", b"# New\xe2\x80\xa8Century"),
     ["{p}:1: YAML syntax error: character U+2028 is a line break to YAML but not to most editors (expected a plain "
      "line break)"]),
    ("text that is not UTF-8", PERIOD, replacing(b"wac:", b"w\xe4c:"),
     ["{p}:40: not UTF-8 text (invalid continuation byte at byte 1444: b'\\xe4')"]),
    ("a key that is not one of a mapping's keys", DEAL, replacing(b"  text: new", b"  txt: new"),
     ["{d}:14: templates.txt: not a valid key: got 'txt' (expected 'text' or 'html')"]),
    ("a waterfall step without its kind", DEAL, replacing(A_INTEREST, b"  - {from: interest, classes: [A]}\n"),
     ["{d}:144: waterfall[2]: an action needs its kind (expected pay:, transfer: or allocate:)"]),
]


@pytest.mark.parametrize("case", CRASHED + MISLED, ids=[c[0] for c in CRASHED + MISLED])
def test_what_the_fuzzing_found(tmp_path: Path, case):
    _, name, edit, expected = case
    deal, out, result = render({name: edit(ORIGINAL[name])}, tmp_path)
    assert_answered_properly(deal, out, result)
    assert result.stderr.splitlines()[:-1] == [e.format(p=deal / PERIOD, d=deal / DEAL, t=TEMPLATES) for e in expected]


def test_a_period_file_that_is_a_directory(tmp_path: Path):
    deal = tmp_path / "new-century-2002-1"
    shutil.copytree(REFERENCE_DEAL, deal)
    (deal / EARLIER).mkdir()
    result = CliRunner().invoke(main, ["render", str(deal), "-p", "2002-05", "-o", str(tmp_path / "out")])
    assert_answered_properly(deal, tmp_path / "out", result)
    assert result.stderr.splitlines()[0] == f"{deal / EARLIER}: is a directory (expected a regular file)"
