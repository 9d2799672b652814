"""The JSON Schema of a deal's figures record (remit schema --record): every record every
bundled deal publishes is valid under its deal's schema, the schema refuses what a record
never holds, and it describes every field."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from generator.pipeline import run
from generator.render import render_json

from .conftest import GOLDEN, INPUTS, ROOT

DEALS = sorted(p.name for p in INPUTS.iterdir() if (p / "deal.yaml").is_file())


@pytest.fixture(scope="module")
def schemas(tmp_path_factory) -> dict[str, dict]:
    out = tmp_path_factory.mktemp("schema")
    args = [a for d in DEALS for a in ("--record", str(INPUTS / d))]
    done = subprocess.run([sys.executable, "-m", "generator", "schema", "--out", str(out), *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in out.glob("*.record.schema.json")) == [f"{d}.record.schema.json" for d in DEALS]
    return {d: json.loads((out / f"{d}.record.schema.json").read_text()) for d in DEALS}


@pytest.mark.parametrize("deal", DEALS)
def test_every_record_of_every_month_is_valid_under_its_deals_schema(schemas, deal):
    schema = schemas[deal]
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    records = [json.loads(render_json(c.statement, c.revision)) for c in run(INPUTS / deal, "all")]
    records += [json.loads(p.read_text()) for p in sorted(GOLDEN.glob(f"{deal}_*.json"))]
    assert len(records) > 1
    errors = [(r["period"], list(e.absolute_path), e.message) for r in records for e in validator.iter_errors(r)]
    assert errors == []


def test_the_schema_refuses_what_a_record_never_holds(schemas):
    """Money of three places, a number as a JSON float, a count as text, a field no record
    has, a failed check, a class the deal does not have: each is an error."""
    validator = jsonschema.Draft202012Validator(schemas["new-century-2002-1"])
    good = json.loads((GOLDEN / "new-century-2002-1_2002-05-28.json").read_text())
    assert list(validator.iter_errors(good)) == []

    def errors(change) -> list[str]:
        record = json.loads(json.dumps(good))
        change(record)
        return [".".join(map(str, e.absolute_path)) for e in validator.iter_errors(record)]

    assert errors(lambda r: r["classes"][0].update(principal="1767305.990")) == ["classes.0.principal"]
    assert errors(lambda r: r["classes"][1].update(rate=0.0217)) == ["classes.1.rate"]
    assert errors(lambda r: r.update(distribution_number="1")) == ["distribution_number"]
    assert errors(lambda r: r["pool"].update(prepayment_speed="0.06")) == ["pool"]
    assert errors(lambda r: r["checks"][0].update(ok=False)) == ["checks.0.ok"]
    assert errors(lambda r: r["classes"][0].update(name="A-1")) == ["classes.0.name"]
    assert errors(lambda r: r["fees"].pop("Servicing")) == ["fees"]


def test_the_record_schema_describes_every_field_with_its_figure_and_unit(schemas):
    missing, described = [], 0

    def walk(path: str, node) -> None:
        nonlocal described
        if isinstance(node, dict):
            for key, prop in node.get("properties", {}).items():
                if "description" not in prop:
                    missing.append(f"{path}.{key}")
                described += 1
                walk(f"{path}.{key}", prop)
            for i, item in enumerate(node.get("prefixItems", [])):
                walk(f"{path}[{i}]", item)
            if isinstance(node.get("items"), dict):
                walk(f"{path}[]", node["items"])
            for i, choice in enumerate(node.get("oneOf", [])):
                walk(f"{path}|{i}", choice)

    for deal, schema in schemas.items():
        walk(deal, schema)
    assert missing == [] and described > 1000
    a = schemas["new-century-2002-1"]["properties"]["classes"]["prefixItems"][0]["properties"]
    assert a["principal"]["description"] == ("Class A principal paid (figure A.principal; dollars and cents, a "
                                             "decimal string of two places).")
    assert a["rate"]["description"].endswith("(figure A.rate; a fraction (0.0217 is 2.17%), an exact decimal string).")
    auto = schemas["synthetic-auto-2025-1"]["properties"]["extra"]["properties"]
    assert auto["accounts"]["properties"]["reserve"]["properties"]["target"]["description"] == (
        "The reserve account's target balance (figure accounts.reserve.target; dollars and cents, a decimal string "
        "of two places).")


def test_a_deal_that_does_not_load_is_told_and_no_schema_is_written(tmp_path):
    import shutil

    deal = tmp_path / "new-century-2002-1"
    shutil.copytree(INPUTS / "new-century-2002-1", deal)
    text = (deal / "deal.yaml").read_text()
    (deal / "deal.yaml").write_text(text.replace("\ntrust:", "\ntrusts:", 1))
    out = tmp_path / "schema"
    done = subprocess.run([sys.executable, "-m", "generator", "schema", "--out", str(out), "--record", str(deal)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    lines = done.stderr.splitlines()
    assert lines[0].startswith(f"{deal}/deal.yaml:9: trust: required field")
    assert lines[1].startswith(f"{deal}/deal.yaml:10: trusts: ") and lines[-1] == "2 errors; nothing written"
    assert not out.exists() or list(out.iterdir()) == []


def test_a_revised_record_is_valid_with_its_revision(schemas, tmp_path):
    import shutil

    deal = tmp_path / "new-century-2002-1"
    shutil.copytree(INPUTS / deal.name, deal)

    def render(*extra: str) -> None:
        done = subprocess.run([sys.executable, "-m", "generator", "render", deal, "--period", "2002-05", "--format",
                               "json", "--out", tmp_path / "out", *extra], cwd=ROOT, capture_output=True, text=True,
                              timeout=120)
        assert done.returncode == 0, done.stderr

    render()
    period = deal / "periods" / "2002-05.yaml"
    period.write_text(period.read_text().replace("curtailments: 18331.70", "curtailments: 18331.71")
                      .replace("period: 2002-05\n", "period: 2002-05\nrevised_on: 2002-06-03\n"))
    render("--revise", "curtailments restated by the servicer")
    record = json.loads((tmp_path / "out" / "new-century-2002-1_2002-05-28.rev1.json").read_text())
    assert record["revision"]["number"] == 1 and record["revision"]["changes"]
    assert list(jsonschema.Draft202012Validator(schemas["new-century-2002-1"]).iter_errors(record)) == []
