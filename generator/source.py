"""Reading YAML so that every value remembers the file and line it came from.

``yaml.compose`` gives a node tree with marks; we build plain Python values from
it ourselves so that:

* a YAML number becomes ``int`` or ``Decimal`` from its *text* (``2.17`` is
  ``Decimal("2.17")``, never a float);
* a duplicate key is an error, not a silent overwrite;
* every value's path (``("classes", 0, "cusip")``) maps to its line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

_SAFE = yaml.SafeLoader("")  # used only for its scalar constructors (dates, booleans)
#: libyaml's parser when PyYAML was built with it (about 14x faster); the nodes and marks are the same.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@dataclass(frozen=True, slots=True)
class InputError(Exception):
    """One problem with an input file, reported as ``file:line: field: message``."""

    file: str
    line: int
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "line": self.line, "field": self.field, "message": self.message}


class InputErrors(Exception):
    """All the problems found in a set of inputs, reported together."""

    def __init__(self, errors: list[InputError]):
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = list(errors)


def dotted(path: Path_) -> str:
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each value of one YAML document stands."""

    file: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line(self, path: Path_) -> int:
        """Line of ``path``, or of its nearest ancestor that the file has."""
        path = tuple(path)
        while path:
            if path in self.lines:
                return self.lines[path]
            path = path[:-1]
        return self.lines.get((), 1)

    def where(self, path: Path_) -> str:
        return f"{self.file}:{self.line(path)}"

    def error(self, path: Path_, message: str) -> InputError:
        return InputError(self.file, self.line(path), dotted(path), message)


_INT = re.compile(r"^[-+]?[0-9][0-9_]*$")
_DEC = re.compile(r"^[-+]?([0-9][0-9_]*)?\.[0-9_]*([eE][-+]?[0-9]+)?$|^[-+]?[0-9][0-9_]*[eE][-+]?[0-9]+$")


def _scalar(node: yaml.ScalarNode, path: Path_, errors: list[InputError], src: SourceMap) -> Any:
    tag = node.tag
    text = node.value
    if tag == "tag:yaml.org,2002:int":
        if _INT.match(text):
            return int(text.replace("_", ""))
        return _SAFE.construct_yaml_int(node)  # 0x.., 0o.., sexagesimal
    if tag == "tag:yaml.org,2002:float":
        if _DEC.match(text):
            try:
                return Decimal(text.replace("_", ""))
            except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
                pass
        errors.append(src.error(path, f"{text!r} is not a finite decimal number"))
        return text
    if tag == "tag:yaml.org,2002:bool":
        return _SAFE.construct_yaml_bool(node)
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:timestamp":
        try:
            return _SAFE.construct_yaml_timestamp(node)
        except ValueError as exc:
            errors.append(src.error(path, f"{text!r} is not a valid date ({exc})"))
            return text
    return text


def _build(node: yaml.Node, path: Path_, src: SourceMap, errors: list[InputError]) -> Any:
    src.lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                errors.append(InputError(src.file, key_node.start_mark.line + 1, dotted(path), "a key must be a plain name"))
                continue
            key = key_node.value
            child = path + (key,)
            if key in out:
                errors.append(
                    InputError(src.file, key_node.start_mark.line + 1, dotted(child),
                               f"duplicate key (first given on line {src.lines[child]})")
                )
                continue
            out[key] = _build(value_node, child, src, errors)
            src.lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, path + (i,), src, errors) for i, item in enumerate(node.value)]
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node, path, errors, src)


def load_yaml(path: Path, display: str | None = None) -> tuple[Any, SourceMap]:
    """Read one YAML file into plain values and its source map.

    Raises :class:`InputErrors` for syntax errors, duplicate keys and unreadable
    scalars, all at once.
    """
    name = display or str(path)
    src = SourceMap(name)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputErrors([InputError(name, 0, "", "file not found")]) from None
    except UnicodeDecodeError as exc:
        raise InputErrors([InputError(name, 0, "", f"not UTF-8 text ({exc.reason})")]) from None
    try:
        try:
            node = yaml.compose(text, Loader=_LOADER)
        except yaml.MarkedYAMLError:  # the pure-Python parser says what it expected more plainly
            node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise InputErrors([InputError(name, line, "", f"YAML syntax error: {problem}")]) from None
    if node is None:
        raise InputErrors([InputError(name, 1, "", "the file is empty (expected a mapping)")])
    errors: list[InputError] = []
    data = _build(node, (), src, errors)
    if errors:
        raise InputErrors(errors)
    return data, src
