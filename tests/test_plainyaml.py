"""The quick reader (generator/plainyaml.py) gives exactly what the full reader gives, or nothing.

``load_yaml`` reads a file with the quick reader when it can and with the full reader
(libyaml's nodes, then our values) otherwise.  The quick reader must never be a second
opinion: for any text, either it declines (``OUTSIDE``) or its values and lines equal the
full reader's, type for type (``1`` is not ``True`` is not ``Decimal("1")``), and it
declines every text that the full reader refuses or finds a problem in.

Documents are generated in the styles deal and period files use (block mappings and
sequences at any indentation, sequences in line with their key, one-line flow
collections, comments) from scalars and keys chosen to be awkward for YAML (``yes``,
``010``, ``1:30``, ``2002-02-30``, ``a #b``, ``'it''s'``...), and then, half the time,
mangled character by character.
"""

from __future__ import annotations

import datetime as dt
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from generator import plainyaml
from generator.source import MAX_DEPTH, MAX_VALUES, SourceMap, _Build, _build, _compose, _quick, _TooMany, load_yaml

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "0"))


def typed(value: Any) -> Any:
    """``value`` with the type of every scalar beside it, so that equal-but-different values differ."""
    if isinstance(value, dict):
        return ("map", [(k, typed(v)) for k, v in value.items()])
    if isinstance(value, list):
        return ("seq", [typed(v) for v in value])
    return (type(value).__name__, repr(value))


def full(text: str) -> tuple[Any, dict] | None:
    """The full reader's values and lines, or None when it refuses the text or finds a problem."""
    src = SourceMap("f.yaml")
    errors: list = []
    try:
        node = _compose(text)
    except Exception:  # a syntax error: the full reader reports it
        return None
    if node is None:
        return None
    try:
        data = _build(node, (), _Build(src, errors))
    except _TooMany:
        return None
    return None if errors else (typed(data), dict(src.lines))


def quick(text: str) -> Any:
    data = _quick(text)
    return None if data is plainyaml.OUTSIDE else typed(data)


def assert_same(text: str) -> bool:
    """The property; True when the quick reader read the text."""
    mine = quick(text)
    if mine is None:
        return False
    reference = full(text)
    assert reference is not None, f"the quick reader read text that the full reader refuses:\n{text}"
    assert mine == reference[0], f"values differ for:\n{text}"
    return True


# ------------------------------------------------------------------ the files themselves


def input_files() -> list[Path]:
    return sorted(ROOT.glob("inputs/*/deal.yaml")) + sorted(ROOT.glob("inputs/*/periods/*.yaml"))


@pytest.mark.parametrize("path", input_files(), ids=lambda p: str(p.relative_to(ROOT)))
def test_bundled_inputs_are_read_quickly_and_alike(path: Path) -> None:
    assert assert_same(path.read_text()), f"{path} is read by the full reader only"
    data, src = load_yaml(path)
    assert src.text is not None  # its lines are not looked for until they are wanted
    assert src.lines == full(path.read_text())[1]
    assert src.text is None and src.line(("id",) if "id" in data else ("period",)) > 1


def test_examples_read_alike() -> None:
    text = ("# a comment\nid: x  # trailing\nseries: \"2002-1\"\nname: 'it''s'\nzip: 092612\nflag: yes\n"
            "when: 2002-05-28\nrate: 0.0033\nbig: 1_000\nnothing:\nclasses:\n- {name: A, n: [1, 2.50, ~]}\n"
            "-   name: B\n    kind: senior\nnested:\n    - - a\n      - b\n    -\n      k: v\n")
    assert assert_same(text)
    data, lines = load_yaml_text(text)
    assert data["zip"] == "092612" and data["flag"] is True and data["when"] == dt.date(2002, 5, 28)
    assert data["rate"] == Decimal("0.0033") and data["big"] == 1000 and data["nothing"] is None
    assert data["name"] == "it's" and data["series"] == "2002-1"
    assert data["classes"] == [{"name": "A", "n": [1, Decimal("2.50"), None]}, {"name": "B", "kind": "senior"}]
    assert data["nested"] == [["a", "b"], {"k": "v"}]
    assert lines[("classes", 1, "kind")] == 14 and lines[("nested", 1, "k")] == 19
    assert lines == full(text)[1]


