"""Rendering: one statement result, many formats.

Templates do no arithmetic.  Every figure reaches a template wrapped with its
name (``classes.A.interest``), so that a value too wide for a fixed-width
column is an error that names the field and the width instead of a shifted
column.  Number formatting lives in the filters below.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import fields, is_dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2
from pydantic import BaseModel

from .number import places
from .statement import Revision, Statement, to_plain

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


class ColumnOverflow(ValueError):
    """A value does not fit the width its template gave it."""

    def __init__(self, field: str, text: str, width: int):
        self.field, self.text, self.width = field, text, width
        super().__init__(f"{field or 'value'}: {text!r} is {len(text)} characters, "
                         f"too wide for its {width}-character column")


# ------------------------------------------------------------------ named values


class NamedDecimal(Decimal):
    field = ""


class NamedInt(int):
    field = ""


class NamedStr(str):
    field = ""


def _named(cls, value, name):
    out = cls(value)
    out.field = name
    return out


def view(value: Any, name: str = "") -> Any:
    """The statement (or deal) as template data, every leaf carrying its field name."""
    if isinstance(value, BaseModel):
        return {k: view(getattr(value, k), f"{name}.{k}" if name else k) for k in type(value).model_fields}
    if is_dataclass(value) and not isinstance(value, type):
        out = {f.name: view(getattr(value, f.name), f"{name}.{f.name}" if name else f.name) for f in fields(value)}
        for extra in ("ok",):
            if hasattr(value, extra):
                out[extra] = getattr(value, extra)
        return out
    if isinstance(value, dict):
        return {k: view(v, f"{name}.{k}") for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        items = []
        for i, v in enumerate(value):
            key = getattr(v, "name", None) or (v.get("name") if isinstance(v, dict) else None) or str(i)
            items.append(view(v, f"{name}.{key}"))
        return items
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return _named(NamedDecimal, value, name)
    if isinstance(value, int):
        return _named(NamedInt, value, name)
    if isinstance(value, str):
        return _named(NamedStr, value, name)
    return value


def _field(value: Any) -> str:
    return getattr(value, "field", "")


# ------------------------------------------------------------------ filters


class NoValue(TypeError):
    """A filter given a figure that has no value this period."""


def _defined(value: Any) -> None:
    """A filter given nothing (a figure the template names but the statement lacks) says so, by
    name; one given a figure with no value this period says what to write instead."""
    if isinstance(value, jinja2.Undefined):
        value._fail_with_undefined_error()
    if value is None:
        raise NoValue("a figure with no value this period (a fixed-rate class's index, the rate cap of a deal "
                      "without one, ...) is given to a number filter (expected the template to show it only when "
                      "it has one: {% if figure is not none %})")


def dollars(value: Decimal) -> NamedStr:
    """Whole dollars, half-up, with thousands separators: 1,767,305.99 -> "1,767,306"."""
    _defined(value)
    return _named(NamedStr, f"{places(Decimal(value), 0):,}", _field(value))


def money(value: Decimal) -> NamedStr:
    """Dollars and cents with separators: "1,767,305.99"."""
    _defined(value)
    return _named(NamedStr, f"{places(Decimal(value), 2):,}", _field(value))


def fixed(value: Decimal, n: int) -> NamedStr:
    """``n`` decimal places, half-up, no separators (factors: ``fixed(8)``)."""
    _defined(value)
    return _named(NamedStr, f"{places(Decimal(value), n):f}", _field(value))


def per1000(value: Decimal, n: int = 6, wide_places: int = 2, wide_from: int = 100000) -> NamedStr:
    """A per-$1,000 amount to ``n`` places; from ``wide_from`` up (a class with a tiny basis,
    such as P's $100) to ``wide_places`` places, as the filed statement prints them."""
    _defined(value)
    shown = wide_places if abs(Decimal(value)) >= wide_from else n
    return fixed(value, shown)


def pct(value: Decimal, n: int = 5) -> NamedStr:
    """A fraction as a percentage: 0.0217 -> "2.17000%"."""
    _defined(value)
    return _named(NamedStr, f"{places(Decimal(value) * 100, n):f}%", _field(value))


def number(value: Decimal, n: int = 2, grouping: bool = True, negative: str = "-") -> NamedStr:
    """A number to ``n`` places, half-up, with thousands separators unless ``grouping`` is false;
    a negative number as ``-1,234.56``, or in brackets, ``(1,234.56)``, with ``negative="()"``."""
    _defined(value)
    amount = places(Decimal(value), n)
    body = f"{abs(amount):,f}" if grouping else f"{abs(amount):f}"
    if amount < 0:
        body = f"({body})" if negative == "()" else f"-{body}"
    return _named(NamedStr, body, _field(value))


def date_as(value: dt.date, style: str) -> str:
    """A date in any strftime style: ``d|date('%d %B %Y')`` -> "17 March 2025"; ``%-d`` and
    ``%-m`` (no leading zero) work on every platform."""
    style = style.replace("%-d", str(value.day)).replace("%-m", str(value.month))
    return value.strftime(style)


def shown(value: Any, kind: str | None = None) -> str:
    """A figure whatever its kind: a rate (``kind``, the figure's declared type, says so) as a
    percentage to 5 places, cash (two places) as money, another number to 8 places, a flag as
    YES or NO, a date in ISO form, none as a dash."""
    if value is None:
        return "\u2014"
    if isinstance(value, bool):
        return yesno(value)
    if isinstance(value, Decimal):
        if kind == "rate":
            return pct(value, 5)
        if kind in ("money", "amount") or (kind is None and value.as_tuple().exponent == -2):
            return money(value)
        return fixed(value, 8)
    return str(value)


def yesno(value: bool) -> str:
    return "YES" if value else "NO"


def date_mdy(value: dt.date) -> str:
    return value.strftime("%m/%d/%y")  # 05/28/02


def date_mdy_short(value: dt.date) -> str:
    return f"{value.month}/{value.day}/{value:%y}"  # 5/28/02


def date_dmy(value: dt.date) -> str:
    return value.strftime("%d-%b-%y")  # 28-May-02


def date_long(value: dt.date) -> str:
    return f"{value:%B} {value.day}, {value.year}"  # February 1, 2002


def _fit(text: Any, width: int) -> str:
    s = str(text)
    if len(s) > width:
        raise ColumnOverflow(_field(text), s, width)
    return s


def rjust(value: Any, width: int) -> str:
    return _fit(value, width).rjust(width)


def ljust(value: Any, width: int) -> str:
    return _fit(value, width).ljust(width)


def center(value: Any, width: int) -> str:
    return _fit(value, width).center(width)


FILTERS = {
    "dollars": dollars, "money": money, "fixed": fixed, "per1000": per1000, "pct": pct, "yesno": yesno,
    "mdy": date_mdy, "mdy_short": date_mdy_short, "dmy": date_dmy, "long_date": date_long,
    "rjust": rjust, "ljust": ljust, "center": center, "number": number, "date": date_as, "shown": shown,
}


def template_folders(templates: Path = TEMPLATES) -> tuple[Path, ...]:
    """Where templates are looked for, in order: a book's own folder (``--templates DIR``), then
    the project's, so that a book keeps only its deals' layouts and shares the rest (the web
    page, its stylesheet, the parts the layouts include)."""
    own, bundled = Path(templates), TEMPLATES
    return (own,) if own.resolve() == bundled.resolve() else (own, bundled)


def template_file(name: str, templates: Path = TEMPLATES) -> Path:
    """The file a template's name reads: the first folder's that has it (the book's own first)."""
    folders = template_folders(templates)
    return next((folder / name for folder in folders if (folder / name).is_file()), folders[0] / name)


def environment(templates: Path = TEMPLATES) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader([str(folder) for folder in template_folders(templates)]),
        undefined=jinja2.StrictUndefined,
        autoescape=jinja2.select_autoescape(disabled_extensions=("txt", "txt.j2"), default_for_string=False,
                                            default=True),
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(FILTERS)
    return env


_ENV: dict[Path, jinja2.Environment] = {}


def _env(templates: Path) -> jinja2.Environment:
    if templates not in _ENV:
        _ENV[templates] = environment(templates)
    return _ENV[templates]


class Later:
    """A value made only when a template first reads it (the previous statement: most layouts
    never do)."""

    _UNSET = object()

    def __init__(self, make: Any):
        self._make, self._value = make, Later._UNSET

    def get(self) -> Any:
        if self._value is Later._UNSET:
            self._value = self._make()
        return self._value

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.get(), name)

    def __bool__(self) -> bool:
        return self.get() is not None


