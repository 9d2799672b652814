"""Formulas: the small expression language that deal files state their rules in.

A formula is text such as ``max(cents(pool.ending_balance * 0.04), oc.floor)``.  It is
parsed by a grammar (lark, LALR) into a typed tree -- never evaluated as Python -- then
checked, compiled to a function of its names' values, and printed back (as written, or
with each name's value substituted) for ``remit explain``.

The language:

* numbers written in decimal digits (``0.04``, ``12``), ``true``, ``false``, ``none``;
* names of figures: ``pool.ending_balance``, ``A.rate``, ``M-1.beginning_balance``,
  ``fees.Servicing.paid`` (a ``-`` inside a name is part of it: put spaces around a minus sign);
* ``+ - * /`` (each result is kept to 34 significant digits, rounded half-even in the last: a
  sum or product of cents and rates is exact; a quotient is 0 when the divisor is 0),
  comparisons ``< <= > >= == !=``, ``and``, ``or``, ``not``;
* functions: ``min``, ``max``, ``sum`` (of any number of values, or of a list of the inputs),
  ``if(condition, then, else)``, ``cents(x)`` (rounded half-up to the cent), ``cents_down(x)``
  (cut to the cent), ``given(x)`` (whether there is a value), ``count(list)``,
  ``total(kind, field)`` (a class figure summed over the deal's classes of a kind, or ``all``),
  ``share(amount, weight, total(kind, field))`` (a class's pro rata share of an amount, to the
  cent by largest remainder), ``schedule(x, from, value, ...)`` (the
  value of the last step starting at or before x; none before the first), ``days360(start, end)``
  (days between two dates on the 30/360 basis), ``whole(x)`` (x rounded half-up to a whole number).

Every value has a type, checked when the deal is loaded: ``money`` (whole cents), ``amount``
(money not yet rounded: a product or quotient of money; it passes through ``cents`` or
``cents_down`` before it is cash), ``rate`` (a fraction), ``number``, ``count``, ``date``,
``flag`` (true or false) and ``text``.  Adding a rate to an amount, multiplying two amounts,
comparing a date with money, or giving a rate where money is needed is an error that says so.
"""

from __future__ import annotations

import datetime as dt
import difflib
import operator
import re
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal, getcontext
from functools import lru_cache
from typing import Any, Callable, Iterable, Sequence

from lark import Lark, Transformer, v_args
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken, VisitError

from .number import CENT, cents, ratio, truncate

# ------------------------------------------------------------------ types

MONEY, AMOUNT, RATE, NUMBER, COUNT, DATE, FLAG, TEXT = ("money", "amount", "rate", "number", "count", "date",
                                                       "flag", "text")
#: A number written in the formula: it takes the type of what it meets.
LITERAL = "literal"
#: ``none``: no value.
NONE = "none"
#: What each type is called in a message.
TYPE_WORDS = {MONEY: "money (whole cents)", AMOUNT: "an amount of money not rounded to the cent",
              RATE: "a rate", NUMBER: "a number", COUNT: "a whole number", DATE: "a date",
              FLAG: "a condition (true or false)", TEXT: "text", LITERAL: "a number", NONE: "none"}
_DECIMALS = (MONEY, AMOUNT, RATE, NUMBER, LITERAL)
_MONEYS = (MONEY, AMOUNT)
_SCALARS = (RATE, NUMBER, LITERAL, COUNT)


class FormulaError(Exception):
    """A formula that cannot be parsed, names what is not there (``unknown``), or mixes types."""

    def __init__(self, message: str, unknown: str | None = None):
        super().__init__(message)
        self.unknown = unknown


def words(type_: str) -> str:
    if type_.startswith("list"):
        return "a list of the inputs"
    return TYPE_WORDS.get(type_, type_)


# ------------------------------------------------------------------ the tree


@dataclass(frozen=True, slots=True)
class Num:
    value: Decimal
    text: str


@dataclass(frozen=True, slots=True)
class Const:
    value: Any  # True, False or None
    text: str


@dataclass(frozen=True, slots=True)
class Name:
    name: str


@dataclass(frozen=True, slots=True)
class Neg:
    operand: Any


@dataclass(frozen=True, slots=True)
class Bin:
    op: str  # + - * / < <= > >= == !=
    left: Any
    right: Any


@dataclass(frozen=True, slots=True)
class Logic:
    op: str  # and, or
    items: tuple


@dataclass(frozen=True, slots=True)
class Not:
    operand: Any


@dataclass(frozen=True, slots=True)
class Call:
    fn: str
    args: tuple


