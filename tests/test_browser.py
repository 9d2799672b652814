"""The preview in a real browser: Playwright driving Debian's Chromium."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path

import pytest

from generator.serve import make_server

from .conftest import REFERENCE_DEAL

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--no-first-run"]
DEAL = REFERENCE_DEAL.name


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: install the Debian package chromium (scripts/setup does)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail("the playwright package is missing: .venv/bin/pip install -e '.[test]'")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def site(tmp_path: Path):
    root = tmp_path / "inputs"
    shutil.copytree(REFERENCE_DEAL, root / DEAL)
    server = make_server(root, 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", root
    server.shutdown()
    server.server_close()


def class_row(page, name: str):
    return page.locator("#distribution tbody tr").filter(has=page.locator("th", has_text=re.compile(f"^{name}$")))


def test_index_to_reference_statement(browser, site, tmp_path):
    from playwright.sync_api import expect

    url, _ = site
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(url + "/")
    page.get_by_role("link", name="2002-05").click()
    expect(page).to_have_url(f"{url}/{DEAL}/2002-05")
    expect(page).to_have_title("New Century Home Equity Loan Trust 2002-1 Statement to Certificateholders, May 28, 2002")
    cells = class_row(page, "A").locator("td").all_inner_texts()
    assert cells == ["64352VCC3", "160,901,000.00", "160,231,105.07", "1,767,305.99", "318,726.37",
                     "2,086,032.36", "0.00", "158,463,799.08"]
    shot = tmp_path / "statement.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.read_bytes().startswith(b"\x89PNG")
    for name in ("Text", "PDF", "JSON"):  # the other formats are a click away
        href = page.get_by_role("link", name=name, exact=True).get_attribute("href")
        assert page.request.get(url + href).status == 200
    page.close()


def scrolled_width(browser, address: str, width: int) -> int:
    """How wide the page at ``address`` is laid out on a screen ``width`` pixels wide."""
    page = browser.new_page(viewport={"width": width, "height": 844})
    page.goto(address)
    try:
        return page.evaluate("document.documentElement.scrollWidth")
    finally:
        page.close()


def test_phone_width_keeps_the_page_inside_the_screen(browser, site):
    url, _ = site
    # wide tables scroll inside their own box; the page itself does not scroll sideways
    assert scrolled_width(browser, f"{url}/{DEAL}/2002-05", 390) <= 390


@pytest.mark.parametrize("deal", ["new-century-2002-1", "synthetic-home-equity-2024-1", "synthetic-auto-2025-1",
                                  "synthetic-two-group-2025-1"])
def test_phone_width_keeps_every_bundled_deals_statement_inside_the_screen(browser, tmp_path, deal):
    """Each deal's latest statement, with its own sections (accounts, hedges, loan groups, the
    figures its rules report, whose names are long words): nothing makes the page scroll sideways."""
    from click.testing import CliRunner

    from generator.cli import main

    from .conftest import INPUTS

    done = CliRunner().invoke(main, ["render", str(INPUTS / deal), "-p", "latest", "-f", "html", "-o", str(tmp_path)])
    assert done.exit_code == 0, done.output
    [page] = tmp_path.glob("*.html")
    assert scrolled_width(browser, page.as_uri(), 390) <= 390


def test_open_page_follows_an_edited_input(browser, site):
    from playwright.sync_api import expect

    url, root = site
    page = browser.new_page()
    page.goto(f"{url}/{DEAL}/2002-05")
    p_interest = class_row(page, "P").locator("td").nth(4)
    expect(p_interest).to_have_text("12,525.30")
    period = root / DEAL / "periods" / "2002-05.yaml"
    good = period.read_text()
    period.write_text(good.replace("prepayment_charges: 12525.30", "prepayment_charges: 12625.30"))
    expect(p_interest).to_have_text("12,625.30", timeout=20_000)
    # a broken input shows its file:line on the open page, and fixing it brings the statement back
    period.write_text(good.replace("curtailments: 18331.70", "curtailments: lots"))
    expect(page.locator(".errors")).to_contain_text("2002-05.yaml:", timeout=20_000)
    expect(page.locator(".errors")).to_contain_text("collections.curtailments")
    period.write_text(good)
    expect(class_row(page, "P").locator("td").nth(4)).to_have_text("12,525.30", timeout=20_000)
    page.close()


def test_phone_width_keeps_a_deals_charts_inside_the_screen(browser, book_site):
    url, deal = book_site
    assert scrolled_width(browser, f"{url}/{deal}/", 375) <= 375


@pytest.mark.parametrize("width", [390, 1280])
def test_a_charts_words_are_readable_on_a_phone_and_a_desktop(browser, book_site, width):
    """Every title, axis label and legend of a deal's charts is drawn at least 11 px high: a
    chart is scaled to its screen, and its words with it."""
    url, deal = book_site
    page = browser.new_page(viewport={"width": width, "height": 844})
    page.goto(f"{url}/{deal}/")
    sizes = page.locator("svg.chart text").evaluate_all(
        "ts => ts.map(t => [t.textContent, parseFloat(getComputedStyle(t).fontSize) * t.getScreenCTM().a])")
    page.close()
    assert len(sizes) >= 5 * 4  # five charts, each a title, two axis values, two months and a legend
    small = [(text, round(px, 1)) for text, px in sizes if px < 11]
    assert small == []


@pytest.fixture
def book_site(tmp_path: Path):
    """The preview over the reference deal and the synthetic deal (60 months)."""
    from .conftest import SYNTHETIC

    root = tmp_path / "inputs"
    shutil.copytree(REFERENCE_DEAL, root / DEAL)
    shutil.copytree(SYNTHETIC, root / SYNTHETIC.name)
    server = make_server(root, 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", SYNTHETIC.name
    server.shutdown()
    server.server_close()


def test_walk_through_index_deal_chart_statement_next_month_download(browser, book_site, tmp_path):
    """An investor's walk: the index, filtered; a deal's page and its history chart; a statement;
    the next month; a download named for the deal and date.  Screenshots of each step are saved
    (to $REMIT_SCREENSHOTS when set, to look at)."""
    import os

    from playwright.sync_api import expect

    url, deal = book_site
    shots = Path(os.environ.get("REMIT_SCREENSHOTS") or tmp_path)
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page.goto(url + "/")
    expect(page.locator("#deals tbody tr")).to_have_count(2)
    page.fill("#filter", "equity synthetic")  # every word, in any order
    expect(page.locator("#deals tbody tr:visible")).to_have_count(1)
    page.reload()  # as the page does when an input changes: the filter stays
    expect(page).to_have_url(url + "/#q=equity%20synthetic")
    expect(page.locator("#filter")).to_have_value("equity synthetic")
    expect(page.locator("#deals tbody tr:visible")).to_have_count(1)
    page.screenshot(path=str(shots / "portal-index.png"), full_page=True)
    page.get_by_role("link", name=deal, exact=True).click()
    expect(page).to_have_url(f"{url}/{deal}/")
    chart = page.locator("#chart-oc")
    expect(chart).to_be_visible()
    assert chart.locator("polyline").count() == 2  # OC and its target
    assert page.locator("#chart-losses polyline").count() >= 2  # cumulative losses and the loss trigger
    # each legend in its own line's colour
    fills = chart.locator("text.legend").evaluate_all("ts => ts.map(t => getComputedStyle(t).fill)")
    strokes = chart.locator("polyline").evaluate_all("ps => ps.map(p => getComputedStyle(p).stroke)")
    assert fills == strokes and len(set(fills)) == 2
    page.screenshot(path=str(shots / "portal-deal.png"), full_page=True)
    page.get_by_role("link", name="2026-05", exact=True).click()
    expect(page).to_have_url(f"{url}/{deal}/2026-05")
    page.screenshot(path=str(shots / "portal-statement.png"))
    page.get_by_role("link", name="Next month").click()
    expect(page).to_have_url(f"{url}/{deal}/2026-06")
    expect(page.get_by_role("link", name="Previous month")).to_have_attribute("href", f"/{deal}/2026-05")
    with page.expect_download() as info:
        page.get_by_role("link", name="XLSX", exact=True).click()
    assert info.value.suggested_filename == f"{deal}_2026-06-25.xlsx"
    page.get_by_role("link", name="All deals").click()
    expect(page).to_have_url(url + "/")
    for name in ("portal-index.png", "portal-deal.png", "portal-statement.png"):
        assert (shots / name).read_bytes().startswith(b"\x89PNG")
    page.close()


def test_the_filter_says_when_nothing_matches_follows_the_address_and_is_not_shown_without_script(browser,
                                                                                                    book_site):
    """Typing a word no deal holds leaves a line saying so, not a bare header; a date is a word
    the filter finds; a new #q= in the address (a link followed, Back) filters again; and a
    browser without script is shown no filter box that would do nothing."""
    from playwright.sync_api import expect

    url, deal = book_site
    page = browser.new_page()
    page.goto(url + "/")
    expect(page.locator("#no-match")).to_be_hidden()
    page.fill("#filter", "zzz")
    expect(page.locator("#deals tbody tr:visible")).to_have_count(0)
    expect(page.locator("#no-match")).to_have_text("No deal matches the filter.")
    latest = page.locator("#deals tbody tr").first.locator("td").nth(2).locator("a").first.inner_text()
    page.fill("#filter", latest)  # the latest distribution date, as the index prints it
    expect(page.locator("#deals tbody tr:visible")).not_to_have_count(0)
    expect(page.locator("#no-match")).to_be_hidden()
    page.evaluate("location.hash = '#q=zzz'")
    expect(page.locator("#filter")).to_have_value("zzz")
    expect(page.locator("#no-match")).to_be_visible()
    page.go_back()
    expect(page.locator("#filter")).to_have_value(latest)
    expect(page.locator("#deals tbody tr:visible")).not_to_have_count(0)
    page.close()
    context = browser.new_context(java_script_enabled=False)
    plain = context.new_page()
    plain.goto(url + "/")
    expect(plain.locator("#filter")).to_be_hidden()
    expect(plain.locator("#deals tbody tr:visible")).to_have_count(2)
    context.close()


def test_a_malformed_filter_in_the_address_is_taken_as_written(browser, book_site):
    """A link cut short (``#q=%E0%A4%A``) cannot be decoded: the filter takes it as written and
    still filters as it is typed into, rather than the script stopping."""
    from playwright.sync_api import expect

    url, deal = book_site
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url + "/#q=%E0%A4%A")
    expect(page.locator("#filter")).to_have_value("%E0%A4%A")
    expect(page.locator("#deals tbody tr:visible")).to_have_count(0)
    page.fill("#filter", "synthetic")
    expect(page.locator("#deals tbody tr:visible")).to_have_count(1)
    expect(page).to_have_url(url + "/#q=synthetic")
    assert errors == []
    page.close()
