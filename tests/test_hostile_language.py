"""Deal files and templates that once crashed remit with a traceback, through the real command
in subprocesses: each must be an error naming its file and line, exit 1, nothing written; or,
where the file is legal however large, a reconciled statement."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import REFERENCE_DEAL, ROOT

TEMPLATES = ROOT / "templates"

FLOOR = "formula: cents(pool.cutoff_balance * 0.005)"


def remit(*args: str | Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "generator", *map(str, args)], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)


@pytest.fixture
def deal(tmp_path: Path) -> Path:
    target = tmp_path / REFERENCE_DEAL.name
    shutil.copytree(REFERENCE_DEAL, target)
    return target


def edited(deal: Path, old: str, new: str) -> None:
    text = (deal / "deal.yaml").read_text()
    assert old in text
    (deal / "deal.yaml").write_text(text.replace(old, new, 1))


@pytest.mark.parametrize("formula, problem", [
    ("if(true, 0.00)", "if() takes 3 arguments, got 2"),
    ("if()", "if() takes 3 arguments, got 0"),
    ("cents()", "cents() takes 1 argument, got 0"),
    ("cents(1.00, 2.00)", "cents() takes 1 argument, got 2"),
    ("cents_down()", "cents_down() takes 1 argument, got 0"),
    ("given(oc.target, oc.target)", "given() takes 1 argument, got 2"),
    ("count()", "count() takes 1 argument, got 0"),
    ("schedule()", "schedule() takes at least 3 arguments, got 0"),
    ("min(oc.target)", "min() takes at least 2 arguments, got 1"),
])
def test_a_call_with_the_wrong_number_of_arguments_is_told(deal, tmp_path, formula, problem):
    edited(deal, FLOOR, f'formula: "{formula}"')
    done = remit("render", deal, "--period", "2002-05", "--out", tmp_path / "out")
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{deal}/deal.yaml:87: figures.'oc.floor'.formula: formula {formula!r}: {problem}",
        "1 error; nothing written"])
    assert not (tmp_path / "out").exists()


def test_a_list_item_the_month_does_not_have_has_no_value(deal, tmp_path):
    """The reference month liquidated no loan: its first liquidation's balance has no value,
    which a formula asks with given(); read without asking, it is an error at its line."""
    edited(deal, FLOOR, 'formula: "cents(collections.liquidations[5].balance)"')
    done = remit("render", deal, "--period", "2002-05", "--out", tmp_path / "out")
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{deal}/deal.yaml:87: figures.'oc.floor'.formula: oc.floor cannot be computed this period: "
        "collections.liquidations[5].balance has no value (expected a formula that asks given(...) first)",
        "1 error; nothing written"])
    edited(deal, 'formula: "cents(collections.liquidations[5].balance)"',
           'formula: "if(given(collections.liquidations[0].balance), 0.00, cents(pool.cutoff_balance * 0.005))"')
    done = remit("check", deal, "--period", "2002-05")
    assert done.returncode == 0, done.stderr


def test_operations_nested_deeper_than_a_formula_may_be_are_told(deal, tmp_path):
    many = "+".join(["1"] * 950)  # within the 2,000 characters a formula may have
    edited(deal, FLOOR, f'formula: "cents(pool.cutoff_balance*0.005)+0.00*({many})"')
    done = remit("render", deal, "--period", "2002-05", "--out", tmp_path / "out")
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.splitlines()[0].endswith(
        "...: operations nested 951 deep, one inside another (a + b + c is two: expected at most 200; a sum of many "
        "classes' figures is total(kind, field))")
    assert not (tmp_path / "out").exists()


def test_a_deal_of_a_thousand_fees_is_computed(deal, tmp_path):
    """Their total rate (fees.annual_rate, which the Net WAC cap reads) was a chain of 999
    additions, deeper than Python walks a tree."""
    fees = "".join(f"  - {{name: F{i}, annual_rate: 0.0000001, payee: Agent {i}}}\n" for i in range(1000))
    edited(deal, "fees:\n", "fees:\n" + fees)
    done = remit("render", deal, "--period", "2002-05", "--format", "json", "--out", tmp_path / "out")
    assert done.returncode == 0, done.stderr[-2000:]
    done = remit("explain", deal, "fees.annual_rate", "--period", "2002-05")
    assert done.returncode == 0 and "fees.annual_rate = 0.0051 (0.51%)" in done.stdout  # 0.50% and 1,000 x 0.00001%


def test_a_template_that_calls_itself_without_end_is_an_error_at_its_line(deal, tmp_path):
    templates = tmp_path / "templates"
    shutil.copytree(TEMPLATES, templates)
    endless = "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}\n"
    (templates / "new-century-8k.txt.j2").write_text(endless)
    (templates / "statement.html.j2").write_text(endless)
    for kind in ("text", "html"):
        done = remit("render", deal, "--period", "2002-05", "--format", kind, "--templates", templates,
                     "--out", tmp_path / "out")
        name = "new-century-8k.txt.j2" if kind == "text" else "statement.html.j2"
        assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr[-1500:]
        assert done.stderr.startswith(f"{templates}/{name}:1: ") and "recursion" in done.stderr
        assert not (tmp_path / "out").exists()


def test_the_statements_own_arithmetic_is_not_redefined(deal, tmp_path):
    """A deal that redefined a total, a factor or a per-$1,000 amount published a statement that
    disagreed with itself (totals.principal 0.00 beside 1,767,305.99 paid to the classes)."""
    edited(deal, "\nfigures:\n", '\nfigures:\n  totals.principal: "0.00"\n  A.factor: "7"\n'
                                 '  A.per_1000.principal: "12345"\n')
    done = remit("render", deal, "--period", "2002-05", "--out", tmp_path / "out")
    told = "which a deal may not redefine (expected the figures it is made of defined instead)"
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{deal}/deal.yaml:68: figures.'totals.principal': totals.principal is the statement's own arithmetic (all "
        f"classes' principal), {told}",
        f"{deal}/deal.yaml:69: figures.'A.factor': A.factor is the statement's own arithmetic (class A certificate "
        f"factor: ending balance over original balance), {told}",
        f"{deal}/deal.yaml:70: figures.'A.per_1000.principal': A.per_1000.principal is the statement's own "
        f"arithmetic (class A principal per $1,000), {told}",
        "3 errors; nothing written"])
    assert not (tmp_path / "out").exists()


def test_a_rule_giving_a_negative_target_does_not_reconcile(deal, tmp_path):
    edited(deal, "if(not performance.stepdown, 3972995.74,", "if(not performance.stepdown, 0.00 - 3972995.74,")
    done = remit("render", deal, "--period", "2002-05", "--out", tmp_path / "out")
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        "2002-05: does not reconcile: oc.target is -3,972,995.74, below zero (a deal's rule for it gives a negative "
        "amount)", "1 error; nothing written"])
    assert not (tmp_path / "out").exists()


def test_a_figure_carried_from_no_figure_is_told(deal, tmp_path):
    """It was accepted, and the deal's second month crashed (KeyError) looking it up."""
    edited(deal, "\nfigures:\n", '\nfigures:\n  x.q: {type: money, carried_from: oc.targe, formula: "0.00"}\n')
    done = remit("check", deal, "--period", "2002-05")
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{deal}/deal.yaml:68: figures.'x.q'.carried_from: oc.targe is no figure of the deal (did you mean "
        "oc.target?) (expected the figure whose value at the previous distribution this one starts from)",
        "1 error; nothing written"])


def test_a_figure_named_by_a_word_formulas_read_as_their_own_is_refused(deal, tmp_path):
    edited(deal, "\nfigures:\n", '\nfigures:\n  and: "0.00"\n')
    done = remit("check", deal, "--period", "2002-05")
    assert (done.returncode, done.stderr.splitlines()) == (1, [
        f"{deal}/deal.yaml:68: figures.and: not a valid key: 'and' is a word formulas read as their own (expected a "
        "figure's name other than and, or, not, true, false, none)", "1 error; nothing written"])
