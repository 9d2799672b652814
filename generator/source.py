"""Reading YAML so that every value remembers the file and line it came from.

Files in the plain style of the bundled inputs are read by the quick reader
(:mod:`generator.plainyaml`).  Any other file is read by the full reader: ``yaml.compose``
(libyaml) gives a node tree with marks, and we build plain Python values from it
ourselves so that:

* a YAML number becomes ``int`` or ``Decimal`` from its *text* (``2.17`` is
  ``Decimal("2.17")``, never a float);
* a duplicate key is an error, not a silent overwrite;
* every value's path (``("classes", 0, "cusip")``) maps to its line.

Both give the same values; lines always come from the full reader (for a quickly read
file, the first time one is asked for).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from . import plainyaml

Path_ = tuple[str | int, ...]

_SAFE = yaml.SafeLoader("")  # used only for its scalar constructors (dates, booleans)
#: libyaml's parser when PyYAML was built with it (about 14x faster); the nodes and marks are the same.
_BASE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
#: Tags already resolved for a plain scalar's text.  Resolving runs a few regular expressions
#: per scalar, in Python even under libyaml; every deal and period file repeats the same keys.
#: Bounded, so a long batch's memory stays flat.
_RESOLVED: dict[tuple[str, bool], str] = {}
_RESOLVED_MAX = 4096
_RESOLVER = yaml.resolver.Resolver()


def _implicit_tag(text: str, quoted: bool = False) -> str:
    """The tag YAML gives an untagged scalar with this text (``quoted``: the loader's second
    implicit flag), from the cache when it was resolved before."""
    key = (text, quoted)
    tag = _RESOLVED.get(key)
    if tag is None:
        tag = _RESOLVER.resolve(yaml.ScalarNode, text, (True, quoted))
        if len(_RESOLVED) < _RESOLVED_MAX:
            _RESOLVED[key] = tag
    return tag


class _Loader(_BASE_LOADER):  # type: ignore[misc, valid-type]
    def resolve(self, kind: Any, value: Any, implicit: Any) -> str:
        if kind is yaml.ScalarNode and implicit[0]:
            return _implicit_tag(value, implicit[1])
        return super().resolve(kind, value, implicit)


_LOADER = _Loader
#: Values of plain scalars already read without a problem, by their text (all immutable: text,
#: numbers, dates, booleans, None).  Files repeat most of theirs: names, kinds, rates, dates.
_PLAIN_VALUES: dict[str, Any] = {}
_UNSEEN = object()


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


#: Longest input echoed in a message; a longer one is cut short (with its length).
SHOWN = 60


def shown(value: Any, limit: int = SHOWN) -> str:
    """``repr(value)`` for a message, cut short when long: a 100,000-character input is not
    echoed whole."""
    text = repr(value)
    if len(text) <= limit:
        return text
    size = f" ({len(value):,} characters)" if isinstance(value, str) else ""
    return f"{text[:limit]}...{size}"


_PLAIN_KEY = re.compile(r"[^\s.\[\]:'\"]{1,60}")


def dotted(path: Path_) -> str:
    """``classes[0].cusip``; a key that is not a plain name (a space, a line break, a dot,
    a control character, too long) is quoted, so that it cannot break the message's line."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            name = str(part)
            if not (_PLAIN_KEY.fullmatch(name) and name.isprintable()):
                name = shown(name)
            out += ("." if out else "") + name
    return out


@dataclass(frozen=True, slots=True)
class SourceMap:
    """Where each value of one YAML document stands.

    A document that the quick reader (:mod:`generator.plainyaml`) read keeps its ``text``
    instead: the full reader finds its lines from it the first time one is asked for, since
    only an error message or an explanation needs them."""

    file: str
    text: str | None = field(default=None, repr=False, compare=False)
    found: dict[Path_, int] = field(default_factory=dict, repr=False)

    @property
    def lines(self) -> dict[Path_, int]:
        """The line of each value, by its path: ``("classes", 0, "cusip")``."""
        if self.text is not None:
            node = _compose(self.text)
            if node is not None:
                _build(node, (), _Build(SourceMap(self.file, None, self.found), []))
            object.__setattr__(self, "text", None)
        return self.found

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
_SURROGATE = re.compile("[\ud800-\udfff]")
#: Characters that end a line for YAML 1.1 (and PyYAML) but not for editors: text after one
#: in a comment would be read as data, and every line number after it would be off.
_YAML_ONLY_BREAK = re.compile("[\x85\u2028\u2029]")

