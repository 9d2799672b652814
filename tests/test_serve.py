"""The preview server: index, statements in every format, errors, 404s, refusals, no writes."""

from __future__ import annotations

import http.client
import json
import shutil
import threading
import time
from pathlib import Path

import pytest

from generator.pipeline import run
from generator.render import TEMPLATES, render_json
from generator.serve import make_server

from .conftest import REFERENCE_DEAL, ROOT

DEAL = REFERENCE_DEAL.name
FILED = ROOT / "tests" / "reference" / "new-century-2002-1_2002-05-28.filed.txt"


@pytest.fixture
def site(tmp_path: Path):
    """A server over a scratch copy of the reference deal and of the templates."""
    root, templates = tmp_path / "inputs", tmp_path / "templates"
    shutil.copytree(REFERENCE_DEAL, root / DEAL)
    shutil.copytree(TEMPLATES, templates)
    server = make_server(root, 0, templates=templates, quiet=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, root, templates
    server.shutdown()
    server.server_close()


def get(server, path: str) -> tuple[int, str, bytes]:
    conn = http.client.HTTPConnection(*server.server_address, timeout=60)
    conn.request("GET", path)  # sent as given: no client-side normalization of ".."
    resp = conn.getresponse()
    out = resp.status, resp.getheader("Content-Type"), resp.read()
    conn.close()
    return out


def snapshot(*folders: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for f in folders for p in sorted(f.rglob("*"))}


def test_binds_loopback_only(site):
    server, _, _ = site
    assert server.server_address[0] == "127.0.0.1"


def test_index_lists_deals_with_trust_series_and_latest_date(site):
    server, _, _ = site
    status, ctype, body = get(server, "/")
    page = body.decode()
    assert (status, ctype) == (200, "text/html; charset=utf-8")
    assert (f'<th scope="row"><a href="/{DEAL}/">{DEAL}</a></th><td>New Century Home Equity Loan Trust</td>'
            f'<td>2002-1</td><td><a href="/{DEAL}/2002-05">2002-05-28</a></td>') in page
    assert '<input type="search" id="filter"' in page


def test_deal_page_lists_statements_and_draws_its_history(site):
    server, _, _ = site
    status, _, body = get(server, f"/{DEAL}/")
    page = body.decode()
    assert status == 200 and f'<a href="/{DEAL}/2002-05">2002-05</a></th><td>2002-05-28</td>' in page
    for chart in ("chart-pool", "chart-factor", "chart-delinquency", "chart-losses", "chart-oc"):
        assert f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" id="{chart}"' in page
    assert '<a href="/">All deals</a>' in page and "<script src" not in page  # nothing fetched


def head(server, path: str):
    conn = http.client.HTTPConnection(*server.server_address, timeout=60)
    conn.request("HEAD", path)
    resp = conn.getresponse()
    out = resp.status, dict(resp.getheaders()), resp.read()
    conn.close()
    return out


def test_head_is_answered_and_downloads_are_named(site):
    server, _, _ = site
    status, headers, body = head(server, f"/{DEAL}/2002-05.pdf")
    assert status == 200 and body == b"" and int(headers["Content-Length"]) > 1000
    assert headers["Content-Disposition"] == f'inline; filename="{DEAL}_2002-05-28.pdf"'
    for ext, disposition in (("txt", "inline"), ("json", "inline"), ("xlsx", "attachment"), ("csv", "attachment")):
        conn = http.client.HTTPConnection(*server.server_address, timeout=60)
        conn.request("GET", f"/{DEAL}/2002-05.{ext}")
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        assert resp.status == 200 and data, ext
        assert resp.getheader("Content-Disposition") == f'{disposition}; filename="{DEAL}_2002-05-28.{ext}"'
    status, headers, _ = head(server, "/")
    assert status == 200 and "Content-Disposition" not in headers


def test_statement_page_links_every_format_and_reloads(site):
    server, _, _ = site
    status, _, body = get(server, f"/{DEAL}/2002-05")
    page = body.decode()
    assert status == 200
    for ext in ("txt", "pdf", "json", "xlsx", "csv"):
        assert f'href="/{DEAL}/2002-05.{ext}"' in page
    assert f'<a href="/">All deals</a> / <a href="/{DEAL}/">{DEAL}</a> / 2002-05' in page
    assert 'rel="prev"' not in page and 'rel="next"' not in page  # the only month on file
    assert f'"/__version?deal={DEAL}"' in page and "location.reload()" in page
    assert "<td class=\"num\" data-field=\"classes.A.principal\">1,767,305.99</td>" in page


def test_formats_are_the_renderer_outputs(site):
    server, _, _ = site
    status, ctype, body = get(server, f"/{DEAL}/2002-05.txt")
    assert (status, ctype) == (200, "text/plain; charset=utf-8")
    assert body == FILED.read_bytes()
    (computed,) = run(REFERENCE_DEAL, "2002-05")
    status, ctype, body = get(server, f"/{DEAL}/2002-05.json")
    assert (status, ctype) == (200, "application/json")
    assert json.loads(body) == json.loads(render_json(computed.statement))
    status, ctype, body = get(server, f"/{DEAL}/2002-05.pdf")
    assert (status, ctype) == (200, "application/pdf") and body.startswith(b"%PDF-")
    status, _, body = get(server, f"/{DEAL}/2002-05.html")
    assert status == 200 and b"<script" not in body  # the file a render writes: no live reload


@pytest.mark.parametrize("path", ["/nope/", "/nope/2002-05", f"/{DEAL}/2002-06", f"/{DEAL}/2002-13",
                                  f"/{DEAL}/2002-05.exe", f"/{DEAL}/deal.yaml", f"/{DEAL}/2002-05/x",
                                  "/__version?deal=nope"])
def test_unknown_deals_and_periods_are_404(site, path):
    server, _, _ = site
    status, _, body = get(server, path)
    assert status == 404, body


@pytest.mark.parametrize("path", ["/../inputs/", "/..", f"/{DEAL}/../../templates/statement.css",
                                  "/%2e%2e/%2e%2e/etc/passwd", f"/{DEAL}/..%2f..%2fetc%2fpasswd", "/./"])
def test_paths_with_dot_steps_are_refused_for_what_they_are(site, path):
    server, _, _ = site
    status, _, body = get(server, path)
    assert status == 403, body
    assert b"No page has a <code>.</code> or <code>..</code> step" in body and b'<a href="/">All deals</a>' in body


def test_version_changes_with_inputs_and_templates(site):
    server, root, templates = site
    url = f"/__version?deal={DEAL}"
    first = get(server, url)[2]
    assert get(server, url)[2] == first
    period = root / DEAL / "periods" / "2002-05.yaml"
    period.write_text(period.read_text().replace("prepayment_charges: 12525.30", "prepayment_charges: 12625.30"))
    second = get(server, url)[2]
    assert second != first
    css = templates / "statement.css"
    css.write_text(css.read_text() + "\n/* edited */\n")
    assert get(server, url)[2] not in (first, second)
    status, _, body = get(server, f"/{DEAL}/2002-05")
    assert status == 200 and b">12,625.30<" in body and b"/* edited */" in body


def test_input_errors_are_a_readable_page_and_the_server_keeps_running(site):
    server, root, _ = site
    period = root / DEAL / "periods" / "2002-05.yaml"
    good = period.read_text()
    lines = good.splitlines()
    line = next(i for i, text in enumerate(lines, 1) if text.startswith("  curtailments:"))
    period.write_text(good.replace("curtailments: 18331.70", "curtailments: lots"))
    status, ctype, body = get(server, f"/{DEAL}/2002-05")
    page = body.decode()
    assert (status, ctype) == (422, "text/html; charset=utf-8")
    assert f"inputs/{DEAL}/periods/2002-05.yaml:{line}: collections.curtailments: " in page
    assert "location.reload()" in page  # fixing the file brings the statement back
    assert get(server, "/")[0] == 200
    period.write_text(good)
    assert get(server, f"/{DEAL}/2002-05")[0] == 200


def test_template_errors_are_a_readable_page(site):
    server, _, templates = site
    page = templates / "statement.html.j2"
    text = page.read_text().replace("{{ deal.trust }}</span>", "{{ deal.no_such_field }}</span>", 1)
    page.write_text(text)
    line = next(i for i, t in enumerate(text.splitlines(), 1) if "no_such_field" in t)
    status, _, body = get(server, f"/{DEAL}/2002-05")
    assert status == 422
    assert f"templates/statement.html.j2:{line}: " in body.decode() and b"no_such_field" in body


def test_nothing_is_written(site):
    server, root, templates = site
    before = snapshot(root, templates)
    for path in ("/", f"/{DEAL}/", f"/{DEAL}/2002-05", f"/{DEAL}/2002-05.pdf", f"/{DEAL}/2002-05.txt",
                 f"/{DEAL}/2002-05.json", f"/{DEAL}/2002-05.html", f"/__version?deal={DEAL}", "/nope"):
        get(server, path)
    assert snapshot(root, templates) == before


def request(server, method: str, path: str) -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection(*server.server_address, timeout=60)
    conn.request(method, path)
    resp = conn.getresponse()
    resp.body = resp.read()
    conn.close()
    return resp


def test_the_index_reloads_when_what_it_shows_changes(site):
    """The index shows each deal's trust and series and its latest distribution: editing those
    files changes the version the open page polls, not only adding or removing a file."""
    server, root, _ = site
    before = get(server, "/__version")[2]
    deal = root / DEAL / "deal.yaml"
    deal.write_text(deal.read_text().replace("trust: New Century Home Equity Loan Trust", "trust: Renamed Trust"))
    assert get(server, "/__version")[2] != before
    assert "<td>Renamed Trust</td>" in get(server, "/")[2].decode()


def test_one_address_for_each_page(site):
    """A deal's page is its folder (/deal/, the bare name redirected there); a period with a
    stray dot, or an encoded slash in a name, is no page at all."""
    server, _, _ = site
    resp = request(server, "GET", f"/{DEAL}")
    assert (resp.status, resp.getheader("Location")) == (301, f"/{DEAL}/")
    resp = request(server, "GET", f"/{DEAL}?from=portal")  # the query goes along
    assert (resp.status, resp.getheader("Location")) == (301, f"/{DEAL}/?from=portal")
    for path in (f"/{DEAL}/2002-05.", f"/{DEAL}%2f2002-05", f"/{DEAL}%2F", f"/{DEAL}/2002-05%2F"):
        assert get(server, path)[0] == 404, path
    assert get(server, f"/{DEAL}/2002-05")[0] == 200 and get(server, f"/{DEAL}/2002-05.txt")[0] == 200


def test_the_preview_is_read_only_and_says_which_methods_it_takes(site):
    server, _, _ = site
    for method in ("POST", "PUT", "DELETE", "PATCH", "TRACE", "PROPFIND", "MKCOL", "LOCK"):
        resp = request(server, method, "/")
        assert (resp.status, resp.getheader("Allow")) == (405, "GET, HEAD, OPTIONS"), method
        assert resp.body == b"the preview is read-only: GET, HEAD, OPTIONS\n"  # as its Allow says
    resp = request(server, "OPTIONS", "/")
    assert (resp.status, resp.getheader("Allow"), resp.body) == (204, "GET, HEAD, OPTIONS", b"")


def test_a_page_has_one_address_with_leading_slashes_too(site):
    """http.server reads //deal/ as /deal/; the preview sends it to the one address instead."""
    import socket

    server, _, _ = site
    for target, to in ((f"//{DEAL}/", f"/{DEAL}/"), (f"///{DEAL}/2002-05.pdf", f"/{DEAL}/2002-05.pdf")):
        with socket.create_connection(server.server_address, timeout=60) as s:
            s.sendall(f"GET {target} HTTP/1.0\r\n\r\n".encode())
            answer = b""
            while chunk := s.recv(65536):
                answer += chunk
        head = answer.split(b"\r\n\r\n", 1)[0].decode().split("\r\n")
        assert head[0] == "HTTP/1.0 301 Moved Permanently" and f"Location: {to}" in head, head


def test_a_copy_of_a_deal_or_a_link_to_one_under_another_name_is_not_listed_twice(tmp_path):
    """A deal's folder copied (or linked) under a name that is not its deal's id would list one
    deal twice and serve its statements under a name that is not the deal's: it is listed as not
    read, by the rule a month end refuses it by, and its pages are not served."""
    root = tmp_path / "inputs"
    shutil.copytree(REFERENCE_DEAL, root / DEAL)
    shutil.copytree(REFERENCE_DEAL, root / "old-copy")
    (root / "link-to-it").symlink_to(root / DEAL, target_is_directory=True)
    server = make_server(root, 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        page = get(server, "/")[2].decode()
        assert page.count(f'<a href="/{DEAL}/">') == 1
        for name in ("link-to-it", "old-copy"):
            assert (f'<th scope="row">{name}</th><td colspan="3" class="bad">not read: id: &#x27;{DEAL}&#x27; is '
                    f'not the name of its folder &#x27;{name}&#x27; (expected a deal&#x27;s folder named by its '
                    "deal&#x27;s id, so that no two publish one deal&#x27;s statements)") in page
            assert get(server, f"/{name}/")[0] == 404
            assert get(server, f"/{name}/2002-05.txt")[0] == 404
        assert page.index(">link-to-it<") < page.index(">old-copy<")
        before = get(server, "/__version")[2]
        deal_file = root / "old-copy" / "deal.yaml"
        deal_file.write_text(deal_file.read_text().replace(f"id: {DEAL}\n", "id: old-copy\n", 1))
        assert get(server, "/__version")[2] != before  # an open index reloads
        page = get(server, "/")[2].decode()
        assert '<a href="/old-copy/">' in page and ">old-copy</th>" not in page
        assert get(server, "/old-copy/2002-05.txt")[0] == 200
    finally:
        server.shutdown()
        server.server_close()


def test_the_index_says_which_histories_cannot_be_computed_and_which_folders_are_not_read(tmp_path):
    """A deal whose latest month is fine but an earlier one is broken (a period file with an error,
    a month missing) is flagged on the index, not listed as if it were well; a folder that looks
    like a deal's but is not read as one is listed with why."""
    from .conftest import SYNTHETIC

    root = tmp_path / "inputs"
    shutil.copytree(REFERENCE_DEAL, root / DEAL)
    shutil.copytree(SYNTHETIC, root / SYNTHETIC.name)
    (root / "Copy_Of_Deal" / "periods").mkdir(parents=True)
    (root / "no-deal-file" / "periods").mkdir(parents=True)
    (root / "notes").mkdir()  # not a deal's: not listed
    server = make_server(root, 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        flag = f'<a class="bad" href="/{SYNTHETIC.name}/">its history cannot be computed: '
        page = get(server, "/")[2].decode()
        assert flag not in page and "bad" not in page.split(DEAL, 1)[1].split("</tr>", 1)[0]
        assert ('<th scope="row">Copy_Of_Deal</th><td colspan="3" class="bad">not read: a deal&#x27;s folder is named '
                'by its id, in lower-case letters, digits and hyphens') in page
        assert ('<th scope="row">no-deal-file</th><td colspan="3" class="bad">not read: no deal file (expected '
                'no-deal-file/deal.yaml beside its periods/)') in page
        assert ">notes<" not in page
        before = get(server, "/__version")[2]
        middle = root / SYNTHETIC.name / "periods" / "2026-06.yaml"
        middle.write_text(middle.read_text().replace("\n  curtailments: ", "\n  curtailments: [", 1))
        assert get(server, "/__version")[2] != before  # an open index reloads
        page = get(server, "/")[2].decode()
        assert f'{flag}1 problem (2026-06.yaml)</a>' in page
        (root / SYNTHETIC.name / "periods" / "2026-08.yaml").unlink()
        assert f'{flag}2 problems (2026-09.yaml, 2026-06.yaml)</a>' in get(server, "/")[2].decode()
    finally:
        server.shutdown()
        server.server_close()


def test_a_deal_that_cannot_be_computed_keeps_its_way_back_and_its_statements(site):
    server, root, _ = site
    period = root / DEAL / "periods" / "2002-05.yaml"
    period.write_text(period.read_text().replace("wac: 0.0865983", "wac: [0.08"))
    status, _, body = get(server, f"/{DEAL}/")
    page = body.decode()
    assert status == 422
    assert f'<nav class="crumbs"><a href="/">All deals</a> / {DEAL}</nav>' in page
    assert f'<li><a href="/{DEAL}/2002-05">2002-05</a></li>' in page
    status, _, body = get(server, f"/{DEAL}/2002-05")
    assert status == 422 and f'<a href="/">All deals</a> / <a href="/{DEAL}/">{DEAL}</a>' in body.decode()
    assert f'<a href="/{DEAL}/2002-05">2002-05: its report has errors</a>' in get(server, "/")[2].decode()


def test_a_client_that_hangs_up_is_no_error(site, capfd):
    """A cancelled download (the browser closes the connection mid-answer) leaves no traceback
    on the preview's console, and the preview goes on answering."""
    import socket

    server, _, _ = site
    for _ in range(2):
        with socket.create_connection(server.server_address, timeout=60) as s:
            s.sendall(f"GET /{DEAL}/2002-05.pdf HTTP/1.0\r\n\r\n".encode())
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")  # reset
    assert get(server, f"/{DEAL}/2002-05.pdf")[0] == 200  # after the two it waited for
    time.sleep(0.5)  # their answers, written to the closed connections
    assert get(server, "/")[0] == 200
    assert "Traceback" not in capfd.readouterr().err


def test_a_one_month_history_is_drawn_as_dots_on_a_scale_that_fits(site):
    """The reference deal has one month on file: each chart shows it as a dot (a line of one
    point draws nothing), labels the month once, and with no losses yet scales its losses chart
    to 1% rather than 100%, naming no loss trigger the deal does not have."""
    import re
    import xml.etree.ElementTree as ET

    server, _, _ = site
    page = get(server, f"/{DEAL}/")[2].decode()
    svg = "{http://www.w3.org/2000/svg}"
    for chart in re.findall(r'<svg .*?</svg>', page):
        tree = ET.fromstring(chart)
        assert tree.findall(f"{svg}polyline") == [] and len(tree.findall(f"{svg}circle")) >= 1
        assert [t.text for t in tree.findall(f"{svg}text")].count("2002-05") == 1
    losses = ET.fromstring(re.search(r'<svg [^>]*id="chart-losses".*?</svg>', page).group(0))
    texts = [t.text for t in losses.findall(f"{svg}text")]
    assert "1.00%" in texts and "100.00%" not in texts and "loss trigger" not in texts
    oc = ET.fromstring(re.search(r'<svg [^>]*id="chart-oc".*?</svg>', page).group(0))
    dots = oc.findall(f"{svg}circle")  # OC and its target, one month: a dot and a ring around it, both seen
    assert [d.get("fill") for d in dots][1:] == ["none"] and float(dots[1].get("r")) > float(dots[0].get("r"))


@pytest.mark.parametrize("line, status", [(b"garbage", 400), (b"GET / HTTP/1.1 extra", 400), (b"POST /", 400),
                                          (b"GET /", 200), (b"GET /nope HTTP/0.9", 404), (b"POST / HTTP/0.9", 405),
                                          (b"GET / x HTTP/0.9", 400)])
def test_a_malformed_request_line_gets_a_status_line_and_headers(site, line, status):
    """Not HTTP/0.9's bare body, which a client cannot tell from an answer."""
    import socket

    server, _, _ = site
    with socket.create_connection(server.server_address, timeout=60) as s:
        s.sendall(line + b"\r\n\r\n")
        answer = b""
        while chunk := s.recv(65536):
            answer += chunk
    head = answer.split(b"\r\n\r\n", 1)[0].split(b"\r\n")
    assert head[0].startswith(f"HTTP/1.0 {status} ".encode()), answer[:200]
    assert any(h.startswith(b"Content-Type: ") for h in head[1:]), head


def test_a_charts_legends_sit_above_its_plot_in_their_lines_colours():
    """Two series: their names stand one under the other above the plotted area (a line at its
    top strikes through neither), each in its line's colour."""
    import xml.etree.ElementTree as ET
    from decimal import Decimal as D

    from generator.chart import line_chart

    svg = "{http://www.w3.org/2000/svg}"
    tree = ET.fromstring(line_chart("OC", ["2024-01", "2024-02"], [("OC", [D(5), D(9)]), ("target", [D(9), D(9)])]))
    legends = [t for t in tree.findall(f"{svg}text") if t.get("class") == "legend"]
    lines = tree.findall(f"{svg}polyline")
    top = min(float(point.split(",")[1]) for line in lines for point in line.get("points").split())
    assert [t.text for t in legends] == ["\u2014 OC", "- - target"]  # as each is drawn: solid, dashed
    assert [line.get("stroke-dasharray") for line in lines] == [None, "7 5"]  # the target does not hide OC on it
    assert all(float(t.get("y")) + 4 < top for t in legends)  # the text's descent clears the plot
    assert [t.get("fill") for t in legends] == [line.get("stroke") for line in lines]


def test_a_loop_of_links_under_the_root_is_refused_not_an_error(site):
    """Two links naming each other lead nowhere: their addresses are refused (403) like any path
    that does not stay under the root, not answered with an internal error."""
    server, root, _ = site
    (root / "l1").symlink_to("l2")
    (root / "l2").symlink_to("l1")
    for path in ("/l1", "/l1/", "/l1/2002-05", "/l2/2002-05.txt"):
        assert get(server, path)[0] == 403, path
    status, _, body = get(server, "/")
    assert status == 200 and ">l1<" not in body.decode()


def test_a_link_out_of_the_root_is_refused_as_leaving_it(site):
    server, root, _ = site
    outside = root.parent / "elsewhere"
    outside.mkdir()
    (root / "out").symlink_to(outside, target_is_directory=True)
    status, _, body = get(server, "/out/")
    assert status == 403 and b"That path leaves the preview root." in body and b'<a href="/">All deals</a>' in body


@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_a_request_for_another_host_is_refused_so_no_page_elsewhere_reads_the_statements(site, method):
    """A web page whose host name was pointed at 127.0.0.1 (DNS rebinding) would reach the
    preview from the browser with its own name in Host: refused (421), by Host or by an
    absolute request target; 127.0.0.1 and localhost, at the preview's port, are answered."""
    import socket

    server, _, _ = site
    port = server.server_address[1]

    def ask(target: str, host: str) -> bytes:
        with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
            sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
            out = b""
            while chunk := sock.recv(65536):
                out += chunk
        return out

    for target, host in [("/", f"evil.example:{port}"), (f"/{DEAL}/2002-05.txt", "evil.example"),
                         ("http://evil.example/", f"127.0.0.1:{port}"), ("/", f"127.0.0.1:{port + 1}")]:
        head, _, body = ask(target, host).partition(b"\r\n\r\n")
        assert head.split(b" ")[1] == b"421", (target, host, head)
        assert body == (b"" if method == "HEAD" else
                        f"this preview answers only for 127.0.0.1:{port} or localhost:{port}\n".encode())
    for host in (f"127.0.0.1:{port}", f"LOCALHOST:{port}"):
        assert ask(f"/{DEAL}/", host).split(b" ")[1] == b"200", host


def test_a_bug_in_one_deals_history_flags_that_deal_and_the_index_still_answers(tmp_path, monkeypatch, capfd):
    """An unexpected exception while one deal's history is computed (a bug: none is known)
    made the whole index an internal error; the deal is flagged and the others listed."""
    from generator import serve

    from .conftest import SYNTHETIC

    root = tmp_path / "inputs"
    shutil.copytree(REFERENCE_DEAL, root / DEAL)
    shutil.copytree(SYNTHETIC, root / SYNTHETIC.name)
    real = serve.run

    def broken(deal_dir, *args, **kwargs):
        if Path(deal_dir).name == SYNTHETIC.name:
            raise ValueError("not enough values to unpack")
        return real(deal_dir, *args, **kwargs)

    monkeypatch.setattr(serve, "run", broken)
    server = make_server(root, 0, quiet=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        status, _, body = get(server, "/")
        page = body.decode()
        assert status == 200
        assert (f'<a class="bad" href="/{SYNTHETIC.name}/">its history cannot be computed: an internal '
                "error (ValueError; see the server&#x27;s output)</a>") in page
        assert f'href="/{DEAL}/2002-05"' in page
    finally:
        server.shutdown()
        server.server_close()
    assert "ValueError: not enough values to unpack" in capfd.readouterr().err
