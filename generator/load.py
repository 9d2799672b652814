"""Load and validate a deal directory: YAML -> typed model, with ``file:line`` errors."""

from __future__ import annotations

import os
import re
import stat
from decimal import Decimal
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, ValidationError

from . import calendar
from .model import ACTIONS, PATTERN_WORDS, Deal, GroupedPeriod, Period, _action_kind
from .program import compile_deal
from .source import InputError, InputErrors, ReadErrors, SourceMap, dotted, load_yaml, parse_yaml, shown
from .view import REQUIRED, shown_beyond

M = TypeVar("M", bound=BaseModel)

_PYDANTIC_MESSAGES = {
    "missing": "required field is missing",
    "string_type": "expected text",
    "bool_type": "expected true or false",
    "bool_parsing": "expected true or false",
    "dict_type": "expected a mapping (key: value lines)",
    "model_type": "expected a mapping (key: value lines)",
    "tuple_type": "expected a list",
    "list_type": "expected a list",
}


def _expected_fields(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str] | None:
    """The field names allowed at ``loc`` (the parent of an unknown key), if a model stands there."""
    current: Any = model
    for part in loc:
        if isinstance(current, type) and issubclass(current, BaseModel):
            fields = {f.alias or n: f for n, f in current.model_fields.items()}
            if part not in fields:
                # a discriminated union's branch name (pydantic puts the tag in loc)
                return None
            current = fields[part].annotation
        else:
            current = _unwrap(current, part)
            if current is None:
                return None
    current = _unwrap(current, None) if not (isinstance(current, type) and issubclass(current, BaseModel)) else current
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return None


def _unwrap(tp: Any, part: Any) -> Any:
    args = getattr(tp, "__args__", None)
    origin = getattr(tp, "__origin__", None)
    if origin in (tuple, list) and args:
        return args[0]
    if origin is dict and args:
        return args[1]
    if args:  # Optional[...] / Annotated[...]
        for a in args:
            if isinstance(a, type) and issubclass(a, BaseModel):
                return a
    for member in getattr(getattr(tp, "__origin__", tp), "__args__", ()) if isinstance(part, str) else ():
        # a discriminated union (a waterfall's actions): the branch its tag names
        if any(getattr(meta, "tag", None) == part for meta in getattr(member, "__metadata__", ())):
            return member.__origin__
    return None