def load_yaml_text(text: str, tmp: Path = Path("/dev/shm") if Path("/dev/shm").is_dir() else Path("/tmp")):
    path = tmp / f"plainyaml-{os.getpid()}.yaml"
    path.write_text(text)
    try:
        data, src = load_yaml(path)
    finally:
        path.unlink()
    return data, src.lines


@pytest.mark.parametrize("text", [
    "a: &x 1\nb: *x\n",  # anchors and aliases
    "a: !!str 1\n",  # tags
    "a: |\n  text\n",  # block scalars
    "a: \"x\\ty\"\n",  # escapes
    "a: one\n  two\n",  # text over two lines
    "a: {b: 1,\n  c: 2}\n",  # a flow collection over two lines
    "a:\n\t- 1\n",  # a tab
    "a: 1\na: 2\n",  # a duplicate key
    "a:\n-\n- 1\n",  # an empty entry
    "? a\n: 1\n",  # a complex key
    "a b: 1\n",  # a key that is not a plain name
    "a: b: c\n",  # not YAML
    "a: 2002-02-30\n",  # a value the full reader refuses
    "a: [1, 2,]\n",  # a comma before the bracket
    "---\na: 1\n",  # a document marker
    "# nothing but a comment\n",
])
def test_declines_what_it_does_not_read(text: str) -> None:
    assert quick(text) is None
    assert_same(text)


def test_limits_are_left_to_the_full_reader() -> None:
    deep = "".join(f"{' ' * i}k:\n" for i in range(MAX_DEPTH + 2)) + f"{' ' * (MAX_DEPTH + 2)}k: 1\n"
    assert quick(deep) is None
    many = "a: [" + ", ".join("1" for _ in range(MAX_VALUES + 1)) + "]\n"
    assert quick(many) is None


# ------------------------------------------------------------------ generated documents

PLAIN = ["A", "M-1", "senior", "yes", "No", "on", "OFF", "y", "~", "null", "Null", "true", "1", "-1", "+1", "010",
         "0o17", "0x1F", "0b101", "1_000", "1:30", "190:20:30", "1.5", "-0.0033", ".5", "1.", "1e3", "1.5e3",
         "1.5e+3", ".inf", "-.Inf", ".nan", "2002-05-28", "2002-02-30", "2002-5-8", "2002-05-28T10:00:00",
         "2002-05", "0.00", "390000000.00", "9" * 120, "a#b", "a #b", "a:b", "a, b", "[x]", "x]", "x}", "-x", "?x",
         ":x", "é", "日本", "a  b", "Example Trust Company, N.A.", "(949) 863-7243", "=", "<<", "", " ", "-", "#"]
QUOTED = ["'x'", "'it''s'", "''", "'a #b'", "\"x\"", "\"\"", "\"a: b\"", "\"x\\ny\"", "'unclosed", "\"2002-1\""]
KEYS = ["a", "id", "classes", "M-1", "days_30_59", "1", "on", "yes", "~", "a.b", "a/b", "_x", "a b", "-a", "'q'",
        "\"q\"", "a:b", "é", "? a", "<<"]

class Pairs(list):
    """A mapping's (key, value) pairs (a key may be generated twice: a duplicate)."""


#: Mostly the scalars and keys that files hold, so that most documents are read quickly and
#: compared; now and then an awkward one.
CLEAN = ["A", "M-1", "senior", "0.0033", "390000000.00", "12", "2002-05-28", "Example Trust Company, N.A.", "'q'"]
scalars = st.integers(0, 9).flatmap(lambda n: (
    st.sampled_from(PLAIN) if n == 0 else st.sampled_from(QUOTED) if n == 1
    else st.text(alphabet="ab1.-_ :#'\"{}[],é", max_size=6) if n == 2 else st.sampled_from(CLEAN)))
keys = st.integers(0, 9).flatmap(lambda n: (
    st.sampled_from(KEYS) if n == 0 else st.text(alphabet="abM1-_ .:", min_size=1, max_size=5) if n == 1
    else st.sampled_from(["a", "name", "kind", "M-1", "days_30_59", "b", "c"])))
