"""A quick reader for the plain YAML that deal and period files are written in.

Reading a file with PyYAML builds a node, with two marks, for every value, and then our
values from the nodes: most of the cost of a statement before its figures are computed.
Deal and period files use a small part of YAML: block mappings and sequences by
indentation, one-line flow collections (``{name: A, kind: senior}``, ``[A, M-1]``), plain
and simply quoted scalars, and comments.  This module reads that part directly, line by
line, into the same values and the same source lines.

It is a shortcut, never a second opinion.  :func:`read` returns :data:`OUTSIDE` for
anything beyond that part (anchors, tags, block scalars, escapes, multi-line text or flow
collections, tabs, a key that is not a plain name, an empty item, a duplicate key, a value
the scalar reader refuses, ...), and the caller then reads the file with the full reader
in :mod:`generator.source`, which decides every error message.  When it returns values,
they equal the full reader's, value for value and line for line (``tests/test_plainyaml.py``
checks that on the bundled inputs and on mutated and generated files).
"""

from __future__ import annotations

import re
from typing import Any, Callable

Path_ = tuple[str | int, ...]

#: What :func:`read` returns for a file it leaves to the full reader.
OUTSIDE: Any = object()


class Outside(Exception):
    """The file uses YAML beyond the plain part, or has a problem: leave it to the full reader."""


#: Text that the full reader reads differently from how this one would, or refuses:
#: anything but printable characters and line feeds (a tab, a byte-order mark, a control
#: character, a line or paragraph separator), directive and document markers at the start
#: of a line.
_NOT_PLAIN = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]"
                        r"|^(?:---|\.\.\.|%)", re.MULTILINE)
#: ``key:`` (then a value or nothing) with a plain name for a key.
_KEY = re.compile(r"([A-Za-z0-9_][A-Za-z0-9_./-]*):(?: +(.*))?\Z")
_FLOW_KEY = re.compile(r" *([A-Za-z0-9_][A-Za-z0-9_./-]*): +")
#: A plain scalar inside a flow collection: it ends at ``,``, ``]`` or ``}``; one that holds
#: a colon or a ``#`` (a key, a comment) is left to the full reader.
_PLAIN_START = r"(?:-(?=[^\s,\[\]{}])|[^\s,\[\]{}#&*!|>'\"%@`?:-])"
_FLOW_PLAIN = re.compile(_PLAIN_START + r"[^,\[\]{}:#]*")
#: The common entries, read in one match: ``key: plain`` in a mapping, ``plain`` in a sequence,
#: up to the comma or bracket after it (the same text the entry-by-entry reading takes).
_FLOW_PAIR = re.compile(r" *([A-Za-z0-9_][A-Za-z0-9_./-]*): +(" + _PLAIN_START + r"[^,\[\]{}:#]*?) *([,}])")
_FLOW_ITEM = re.compile(r" *(" + _PLAIN_START + r"[^,\[\]{}:#]*?) *([,\]])")
#: Characters a block plain scalar may not start with (nor ``?`` or ``:``, nor ``-`` before a space).
_INDICATORS = frozenset(",[]{}#&*!|>'\"%@`")


class _Line:
    __slots__ = ("no", "indent", "dash", "text")

    def __init__(self, no: int, indent: int, dash: bool, text: str):
        self.no = no  # 1-based line number in the file
        self.indent = indent  # column of the text (or of the dash)
        self.dash = dash  # a sequence entry's "-"; its content, if any, follows as its own _Line
        self.text = text


def _lines(text: str) -> list[_Line]:
    """The file's content as lines; a sequence entry ``- x`` becomes the dash and, at the
    column of ``x``, a line ``x`` with the same number."""
    out: list[_Line] = []
    append = out.append
    for no, raw in enumerate(text.split("\n"), 1):
        line = raw.rstrip(" ")
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            continue
        indent = len(line) - len(body)
        while body[0] == "-" and (len(body) == 1 or body[1] == " "):
            append(_Line(no, indent, True, "-"))
            rest = body[1:].lstrip(" ")
            if not rest or rest[0] == "#":
                body = ""
                break
            indent += len(body) - len(rest)
            body = rest
        if body:
            append(_Line(no, indent, False, body))
    return out