def validate(model: type[M], data: Any, src: SourceMap) -> M:
    """Validate ``data`` into ``model``; raise :class:`InputErrors` naming every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as refused:
        exc = refused
    try:  # refused for its shape, a deal is not compiled: validated again, its formulas' syntax is told too
        model.model_validate(data, context={"formulas": True})
    except ValidationError as again:
        exc = again
    errors = []
    found = [(err, _data_path(data, err["loc"])) for err in exc.errors(include_url=False)]
    # a formula YAML cut at its comma: told once, as such, not also as the formula left that does not parse
    cut = {loc[:-1] for err, loc in found if err["type"] == "extra_forbidden" and _cut_at_comma(loc)}
    for err, loc in found:
        kind = err["type"]
        if kind == "value_error" and loc[:-1] in cut and str(err.get("ctx", {}).get("error")).startswith("formula "):
            continue
        if kind == "extra_forbidden":
            allowed = _expected_fields(model, err["loc"][:-1])  # (pydantic's: a union's branch is named in it)
            hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
            message = f"unknown field{hint}"
            if _cut_at_comma(loc):
                message += (": a formula with a comma, written inside { }, is cut at the comma by YAML "
                            "(expected the formula in quotes, for example base: \"total(senior, "
                            "beginning_balance)\")")
        elif kind == "value_error":
            message = str(err.get("ctx", {}).get("error", err["msg"]))
        elif kind == "string_type" and isinstance(err.get("input"), (bool, int, Decimal)):
            value = err["input"]
            written = ("true" if value else "false") if isinstance(value, bool) else str(value)
            read = "true or false" if isinstance(value, bool) else "a number"
            message = (f"got {written}, which YAML reads as {read} (expected text: a formula or a name is "
                       f"written in quotes, \"{written}\")")
        elif kind in _PYDANTIC_MESSAGES:
            message = _PYDANTIC_MESSAGES[kind]
            if kind != "missing" and "input" in err and err["input"] is None:
                message += (", got nothing (a key with no value: are the lines meant under it indented too "
                            "little?)")
        elif kind == "literal_error":
            message = f"got {shown(err['input'])} (expected {err['ctx']['expected']})"
        elif kind == "string_pattern_mismatch":
            pattern = err["ctx"]["pattern"]
            message = f"got {shown(err['input'])} (expected {PATTERN_WORDS.get(pattern, f'text matching {pattern}')})"
        elif kind == "union_tag_not_found":
            message = "an action needs its kind (expected pay:, transfer: or allocate:)"
        elif kind == "union_tag_invalid":
            tag = shown(str(err["ctx"]["tag"]).replace(":", ": "))
            message = f"unknown action {tag} (expected one of: {', '.join(t.replace(':', ': ') for t in ACTIONS)})"
        else:
            message = f"{err['msg'][0].lower()}{err['msg'][1:]}"
            if "input" in err and not isinstance(err["input"], (dict, list)):
                message += f" (got {shown(err['input'])})"
        if loc and loc[-1] == "[key]":  # a mapping's key, not its value, is wrong
            loc, message = loc[:-1], f"not a valid key: {message}"
        errors.append(src.error(loc, message))
    raise InputErrors(_sorted(errors))


def _cut_at_comma(loc: tuple[Any, ...]) -> bool:
    """An unknown field that is the rest of a formula YAML cut at its comma inside { }
    (``beginning_balance)`` of ``base: total(senior, beginning_balance)``)."""
    return isinstance(loc[-1], str) and ")" in loc[-1]


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic's error location as a path into the YAML data: drop the tags it inserts
    for a discriminated union (``waterfall.interest[0].fees.classes``, ``figures.x.formula``)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and part == _action_kind(node):
            continue  # the tag pydantic puts in the location of an action
        if out[:1] == ["figures"] and len(out) == 2 and part == ("figure" if isinstance(node, dict) else "formula"):
            continue  # ... and of a figure (its formula alone, or a mapping)
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def _sorted(errors: list[InputError]) -> list[InputError]:
    """In file order, each once (a value a union's branches all refuse is refused once)."""
    return sorted(dict.fromkeys(errors), key=lambda e: (e.file, e.line, e.field))


@dataclass(frozen=True, slots=True)
class Loaded:
    """A validated document and where its values came from (a deal: with its program)."""

    value: Any
    source: SourceMap
    program: Any = None


def read_then_validated(path: Path, model: Callable[[Any], type[BaseModel]],
                        root: Path | None) -> tuple[Any, SourceMap]:
    """A YAML file's values and source map.  A file read to its end with problems (a duplicate key,
    a refused value) has its shape checked too (as ``model`` of its values says), so that both
    are told at once; raises :class:`InputErrors` with all of them."""
    try:
        return load_yaml(path, root=root)
    except ReadErrors as exc:
        read = exc.errors
        data, src = exc.data, exc.source
    try:
        validate(model(data), data, src)
    except InputErrors as refused:  # not again at a line the reading told (a refused value is none here)
        told = {(e.file, e.line) for e in read}
        read = read + [e for e in refused.errors if (e.file, e.line) not in told]
    raise InputErrors(_sorted(read))


def load_deal(deal_dir: Path, root: Path | None = None) -> Loaded:
    """The deal file of ``deal_dir``, validated, cross-checked and compiled (its program).
    ``root``: see :func:`generator.source.read_input`."""
    path = Path(deal_dir) / "deal.yaml"
    data, src = read_then_validated(path, lambda _: Deal, root)
    deal = validate(Deal, data, src)
    errors = check_deal(deal, src)
    beyond = shown_beyond(deal)
    errors += [src.error(("report", i), f"{name} is on the statement already, among its deal's own figures "
                                        "(expected only figures the statement does not show: report: adds them to "
                                        "it)") for i, name in enumerate(deal.report) if name in beyond]
    try:
        program = compile_deal(deal, src, REQUIRED, data)
    except InputErrors as exc:
        errors += exc.errors
        program = None
    if errors:
        raise InputErrors(_sorted(list(dict.fromkeys(errors))))
    return Loaded(deal, src, program)


def misnamed(deal: Deal, source: SourceMap, deal_dir: Path) -> list[InputError]:
    """The error of a deal folder not named by its deal's id, if it is not: a copy of a deal's
    folder under another name would publish (or list) one deal's statements twice.  The folder
    is named as written (a link is not followed: its own name is the folder's), ``.`` and
    ``..`` as the shell shows them (``$PWD``, a link's name when the shell went through one)."""
    name = _written_name(deal_dir)
    if deal.id == name:
        return []
    return [source.error(("id",), f"{deal.id!r} is not the name of its folder {name!r} (expected a "
                                  "deal's folder named by its deal's id, so that no two publish one deal's "
                                  "statements)")]


def _written_name(deal_dir: Path) -> str:
    path = str(deal_dir)
    if not os.path.isabs(path):
        pwd = os.environ.get("PWD", "")
        try:
            shown_cwd = os.path.isabs(pwd) and os.path.samefile(pwd, ".")
        except OSError:
            shown_cwd = False
        path = os.path.join(pwd if shown_cwd else os.getcwd(), path)
    return Path(os.path.normpath(path)).name


def deal_file_values(deal_dir: Path) -> dict[str, Any]:
    """A deal file's values as YAML gives them, not validated: for what a month end reads of a
    deal before rendering it, or of one that no longer renders (its id, its CUSIPs).  Empty
    when the file does not read; rendering it tells why."""
    try:
        data, _ = load_yaml(Path(deal_dir) / "deal.yaml")
    except InputErrors:
        return {}
    return data if isinstance(data, dict) else {}


def misnamed_folder(deal_dir: Path, root: Path | None = None) -> list[InputError]:
    """:func:`misnamed` for a deal folder, read from its deal file if that loads (a deal file's
    own errors are told by whatever reads it)."""
    try:
        loaded = load_deal(deal_dir, root)
    except InputErrors:
        return []
    return misnamed(loaded.value, loaded.source, deal_dir)


def check_deal(deal: Deal, src: SourceMap) -> list[InputError]:
    """Rules that tie fields of the deal file together (the waterfall's are the program's)."""
    errors: list[InputError] = []
    names = [c.name for c in deal.classes]
    for i, name in enumerate(names):
        if name in names[:i]:
            errors.append(src.error(("classes", i, "name"), f"class {name!r} is listed twice"))
    first: dict[str, str] = {}
    for i, c in enumerate(deal.classes):
        if c.cusip is None:
            continue
        if c.cusip in first:  # a CUSIP is the key investors and data vendors file a class's factors by
            errors.append(src.error(("classes", i, "cusip"), f"CUSIP {c.cusip} is class {first[c.cusip]}'s too "
                                                             "(expected each class's own CUSIP)"))
        else:
            first[c.cusip] = c.name
    for i, c in enumerate(deal.classes):
        if c.kind in ("senior", "mezzanine", "interest_only") and c.coupon is None and not c.principal_only:
            errors.append(src.error(("classes", i), f"class {c.name} ({c.kind}) needs a coupon (expected coupon: "
                                                    "{margin: ..., cap: ...}, or principal_only: true)"))
        if c.principal_only and (c.coupon is not None or c.kind not in ("senior", "mezzanine")):
            errors.append(src.error(("classes", i, "principal_only"),
                                    f"class {c.name} is principal-only: a senior or mezzanine class without a coupon "
                                    "(expected no coupon:)"))
        if c.kind in ("senior", "mezzanine", "excess", "interest_only") and not c.original_balance:
            errors.append(src.error(("classes", i, "original_balance"),
                                    f"class {c.name} ({c.kind}) has an original balance of 0 (expected more than 0: "
                                    "its certificate factor is its balance over its original balance)"))
    for kind, name in deal.templates.items():
        suffix = {"text": ".txt.j2", "html": ".html.j2"}[kind]
        if not name.endswith(suffix):
            errors.append(src.error(("templates", kind), f"{name!r} is not a {kind} template "
                                                         f"(expected a name ending in {suffix})"))
    sched = deal.schedule
    if sched.first_distribution_date <= sched.closing_date:
        errors.append(src.error(("schedule", "first_distribution_date"), "must be after the closing date"))
    first = sched.first_distribution_date
    by_rule = calendar.distribution_date(first.year, first.month, sched.distribution_day, sched.holiday_calendar)
    if first != by_rule:
        errors.append(src.error(("schedule", "first_distribution_date"), (
            f"{first.isoformat()} is not the deal's distribution date of {first:%B %Y}: day "
            f"{sched.distribution_day}, or the next business day, is {by_rule.isoformat()} (expected "
            f"{by_rule.isoformat()}, or a distribution_day that gives {first.isoformat()})")))
    return errors


def carried_accounts_given(deal: Deal, given: Any, src: SourceMap, at: tuple[str, ...], held: str,
                           complete: bool = True) -> list[InputError]:
    """The rule for a state that gives the deal's carried accounts (a period's opening, intake's
    closing balances at ``at``): each is one the deal carries, and with ``complete``, every one
    it carries is given.  ``held``: when the balances stand (``after the previous distribution``)."""
    carried = [a.name for a in deal.accounts if a.carried]
    where = ".".join(at)
    errors = [src.error(at + (name,), (
        f"{name!r} is not a carried account of deal {deal.id} (expected one of: {', '.join(carried)})"
        if carried else f"deal {deal.id} carries no account from one distribution to the next (expected no "
                        f"accounts under {where})")) for name in given if name not in carried]
    left_out = [n for n in carried if n not in given]
    if complete and left_out:
        errors.append(src.error(at if given else at[:-1], (
            f"no balance given for the {', '.join(left_out)} account (expected what each carried account held "
            f"{held} under {where}, 0.00 for one empty)")))
    return errors


def check_period_fields(period: Period, src: SourceMap) -> list[InputError]:
    """Rules that tie fields of one period file together."""
    errors: list[InputError] = []
    if isinstance(period, GroupedPeriod):
        interest = sum((g.collections.interest for g in period.groups.values()), Decimal("0.00"))
        liquidations = [item for g in period.groups.values() for item in g.collections.liquidations]
    else:
        interest = period.collections.interest
        liquidations = list(period.collections.liquidations)
    if period.extraordinary_expenses > interest:
        errors.append(src.error(("extraordinary_expenses",),
                                f"{period.extraordinary_expenses:,.2f} is more than the interest remittance "
                                f"{interest:,.2f} it is withdrawn from (expected at most {interest:,.2f})"))
    realized = sum((item.balance - item.proceeds for item in liquidations), Decimal("0.00"))
    if period.bankruptcy_losses > realized:  # a part of the month's realized losses, which the liquidations give
        errors.append(src.error(("bankruptcy_losses",),
                                f"{period.bankruptcy_losses:,.2f} is more than the period's realized losses "
                                f"{realized:,.2f} it is part of (the liquidated balances less their proceeds; expected "
                                f"at most {realized:,.2f})"))
    ppis = period.shortfalls
    if ppis.covered_by_servicer > ppis.prepayment_interest:
        errors.append(src.error(("shortfalls", "covered_by_servicer"),
                                f"{ppis.covered_by_servicer:,.2f} is more than the prepayment interest shortfall "
                                f"{ppis.prepayment_interest:,.2f} it covers a part of (expected at most "
                                f"{ppis.prepayment_interest:,.2f})"))
    return errors


#: A period file's name: a month, YYYY-MM (2024-13 or "2024-05\n" is no month, and no period file).
PERIOD = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")


def period_path(deal_dir: Path, key: str) -> Path:
    return Path(deal_dir) / "periods" / f"{key}.yaml"


def _period_folder(deal_dir: Path) -> list[str]:
    try:
        return os.listdir(Path(deal_dir) / "periods")
    except OSError:  # no periods folder (or one that cannot be read): none on file
        return []


def period_folder_problem(deal_dir: Path) -> str | None:
    """Why a deal's ``periods/`` cannot be listed: it is not a folder, or it cannot be read.
    None when it can be, or when there is none (which is "no period files")."""
    try:
        os.listdir(Path(deal_dir) / "periods")
    except FileNotFoundError:
        return None
    except NotADirectoryError:
        return "is not a folder (expected a folder of the servicer's reports, periods/YYYY-MM.yaml)"
    except OSError as exc:
        return f"cannot be read ({exc.strerror or exc}; expected a folder remit may list)"
    return None


def _is_period_file(name: str) -> bool:
    return name.endswith(".yaml") and PERIOD.fullmatch(name[:-5]) is not None


def list_periods(deal_dir: Path) -> list[str]:
    """The periods on file (``2002-05`` for ``periods/2002-05.yaml``), in order."""
    return sorted(name[:-5] for name in _period_folder(deal_dir) if _is_period_file(name))


def unread_period_files(deal_dir: Path) -> list[str]:
    """The YAML files in a deal's ``periods/`` that are not named as a month (``2029-02.yml``,
    ``2029-2.yaml``, ``notes.yaml``): no statement reads them, so a month the servicer sent
    under another name would be left out without a word."""
    return sorted(name for name in _period_folder(deal_dir)
                  if name.lower().endswith((".yaml", ".yml")) and not _is_period_file(name))


#: How a period file that remit intake wrote begins; the comment lines after it name its sources.
INTAKE_HEADER = "# Written by remit intake"


def written_by_intake(period_file: Path) -> dict[str, str]:
    """The sources a period file's header names (``tape``, ``sha256``, ``mapping``), if intake
    wrote it; empty for any other file (one written by hand, one that is not even text)."""
    out: dict[str, str] = {}
    try:
        if not stat.S_ISREG(os.stat(period_file).st_mode):  # a FIFO is never opened: it would block
            return {}
        with open(period_file, encoding="utf-8") as fh:
            if not fh.readline().startswith(INTAKE_HEADER):
                return {}
            for line in fh:
                if not line.startswith("# "):
                    break
                key, sep, value = line[2:].rstrip("\n").partition(": ")
                if sep:
                    out[key] = value
    except (OSError, ValueError):  # unreadable, or not UTF-8
        return {}
    return out


def _foreign_groups(data: Any, deal: Deal, src: SourceMap) -> list[InputError]:
    """A report for every group the deal has and no other: each of another group is an error,
    and taken out of ``data`` so that its fields are not checked against a group's."""
    groups = data.get("groups") if isinstance(data, dict) else None
    if not isinstance(groups, dict):
        return []
    names = [g.name for g in deal.groups]
    foreign = [g for g in groups if g not in names]
    for g in foreign:
        del groups[g]
    errors = [src.error(("groups", g), f"group {g!r} is not a group of deal {deal.id} (expected one of: "
                                       f"{', '.join(names)})") for g in foreign]
    missing = [g for g in names if g not in groups]
    if missing:
        errors.append(src.error(("groups",), f"no report for group {', '.join(missing)} (expected one for each of "
                                             f"the deal's groups: {', '.join(names)})"))
    return errors


def _period_model(data: Any, grouped: bool | None) -> type[BaseModel]:
    """A period file's model: ``grouped`` (None: as its values say, a groups: section or not)."""
    if grouped is None:
        grouped = isinstance(data, dict) and "groups" in data
    return GroupedPeriod if grouped else Period


def load_period(deal_dir: Path, key: str, root: Path | None = None, grouped: bool | None = False,
                deal: Deal | None = None, text: str | None = None) -> Loaded:
    """A period file; ``grouped``: of a deal with loan groups (each group's report under groups:),
    or None when the deal could not be read (the file's own shape then says which).  ``deal``:
    the deal's, when it could be read: a report of a group it does not have is told as such,
    not as that report's missing fields.  ``text``: the file as it is about to be written (remit
    intake's), read instead of the file on disk."""
    path = period_path(deal_dir, key)
    if text is None:
        data, src = read_then_validated(path, lambda data: _period_model(data, grouped), root)
    else:
        data, src = parse_yaml(text, str(path))
    foreign = _foreign_groups(data, deal, src) if grouped and deal is not None else []
    try:
        period = validate(_period_model(data, grouped), data, src)
    except InputErrors as exc:
        raise InputErrors(_sorted(foreign + exc.errors)) from None
    if foreign:
        raise InputErrors(foreign)
    if period.period != key:
        raise InputErrors([src.error(("period",), f"is {period.period!r} but the file is named {key}.yaml (expected {key!r})")])
    errors = check_period_fields(period, src)
    if errors:
        raise InputErrors(errors)
    return Loaded(period, src)


__all__ = ["Loaded", "load_deal", "load_period", "list_periods", "period_path", "validate", "dotted",
           "written_by_intake", "INTAKE_HEADER"]