trees = st.recursive(
    scalars,
    lambda children: st.one_of(st.lists(children, max_size=4),
                               st.lists(st.tuples(keys, children), max_size=4).map(Pairs)),
    max_leaves=12)
documents = st.lists(st.tuples(keys, trees), min_size=1, max_size=5).map(Pairs)


def flow(tree: Any, space: str) -> str:
    if isinstance(tree, Pairs):
        return "{" + f",{space}".join(f"{k}: {flow(v, space)}" for k, v in tree) + "}"
    if isinstance(tree, list):
        return "[" + f",{space}".join(flow(v, space) for v in tree) + "]"
    return tree


def block(tree: Any, indent: int, data: st.DataObject) -> list[str]:
    """Lines of ``tree`` as a block collection at column ``indent``."""
    pad = " " * indent
    out = []
    if isinstance(tree, Pairs):
        for k, v in tree:
            out += entry(f"{pad}{k}:", v, indent, data)
        return out or [pad + "{}"]
    for v in tree:
        if isinstance(v, (Pairs, list)) and v and data.draw(st.booleans()):  # - k: v, with the rest beside it
            gap = data.draw(st.integers(1, 3))
            inner = block(v, indent + 1 + gap, data)
            out += [f"{pad}-{' ' * gap}{inner[0].lstrip(' ')}"] + inner[1:]
        else:
            out += entry(f"{pad}-", v, indent, data)
    return out or [pad + "[]"]


def entry(head: str, value: Any, indent: int, data: st.DataObject) -> list[str]:
    comment = data.draw(st.sampled_from(["", "", "", "  # note", " #x", "#x"]))
    if not isinstance(value, (Pairs, list)) or not value or data.draw(st.integers(0, 3)) == 0:
        text = flow(value, data.draw(st.sampled_from([" ", "", "  "])))
        return [f"{head} {text}{comment}" if text else head + comment]
    lines = [head + comment]
    if data.draw(st.sampled_from(["", "", "", "  # between"])):
        lines.append(" " * data.draw(st.integers(0, 6)) + "# between")
    in_line = isinstance(value, list) and not isinstance(value, Pairs) and head.endswith(":") and data.draw(st.booleans())
    step = 0 if in_line else data.draw(st.integers(1, 4))
    return lines + block(value, indent + step, data)


MANGLE = list(" -:#{}[],'\"\n&*!|>?%@`\t.é") + ["  ", "- ", ": ", " #", "\n  ", "\n- "]


@settings(max_examples=EXAMPLES or 400, deadline=None, derandomize=not EXAMPLES,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(documents, st.data())
def test_quick_reader_agrees_with_the_full_reader(tree: Pairs, data: st.DataObject) -> None:
    text = "\n".join(block(tree, 0, data)) + "\n"
    edits = data.draw(st.integers(1, 3)) if data.draw(st.integers(0, 3)) == 0 else 0
    for _ in range(edits):
        at = data.draw(st.integers(0, len(text)))
        cut = data.draw(st.integers(0, 2))
        text = text[:at] + data.draw(st.sampled_from(MANGLE)) + text[at + cut:]
    event("read quickly" if assert_same(text) else "left to the full reader")


def test_generated_documents_are_mostly_read_quickly() -> None:
    """The property above is not vacuous: plain documents of the kind generated are read quickly."""
    text = "\n".join([
        "a: 1", "b:", "  - x", "  - {c: [1, 2], d: 'q'}", "e:", "- y", "-   f: 2.50", "    g: yes", "h: {}", "i: []",
    ]) + "\n"
    assert assert_same(text)


REAL = [p.read_text() for p in input_files()]


@settings(max_examples=EXAMPLES or 300, deadline=None, derandomize=not EXAMPLES,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(REAL), st.lists(st.tuples(st.floats(0, 1), st.integers(0, 3), st.sampled_from(MANGLE)),
                                       min_size=1, max_size=3))
def test_mangled_input_files_read_alike(text: str, edits: list[tuple[float, int, str]]) -> None:
    for where, cut, insert in edits:
        at = int(where * len(text))
        text = text[:at] + insert + text[at + cut:]
    event("read quickly" if assert_same(text) else "left to the full reader")