def context(statement: Statement, deal: Any, revision: Revision | None = None, named: bool = True,
            previous: Statement | None = None) -> dict[str, Any]:
    """The template's data.  ``named``: every value carries its field name (``view``), which
    column errors and the web page's ``data-field`` attributes need; otherwise the statement
    and deal objects themselves, which a template reads the same way, at a fraction of the cost.
    ``previous``: the deal's previous statement (none for its first on file)."""
    if not named:
        return {"s": statement, "deal": deal, "revision": revision, "previous": previous}
    if isinstance(previous, Later):
        previous = previous.get()
    return {"s": view(statement), "deal": view(deal, "deal"), "revision": revision,
            "previous": view(previous, "previous") if previous is not None else None}


def render_template(name: str, statement: Statement, deal: Any, templates: Path = TEMPLATES,
                    revision: Revision | None = None, previous: Statement | None = None) -> str:
    """Render a text template.  It runs on the objects themselves; only when a value does not
    fit its column is it run again on named values, so that the error names the field."""
    template = _env(templates).get_template(name)
    try:
        return template.render(context(statement, deal, revision, named=False, previous=previous))
    except ColumnOverflow:
        return template.render(context(statement, deal, revision, previous=previous))


def render_json(statement: Statement, revision: Revision | None = None) -> str:
    data = to_plain(statement)
    if revision is not None:
        data = {"revision": to_plain(revision), **data}
    return json_text(data) + "\n"


