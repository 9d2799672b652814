"""A quick reader for the plain YAML that deal and period files are written in.

Reading a file with PyYAML builds a node, with two marks, for every value, and then our
values from the nodes: most of the cost of a statement before its figures are computed.
Deal and period files use a small part of YAML: block mappings and sequences by
indentation, one-line flow collections (``{name: A, kind: senior}``, ``[A, M-1]``), plain
and simply quoted scalars, and comments.  This module reads that part directly, line by
line, into the same values.  It does not note where each value stands: only an error
message or an explanation needs that, and :class:`generator.source.SourceMap` then finds
it from the text with the full reader.

It is a shortcut, never a second opinion.  :func:`read` returns :data:`OUTSIDE` for
anything beyond that part (anchors, tags, block scalars, escapes, multi-line text or flow
collections, tabs, a key that is not a plain name, an empty item, a duplicate key, a value
the scalar reader refuses, ...), and the caller then reads the file with the full reader
in :mod:`generator.source`, which decides every error message.  When it returns values,
they equal the full reader's, value for value and type for type (``tests/test_plainyaml.py``
checks that on the bundled inputs and on mangled and generated files).
"""

from __future__ import annotations

import re
from typing import Any, Callable

#: What :func:`read` returns for a file it leaves to the full reader.
OUTSIDE: Any = object()


class Outside(Exception):
    """The file uses YAML beyond the plain part, or has a problem: leave it to the full reader."""


#: Text that the full reader reads differently from how this one would, or refuses:
#: anything but printable characters and line feeds (a tab, a byte-order mark, a control
#: character, a line or paragraph separator), and directive and document markers at the
#: start of a line.
_NOT_PLAIN = re.compile("[^\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\U00010000-\U0010ffff]")
_MARKERS = ("---", "...", "%")
_LINE_MARKERS = tuple("\n" + m for m in _MARKERS)

#: A key: a plain name (the full reader takes a key's text as it is written).
_KEY_TEXT = r"[A-Za-z0-9_][A-Za-z0-9_./-]*"
#: ``key:``, then a value or nothing.
_KEY = re.compile(r"(%s):(?: +(.*))?\Z" % _KEY_TEXT)
_FLOW_KEY = re.compile(r" *(%s): +" % _KEY_TEXT)
#: A plain scalar inside a flow collection: it ends at ``,``, ``]`` or ``}``; one that holds
#: a colon or a ``#`` (a key, a comment) is left to the full reader.  With any spaces after it.
_PLAIN_START = r"(?:-(?=[^\s,\[\]{}])|[^\s,\[\]{}#&*!|>'\"%@`?:-])"
_FLOW_PLAIN_TEXT = _PLAIN_START + r"[^,\[\]{}:#]*"
_FLOW_PLAIN = re.compile(_FLOW_PLAIN_TEXT)
#: A whole flow collection of plain scalars (``{name: A, kind: senior}``, ``[A, M-1]``), read
#: in one match: its entries are then split at the commas, since neither keys nor values hold one.
_SIMPLE_MAP = re.compile(r"\{ *(%s: +%s(?:, *%s: +%s)*)\}" % ((_KEY_TEXT, _FLOW_PLAIN_TEXT) * 2))
_SIMPLE_SEQ = re.compile(r"\[ *(%s(?:, *%s)*)\]" % ((_FLOW_PLAIN_TEXT,) * 2))
#: Characters a block plain scalar may not start with (nor ``?`` or ``:``, nor ``-`` before a space).
_INDICATORS = frozenset(",[]{}#&*!|>'\"%@`")

#: A line of content: (column, dash, text).  ``dash``: a sequence entry's ``-``, whose content,
#: if any, follows as its own line at its own column.
_Line = tuple[int, bool, str]


def _lines(text: str) -> list[_Line]:
    """The file's content as lines; a sequence entry ``- x`` becomes the dash and, at the
    column of ``x``, a line ``x``."""
    out: list[_Line] = []
    append = out.append
    for raw in text.split("\n"):
        line = raw.rstrip(" ")
        body = line.lstrip(" ")
        if not body or body[0] == "#":
            continue
        indent = len(line) - len(body)
        while body[0] == "-" and (len(body) == 1 or body[1] == " "):
            append((indent, True, "-"))
            rest = body[1:].lstrip(" ")
            if not rest or rest[0] == "#":
                body = ""
                break
            indent += len(body) - len(rest)
            body = rest
        if body:
            append((indent, False, body))
    return out


def read(text: str, scalar: Callable[[str, bool], Any], max_depth: int, max_values: int) -> Any:
    """The document's values, or :data:`OUTSIDE`.

    ``scalar(text, quoted)`` gives a scalar's value, or raises :class:`Outside` to leave the
    file to the full reader.  A document nested more than ``max_depth`` deep, or with more
    than ``max_values`` values, is left to the full reader, which words those errors."""
    if _NOT_PLAIN.search(text) or text.startswith(_MARKERS) or any(m in text for m in _LINE_MARKERS):
        return OUTSIDE
    reader = _Reader(_lines(text), scalar, max_depth)
    if not reader.lines:
        return OUTSIDE
    try:
        value, end = reader.block(0, 0)
    except (Outside, IndexError):  # IndexError: a line ended inside a flow collection
        return OUTSIDE
    if end != len(reader.lines) or reader.values > max_values:
        return OUTSIDE
    return value


