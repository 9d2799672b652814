"""YAML to model: Decimal from the text, line numbers kept, floats refused."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner
from pydantic import BaseModel

from generator.cli import main
from generator.load import load_deal, load_period
from generator.model import Money, Period
from generator.source import InputErrors, load_yaml

from .conftest import REFERENCE_DEAL


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    return path


def test_numbers_come_from_their_text(tmp_path: Path):
    data, src = load_yaml(write(tmp_path, "a: 2.17\nb: 0.1\nc: 3\nd: -12\ne: 1E+3\n"))
    assert data == {"a": Decimal("2.17"), "b": Decimal("0.1"), "c": 3, "d": -12, "e": Decimal("1E+3")}
    assert type(data["b"]) is Decimal and str(data["b"]) == "0.1"
    assert type(data["c"]) is int
    assert src.line(("c",)) == 3


def test_only_plain_decimal_digits_are_numbers_and_only_true_false_are_booleans(tmp_path: Path):
    """YAML 1.1 reads these as numbers or booleans; here each stays the text it is, which a
    number or boolean field then refuses by name."""
    odd = ["0x24A", "01112", "5:56", "1_000.50", "0o17", "0b101", ".inf", "-.nan", ".5", "1.", "yes", "no",
           "on", "off", "True", "FALSE", "Null", "y", "2002-05-28 10:00:00"]
    text = "".join(f"k{i}: {v}\n" for i, v in enumerate(odd))
    data, _ = load_yaml(write(tmp_path, text))
    assert data == {f"k{i}": v for i, v in enumerate(odd)}
    data, _ = load_yaml(write(tmp_path, "a: true\nb: false\nc: null\nd: ~\ne:\nf: 2002-05-28\ng: !!str 25\n"))
    assert data == {"a": True, "b": False, "c": None, "d": None, "e": None, "f": __import__("datetime").date(2002, 5, 28),
                    "g": "25"}


def test_duplicate_key_is_an_error(tmp_path: Path):
    path = write(tmp_path, "a: 1\nb: 2\na: 3\n")
    with pytest.raises(InputErrors) as info:
        load_yaml(path)
    assert [str(e) for e in info.value.errors] == [f"{path}:3: a: duplicate key (first given on line 1)"]


def test_an_impossible_date_is_an_error(tmp_path: Path):
    path = write(tmp_path, "a: 1\nb: 2002-02-30\n")
    with pytest.raises(InputErrors) as info:
        load_yaml(path)
    assert str(info.value) == f"{path}:2: b: '2002-02-30' is not a valid date (day is out of range for month)"


def test_no_float_anywhere_in_the_loaded_model():
    deal = load_deal(REFERENCE_DEAL).value
    period = load_period(REFERENCE_DEAL, "2002-05").value

    def walk(value):
        assert not isinstance(value, float), value
        if isinstance(value, BaseModel):
            for name in type(value).model_fields:
                walk(getattr(value, name))
        elif isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, (list, tuple)):
            for v in value:
                walk(v)

    walk(deal)
    walk(period)
    assert period.collections.interest == Decimal("1425963.31")


def test_a_float_from_python_is_refused():
    from pydantic import TypeAdapter, ValidationError

    with pytest.raises(ValidationError, match="a float"):
        TypeAdapter(Money).validate_python(2.17)
    assert TypeAdapter(Money).validate_python(Decimal("2.17")) == Decimal("2.17")


def test_schema_command_writes_json_schemas(tmp_path: Path):
    result = CliRunner().invoke(main, ["schema", "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    period = json.loads((tmp_path / "period.schema.json").read_text())
    deal = json.loads((tmp_path / "deal.schema.json").read_text())
    assert period["additionalProperties"] is False
    assert "wac" in period["required"]
    assert period["properties"]["advances"]["type"] == "number"
    assert {"id", "classes", "waterfall"} <= set(deal["required"])
    assert set(Period.model_fields) == set(period["properties"])


def _as_json(value):
    """A file's values as JSON gives them to a validator: a date as its ISO text, a number exact."""
    import datetime as dt

    if isinstance(value, dict):
        return {k: _as_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_as_json(v) for v in value]
    return value.isoformat() if isinstance(value, dt.date) else value