#: Longest text read as a number: far more digits than any amount needs, and short of
#: the lengths that Python refuses to convert (or print) as an int.
MAX_NUMBER_TEXT = 100
#: Deepest nesting of mappings and lists (the input formats need five levels).
MAX_DEPTH = 50
#: Most values one document may hold once its aliases (``*name``) are expanded.
MAX_VALUES = 200_000


class _TooMany(Exception):
    pass


@dataclass(slots=True)
class _Build:
    """What building one document's values keeps track of."""

    src: SourceMap
    errors: list[InputError]
    active: set[int] = field(default_factory=set)  # nodes being built (an alias to one is a cycle)
    count: int = 0


def _scalar(node: yaml.ScalarNode, path: Path_, errors: list[InputError], src: SourceMap) -> Any:
    return _scalar_value(node.tag, node.value, path, errors, src, node)


def _scalar_value(tag: str, text: str, path: Path_, errors: list[InputError], src: SourceMap,
                  node: yaml.ScalarNode | None = None) -> Any:
    """The value of a scalar with ``tag``; ``node`` is made from the tag and text if not given
    (PyYAML's constructors for the rarer forms take a node)."""
    if _SURROGATE.search(text):
        errors.append(src.error(path, "text with an unpaired surrogate escape such as \\ud800 (expected "
                                      "valid Unicode)"))
        return None
    if tag in ("tag:yaml.org,2002:int", "tag:yaml.org,2002:float") and len(text) > MAX_NUMBER_TEXT:
        errors.append(src.error(path, f"{shown(text)} is too long for a number "
                                      f"(expected at most {MAX_NUMBER_TEXT} characters)"))
        return text
    if tag == "tag:yaml.org,2002:int":
        if _INT.match(text):
            return int(text.replace("_", ""))
        try:
            return _SAFE.construct_yaml_int(node or yaml.ScalarNode(tag, text))  # 0x.., 0o.., sexagesimal
        except ValueError:  # an explicit !!int on text that is not one
            errors.append(src.error(path, f"{shown(text)} is not a whole number"))
            return text
    if tag == "tag:yaml.org,2002:float":
        if _DEC.match(text):
            try:
                return Decimal(text.replace("_", ""))
            except InvalidOperation:  # pragma: no cover - the pattern admits only valid text
                pass
        errors.append(src.error(path, f"{shown(text)} is not a finite decimal number"))
        return text
    if tag == "tag:yaml.org,2002:bool":
        try:
            return _SAFE.construct_yaml_bool(node or yaml.ScalarNode(tag, text))
        except KeyError:  # an explicit !!bool on text that is not one
            errors.append(src.error(path, f"{shown(text)} is not true or false"))
            return text
    if tag == "tag:yaml.org,2002:null":
        return None
    if tag == "tag:yaml.org,2002:timestamp":
        try:
            return _SAFE.construct_yaml_timestamp(node or yaml.ScalarNode(tag, text))
        except ValueError as exc:
            errors.append(src.error(path, f"{shown(text)} is not a valid date ({exc})"))
            return text
        except (AttributeError, TypeError):  # an explicit !!timestamp on text that is not one
            errors.append(src.error(path, f"{shown(text)} is not a valid date (expected YYYY-MM-DD)"))
            return text
    return text


def _build(node: yaml.Node, path: Path_, b: _Build) -> Any:
    src = b.src
    src.lines[path] = node.start_mark.line + 1
    b.count += 1
    if b.count > MAX_VALUES:
        raise _TooMany
    if len(path) > MAX_DEPTH:
        b.errors.append(src.error(path, f"nested more than {MAX_DEPTH} levels deep (expected a value)"))
        return None
    if id(node) in b.active:
        b.errors.append(src.error(path, "an alias (*name) to a value that contains it (expected a finite value)"))
        return None
    if isinstance(node, yaml.MappingNode):
        b.active.add(id(node))
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                b.errors.append(InputError(src.file, key_node.start_mark.line + 1, dotted(path),
                                           "a key must be a plain name"))
                continue
            key = key_node.value
            child = path + (key,)
            if _SURROGATE.search(key):
                b.errors.append(InputError(src.file, key_node.start_mark.line + 1, dotted(path),
                                           "a key with an unpaired surrogate escape such as \\ud800 "
                                           "(expected valid Unicode)"))
                continue
            if key in out:
                b.errors.append(
                    InputError(src.file, key_node.start_mark.line + 1, dotted(child),
                               f"duplicate key (first given on line {src.lines[child]})")
                )
                continue
            out[key] = _build(value_node, child, b)
            src.lines[child] = key_node.start_mark.line + 1
        b.active.discard(id(node))
        return out
    if isinstance(node, yaml.SequenceNode):
        b.active.add(id(node))
        items = [_build(item, path + (i,), b) for i, item in enumerate(node.value)]
        b.active.discard(id(node))
        return items
    assert isinstance(node, yaml.ScalarNode)
    return _scalar(node, path, b.errors, src)


