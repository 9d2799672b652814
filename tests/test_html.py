"""The statement as a web page: complete, self-contained, escaped, and every figure the JSON's."""

from __future__ import annotations

import json
import re
from decimal import ROUND_HALF_UP, Decimal
from decimal import Decimal as D
from html.parser import HTMLParser

import pytest

from generator import formats
INTERNAL = "excess cash flow"  # the payee of transfers into the excess account (the deals' accounts: payee)
from generator.pipeline import run
from generator.render import render_json

from .conftest import INPUTS, REFERENCE_DEAL

NUMBER = re.compile(r"^-?[0-9][0-9,]*(\.[0-9]+)?%?$")


class Cells(HTMLParser):
    """Every element with a data-field or data-derived attribute, and every table cell."""

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[dict] = []
        self.figures: list[dict] = []  # elements carrying data-field / data-derived
        self.cells: list[dict] = []  # every td / th
        self.tags: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag in ("meta", "br", "link", "img", "input"):
            return
        item = {"tag": tag, "attrs": a, "text": ""}
        self.stack.append(item)
        if "data-field" in a or "data-derived" in a:
            self.figures.append(item)
        if tag in ("td", "th"):
            self.cells.append(item)

    def handle_endtag(self, tag):
        while self.stack:
            item = self.stack.pop()
            if item["tag"] == tag:
                break

    def handle_data(self, data):
        for item in self.stack:
            item["text"] += data


@pytest.fixture(scope="module")
def reference():
    (computed,) = run(REFERENCE_DEAL, "2002-05")
    page = formats.FORMATS["html"][1](computed, formats.TEMPLATES).decode("utf-8")
    parsed = Cells()
    parsed.feed(page)
    return computed, page, parsed, json.loads(render_json(computed.statement))


def resolve(data, path: str):
    """The value at a dotted field name; list items are found by their name, else by index."""
    parts = path.split(".")
    while parts:
        if isinstance(data, dict):
            for n in range(len(parts), 0, -1):  # keys may contain dots
                key = ".".join(parts[:n])
                if key in data:
                    data, parts = data[key], parts[n:]
                    break
            else:
                raise KeyError(path)
        else:
            for n in range(len(parts), 0, -1):
                key = ".".join(parts[:n])
                found = [x for x in data if isinstance(x, dict) and x.get("name") == key]
                if found:
                    data, parts = found[0], parts[n:]
                    break
            else:
                data, parts = data[int(parts[0])], parts[1:]
    return data


def shown(text: str, value) -> tuple[Decimal, Decimal]:
    """The displayed number and the exact value rounded as displayed (half-up)."""
    text = text.strip()
    exact = Decimal(str(value))
    if text.endswith("%"):
        text, exact = text[:-1], exact * 100
    number = Decimal(text.replace(",", ""))
    places = Decimal(1).scaleb(number.as_tuple().exponent)
    return number, exact.quantize(places, rounding=ROUND_HALF_UP)


def test_every_figure_equals_the_json_statement(reference):
    computed, _, parsed, data = reference
    deal = json.loads(computed.deal.model_dump_json(by_alias=True))
    checked = 0
    for item in parsed.figures:
        field = item["attrs"].get("data-field")
        if field is None:
            continue
        value = resolve({"deal": deal}, field) if field.startswith("deal.") else resolve(data, field)
        if isinstance(value, str) and len(value) == 10 and value[4] == "-":  # a date, shown as the record has it
            assert item["text"].strip() == value, field
            checked += 1
            continue
        number, expected = shown(item["text"], value)
        assert number == expected, f"{field}: page shows {item['text']!r}, statement has {value}"
        checked += 1
    assert checked > 300
    fields = {f["attrs"].get("data-field") for f in parsed.figures}
    for name in ("classes.A.beginning_balance", "classes.A.principal", "classes.A.interest", "classes.A.index",
                 "classes.A.margin", "net_wac_cap", "classes.M-4.rate", "classes.A.per_1000.principal",
                 "oc.target", "oc.ending", "cash.available", "cash.distributed", "performance.delinquency_pct"):
        assert name in fields, name