def test_a_standard_validator_accepts_every_bundled_input_and_refuses_a_third_decimal(tmp_path: Path):
    """The schemas editors are pointed at, read by python-jsonschema with numbers exact (a money
    field is a multipleOf 0.01, which a validator dividing in binary floating point refuses for
    583189.20: see README)."""
    import jsonschema

    from generator.source import load_yaml
    from .conftest import INPUTS

    assert CliRunner().invoke(main, ["schema", "--out", str(tmp_path)]).exit_code == 0
    schemas = {p.name.removesuffix(".schema.json"): json.loads(p.read_text(), parse_float=Decimal)
               for p in tmp_path.glob("*.schema.json")}
    assert set(schemas) == {"deal", "period", "grouped-period", "servicer", "remittance"}
    validators = {name: jsonschema.Draft202012Validator(s) for name, s in schemas.items()}
    checked = {}
    for deal_dir in sorted(p for p in INPUTS.iterdir() if p.is_dir()):
        grouped = "groups:" in (deal_dir / "deal.yaml").read_text()
        files = [("deal", deal_dir / "deal.yaml")]
        files += [("grouped-period" if grouped else "period", p) for p in sorted((deal_dir / "periods").glob("*.yaml"))]
        files += [("servicer", p) for p in deal_dir.glob("servicer.yaml")]
        files += [("remittance", p) for p in sorted(deal_dir.glob("tapes/*.remittance.yaml"))]
        for kind, path in files:
            errors = [f"{e.json_path}: {e.message}" for e in validators[kind].iter_errors(_as_json(load_yaml(path)[0]))]
            assert errors == [], path
            checked[kind] = checked.get(kind, 0) + 1
    assert checked["deal"] == 4 and checked["period"] + checked["grouped-period"] >= 150 and checked["remittance"] >= 100
    period = _as_json(load_yaml(INPUTS / "new-century-2002-1" / "periods" / "2002-05.yaml")[0])
    period["advances"] = Decimal("1277953.005")
    assert [e.message for e in validators["period"].iter_errors(period)] == ["Decimal('1277953.005') is not a multiple "
                                                                             "of 0.01"]


def test_check_writes_nothing_and_reports(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["check", str(REFERENCE_DEAL), "--period", "2002-05"])
    assert result.exit_code == 0
    assert result.output == "new-century-2002-1 2002-05 (2002-05-28): reconciled, 3,205,794.60 distributed\n"
    assert list(tmp_path.iterdir()) == []


QUICK_AND_FULL = [
    "a: 1\nb: [1, 2.50, x]\nc: {d: 2002-05-28, e: 'quoted 5', f: null}\n",
    "- a: true\n  b: false\n- [ [], {} ]\n- ''\n- \"0.10\"\n",
    "k: !!str 5\n",  # a tag
    "k: !custom 5\n",  # a refused tag
    "- !!str [1]\n",  # a tag on a list
    "a: &x 1\nb: 2\n",  # an anchor no alias uses
    "a: &x {b: 1}\nc: *x\n",  # an anchor and an alias
    "a: 1\na: 2\n",  # a duplicate key
    "a: 2002-02-30\n",  # a refused scalar
    "? [a]\n: 1\n",  # a list as a key
    "a: 1\n---\nb: 2\n",  # a second document
    "5\n",  # not a mapping or a list
    "",  # empty
    "a: [1, 2\n",  # a syntax error
    "a:" + " [" * 60 + " ]" * 60 + "\n",  # nested too deep
]


@pytest.mark.parametrize("text", QUICK_AND_FULL)
def test_a_file_read_quickly_reads_as_the_full_reader_reads_it(text: str):
    """A file with nothing to report is read for its values alone, and its lines only when asked
    for: both give what reading it whole with every line gives.  A file with anything to report
    is left to the full reader."""
    from generator.source import SourceMap, _NotPlain, _plain_values, _Reader

    full_map = SourceMap("doc.yaml")
    try:
        full = _Reader(text, full_map).read()
    except InputErrors:
        with pytest.raises(_NotPlain):
            _plain_values(text)
        return
    try:
        quick = _plain_values(text)
    except _NotPlain:  # nothing wrong, but not plain (a tag, an alias, a bare scalar): read whole
        assert text in ("k: !!str 5\n", "a: &x {b: 1}\nc: *x\n", "a: &x 1\nb: 2\n", "5\n")
        return
    assert quick == full and type(quick) is type(full)
    lazy = SourceMap("doc.yaml", text=text)
    assert lazy.lines == full_map.lines and lazy.lines


def test_every_bundled_file_reads_quickly_with_the_lines_of_the_full_reader():
    from generator.source import SourceMap, _plain_values, _Reader

    root = Path(__file__).resolve().parent.parent
    files = sorted(root.glob("inputs/**/*.yaml")) + sorted(root.glob("generator/*.yaml"))
    assert len(files) > 10
    for path in files:
        text = path.read_text()
        full_map = SourceMap(str(path))
        assert _plain_values(text) == _Reader(text, full_map).read(), path
        data, src = load_yaml(path)
        assert src.lines == full_map.lines, path