Expr = Num | Const | Name | Neg | Bin | Logic | Not | Call

_GRAMMAR = r"""
?start: expr
?expr: or_
?or_: and_ (_OR and_)*
?and_: not_ (_AND not_)*
?not_: _NOT not_ -> not_op
     | cmp
?cmp: sum (CMP sum)?
?sum: prod (ADD prod)*
?prod: unary (MUL unary)*
?unary: "-" unary -> neg
      | atom
?atom: NUMBER -> num
     | NAME -> name
     | NAME "(" [expr ("," expr)*] ")" -> call
     | "(" expr ")"
_OR.3: /or(?![\w.{-])/
_AND.3: /and(?![\w.{-])/
_NOT.3: /not(?![\w.{-])/
CMP: "<=" | ">=" | "==" | "!=" | "<" | ">"
ADD: "+" | "-"
MUL: "*" | "/"
NAME.2: /(?:[A-Za-z_][A-Za-z0-9_]*|[0-9]+-?[A-Za-z_][A-Za-z0-9_]*|\{[ci]\})(?:[.-](?:[A-Za-z0-9_]+|\{[ci]\})|\[(?:[0-9]+|\{i\})?\])*/
NUMBER: /[0-9]+(?:\.[0-9]+)?/
%ignore /[ \t\n]+/
"""

_CONSTS = {"true": True, "false": False, "none": None}
#: The words a formula reads as its own, which no name may be.
WORDS = ("and", "or", "not", *_CONSTS)


@v_args(inline=True)
class _Build(Transformer):
    def num(self, token):
        return Num(Decimal(str(token)), str(token))

    def name(self, token):
        word = str(token)
        if word in _CONSTS:
            return Const(_CONSTS[word], word)
        return Name(word)

    def neg(self, operand):
        return Neg(operand)

    def not_op(self, operand):
        return Not(operand)

    def or_(self, *items):
        return Logic("or", items)

    def and_(self, *items):
        return Logic("and", items)

    def cmp(self, left, op, right):
        return Bin(str(op), left, right)

    def sum(self, *parts):
        return _chain(parts)

    def prod(self, *parts):
        return _chain(parts)

    def call(self, fn, *args):
        return Call(str(fn), tuple(a for a in args if a is not None))


def _chain(parts: tuple) -> Any:
    out = parts[0]
    for i in range(1, len(parts), 2):
        out = Bin(str(parts[i]), out, parts[i + 1])
    return out


_PARSER = Lark(_GRAMMAR, parser="lalr", transformer=_Build(), maybe_placeholders=False)
_TOKENS = {"$END": "the end", "NAME": "a name", "NUMBER": "a number", "LPAR": "(", "RPAR": ")", "COMMA": ",",
           "ADD": "+ or -", "MUL": "* or /", "CMP": "a comparison", "MINUS": "-", "_AND": "and", "_OR": "or",
           "_NOT": "not"}


_NO_EXPONENT = (" (a number is written in plain digits, without an exponent: 1000000000, not 1e9; "
                "a formula is exact to 34 significant digits)")
_EXPONENT = re.compile(r"(?<![\w.])[0-9]+(?:\.[0-9]+)?[eE][-+]?[0-9]+(?![\w.\[{])")


def shown(source: str) -> str:
    """A formula as messages quote it: whole, or its first 77 characters."""
    return f"formula {source!r}" if len(source) <= 80 else f"formula {source[:77]!r}..."


@lru_cache(maxsize=8192)
def parse(source: str) -> Expr:
    """The tree of a formula (parsed once per text).  Raises :class:`FormulaError`."""
    if len(source) > 2000:
        raise FormulaError(f"a formula of {len(source):,} characters (expected at most 2,000)")
    try:
        tree = _PARSER.parse(source)
    except (UnexpectedInput, VisitError) as exc:
        raise _unreadable(source, exc) from None
    depth = _depth(tree)
    if depth > MAX_NESTING:
        raise FormulaError(f"operations nested {depth} deep, one inside another (a + b + c is two: expected at most "
                           f"{MAX_NESTING}; a sum of many classes' figures is total(kind, field))")
    return tree


#: How deep a formula's operations may nest (a + b + c is two, each + inside the next): far
#: beyond any agreement's formula, and well within what the trees' readers can walk.
MAX_NESTING = 200