def test_derived_figures_follow_from_the_json(reference):
    _, _, parsed, data = reference
    derived = {f["attrs"]["data-derived"]: f["text"] for f in parsed.figures if "data-derived" in f["attrs"]}
    left = Decimal(data["cash"]["available"]) - Decimal(data["cash"]["distributed"])
    assert left == 0
    assert derived.pop("cash.available - cash.distributed") == "0.00"
    factor = Decimal(data["pool"]["ending_balance"]) / Decimal(data["pool"]["cutoff_balance"])
    assert round(Decimal(data["pool"]["factor"]), 20) == round(factor, 20)  # the record's, shown to 8 places
    shown_factor = {f["text"] for f in parsed.figures if f["attrs"].get("data-field") == "pool.factor"}
    assert shown_factor == {f"{factor.quantize(Decimal('1e-8'), 'ROUND_HALF_UP')}"}
    # each fund opens with what its first step paid plus what that step left
    available = derived
    assert available == {"waterfall.interest.available": "1,425,963.31",
                         "waterfall.principal.available": "1,767,305.99",
                         "waterfall.excess.available": "925,347.43",
                         "waterfall.prepayment charges.available": "12,525.30"}
    for section, shown_text in available.items():
        first = next(s for s in data["waterfall"] if f"waterfall.{s['section']}.available" == section)
        assert Decimal(shown_text.replace(",", "")) == Decimal(first["amount"]) + Decimal(first["remaining"])


def test_every_number_in_a_table_is_a_named_figure(reference):
    _, _, parsed, _ = reference
    figures = {id(f) for f in parsed.figures}
    for cell in parsed.cells:
        text = cell["text"].strip()
        if NUMBER.match(text) and cell["tag"] == "td":
            assert id(cell) in figures or "seq" in cell["attrs"].get("class", ""), text


def test_sources_and_uses_lists_every_step_and_ends_at_zero(reference):
    _, page, parsed, data = reference
    rows = [f for f in parsed.figures if re.fullmatch(r"waterfall\.\d+\.amount", f["attrs"].get("data-field", ""))]
    assert [r["attrs"]["data-field"] for r in rows] == [f"waterfall.{i}.amount" for i in range(len(data["waterfall"]))]
    paid = sum(Decimal(s["amount"]) for s in data["waterfall"] if s["payee"] != INTERNAL)
    assert paid == Decimal(data["cash"]["distributed"]) == Decimal(data["cash"]["available"]) == Decimal("3205794.60")
    assert "Class CE remaining excess cash flow" in page


def test_triggers_rates_and_oc_are_shown(reference):
    _, _, parsed, data = reference
    text = {f["attrs"]["data-field"]: f["text"] for f in parsed.figures if "data-field" in f["attrs"]}
    for t in data["triggers"]:
        assert f"triggers.{t['name']}.value" in text and f"triggers.{t['name']}.threshold" in text
    assert text["triggers.Delinquency.value"] == "1.11144%"
    assert text["classes.A.index"] == "1.84000%" and text["classes.A.margin"] == "0.33000%"
    assert text["classes.A.rate"] == "2.17000%" and text["net_wac_cap"] == "7.41803%"
    assert text["oc.ending"] == text["oc.target"] == "3,972,995.74"


def test_page_is_semantic_and_self_contained(reference):
    _, page, parsed, _ = reference
    assert page.startswith("<!DOCTYPE html>")
    tags = [t for t, _ in parsed.tags]
    html_attrs = dict(parsed.tags[0][1]) if parsed.tags[0][0] == "html" else {}
    assert html_attrs.get("lang") == "en"
    assert "<title>New Century Home Equity Loan Trust 2002-1 Statement to Certificateholders, May 28, 2002</title>" in page
    assert tags.count("table") == tags.count("caption") >= 20
    assert tags.count("thead") >= 12
    assert all(a.get("scope") in ("col", "row", "colgroup", "rowgroup") for t, a in parsed.tags if t == "th")
    assert tags.count("h2") >= 14
    assert "script" not in tags  # the live-reload script is the preview server's only
    for t, a in parsed.tags:
        assert not {"src", "href"} & set(a), (t, a)  # nothing fetched, nothing linked
    assert "@import" not in page and "url(" not in page
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in page


