"""Load and validate a deal directory: YAML -> typed model, with ``file:line`` errors."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from .model import Deal, Period
from .source import InputError, InputErrors, SourceMap, dotted, load_yaml

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
    return None


def validate(model: type[M], data: Any, src: SourceMap) -> M:
    """Validate ``data`` into ``model``; raise :class:`InputErrors` naming every problem."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = []
        for err in exc.errors(include_url=False):
            loc = _data_path(data, err["loc"])
            kind = err["type"]
            if kind == "extra_forbidden":
                allowed = _expected_fields(model, loc[:-1])
                hint = f" (expected one of: {', '.join(allowed)})" if allowed else ""
                message = f"unknown field{hint}"
            elif kind == "value_error":
                message = str(err.get("ctx", {}).get("error", err["msg"]))
            elif kind in _PYDANTIC_MESSAGES:
                message = _PYDANTIC_MESSAGES[kind]
            elif kind == "literal_error":
                message = f"got {err['input']!r} (expected {err['ctx']['expected']})"
            elif kind == "string_pattern_mismatch":
                message = f"got {err['input']!r} (expected text matching {err['ctx']['pattern']})"
            elif kind == "union_tag_invalid":
                message = f"unknown step {err['ctx']['tag']!r} (expected {err['ctx']['expected_tags']})"
            else:
                message = f"{err['msg'][0].lower()}{err['msg'][1:]}"
                if "input" in err and not isinstance(err["input"], (dict, list)):
                    message += f" (got {err['input']!r})"
            errors.append(src.error(loc, message))
        raise InputErrors(_sorted(errors)) from None


def _data_path(data: Any, loc: tuple[Any, ...]) -> tuple[Any, ...]:
    """Pydantic's error location as a path into the YAML data: drop the tags it inserts
    for a discriminated union (``waterfall.interest[0].fees.classes``)."""
    out: list[Any] = []
    node = data
    for part in loc:
        if isinstance(node, dict) and part not in node and node.get("step") == part:
            continue
        out.append(part)
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            node = None
    return tuple(out)


def _sorted(errors: list[InputError]) -> list[InputError]:
    return sorted(errors, key=lambda e: (e.file, e.line, e.field))


@dataclass(frozen=True, slots=True)
class Loaded:
    """A validated document and where its values came from."""

    value: Any
    source: SourceMap


def load_deal(deal_dir: Path) -> Loaded:
    path = Path(deal_dir) / "deal.yaml"
    data, src = load_yaml(path)
    deal = validate(Deal, data, src)
    errors = check_deal(deal, src)
    if errors:
        raise InputErrors(errors)
    return Loaded(deal, src)


def check_deal(deal: Deal, src: SourceMap) -> list[InputError]:
    """Rules that tie fields of the deal file together."""
    errors: list[InputError] = []
    names = [c.name for c in deal.classes]
    for i, name in enumerate(names):
        if name in names[:i]:
            errors.append(src.error(("classes", i, "name"), f"class {name!r} is listed twice"))
    known = set(names)

    def check_classes(path: tuple, classes) -> None:
        for j, name in enumerate(classes):
            if name not in known:
                errors.append(src.error(path + (j,), f"class {name!r} is not one of the deal's classes ({', '.join(names)})"))

    wf = deal.waterfall
    for section in ("interest", "principal", "excess"):
        for i, step in enumerate(getattr(wf, section)):
            if hasattr(step, "classes"):
                check_classes(("waterfall", section, i, "classes"), step.classes)
            if hasattr(step, "class_"):
                check_classes(("waterfall", section, i, "class"), [step.class_])
    check_classes(("waterfall", "loss_allocation"), wf.loss_allocation)
    if wf.prepayment_charges_to:
        check_classes(("waterfall", "prepayment_charges_to"), [wf.prepayment_charges_to])
    oc = deal.overcollateralization
    if (oc.amount_before_stepdown is None) == (oc.pct_of_cutoff_before_stepdown is None):
        errors.append(src.error(("overcollateralization",),
                                "give exactly one of amount_before_stepdown and pct_of_cutoff_before_stepdown"))
    for i, c in enumerate(deal.classes):
        floating = c.kind in ("senior", "mezzanine")
        if floating and c.margin is None:
            errors.append(src.error(("classes", i), f"class {c.name} ({c.kind}) needs a margin over the index"))
    if deal.schedule.first_distribution_date <= deal.schedule.closing_date:
        errors.append(src.error(("schedule", "first_distribution_date"), "must be after the closing date"))
    return errors


_PERIOD = re.compile(r"^[0-9]{4}-[0-9]{2}$")


def period_path(deal_dir: Path, key: str) -> Path:
    return Path(deal_dir) / "periods" / f"{key}.yaml"


def list_periods(deal_dir: Path) -> list[str]:
    folder = Path(deal_dir) / "periods"
    return sorted(p.stem for p in folder.glob("*.yaml") if _PERIOD.match(p.stem))


def load_period(deal_dir: Path, key: str) -> Loaded:
    path = period_path(deal_dir, key)
    data, src = load_yaml(path)
    period = validate(Period, data, src)
    if period.period != key:
        raise InputErrors([src.error(("period",), f"is {period.period!r} but the file is named {key}.yaml (expected {key!r})")])
    return Loaded(period, src)


__all__ = ["Loaded", "load_deal", "load_period", "list_periods", "period_path", "validate", "dotted"]