def _depth(tree: Any) -> int:
    """How deep a tree's operations nest, counted without recursion (a tree may be deeper than
    Python could walk by recursion: that is what this finds out)."""
    deepest, stack = 0, [(tree, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        kind = type(node)
        if kind is Bin:
            stack += ((node.left, depth + 1), (node.right, depth + 1))
        elif kind is Neg or kind is Not:
            stack.append((node.operand, depth + 1))
        elif kind is Logic:
            stack += ((item, depth + 1) for item in node.items)
        elif kind is Call:
            stack += ((arg, depth + 1) for arg in node.args)
    return deepest


def _unreadable(source: str, exc: Exception) -> FormulaError:
    """What is wrong with a formula the parser could not read."""
    exponent = _EXPONENT.search(source)
    if exponent:
        return FormulaError(f"cannot read {exponent.group()!r} at column {exponent.start() + 1}{_NO_EXPONENT}")
    if isinstance(exc, UnexpectedCharacters):
        return FormulaError(f"cannot read {source[exc.column - 1:exc.column + 9]!r} at column {exc.column} "
                            "(expected a number, a name, an operator or a parenthesis)")
    if isinstance(exc, UnexpectedToken):
        if exc.token.type == "$END":
            return FormulaError("the formula ends too soon (a parenthesis, an operand or an argument is missing)")
        expected = " or ".join(sorted({_TOKENS.get(t, t.lower()) for t in exc.expected}))
        return FormulaError(f"unexpected {str(exc.token)!r} at column {exc.column} (expected {expected})")
    return FormulaError(f"cannot be read ({exc})")  # pragma: no cover - the cases above are all LALR gives


def rewrite(expr: Expr, errors: list[str]) -> Expr:
    """The tree a deal is compiled from: ``total(kind, field)`` becomes the figure named
    ``total(kind, field)`` (defined as the sum of the classes' figures), and ``share(amount,
    weight, total(kind, field))`` takes the weights as the figure ``list(kind, field)`` and the
    weight's place among them as ``position(kind, <class>)``.  Problems go to ``errors``."""
    kind = type(expr)
    if kind is Call:
        if expr.fn == "total":
            if len(expr.args) != 2 or not all(isinstance(a, Name) for a in expr.args):
                errors.append("total() takes a kind of class (or all) and a class figure, such as "
                              "total(mezzanine, ending_balance)")
                return expr
            return Name(f"total({expr.args[0].name}, {expr.args[1].name})")
        if expr.fn == "share":
            return _rewrite_share(expr, errors)
        problem = _call_problem(expr)
        if problem:
            errors.append(problem)
            return expr
        return Call(expr.fn, tuple(rewrite(a, errors) for a in expr.args))
    if kind is Bin:
        return Bin(expr.op, rewrite(expr.left, errors), rewrite(expr.right, errors))
    if kind is Neg or kind is Not:
        return kind(rewrite(expr.operand, errors))
    if kind is Logic:
        return Logic(expr.op, tuple(rewrite(i, errors) for i in expr.items))
    return expr


def _rewrite_share(expr: Call, errors: list[str]) -> Expr:
    args = expr.args
    if len(args) >= 3 and all(isinstance(a, Name) for a in args[1:]):  # share(amount, weight, w1, ..., wn)
        if args[1].name not in [a.name for a in args[2:]]:
            errors.append("share(amount, weight, w1, ..., wn): the weight must be one of the weights")
        return Call("share", (rewrite(args[0], errors), *args[1:]))
    if len(args) != 3 or not (isinstance(args[2], Call) and args[2].fn == "total" and len(args[2].args) == 2
                              and all(isinstance(a, Name) for a in args[2].args)):
        errors.append("share(amount, weight, total(kind, field)) takes the weights as a total(), or as names")
        return expr
    amount, weight, whole = args
    group, field = whole.args[0].name, whole.args[1].name
    if not (isinstance(weight, Name) and weight.name.endswith("." + field)):
        errors.append(f"share(): the weight must be a class's {field} (<class>.{field})")
        return expr
    owner = weight.name[:-len(field) - 1]
    return Call("share", (rewrite(amount, errors), weight, Name(f"list({group}, {field})"),
                          Name(f"position({group}, {owner})")))


# ------------------------------------------------------------------ names and text


def names(expr: Expr) -> list[str]:
    """The names a formula reads, in the order they first appear."""
    out: dict[str, None] = {}
    _names(expr, out)
    return list(out)


def _names(expr: Any, out: dict[str, None]) -> None:
    kind = type(expr)
    if kind is Name:
        out[expr.name] = None
    elif kind is Bin:
        _names(expr.left, out)
        _names(expr.right, out)
    elif kind is Neg or kind is Not:
        _names(expr.operand, out)
    elif kind is Logic:
        for item in expr.items:
            _names(item, out)
    elif kind is Call:
        for arg in expr.args:
            _names(arg, out)


_PRECEDENCE = {"or": 1, "and": 2, "not": 3, "<": 4, "<=": 4, ">": 4, ">=": 4, "==": 4, "!=": 4,
               "+": 5, "-": 5, "*": 6, "/": 6, "neg": 7}


def text(expr: Expr, show: Callable[[str], str] | None = None, parent: int = 0) -> str:
    """The formula as text; ``show`` gives what to print for each name (its value, say)."""
    kind = type(expr)
    if kind is Num or kind is Const:
        return expr.text
    if kind is Name:
        return show(expr.name) if show else expr.name
    if kind is Call:
        if expr.fn == "share" and _rewritten_share(expr):  # as written: share(amount, weight, total(kind, field))
            whole = expr.args[2].name.replace("list(", "total(", 1)
            return f"share({text(expr.args[0], show)}, {text(expr.args[1], show)}, {show(whole) if show else whole})"
        return f"{expr.fn}({', '.join(text(a, show) for a in expr.args)})"
    if kind is Neg:
        out, mine = f"-{text(expr.operand, show, _PRECEDENCE['neg'])}", _PRECEDENCE["neg"]
    elif kind is Not:
        out, mine = f"not {text(expr.operand, show, _PRECEDENCE['not'])}", _PRECEDENCE["not"]
    elif kind is Logic:
        mine = _PRECEDENCE[expr.op]
        out = f" {expr.op} ".join(text(i, show, mine + 1) for i in expr.items)
    else:
        mine = _PRECEDENCE[expr.op]
        right = mine + 1 if expr.op in ("-", "/") or mine == 4 else mine
        out = f"{text(expr.left, show, mine)} {expr.op} {text(expr.right, show, right)}"
    return f"({out})" if mine < parent else out


def rounds(expr: Expr) -> list[str]:
    """How the formula rounds, for its explanation (``cents``: half-up to the cent)."""
    out: list[str] = []

    def walk(e: Any) -> None:
        kind = type(e)
        if kind is Call:
            note = _ROUNDING.get(e.fn)
            if note and note not in out:
                out.append(note)
            for a in e.args:
                walk(a)
        elif kind is Bin:
            if e.op == "/" and _DIVISION not in out:
                out.append(_DIVISION)
            walk(e.left)
            walk(e.right)
        elif kind in (Neg, Not):
            walk(e.operand)
        elif kind is Logic:
            for i in e.items:
                walk(i)

    walk(expr)
    return out


_DIVISION = "a quotient is exact to 34 significant digits (0 when the divisor is 0)"
_ROUNDING = {"cents": "rounded half-up to the cent", "cents_down": "cut to the cent (rounded down)",
             "share": "each share its exact part rounded down to the cent, the cents left over one each to the "
                      "shares rounding cut most, so the shares add up to the amount and none is a cent above its "
                      "exact part"}


# ------------------------------------------------------------------ types


class Types:
    """What a formula may name: ``type_of`` gives a name's type (a list of the inputs:
    ``list:<item type>``), or None for a name that is not there; ``known`` lists the names, for
    suggestions."""

    def __init__(self, type_of: Callable[[str], str | None], known: Callable[[], Iterable[str]]):
        self.type_of = type_of
        self.known = known


def check(expr: Expr, types: Types, expected: str | None = None) -> str:
    """The type of ``expr``; raises :class:`FormulaError` for an unknown name or a type error,
    or when it is not of the ``expected`` type.  Every unknown name is reported at once."""
    unknown = [n for n in names(expr) if types.type_of(n) is None]
    if len(unknown) > 1:
        each = [str(_unknown(n, types)).removeprefix("unknown name ") for n in unknown]
        raise FormulaError(f"unknown names {', '.join(each[:-1])} and {each[-1]}", unknown=unknown[0])
    got = _type(expr, types)
    if expected is not None and not fits(got, expected):
        hint = (": cash must be rounded, say how with cents(...) (half-up) or cents_down(...)"
                if got == AMOUNT and expected == MONEY else "")
        if isinstance(expr, Name) and got == NUMBER and expected == RATE:  # a figure written as a plain number
            hint = f": {expr.name} is a plain number; declare type: rate where it is defined"
        raise FormulaError(f"gives {words(got)}{hint} (expected {words(expected)})")
    return expected if got == LITERAL and expected is not None else got


def fits(got: str, expected: str) -> bool:
    """Whether a value of type ``got`` may stand where ``expected`` is needed: money is an
    amount, and a rate, a whole number or a written number is a number."""
    if got == expected or got == NONE:
        return True
    if got == LITERAL:
        return expected in _DECIMALS or expected == COUNT
    if expected == NUMBER:
        return got in (RATE, COUNT)
    return expected == AMOUNT and got == MONEY


def _unknown(name: str, types: Types) -> FormulaError:
    known = set(types.known())
    # a subtraction written without spaces (oc.target-oc.before_distribution) reads as one name
    split = [(name[:m.start()], name[m.end():]) for m in re.finditer("-", name)]
    difference = next((f"{a} - {b}" for a, b in split if a in known and b in known), None)
    close = difflib.get_close_matches(name, list(known), n=3, cutoff=0.75)
    if re.fullmatch(r"[0-9]+[eE][-+]?[0-9]*", name):  # 1E+90, 1e9, 2E-3: the digits and the E read as a name
        hint = _NO_EXPONENT
    elif difference:
        hint = f" (did you mean {difference}? a - inside a name is part of it: put spaces around a minus sign)"
    elif close:
        hint = f" (did you mean {' or '.join(close)}?)"
    elif split:
        hint = " (a - inside a name is part of it: to subtract, put spaces around the minus sign)"
    else:
        hint = " (expected a figure the deal file or the standard figures name: remit explain --list shows them)"
    return FormulaError(f"unknown name {name!r}{hint}", unknown=name)


def _type(expr: Any, types: Types) -> str:
    kind = type(expr)
    if kind is Num:
        return LITERAL
    if kind is Const:
        return FLAG if expr.value is not None else NONE
    if kind is Name:
        found = types.type_of(expr.name)
        if found is None:
            raise _unknown(expr.name, types)
        if found.startswith("list"):
            raise FormulaError(f"{expr.name} is a list of the inputs (expected it in sum() or count())")
        return found
    if kind is Neg:
        inner = _type(expr.operand, types)
        if inner not in _DECIMALS and inner != COUNT:
            raise FormulaError(f"- in front of {words(inner)}")
        return inner
    if kind is Not:
        _want(expr.operand, types, FLAG, "not")
        return FLAG
    if kind is Logic:
        for item in expr.items:
            _want(item, types, FLAG, expr.op)
        return FLAG
    if kind is Bin:
        return _binary(expr, types)
    return _call(expr, types)


def _want(expr: Any, types: Types, expected: str, where: str) -> None:
    got = _type(expr, types)
    if not fits(got, expected):
        raise FormulaError(f"{where} takes {words(expected)}, got {words(got)} ({text(expr)})")


def _join(a: str, b: str, where: str) -> str:
    """The type two values of a sum, a comparison or a choice share."""
    if a == b:
        return a
    if a == LITERAL and (b in _DECIMALS or b == COUNT):
        return b
    if b == LITERAL and (a in _DECIMALS or a == COUNT):
        return a
    if {a, b} == {MONEY, AMOUNT}:
        return AMOUNT
    if NONE in (a, b):
        return b if a == NONE else a
    raise FormulaError(f"{where} {words(a)} and {words(b)} (expected values of one type)")


def _binary(expr: Bin, types: Types) -> str:
    a, b = _type(expr.left, types), _type(expr.right, types)
    op = expr.op
    if op in ("<", "<=", ">", ">=", "==", "!="):
        if not (op in ("==", "!=") and NONE in (a, b)):
            _join(a, b, f"{op} compares")
        return FLAG
    if op == "-" and a == DATE and b == DATE:
        return COUNT  # days from one date to the other
    for t in (a, b):
        if t not in _MONEYS and t not in _SCALARS:
            raise FormulaError(f"{op} with {words(t)} ({text(expr)})")
    if op in ("+", "-"):
        if (a in _MONEYS) != (b in _MONEYS) and LITERAL not in (a, b):
            raise FormulaError(f"{op} between {words(a)} and {words(b)} ({text(expr)}) (expected money on both "
                               "sides or on neither: a rate times a balance is an amount of money, and cents(...) "
                               "makes it cash)")
        if a in _MONEYS or b in _MONEYS:
            out = MONEY if a in (MONEY, LITERAL) and b in (MONEY, LITERAL) else AMOUNT
            _cents_literals((expr.left, expr.right), out)
            return out
        if COUNT in (a, b) and LITERAL in (a, b):
            return COUNT if all(_whole_number(x) for x in (expr.left, expr.right) if isinstance(x, Num)) else NUMBER
        return _scalars(a, b)
    if op == "*":
        if a in _MONEYS and b in _MONEYS:
            raise FormulaError(f"money times money ({text(expr)})")
        if a in _MONEYS or b in _MONEYS:
            return AMOUNT
        return NUMBER if {a, b} == {COUNT, LITERAL} else _scalars(a, b)
    if b in _MONEYS:
        if a not in _MONEYS:
            raise FormulaError(f"{words(a)} divided by money ({text(expr)})")
        return RATE
    return AMOUNT if a in _MONEYS else (RATE if RATE in (a, b) else (LITERAL if a == b == LITERAL else NUMBER))


def _whole_number(num: Num) -> bool:
    return num.value == num.value.to_integral_value()


def _cents_literals(operands: Iterable[Any], joined: str) -> None:
    """A number written beside money is money: at most two decimal places."""
    if joined != MONEY:
        return
    for x in operands:
        if isinstance(x, Num) and x.value.as_tuple().exponent < -2:
            raise FormulaError(f"{x.text} stands for money here, which has at most two decimal places")


def _scalars(a: str, b: str) -> str:
    if RATE in (a, b):
        return RATE
    if a == b:
        return a
    if {a, b} == {COUNT, LITERAL}:
        return COUNT
    return NUMBER


#: function -> (fewest arguments, most or None)
_ARITY = {"min": (2, None), "max": (2, None), "sum": (1, None), "if": (3, 3), "cents": (1, 1), "cents_down": (1, 1),
          "given": (1, 1), "total": (2, 2), "count": (1, 1), "share": (3, 3), "schedule": (3, None),
          "days360": (2, 2), "whole": (1, 1)}


def _call_problem(expr: Call) -> str | None:
    """What is wrong with a call (an unknown function, a wrong number of arguments), if
    anything: found when the formula is read, before it is compiled or typed."""
    fn, args = expr.fn, expr.args
    if fn not in _ARITY:
        close = difflib.get_close_matches(fn, list(_ARITY), n=2)
        hint = f" (did you mean {' or '.join(close)}?)" if close else ""
        return f"unknown function {fn!r}{hint} (expected one of: {', '.join(_ARITY)})"
    low, high = _ARITY[fn]
    if len(args) < low or (high is not None and len(args) > high):
        want = f"{low}" if low == high else f"at least {low}"
        return f"{fn}() takes {want} argument{'s' if low != 1 else ''}, got {len(args)}"
    return None


def _call(expr: Call, types: Types) -> str:
    fn, args = expr.fn, expr.args
    if fn == "share" and not _rewritten_share(expr):  # share(amount, weight, w1, ..., wn)
        _want(args[0], types, MONEY, "share()'s amount")
        out = _type(args[2], types)
        for arg in args[3:]:
            out = _join(out, _type(arg, types), "share() weighs by")
        return MONEY
    if fn == "share":  # as rewritten: share(amount, weight, list(...), position(...))
        _want(args[0], types, MONEY, "share()'s amount")
        _type(args[1], types)
        for slot in args[2:]:
            if types.type_of(slot.name) is None:
                raise _unknown(slot.name, types)
        return MONEY
    if fn == "schedule":
        return _schedule(expr, types)
    listed = _list_type(args[0], types) if fn in ("count", "sum") and len(args) == 1 else None
    if fn == "count" or listed is not None:
        if listed is None:
            raise FormulaError(f"count() takes a list of the inputs, got {text(args[0])}")
        return COUNT if fn == "count" else listed
    if fn == "given":
        _type(args[0], types)
        return FLAG
    if fn == "days360":
        for arg in args:
            _want(arg, types, DATE, "days360()")
        return COUNT
    if fn == "whole":
        got = _type(args[0], types)
        if got not in _DECIMALS + (COUNT,):
            raise FormulaError(f"whole() rounds a number, got {words(got)} ({text(args[0])})")
        return COUNT
    if fn == "if":
        _want(args[0], types, FLAG, "if()'s condition")
        out = _join(_type(args[1], types), _type(args[2], types), "if() chooses between")
        _cents_literals(args[1:], out)
        return out
    if fn in ("cents", "cents_down"):
        got = _type(args[0], types)
        if got not in (MONEY, AMOUNT, LITERAL):
            raise FormulaError(f"{fn}() rounds money, got {words(got)} ({text(args[0])})")
        return MONEY
    chosen = args
    out = _type(chosen[0], types)
    for arg in chosen[1:]:
        out = _join(out, _type(arg, types), f"{fn}() of")
    if out in (FLAG, TEXT, DATE) and fn == "sum":
        raise FormulaError(f"sum() of {words(out)}")
    _cents_literals(chosen, out)
    return out


def _rewritten_share(expr: Call) -> bool:
    return len(expr.args) == 4 and isinstance(expr.args[2], Name) and expr.args[2].name.startswith("list(")


def _schedule(expr: Call, types: Types) -> str:
    x, *pairs = expr.args
    _want(x, types, COUNT, "schedule()'s first argument")
    if len(pairs) % 2:
        raise FormulaError("schedule(x, from, value, from, value, ...) takes its steps in pairs")
    keys = pairs[0::2]
    if not all(isinstance(k, Num) and k.value == k.value.to_integral_value() for k in keys):
        raise FormulaError("schedule(): each step starts at a whole number, written as such")
    if any(b.value <= a.value for a, b in zip(keys, keys[1:])):
        raise FormulaError("schedule(): the steps must start in increasing order")
    out = LITERAL
    for value in pairs[1::2]:
        out = _join(out, _type(value, types), "schedule() of")
    return out


def _list_type(expr: Any, types: Types) -> str | None:
    """The type of a list's items (``list:money``: ``money``; a list itself: ``count``), or None."""
    if not isinstance(expr, Name):
        return None
    found = types.type_of(expr.name)
    if found is None or not found.startswith("list"):
        return None
    return found.partition(":")[2] or COUNT


# ------------------------------------------------------------------ evaluation

_ARITH = {"+": operator.add, "*": operator.mul, "/": ratio}
_COMPARE = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
            "!=": operator.ne}
ZERO_CASH = Decimal("0.00")


class Missing(Exception):
    """A formula met a name that has no value where a value is needed."""


def compile_(expr: Expr, order: Sequence[str]) -> Callable[[Sequence[Any]], Any]:
    """A function of the values of ``order`` (the formula's names, in that order) that computes
    the formula: ``+ - *`` in the decimal context it is called in, which is
    :func:`generator.number.arithmetic`'s wherever a figure is computed (34 significant digits,
    rounded half-even in the last; sums and products of cents are exact), a quotient with
    :func:`generator.number.ratio` (0 when the divisor is 0)."""
    index = {name: i for i, name in enumerate(order)}
    return _compile(expr, index)


def _compile(expr: Any, index: dict[str, int]) -> Callable[[Sequence[Any]], Any]:
    kind = type(expr)
    if kind is Num or kind is Const:
        value = expr.value
        return lambda v: value
    if kind is Name:
        return operator.itemgetter(index[expr.name])
    if kind is Neg:
        inner = _compile(expr.operand, index)
        return lambda v: -inner(v)
    if kind is Not:
        inner = _compile(expr.operand, index)
        return lambda v: not inner(v)
    if kind is Logic:
        items = [_compile(i, index) for i in expr.items]
        if expr.op == "and":
            return lambda v: all(f(v) for f in items)
        return lambda v: any(f(v) for f in items)
    if kind is Bin:
        left, right = _compile(expr.left, index), _compile(expr.right, index)
        # (a value of none in arithmetic or an ordering raises TypeError: the engine reports it as missing)
        if expr.op in _COMPARE:
            test = _COMPARE[expr.op]
            return lambda v: test(left(v), right(v))
        if expr.op == "-":
            return lambda v: _minus(left(v), right(v))
        fn = _ARITH[expr.op]
        if expr.op == "/":
            return lambda v: ratio(_present(left(v)), _present(right(v)))
        return lambda v: fn(left(v), right(v))
    return _compile_call(expr, index)


def _minus(a: Any, b: Any) -> Any:
    out = a - b
    return out.days if isinstance(out, dt.timedelta) else out


def _present(value: Any) -> Any:
    if value is None:
        raise Missing
    return value


def _compile_call(expr: Call, index: dict[str, int]) -> Callable[[Sequence[Any]], Any]:
    fn = expr.fn
    parts = [_compile(a, index) for a in expr.args]
    if fn == "if":
        cond, yes, no = parts
        return lambda v: yes(v) if cond(v) else no(v)
    if fn == "given":
        (inner,) = parts
        return lambda v: inner(v) is not None
    if fn == "cents":
        (inner,) = parts
        return lambda v: cents(_present(inner(v)))
    if fn == "cents_down":
        (inner,) = parts
        return lambda v: truncate(_present(inner(v)), 2)
    if fn == "count":
        (inner,) = parts
        return lambda v: len(inner(v))
    if fn == "days360":
        start, end = parts
        return lambda v: days360(_present(start(v)), _present(end(v)))
    if fn == "whole":
        (inner,) = parts
        return lambda v: int(Decimal(_present(inner(v))).quantize(Decimal(1), rounding=ROUND_HALF_UP))
    if fn == "share" and _rewritten_share(expr):  # share(amount, weight, list(...), position(...))
        amount, _, weights, position = parts

        def share(v: Sequence[Any]) -> Any:
            split = _present(amount(v))
            return pro_rata(list(weights(v)), split)[position(v)] if split else ZERO_CASH

        return share
    if fn == "share":  # share(amount, weight, w1, ..., wn)
        at = [a.name for a in expr.args[2:]].index(expr.args[1].name)
        amount, listed = parts[0], parts[2:]
        return lambda v: pro_rata([_present(w(v)) for w in listed], _present(amount(v)))[at]
    if fn == "schedule":
        return _compile_schedule(expr, parts)
    if fn == "sum":
        if len(parts) == 1:
            (inner,) = parts
            return lambda v: _sum_list(inner(v))
        return lambda v: _sum([f(v) for f in parts])
    pick = min if fn == "min" else max
    if len(parts) == 2:
        first, second = parts
        return lambda v: pick(first(v), second(v))
    return lambda v: pick([f(v) for f in parts])


def _compile_schedule(expr: Call, parts: list) -> Callable[[Sequence[Any]], Any]:
    x = parts[0]
    steps = [(expr.args[1 + 2 * i].value, parts[2 + 2 * i]) for i in range((len(parts) - 1) // 2)]

    def pick(v: Sequence[Any]) -> Any:
        at, chosen = _present(x(v)), None
        for start, value in steps:
            if at >= start:
                chosen = value
        return chosen(v) if chosen is not None else None

    return pick


def days360(start: dt.date, end: dt.date) -> int:
    """Days from ``start`` to ``end`` on the 30/360 basis (ISDA bond basis): a 31st counts as
    the 30th, and an ending 31st as the 30th when the start is the 30th or 31st."""
    d1 = min(start.day, 30)
    d2 = end.day if end.day < 31 or d1 < 30 else 30
    return 360 * (end.year - start.year) + 30 * (end.month - start.month) + d2 - d1


def pro_rata(weights: list, amount: Decimal) -> list:
    """``amount`` split by ``weights`` (none negative) to the cent, by largest remainder: each
    share its exact part rounded down to the cent, and the cents that leaves over one each to
    the shares rounding cut most (on a tie, the larger weight's, then the first).  The shares
    add up to the amount; none is negative, none is a cent or more above its exact part, so
    an amount split by what each is owed never gives one more than it is owed."""
    context = getcontext()
    return list(_pro_rata(tuple(weights), amount, context.prec, context.rounding))


@lru_cache(maxsize=256)
def _pro_rata(weights: tuple, amount: Decimal, prec: int, rounding: str) -> tuple:
    """:func:`pro_rata`, made once per split: ``share()`` asks it for each class's share (the
    context's precision and rounding are in the key, as the quotients depend on them)."""
    total = _sum(list(weights))
    if not total or not amount:
        return (ZERO_CASH,) * len(weights)
    if amount < 0:
        return tuple(-x for x in _pro_rata(weights, -amount, prec, rounding))
    exact = [amount * w / total for w in weights]
    parts = [x.quantize(CENT, rounding=ROUND_DOWN) for x in exact]
    left = int((amount - _sum(parts)) / CENT)
    by_cut = sorted(range(len(parts)), key=lambda i: (parts[i] - exact[i], -weights[i], i))
    for i in by_cut[:left]:
        parts[i] += CENT
    return tuple(parts)


def _sum(values: list) -> Any:
    """The sum of amounts from zero cash (``0.00``), as cash is added; of whole numbers, from 0."""
    if values and type(values[0]) is int:
        return sum(values)
    return sum(values, ZERO_CASH)


def _sum_list(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return _sum(list(value))
    return _present(value)


__all__ = ["parse", "rewrite", "check", "compile_", "text", "names", "rounds", "pro_rata", "words", "fits", "Types",
           "FormulaError", "Missing", "MONEY", "AMOUNT", "RATE", "NUMBER", "COUNT", "DATE", "FLAG", "TEXT", "LITERAL",
           "NONE", "TYPE_WORDS", "Num", "Const", "Name", "Neg", "Bin", "Logic", "Not", "Call", "Expr"]