def test_text_from_inputs_is_escaped(reference_deal, tmp_path):
    deal_yaml = reference_deal / "deal.yaml"
    deal_yaml.write_text(deal_yaml.read_text().replace(
        "trust: New Century Home Equity Loan Trust", 'trust: "New Century <script>alert(1)</script> & Co"'))
    (computed,) = run(reference_deal, "2002-05")
    page = formats.FORMATS["html"][1](computed, formats.TEMPLATES).decode()
    assert "<script>" not in page
    assert "New Century &lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


def test_html_golden(reference, file_regression):
    _, page, _, _ = reference
    file_regression.check(page, basename="new-century-2002-1_2002-05-28", extension=".html")


def test_a_label_value_parser_finds_the_distribution_summary(reference):
    """What a generic reader of EDGAR distribution reports does (a label in one cell, its value in
    the next): it finds each summary figure as a plain number equal to the JSON's."""
    from html.parser import HTMLParser

    computed, page, _, data = reference

    class Pairs(HTMLParser):
        def __init__(self):
            super().__init__()
            self.rows, self.cells, self.cell = [], None, None

        def handle_starttag(self, tag, attrs):
            if tag == "tr":
                self.cells = []
            elif tag in ("th", "td") and self.cells is not None:
                self.cell = ""

        def handle_data(self, text):
            if self.cell is not None:
                self.cell += text

        def handle_endtag(self, tag):
            if tag in ("th", "td") and self.cell is not None:
                self.cells.append(self.cell.strip())
                self.cell = None
            elif tag == "tr" and self.cells:
                self.rows.append(self.cells)
                self.cells = None

    parser = Pairs()
    parser.feed(page)
    pairs = {row[0]: row[1] for row in parser.rows if len(row) == 2}
    expected = {"Distribution Date": data["distribution_date"], "Record Date": data["record_date"],
                "Beginning Pool Balance": data["pool"]["beginning_balance"],
                "Ending Pool Balance": data["pool"]["ending_balance"],
                "Total Principal Distribution": data["totals"]["principal"],
                "Total Interest Distribution": data["totals"]["interest"], "Total Distribution": data["totals"]["total"],
                "30-59 Days Delinquent Balance": data["delinquency"]["days_30_59"]["stated_balance"],
                "60-89 Days Delinquent Balance": data["delinquency"]["days_60_89"]["stated_balance"],
                "90+ Days Delinquent Balance": data["delinquency"]["days_90_plus"]["stated_balance"],
                "Realized Losses": data["losses"]["realized"],
                "Cumulative Realized Losses": data["losses"]["cumulative"]}
    for label, value in expected.items():
        assert pairs[label] == value, label
    assert Decimal(pairs["Pool Factor"]) == (Decimal(data["pool"]["ending_balance"])
                                             / Decimal(data["pool"]["cutoff_balance"])).quantize(Decimal("1e-8"))


def test_a_reported_date_or_flag_is_shown_with_its_field(tmp_path):
    """A deal may report any figure: a date or a yes/no one too, each with the record's field."""
    import shutil

    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    text = (deal / "deal.yaml").read_text()
    assert "\nreport: [reserve.draw,\n" in text
    (deal / "deal.yaml").write_text(text.replace("\nreport: [reserve.draw,\n",
                                                 "\nreport: [distribution_date, performance.stepdown_before, reserve.draw,\n"))
    (computed,) = run(deal, "2025-02")
    parsed = Cells()
    parsed.feed(formats.FORMATS["html"][1](computed, formats.TEMPLATES).decode("utf-8"))
    data = json.loads(render_json(computed.statement))
    cells = {f["attrs"]["data-field"]: f["text"] for f in parsed.figures if "data-field" in f["attrs"]}
    assert data["extra"]["figures"]["distribution_date"] == "2025-02-18"
    assert data["extra"]["figures"]["performance.stepdown_before"] is False
    assert cells["extra.figures.distribution_date"] == "2025-02-18"
    assert cells["extra.figures.performance.stepdown_before"] == "NO"
    number, expected = shown(cells["extra.figures.reserve.draw"], resolve(data, "extra.figures.reserve.draw"))
    assert number == expected