def read(text: str, lines: dict[Path_, int], scalar: Callable[[str, bool, Path_], Any],
         max_depth: int, max_values: int) -> Any:
    """The document's values, with each value's line put in ``lines`` (as the full reader
    does), or :data:`OUTSIDE`.

    ``scalar(text, quoted, path)`` gives a scalar's value, or raises :class:`Outside` to
    leave the file to the full reader."""
    if _NOT_PLAIN.search(text):
        return OUTSIDE
    reader = _Reader(_lines(text), lines, scalar, max_depth, max_values)
    if not reader.lines:
        return OUTSIDE
    try:
        value, end = reader.block(0, ())
        if end != len(reader.lines) or reader.left < 0:  # (the quick paths count without checking)
            return OUTSIDE
        return value
    except (Outside, IndexError):
        return OUTSIDE


class _Reader:
    def __init__(self, lines: list[_Line], where: dict[Path_, int], scalar: Callable[[str, bool, Path_], Any],
                 max_depth: int, max_values: int):
        self.lines = lines
        self.where = where
        self.scalar = scalar
        self.max_depth = max_depth
        self.left = max_values

    def _count(self, path: Path_) -> None:
        self.left -= 1
        if self.left < 0 or len(path) > self.max_depth:
            raise Outside

    def block(self, i: int, path: Path_) -> tuple[Any, int]:
        """The block mapping or sequence that starts at line ``i``."""
        line = self.lines[i]
        if line.dash:
            return self.sequence(i, line.indent, path)
        return self.mapping(i, line.indent, path)

    def mapping(self, i: int, n: int, path: Path_) -> tuple[dict[str, Any], int]:
        self._count(path)
        lines = self.lines
        self.where[path] = lines[i].no
        out: dict[str, Any] = {}
        end = len(lines)
        while i < end:
            line = lines[i]
            if line.indent < n:
                break
            if line.indent > n or line.dash:
                raise Outside
            m = _KEY.match(line.text)
            if m is None:
                raise Outside
            key, rest = m.group(1), m.group(2)
            if key in out:
                raise Outside
            child = path + (key,)
            i += 1
            if rest and rest[0] != "#":
                out[key] = self.inline(rest, child, line.no)
                if i < end and lines[i].indent > n:
                    raise Outside  # text continued on the next line
            elif i < end and lines[i].indent > n:
                out[key], i = self.block(i, child)
            elif i < end and lines[i].indent == n and lines[i].dash:
                out[key], i = self.sequence(i, n, child)  # a sequence in line with its key
            else:
                self._count(child)
                out[key] = self.scalar("", False, child)
            self.where[child] = line.no
        return out, i

    def sequence(self, i: int, n: int, path: Path_) -> tuple[list[Any], int]:
        self._count(path)
        lines = self.lines
        self.where[path] = lines[i].no
        out: list[Any] = []
        end = len(lines)
        while i < end:
            line = lines[i]
            if line.indent < n or (line.indent == n and not line.dash):
                break
            if line.indent > n:
                raise Outside
            child = path + (len(out),)
            i += 1
            if i >= end or lines[i].indent <= n:
                raise Outside  # an empty entry
            item = lines[i]
            if item.no == line.no and not item.dash and _KEY.match(item.text) is None:
                out.append(self.inline(item.text, child, item.no))
                i += 1
                if i < end and lines[i].indent > n:
                    raise Outside
            else:
                value, i = self.block(i, child)
                out.append(value)
        return out, i

    # ---------------------------------------------------------------- one line

    def inline(self, text: str, path: Path_, no: int) -> Any:
        """The value written on one line after ``key:`` or ``-``; the rest of the line may
        only be a comment."""
        self.where[path] = no
        first = text[0]
        if first in "{[":
            value, pos = self.flow(text, 0, path, no)
            self._end(text, pos)
            return value
        if first in "\"'":
            value, pos = self._quoted(text, 0)
            self._end(text, pos)
            self._count(path)
            return self.scalar(value, True, path)
        cut = text.find(" #")
        if cut >= 0:
            text = text[:cut].rstrip(" ")
        if first in _INDICATORS or first in "?:" or (first == "-" and (len(text) == 1 or text[1] == " ")):
            raise Outside
        if ": " in text or text.endswith(":"):
            raise Outside
        self._count(path)
        return self.scalar(text, False, path)

    @staticmethod
    def _end(text: str, pos: int) -> None:
        rest = text[pos:]
        if rest and not (rest[0] == " " and rest.lstrip(" ")[0] == "#"):
            raise Outside

    @staticmethod
    def _quoted(text: str, pos: int) -> tuple[str, int]:
        """A quoted scalar at ``pos`` on one line, without escapes: its text and where it ends."""
        quote = text[pos]
        if quote == '"':
            close = text.find('"', pos + 1)
            if close < 0 or "\\" in text[pos + 1:close]:
                raise Outside
            return text[pos + 1:close], close + 1
        parts = []
        start = pos + 1
        while True:
            close = text.find("'", start)
            if close < 0:
                raise Outside
            parts.append(text[start:close])
            if text.startswith("'", close + 1):  # '' is one quote
                parts.append("'")
                start = close + 2
                continue
            return "".join(parts), close + 1

    def flow(self, text: str, pos: int, path: Path_, no: int) -> tuple[Any, int]:
        """A flow mapping or sequence at ``pos``, all on this line."""
        self._count(path)
        self.where[path] = no
        scalar, where, deep = self.scalar, self.where, len(path) >= self.max_depth
        if text[pos] == "{":
            out: dict[str, Any] = {}
            pos += 1
            while True:
                m = None if deep else _FLOW_PAIR.match(text, pos)
                if m is not None:  # key: plain
                    key, value, close = m.groups()
                    if key in out:
                        raise Outside
                    child = path + (key,)
                    self.left -= 1
                    where[child] = no
                    out[key] = scalar(value, False, child)
                    if close == "}":
                        return out, m.end()
                    pos = self._after_comma(text, m.end())
                    continue
                pos = _skip(text, pos)
                if text[pos] == "}":
                    return out, pos + 1
                m = _FLOW_KEY.match(text, pos)
                if m is None:
                    raise Outside
                key = m.group(1)
                if key in out:
                    raise Outside
                child = path + (key,)
                out[key], pos = self.flow_value(text, m.end(), child, no)
                self.where[child] = no
                pos = self._next(text, pos, "}")
                if text[pos] == "}":
                    return out, pos + 1
        items: list[Any] = []
        pos += 1
        while True:
            m = None if deep else _FLOW_ITEM.match(text, pos)
            if m is not None:  # plain
                value, close = m.groups()
                child = path + (len(items),)
                self.left -= 1
                where[child] = no
                items.append(scalar(value, False, child))
                if close == "]":
                    return items, m.end()
                pos = self._after_comma(text, m.end())
                continue
            pos = _skip(text, pos)
            if text[pos] == "]":
                return items, pos + 1
            value, pos = self.flow_value(text, pos, path + (len(items),), no)
            items.append(value)
            pos = self._next(text, pos, "]")
            if text[pos] == "]":
                return items, pos + 1

    @staticmethod
    def _next(text: str, pos: int, close: str) -> int:
        """After an entry: at the closing bracket, or past a comma to the next entry (a comma
        before the bracket is left to the full reader)."""
        pos = _skip(text, pos)
        if text[pos] == close:
            return pos
        if text[pos] != ",":
            raise Outside
        return _Reader._after_comma(text, pos + 1)

    @staticmethod
    def _after_comma(text: str, pos: int) -> int:
        """The next entry (one more comma, or a bracket, is left to the full reader)."""
        pos = _skip(text, pos)
        if text[pos] in ",]}":
            raise Outside
        return pos

    def flow_value(self, text: str, pos: int, path: Path_, no: int) -> tuple[Any, int]:
        first = text[pos]
        if first in "{[":
            return self.flow(text, pos, path, no)
        self.where[path] = no
        self._count(path)
        if first in "\"'":
            value, pos = self._quoted(text, pos)
            return self.scalar(value, True, path), pos
        m = _FLOW_PLAIN.match(text, pos)
        if m is None:
            raise Outside
        return self.scalar(m.group().rstrip(" "), False, path), m.end()


def _skip(text: str, pos: int) -> int:
    while text[pos] == " ":
        pos += 1
    return pos