def json_text(data: Any) -> str:
    """``json.dumps(data, indent=2, ensure_ascii=False)``, byte for byte.  The json module
    writes indented JSON in pure Python, value by value through generators; this writes the
    shapes :func:`to_plain` gives (dicts with text keys, lists, text, whole numbers, booleans,
    None) a few times faster, and leaves any other data to the json module."""
    out: list[str] = []
    try:
        _json_into(data, "\n", out)
    except _Unusual:
        return json.dumps(data, indent=2, ensure_ascii=False)
    return "".join(out)


class _Unusual(Exception):
    """Data of a shape that json_text leaves to the json module."""


_json_string = json.encoder.encode_basestring  # the C function of CPython's _json module, where there is one
_JSON_CONSTANTS = {None: "null", True: "true", False: "false"}


def _json_into(value: Any, newline: str, out: list[str]) -> None:
    kind = type(value)
    if kind is str:
        out.append(_json_string(value))
    elif kind is dict:
        if not value:
            out.append("{}")
            return
        inner = newline + "  "
        sep = "{" + inner
        for key, item in value.items():
            if type(key) is not str:
                raise _Unusual
            out.append(sep + _json_string(key) + ": ")
            _json_into(item, inner, out)
            sep = "," + inner
        out.append(newline + "}")
    elif kind is list:
        if not value:
            out.append("[]")
            return
        inner = newline + "  "
        sep = "[" + inner
        for item in value:
            out.append(sep)
            _json_into(item, inner, out)
            sep = "," + inner
        out.append(newline + "]")
    elif kind is int:
        out.append(int.__repr__(value))
    elif value is None or kind is bool:
        out.append(_JSON_CONSTANTS[value])
    else:
        raise _Unusual
