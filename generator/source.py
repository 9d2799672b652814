"""Reading input files so that every value remembers the file and line it came from.

This is where input enters the program, and every boundary is checked here, once, before
anything else reads it:

* only a regular file is read (a FIFO, a device or a socket is refused without opening it
  for reading, so nothing blocks), and at most :data:`MAX_FILE_BYTES` of it;
* a file reached through a link that leaves the directory it must stay in (``root``) is
  refused;
* YAML is read by one parser, libyaml (PyYAML's C parser), as a stream of events that is
  turned into plain Python values without recursion, at most :data:`MAX_DEPTH` levels deep
  and :data:`MAX_VALUES` values in all;
* scalars are typed strictly, from their text: a number is written in plain decimal
  digits (``586``, ``2.17``: ``int`` or ``Decimal``, never a float), a boolean is ``true``
  or ``false``, a date is ``YYYY-MM-DD``, ``null`` or ``~`` is nothing, and anything else
  is text.  ``0x24A``, ``01112``, ``5:56``, ``1_000`` and ``yes`` are text, which a number
  or boolean field then refuses by name;
* a duplicate key is an error, not a silent overwrite;
* every value's path (``("classes", 0, "cusip")``) maps to its line, found when first asked for:
  a file with nothing to report is read for its values alone (:func:`_plain_values`), and
  read again with its lines only for an error or an explanation.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import stat
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

try:
    from yaml._yaml import CParser as _Parser  # libyaml
except ImportError as exc:  # pragma: no cover - PyYAML's wheels carry libyaml
    raise ImportError("remit reads YAML with libyaml: install PyYAML with its C extension") from exc

Path_ = tuple[str | int, ...]


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


class ReadErrors(InputErrors):
    """The problems of a YAML document read to its end (a duplicate key, a refused value), with
    what was read: each refused value as nothing, a duplicate key's later value left out.  Its
    shape can then be checked in the same run, and told beside them."""

    def __init__(self, errors: list[InputError], data: Any, source: SourceMap):
        super().__init__(errors)
        self.data, self.source = data, source


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


class SourceMap:
    """Where each value of one YAML document stands.

    A file read without a problem is read once for its values alone; its lines are found the
    first time they are asked for (an error to report, a figure to explain), by reading its
    text again with every value's path: a statement that renders needs none of them."""

    __slots__ = ("file", "_lines", "_text")

    def __init__(self, file: str, text: str | None = None):
        """``text``: the file's, when its lines are to be found only once asked for; without
        it, the map starts empty and the reader fills it."""
        self.file = file
        self._lines: dict[Path_, int] | None = None if text is not None else {}
        self._text = text

    def __repr__(self) -> str:
        return f"SourceMap({self.file!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, SourceMap) and (self.file, self.lines) == (other.file, other.lines)

    __hash__ = None  # type: ignore[assignment]

    @property
    def lines(self) -> dict[Path_, int]:
        """The line of each value, by its path: ``("classes", 0, "cusip")``."""
        if self._lines is None:
            found = SourceMap(self.file)
            _Reader(self._text, found).read()
            self._lines, self._text = found._lines, None
        return self._lines  # type: ignore[return-value]

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


# ------------------------------------------------------------------ limits

#: Largest input file read: 2 MiB.  The bundled deal and period files are about 4 KB; a
#: period listing 10,000 liquidated loans is about 1 MB.
MAX_FILE_BYTES = 2 * 1024 * 1024
#: Longest text read as a number: far more digits than any amount needs, and short of
#: the lengths that Python refuses to convert (or print) as an int.
MAX_NUMBER_TEXT = 100
#: Deepest nesting of mappings and lists (the input formats need five levels).
MAX_DEPTH = 50
#: Most values one document may hold once its aliases (``*name``) are expanded.
MAX_VALUES = 200_000


# ------------------------------------------------------------------ reading a file


def _mib(n: int) -> str:
    return f"{n / (1024 * 1024):.0f} MiB" if n % (1024 * 1024) == 0 else f"{n:,} bytes"