def _compose(text: str) -> yaml.Node | None:
    try:
        return yaml.compose(text, Loader=_LOADER)
    except yaml.MarkedYAMLError as first:  # the pure-Python parser says what it expected more plainly
        try:
            return yaml.compose(text, Loader=yaml.SafeLoader)
        except RecursionError:  # it recurses where libyaml does not: keep libyaml's word
            raise first from None


_NOWHERE = SourceMap("")  # (a scalar's errors only decide that the full reader reads the file)


def _quick_scalar(value: str, quoted: bool) -> Any:
    """A scalar's value for the quick reader, as the full reader gives it; any problem leaves
    the file to the full reader, which words the error."""
    if quoted:  # text (the quick reader admits no escapes)
        return value
    out = _PLAIN_VALUES.get(value, _UNSEEN)
    if out is _UNSEEN:
        errors: list[InputError] = []
        out = _scalar_value(_implicit_tag(value), value, (), errors, _NOWHERE)
        if errors:
            raise plainyaml.Outside
        if len(_PLAIN_VALUES) < _RESOLVED_MAX:
            _PLAIN_VALUES[value] = out
    return out


def _quick(text: str) -> Any:
    """The file's values by :mod:`generator.plainyaml`, or ``OUTSIDE`` when the full reader
    must read it."""
    return plainyaml.read(text, _quick_scalar, MAX_DEPTH, MAX_VALUES)


def load_yaml(path: Path, display: str | None = None) -> tuple[Any, SourceMap]:
    """Read one YAML file into plain values and its source map.

    Raises :class:`InputErrors` for syntax errors, duplicate keys and unreadable
    scalars, all at once.
    """
    name = display or str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise InputErrors([InputError(name, 0, "", "file not found")]) from None
    except OSError as exc:  # a directory, a file we may not read
        raise InputErrors([InputError(name, 0, "", f"cannot be read ({exc.strerror or exc})")]) from None
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text() reads it
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputErrors([InputError(name, line, "", f"not UTF-8 text ({exc.reason} at byte {exc.start}: "
                                                      f"{raw[exc.start:exc.end]!r})")]) from None
    odd_break = None if text.isascii() else _YAML_ONLY_BREAK.search(text)
    if odd_break:
        line = text.count("\n", 0, odd_break.start()) + 1
        raise InputErrors([InputError(name, line, "", f"YAML syntax error: character U+{ord(odd_break.group()):04X} "
                                                      "is a line break to YAML but not to most editors (expected "
                                                      "a plain line break)")])
    data = _quick(text)
    if data is not plainyaml.OUTSIDE:
        return data, SourceMap(name, text)
    src = SourceMap(name)
    try:
        node = _compose(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 0
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        raise InputErrors([InputError(name, line, "", f"YAML syntax error: {problem}")]) from None
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow in its text
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = (f"YAML syntax error: character U+{char:04X} is not allowed in YAML text "
                   "(expected printable characters)")
        raise InputErrors([InputError(name, line, "", message)]) from None
    except RecursionError:  # pragma: no cover - libyaml composes without recursing
        raise InputErrors([InputError(name, 0, "", "YAML syntax error: nested too deeply")]) from None
    if node is None:
        raise InputErrors([InputError(name, 1, "", "the file is empty (expected a mapping)")])
    errors: list[InputError] = []
    try:
        data = _build(node, (), _Build(src, errors))
    except _TooMany:
        raise InputErrors([InputError(name, 1, "", f"more than {MAX_VALUES:,} values once aliases (*name) are "
                                                   "expanded (expected a deal or period file)")]) from None
    if errors:
        raise InputErrors(errors)
    return data, src