class _Reader:
    def __init__(self, lines: list[_Line], scalar: Callable[[str, bool], Any], max_depth: int):
        self.lines = lines
        self.scalar = scalar
        self.max_depth = max_depth
        self.values = 0

    def block(self, i: int, depth: int) -> tuple[Any, int]:
        """The block mapping or sequence that starts at line ``i``, ``depth`` levels down."""
        if depth > self.max_depth:
            raise Outside
        indent, dash, _ = self.lines[i]
        if dash:
            return self.sequence(i, indent, depth)
        return self.mapping(i, indent, depth)

    def mapping(self, i: int, n: int, depth: int) -> tuple[dict[str, Any], int]:
        self.values += 1
        lines = self.lines
        out: dict[str, Any] = {}
        end = len(lines)
        while i < end:
            indent, dash, text = lines[i]
            if indent < n:
                break
            if indent > n or dash:
                raise Outside
            m = _KEY.match(text)
            if m is None:
                raise Outside
            key, rest = m.group(1), m.group(2)
            if key in out:
                raise Outside
            i += 1
            after = lines[i][0] if i < end else -1  # the next line's column
            if rest and rest[0] != "#":
                out[key] = self.inline(rest, depth + 1)
                if after > n:
                    raise Outside  # text continued on the next line
            elif after > n:
                out[key], i = self.block(i, depth + 1)
            elif after == n and lines[i][1]:
                out[key], i = self.sequence(i, n, depth + 1)  # a sequence in line with its key
            else:
                if depth >= self.max_depth:
                    raise Outside
                self.values += 1
                out[key] = self.scalar("", False)
        return out, i

    def sequence(self, i: int, n: int, depth: int) -> tuple[list[Any], int]:
        if depth > self.max_depth:
            raise Outside
        self.values += 1
        lines = self.lines
        out: list[Any] = []
        end = len(lines)
        while i < end:
            indent, dash, _ = lines[i]
            if indent < n or (indent == n and not dash):
                break
            if indent > n:
                raise Outside
            i += 1
            if i >= end or lines[i][0] <= n:
                raise Outside  # an empty entry
            _, item_dash, text = lines[i]
            if not item_dash and _KEY.match(text) is None:
                # a scalar or flow collection; a block one would have started a line of its own
                out.append(self.inline(text, depth + 1))
                i += 1
                if i < end and lines[i][0] > n:
                    raise Outside
            else:
                value, i = self.block(i, depth + 1)
                out.append(value)
        return out, i

    # ---------------------------------------------------------------- one line

    def inline(self, text: str, depth: int) -> Any:
        """The value written on one line after ``key:`` or ``-``; the rest of the line may
        only be a comment."""
        if depth > self.max_depth:
            raise Outside
        first = text[0]
        if first in "{[":
            value, pos = self.flow(text, 0, depth)
            self._end(text, pos)
            return value
        self.values += 1
        if first in "\"'":
            value, pos = self._quoted(text, 0)
            self._end(text, pos)
            return self.scalar(value, True)
        cut = text.find(" #")
        if cut >= 0:
            text = text[:cut].rstrip(" ")
        if first in _INDICATORS or first in "?:" or (first == "-" and (len(text) == 1 or text[1] == " ")):
            raise Outside
        if ": " in text or text.endswith(":"):
            raise Outside
        return self.scalar(text, False)

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

    def flow(self, text: str, pos: int, depth: int) -> tuple[Any, int]:
        """A flow mapping or sequence at ``pos``, all on this line."""
        if depth > self.max_depth:
            raise Outside
        self.values += 1
        scalar = self.scalar
        keyed = text[pos] == "{"
        simple = (_SIMPLE_MAP if keyed else _SIMPLE_SEQ).match(text, pos)
        if simple is not None and depth < self.max_depth:
            parts = simple.group(1).split(",")
            self.values += len(parts)
            if not keyed:
                return [scalar(part.strip(" "), False) for part in parts], simple.end()
            out: dict[str, Any] = {}
            for part in parts:
                key, _, value = part.partition(":")
                key = key.strip(" ")
                if key in out:
                    raise Outside
                out[key] = scalar(value.strip(" "), False)
            return out, simple.end()
        pos += 1
        if keyed:
            out = {}
            while True:
                pos = _skip(text, pos)
                if text[pos] == "}":
                    return out, pos + 1
                m = _FLOW_KEY.match(text, pos)
                if m is None:
                    raise Outside
                key = m.group(1)
                if key in out:
                    raise Outside
                out[key], pos = self.flow_value(text, m.end(), depth + 1)
                pos = self._next(text, pos, "}")
                if text[pos] == "}":
                    return out, pos + 1
        items: list[Any] = []
        while True:
            pos = _skip(text, pos)
            if text[pos] == "]":
                return items, pos + 1
            value, pos = self.flow_value(text, pos, depth + 1)
            items.append(value)
            pos = self._next(text, pos, "]")
            if text[pos] == "]":
                return items, pos + 1

    @staticmethod
    def _next(text: str, pos: int, close: str) -> int:
        """After an entry: at the closing bracket, or past a comma to the next entry (one more
        comma, or a bracket, is left to the full reader)."""
        pos = _skip(text, pos)
        if text[pos] == close:
            return pos
        if text[pos] != ",":
            raise Outside
        pos = _skip(text, pos + 1)
        if text[pos] in ",]}":
            raise Outside
        return pos

    def flow_value(self, text: str, pos: int, depth: int) -> tuple[Any, int]:
        first = text[pos]
        if first in "{[":
            return self.flow(text, pos, depth)
        if depth > self.max_depth:
            raise Outside
        self.values += 1
        if first in "\"'":
            value, pos = self._quoted(text, pos)
            return self.scalar(value, True), pos
        m = _FLOW_PLAIN.match(text, pos)
        if m is None:
            raise Outside
        return self.scalar(m.group().rstrip(" "), False), m.end()


def _skip(text: str, pos: int) -> int:
    while text[pos] == " ":
        pos += 1
    return pos