def _kind(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
                       (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket"), (stat.S_ISDIR, "a directory")):
        if test(mode):
            return name
    return "not a regular file"


def inside(path: Path, root: Path) -> bool:
    """Whether ``path``, every link followed, stays under ``root`` (itself resolved)."""
    real = os.path.realpath(path)
    top = os.path.realpath(root)
    return real == top or real.startswith(top.rstrip(os.sep) + os.sep)


def read_input(path: Path, name: str | None = None, root: Path | None = None,
               limit: int = MAX_FILE_BYTES, what: str = "a deal or period file") -> bytes:
    """The bytes of one input file, checked at the boundary: a regular file (never opened for
    reading if it is not, so a FIFO cannot block), at most ``limit`` bytes, and, when ``root``
    is given, not reached through a link that leaves ``root``.  ``what``: the file expected, for
    the messages.  Raises :class:`InputErrors`."""
    name = name or str(path)

    def refuse(message: str) -> InputErrors:
        return InputErrors([InputError(name, 0, "", message)])

    if root is not None and not inside(path, root):
        raise refuse(f"is a link to {os.path.realpath(path)}, outside {root} (expected a file under {root})")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise refuse("file not found") from None
    except IsADirectoryError:
        raise refuse(f"is a directory (expected {what})") from None
    except OSError as exc:  # a file we may not read, a broken link, ...
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise refuse(f"is {_kind(info.st_mode)} (expected a regular file)")
        too_big = f"is larger than {_mib(limit)}, the most an input file may hold (expected {what})"
        if info.st_size > limit:
            raise refuse(too_big)
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
            if size > limit:  # it grew while being read
                raise refuse(too_big)
        return b"".join(chunks)
    except OSError as exc:
        raise refuse(f"cannot be read ({exc.strerror or exc})") from None
    finally:
        os.close(fd)


# ------------------------------------------------------------------ scalars

#: Plain scalars that are numbers: decimal digits with an optional sign, and for a Decimal a
#: point with digits after it and/or an exponent.  No leading zeros (``01112``), no
#: underscores, no hexadecimal, octal or base-60 forms, no ``.inf`` or ``.nan``: those are text.
_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]*)")
_DEC = re.compile(r"[-+]?(?:0|[1-9][0-9]*)(?:\.[0-9]+(?:[eE][-+]?[0-9]+)?|[eE][-+]?[0-9]+)")
_DATE = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_NULL = frozenset(("", "~", "null"))
_BOOL = {"true": True, "false": False}
#: Characters that end a line for YAML 1.1 (and libyaml) but not for editors: text after one
#: in a comment would be read as data, and every line number after it would be off.
_YAML_ONLY_BREAK = re.compile("[\x85\u2028\u2029]")
_STR_TAG = "tag:yaml.org,2002:str"
_COLLECTION_TAGS = frozenset((None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"))

#: Values of plain scalars already read without a problem, by their text (all immutable: text,
#: numbers, dates, booleans, None).  Files repeat most of theirs: names, kinds, rates, dates.
#: Bounded, so a long batch's memory stays flat.
_PLAIN_VALUES: dict[str, Any] = {}
_PLAIN_MAX = 4096
_UNSEEN = object()


class _BadScalar(Exception):
    pass


def plain_value(text: str) -> Any:
    """The value of an untagged plain scalar, typed strictly from its text (see the module's
    docstring).  Raises :class:`_BadScalar` with the message for text that is refused."""
    out = _PLAIN_VALUES.get(text, _UNSEEN)
    if out is not _UNSEEN:
        return out
    if text in _NULL:
        out = None
    elif text in _BOOL:
        out = _BOOL[text]
    elif len(text) > MAX_NUMBER_TEXT and (_INT.fullmatch(text) or _DEC.fullmatch(text)):
        raise _BadScalar(f"{shown(text)} is too long for a number (expected at most {MAX_NUMBER_TEXT} characters)")
    elif _INT.fullmatch(text):
        out = int(text)
    elif _DEC.fullmatch(text):
        out = Decimal(text)
    elif m := _DATE.fullmatch(text):
        try:
            out = dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError as exc:
            raise _BadScalar(f"{shown(text)} is not a valid date ({exc})") from None
    else:
        out = text
    if len(_PLAIN_VALUES) < _PLAIN_MAX:
        _PLAIN_VALUES[text] = out
    return out


def _scalar(event: yaml.ScalarEvent) -> Any:
    text = event.value
    tag = event.tag
    if tag is None or tag == "!":
        return plain_value(text) if event.implicit[0] and tag is None else text
    if tag == _STR_TAG:
        return text
    raise _BadScalar(f"the tag {shown(tag)} is not used in deal and period files (expected a plain value, "
                     "or !!str for text)")


# ------------------------------------------------------------------ values from events


class _Abort(Exception):
    """A problem after which the rest of the document is not read."""


#: A mapping's pending key: none yet (the next scalar is a key), or one that was refused
#: (its value is read and dropped).
_NO_KEY: Any = object()
_BAD_KEY: Any = object()


@dataclass(slots=True)
class _Frame:
    """A mapping or list being built."""

    value: dict[str, Any] | list[Any]
    path: Path_
    anchor: str | None
    start_count: int
    is_key: bool = False  # a mapping or list written as a key: refused, read only to go past it
    key: Any = _NO_KEY
    key_line: int = 0


#: Longest key libyaml reads (a longer one is a syntax error).
_MAX_KEY = 1024


class _Reader:
    """Turns libyaml's events for one document into plain values, with a line for each path.
    Iterative: a deeply nested document cannot exhaust the stack; it is refused past MAX_DEPTH."""

    def __init__(self, text: str, src: SourceMap):
        self.text = text
        self.src = src
        self.errors: list[InputError] = []
        self.anchors: dict[str, tuple[Any, int]] = {}  # anchor -> (value, how many values it holds)
        self.open_anchors: set[str] = set()  # anchors of collections not yet finished
        self.count = 0
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.has_root = False

    def error(self, path: Path_, message: str, line: int) -> None:
        self.errors.append(InputError(self.src.file, line, dotted(path), message))

    def read(self) -> Any:
        """The document's value; raises InputErrors."""
        parser = _Parser(self.text)
        whole = False
        try:
            self._run(parser)
            whole = True
        except _Abort:
            pass
        finally:
            parser.dispose()
        if self.errors:
            raise ReadErrors(self.errors, self.root, self.src) if whole and self.has_root else InputErrors(self.errors)
        if not self.has_root:
            raise InputErrors([InputError(self.src.file, 1, "", "the file is empty (expected a mapping)")])
        return self.root

    def _run(self, parser: Any) -> None:
        documents = 0
        while True:
            try:
                event = parser.get_event()
            except yaml.MarkedYAMLError as exc:
                self.errors.append(self._syntax_error(exc))
                raise _Abort from None
            kind = type(event)
            if kind is yaml.ScalarEvent:
                self._on_scalar(event)
            elif kind is yaml.MappingStartEvent:
                self._on_start(event, {})
            elif kind is yaml.SequenceStartEvent:
                self._on_start(event, [])
            elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
                self._on_end()
            elif kind is yaml.AliasEvent:
                self._on_alias(event)
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.error((), "a second YAML document (---) in the file (expected one document)",
                               event.start_mark.line + 1)
                    raise _Abort
            elif kind is yaml.StreamEndEvent:
                return

    def _syntax_error(self, exc: yaml.MarkedYAMLError) -> InputError:
        mark = exc.problem_mark or exc.context_mark
        # (at the end of a file without a final line break, libyaml names the line after the last)
        line = min(mark.line + 1, self.text.count("\n") + 1) if mark else 0
        problem = " ".join(str(p) for p in (exc.context, exc.problem) if p)
        opened = exc.context_mark.line + 1 if exc.context and exc.context_mark else line
        if opened != line:  # where the { or [ that is never closed stands, not only where that was noticed
            problem = f"{exc.context} that starts on line {opened}: {exc.problem}"
        lines = self.text.split("\n", line)[line - 1:line] if line else []
        if lines and len(lines[0].split(":", 1)[0]) > _MAX_KEY:
            problem += f" (a key may be at most {_MAX_KEY:,} characters; expected a field name)"
        return InputError(self.src.file, line, "", f"YAML syntax error: {problem}")

    def _next(self) -> tuple[_Frame | None, Path_ | None]:
        """The frame the next value goes into, and that value's path (None: it is a key)."""
        if not self.stack:
            return None, ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return top, top.path + (len(top.value),)
        if top.key is _NO_KEY:
            return top, None
        return top, top.path + (top.key if top.key is not _BAD_KEY else "?",)

    def _count(self, n: int, line: int) -> None:
        self.count += n
        if self.count > MAX_VALUES:
            self.errors.append(InputError(self.src.file, line, "", f"more than {MAX_VALUES:,} values once aliases "
                                                                 "(*name) are expanded (expected a deal or period file)"))
            raise _Abort

    def _on_scalar(self, event: yaml.ScalarEvent) -> None:
        line = event.start_mark.line + 1
        top, path = self._next()
        if path is None:  # a mapping's key: its text, as written
            self._on_key(top, event.value, line)
            return
        self._count(1, line)
        try:
            value = _scalar(event)
        except _BadScalar as exc:
            at_key = top is not None and isinstance(top.value, dict)
            self.error(path, str(exc), top.key_line if at_key else line)
            value = None
        if event.anchor is not None:
            self.anchors[event.anchor] = (value, 1)
        self._place(top, path, value, line)

    def _on_key(self, top: _Frame, key: str, line: int) -> None:
        top.key_line = line
        child = top.path + (key,)
        if key in top.value:
            self.error(child, f"duplicate key (first given on line {self.src.lines[child]})", line)
            top.key = _BAD_KEY
        else:
            top.key = key
            self.src.lines[child] = line

    def _refuse_key(self, top: _Frame, line: int) -> None:
        self.error(top.path, "a key must be a plain name", line)
        top.key, top.key_line = _BAD_KEY, line

    def _on_start(self, event: Any, value: dict | list) -> None:
        line = event.start_mark.line + 1
        top, path = self._next()
        is_key = path is None
        if is_key:  # a mapping or list written as a key
            self._refuse_key(top, line)
            path = top.path + ("?",)
        if len(path) > MAX_DEPTH:
            self.error(path, f"nested more than {MAX_DEPTH} levels deep (expected at most {MAX_DEPTH})", line)
            raise _Abort
        self._count(1, line)
        if event.tag not in _COLLECTION_TAGS:
            self.error(path, f"the tag {shown(event.tag)} is not used in deal and period files "
                             "(expected a plain mapping or list)", line)
        if not is_key and path not in self.src.lines:
            self.src.lines[path] = line
        if event.anchor is not None:
            self.open_anchors.add(event.anchor)
        self.stack.append(_Frame(value, path, event.anchor, self.count, is_key))

    def _on_end(self) -> None:
        frame = self.stack.pop()
        if frame.anchor is not None:
            self.open_anchors.discard(frame.anchor)
            self.anchors[frame.anchor] = (frame.value, self.count - frame.start_count + 1)
        if not frame.is_key:
            top, path = self._next()
            self._place(top, path, frame.value, None)

    def _on_alias(self, event: yaml.AliasEvent) -> None:
        line = event.start_mark.line + 1
        top, path = self._next()
        if path is None:
            self._refuse_key(top, line)
            return
        if event.anchor in self.open_anchors:
            self.error(path, "an alias (*name) to a value that contains it (expected a finite value)", line)
            self._place(top, path, None, line)
            return
        if event.anchor not in self.anchors:
            self.error(path, f"an alias (*{shown(event.anchor)[1:-1]}) to no anchor (&name) given before it "
                             "(expected a value)", line)
            self._place(top, path, None, line)
            return
        value, size = self.anchors[event.anchor]
        self._count(size, line)
        self._place(top, path, value, line)

    def _place(self, top: _Frame | None, path: Path_, value: Any, line: int | None) -> None:
        """Put a finished value where it belongs: the document's root, a list's next item, or
        the value of a mapping's pending key.  ``line``: where a scalar or alias stands (a
        collection's line was noted when it started)."""
        if line is not None and path not in self.src.lines:
            self.src.lines[path] = line
        if top is None:
            self.root, self.has_root = value, True
        elif isinstance(top.value, list):
            top.value.append(value)
        else:
            if top.key is not _BAD_KEY:
                top.value[top.key] = value
            top.key = _NO_KEY


class _NotPlain(Exception):
    """A document :func:`_plain_values` leaves to :class:`_Reader`."""


def _plain_values(text: str) -> Any:
    """The values of a document that has nothing to report: one mapping or list of plain and
    quoted scalars, no tag, anchor or alias, no duplicate key, no refused scalar, within the
    limits.  Raises :class:`_NotPlain` at anything else, which :class:`_Reader` then reads
    and reports; what this returns is what it would return.  Keeps no path or line: that is
    what makes it quick."""
    cache, unseen, no_key = _PLAIN_VALUES, _UNSEEN, _NO_KEY
    scalar_event, mapping_start, sequence_start = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
    mapping_end, sequence_end = yaml.MappingEndEvent, yaml.SequenceEndEvent
    marked = "!" in text or "&" in text  # a tag is written with "!", an anchor with "&": else no event has one
    outer: list[tuple[Any, Any, bool]] = []  # the enclosing mappings and lists: (each, its pending key, is a mapping)
    into: Any = None  # the mapping or list being built (None: none yet)
    key: Any = no_key  # its pending key (_NO_KEY: the next scalar is a key)
    is_map = False
    count, documents = 0, 0
    parser = None
    try:
        parser = _Parser(text)
        get = parser.get_event
        while True:
            event = get()
            kind = type(event)
            if kind is scalar_event:
                if marked and (event.tag is not None or event.anchor is not None):
                    raise _NotPlain
                value = event.value
                if is_map and key is no_key:
                    if value in into:
                        raise _NotPlain
                    key = value
                    continue
                if into is None:
                    raise _NotPlain
                if event.implicit[0]:
                    typed = cache.get(value, unseen)
                    value = plain_value(value) if typed is unseen else typed
                if is_map:
                    into[key] = value
                    key = no_key
                else:
                    into.append(value)
                count += 1
            elif kind is mapping_start or kind is sequence_start:
                if (marked and (event.tag is not None or event.anchor is not None)) or len(outer) >= MAX_DEPTH or (
                        is_map and key is no_key):
                    raise _NotPlain
                count += 1
                outer.append((into, key, is_map))
                is_map = kind is mapping_start
                into, key = {} if is_map else [], no_key
            elif kind is mapping_end or kind is sequence_end:
                value = into
                into, key, is_map = outer.pop()
                if into is None:
                    root = value
                elif is_map:
                    into[key] = value
                    key = no_key
                else:
                    into.append(value)
                continue
            elif kind is yaml.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    raise _NotPlain
                continue
            elif kind is yaml.StreamEndEvent:
                if documents != 1:  # an empty file
                    raise _NotPlain
                return root
            elif kind is yaml.AliasEvent:
                raise _NotPlain
            else:
                continue
            if count >= MAX_VALUES:
                raise _NotPlain
    except (yaml.YAMLError, _BadScalar):
        raise _NotPlain from None
    finally:
        if parser is not None:
            parser.dispose()


def load_yaml(path: Path, display: str | None = None, root: Path | None = None) -> tuple[Any, SourceMap]:
    """Read one YAML file into plain values and its source map.

    Raises :class:`InputErrors` for a file that cannot be read or is too large, syntax errors,
    duplicate keys and refused scalars, all at once.
    """
    name = display or str(path)
    raw = read_input(path, name, root)
    try:
        text = raw.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")  # as read_text() reads it
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise InputErrors([InputError(name, line, "", f"not UTF-8 text ({exc.reason} at byte {exc.start}: "
                                                      f"{raw[exc.start:exc.end]!r})")]) from None
    return parse_yaml(text, name)


def parse_yaml(text: str, name: str) -> tuple[Any, SourceMap]:
    """YAML text (a file's, or one about to be written) into plain values and its source map."""
    odd_break = None if text.isascii() else _YAML_ONLY_BREAK.search(text)
    if odd_break:
        line = text.count("\n", 0, odd_break.start()) + 1
        raise InputErrors([InputError(name, line, "", f"YAML syntax error: character U+{ord(odd_break.group()):04X} "
                                                      "is a line break to YAML but not to most editors (expected "
                                                      "a plain line break)")])
    try:
        return _plain_values(text), SourceMap(name, text=text)
    except _NotPlain:
        pass
    src = SourceMap(name)
    try:
        data = _Reader(text, src).read()
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow in its text
        line = text.count("\n", 0, exc.position) + 1
        char = exc.character if isinstance(exc.character, int) else ord(exc.character)
        message = (f"YAML syntax error: character U+{char:04X} is not allowed in YAML text "
                   "(expected printable characters)")
        raise InputErrors([InputError(name, line, "", message)]) from None
    return data, src