def test_a_reported_rate_is_a_percentage_as_the_rest_of_the_page():
    [c] = run(INPUTS / "synthetic-auto-2025-1", "2025-06")
    parsed = Cells()
    parsed.feed(formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8"))
    cells = {f["attrs"]["data-field"]: f["text"] for f in parsed.figures if "data-field" in f["attrs"]}
    value = c.statement.extra["figures"]["delinquency.pct_30_59"]
    assert cells["extra.figures.delinquency.pct_30_59"] == f"{(value * 100).quantize(Decimal('1e-5'), ROUND_HALF_UP)}%"
    assert cells["extra.figures.reserve.draw"] == "0.00"


def sources_add_up(c) -> list[str]:
    """The Sources rows of the statement page, checked to add up to its available funds."""
    page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
    sources = page.split('<tbody class="sources">', 1)[1].split("</tbody>", 1)[0]
    rows = re.findall(r'<tr( class="subtotal")?>(.*?)<td class="num"[^>]*>([-0-9,.]+)</td>', sources)
    *parts, (subtotal, _, available) = rows
    assert subtotal and not any(s for s, _, _ in parts)
    total = sum((Decimal(v.replace(",", "")) for _, _, v in parts), Decimal(0))
    assert total == Decimal(available.replace(",", "")) == Decimal(c.statement.cash["available"]), c.period.period
    return [label for _, label, _ in parts]


@pytest.mark.parametrize("deal", sorted(p.name for p in INPUTS.iterdir() if (p / "deal.yaml").exists()))
def test_the_sources_add_up_to_the_available_funds(deal):
    """Every source of the month's cash is listed: a reserve account's draw, a swap's receipt
    and a policy's draw too, not only the remittances, in every month of every bundled deal."""
    months = 0
    for c in run(INPUTS / deal, "all"):
        sources_add_up(c)
        months += 1
    assert months >= 1


def test_a_deposit_of_the_deals_own_kind_is_among_the_sources(tmp_path):
    import shutil

    deal = tmp_path / "synthetic-auto-2025-1"
    shutil.copytree(INPUTS / deal.name, deal)
    text = (deal / "deal.yaml").read_text()
    for old, new in (("  - {name: excess, payee: excess cash flow}\n",
                      "  - {name: excess, payee: excess cash flow}\n  - {name: supplement, label: yield supplement, "
                      "deposit: \"cents(pool.beginning_balance * 0.0001)\"}\n"),
                     ("  - {pay: extra_principal, from: excess}\n",
                      "  - {transfer: remaining, from: supplement, to: excess, description: Yield supplement}\n"
                      "  - {pay: extra_principal, from: excess}\n")):
        assert old in text
        text = text.replace(old, new, 1)
    (deal / "deal.yaml").write_text(text)
    (c,) = run(deal, "2025-06")
    labels = sources_add_up(c)
    assert any("Other deposits to the deal" in label for label in labels)


def test_a_fund_is_labelled_as_the_deal_names_it_capitalised_not_lowercased():
    """Capitalising the first letter only: str.capitalize() made "group I interest" "Group i interest"."""
    from generator.html import funds
    from generator.pipeline import run as run_deal

    from .conftest import INPUTS

    [c] = run_deal(INPUTS / "synthetic-two-group-2025-1", "2026-04")
    labels = [f["label"] for f in funds(c)]
    assert "Group I interest" in labels and "Group II interest" in labels, labels


def _words(deal: str, month: str) -> tuple[str, list[str], str]:
    [c] = run(INPUTS / deal, month)
    page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
    return (re.search(r"<title>(.*?)</title>", page).group(1), re.findall(r"<h2>(.*?)</h2>", page),
            re.search(r"<caption>(Per \$1,000.*?)</caption>", page).group(1))


def test_a_deal_of_notes_is_a_statement_to_noteholders_and_each_caption_names_the_deals_own_classes():
    title, headings, per_1000 = _words("synthetic-auto-2025-1", "2025-06")
    assert title == "Synthetic Auto Receivables Trust 2025-1 Statement to Noteholders, June 16, 2025"
    assert {"Notes", "Amounts per $1,000 and note factors", "Interest rates"} <= set(headings)
    assert "Certificates" not in headings and "Pass-through rates" not in headings
    assert per_1000 == "Per $1,000 of original balance"  # its residual class CERT has no per-$1,000 amounts
    title, headings, per_1000 = _words("synthetic-two-group-2025-1", "2025-07")
    assert "Statement to Certificateholders" in title and "Certificates" in headings
    assert per_1000 == "Per $1,000 of original balance (class CE: of current notional)"  # no class P
    assert _words("new-century-2002-1", "2002-05")[2] == ("Per $1,000 of original balance (class CE: of current "
                                                          "notional; class P: of its $100)")


def test_an_auto_loan_deals_page_speaks_of_vehicles_not_mortgages():
    """The auto deal's own template gives the standard page its collateral's words: its page
    said Mortgage pool, mortgage rate, foreclosure and REO properties.  Every figure is still
    there, under its own field."""
    [c] = run(INPUTS / "synthetic-auto-2025-1", "2025-06")
    page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
    words = re.sub(r"<[^>]+>", " ", re.sub(r"<(style|head)>.*?</\1>", "", page, flags=re.S))
    assert re.findall(r"(?i)mortgage|foreclos|\bREO\b|propert", words) == []
    assert {"Receivables pool", "Repossessed vehicles"} <= set(re.findall(r"<h2>(.*?)</h2>", page))
    assert "<th scope=\"row\">Beginning weighted average APR</th>" in page
    for field in ("reo.stated_balance", "reo.book_value", "reo.principal_amortization",
                  "delinquency.foreclosure.count", "pool.wac"):
        assert f'data-field="{field}"' in page, field
    reference = _words("new-century-2002-1", "2002-05")[1]
    assert {"Mortgage pool", "REO properties"} <= set(reference)  # the standard words, where a deal keeps them


def _accrual(deal_dir, month: str) -> tuple[str, str]:
    """The masthead's accrual period and the Net WAC cap's label, as the page words them."""
    [c] = run(deal_dir, month)
    page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
    accrual = re.search(r"<dt>Accrual period</dt><dd>(.*?)</dd>", page, re.S).group(1)
    return re.sub(r"<[^>]+>|\s+", lambda m: " " if m.group().isspace() else "", accrual).strip(), \
        re.search(r'<th scope="row">(Net WAC cap[^<]*)</th>', page).group(1)


def test_the_accrual_period_names_the_day_count_the_classes_accrue_on(tmp_path):
    """The masthead said Actual/360 on every deal, the auto deal's 30/360 notes too."""
    import shutil

    assert _accrual(REFERENCE_DEAL, "2002-05") == (
        "April 25, 2002 to May 28, 2002 (33 days, Actual/360)", "Net WAC cap (Actual/360)")
    assert _accrual(INPUTS / "synthetic-auto-2025-1", "2025-06") == (
        "May 15, 2025 to June 16, 2025 (32 days; each class&#39;s day count under Coupon terms)", "Net WAC cap")
    deal = tmp_path / "synthetic-auto-2025-1"  # every class on 30/360
    shutil.copytree(INPUTS / deal.name, deal)
    (deal / "deal.yaml").write_text((deal / "deal.yaml").read_text().replace("day_count: actual/360", "day_count: 30/360"))
    assert _accrual(deal, "2025-06") == (
        "May 15, 2025 to June 16, 2025 (32 days; coupons accrue 30/360, see Coupon terms)", "Net WAC cap")


def test_an_insurers_policy_a_payment_to_the_insurer_and_an_interest_only_class_are_shown_as_paid():
    """The two-group deal's December 2025: the policy's heading gave its first draw only
    (510,249.47 of 1,056,249.47 drawn), the insurer's premium fee was styled a transfer between
    funds ("not distributions") because the policy account names the insurer as its payee, and
    class A-IO (75,000.00 owed) was missing from the interest table whose total counts it."""
    from generator.html import funds

    [c] = run(INPUTS / "synthetic-two-group-2025-1", "2025-12")
    [policy] = [f for f in funds(c) if f["section"] == "insurance policy"]
    drawn = [c.statement.waterfall[i].amount for i in policy["steps"]]
    assert policy["available"] == sum(drawn) == D("1056249.47") == c.run.values["accounts.policy.drawn"]
    page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
    flow = page[page.index('<section id="funds">'):]
    [premium] = [r for r in re.findall(r"<tr[^>]*>.*?</tr>", flow[:flow.index("</section>")], re.S)
                 if "Insurance Premium fee" in r]
    assert 'class="transfer"' not in premium and "<td>Insurer</td>" in premium
    interest = page[page.index('<section id="interest">'):]
    interest = interest[:interest.index("</section>")]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th>', interest)
    assert rows[:3] == ["A-1", "A-2", "A-IO"]
    assert '>75,000.00</td></tr>' in interest  # A-IO's carry forward


def test_a_swap_is_named_once_and_its_table_scrolls_on_a_phone(tmp_path):
    """"Received under the swap Swap", an agreement "Swap swap", and the one table of the page
    not in a scrolling box, which made a phone's page scroll sideways."""
    import shutil

    from .test_errors import edit

    def hedges(deal_dir):
        [c] = run(deal_dir, "2025-12")
        page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
        section = page[page.index('<section id="hedges">'):]
        return (re.findall(r"Received under the ([^<]*)", page), re.findall(r'<tr><th scope="row">([^<]*)</th><td>Example',
                section), section.split("\n")[2])

    deal = INPUTS / "synthetic-two-group-2025-1"
    assert hedges(deal) == (["Swap (Example Bank, N.A.)"], ["Swap"], '<div class="scroll">')
    renamed = tmp_path / deal.name
    shutil.copytree(deal, renamed)
    edit(renamed / "deal.yaml", "  - name: Swap\n", "  - name: Basis\n")
    text = (renamed / "deal.yaml").read_text()
    (renamed / "deal.yaml").write_text(text.replace("swaps.Swap.", "swaps.Basis."))
    assert hedges(renamed)[:2] == (["swap Basis (Example Bank, N.A.)"], ["Swap Basis"])


def test_the_deals_own_figures_are_labelled_as_its_deal_file_words_them():
    [c] = run(INPUTS / "synthetic-auto-2025-1", "2026-03")
    page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
    assert ('<tr><th scope="row">Drawn on the reserve account for note interest (<code>reserve.draw</code>)</th>'
            '<td class="num" data-field="extra.figures.reserve.draw">820,195.94</td></tr>') in page


def test_a_count_of_thousands_has_its_separators():
    """Loan counts read 21374 beside amounts written 1,056,249.47."""
    [c] = run(INPUTS / "synthetic-home-equity-2024-1", "2024-02")
    page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
    count = c.statement.pool["ending_count"]
    assert count >= 1000 and f'data-field="pool.ending_count">{count:,}</td>' in page


def test_a_trigger_without_a_threshold_yet_is_shown_not_tested():
    """The home equity deal's cumulative loss test starts at distribution 37: before it, the
    test was missing from the page without a word, though losses were already 6.34%."""
    [c] = run(INPUTS / "synthetic-home-equity-2024-1", "2025-03")
    assert [t.name for t in c.statement.triggers] == ["Delinquency"]
    page = formats.FORMATS["html"][1](c, formats.TEMPLATES).decode("utf-8")
    assert ('<tr><th scope="row">Cumulative losses</th><td class="num na" colspan="2">No threshold this period</td>'
            '<td class="flag">Not tested</td></tr>') in page
