"""The planner's desk in a real headless Chromium: from a Chinese workbook to a plan, a map, a
sheet, a download and a what-if, with nothing fetched from outside the desk.

``ROUTEPLAN_SCREENSHOTS=docs pytest tests/test_desk_browser.py`` also saves the screenshots
the README shows.
"""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from conftest import TINY, workbook_scenario

pytest.importorskip("flask", reason="the web desk's extra is not installed: pip install -e '.[web]'")

from routeplan.cli import main
from routeplan.render.pdf import find_browser
from routeplan.web.app import create_app

BROWSER = find_browser()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(BROWSER is None, reason="no Chromium/Chrome found (.ci/run installs Debian's chromium)"),
]
XSS = '<img src=x onerror="window.__pwned=1">'
SHOTS = os.environ.get("ROUTEPLAN_SCREENSHOTS")


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """The desk on a free loopback port, over a fresh workspace."""
    from werkzeug.serving import make_server

    ws = tmp_path_factory.mktemp("desk") / "ws"
    app = create_app(ws)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_port}", ws
    server.shutdown()
    app.extensions["routeplan_desk"].close()


@pytest.fixture
def page(browser, served):
    """A page that may reach the desk only, recording console errors and refused requests."""
    base, _ = served
    context = browser.new_context(viewport={"width": 1300, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.errors, page.refused = [], []

    def route(r):
        if r.request.url.startswith(base) or r.request.url.startswith("data:"):
            r.continue_()
        else:
            page.refused.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("console", lambda m: page.errors.append((m.text, m.location.get("url", ""))) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _shot(page, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SHOTS) / f"desk-{name}.png"), full_page=False)


def _workbook(tmp: Path) -> Path:
    """The tiny scenario as a sales-system workbook: Chinese headers, a title row, one bad latitude."""

    def edit(wb):
        wb["门店"]["C5"] = "无"
        wb["门店"]["B3"] = XSS

    return workbook_scenario(tmp / "wb", edit=edit) / "门店.xlsx"


def test_workbook_to_plan_map_sheet_download_and_whatif(page, served, tmp_path: Path):
    base, ws = served
    page.goto(base + "/")
    page.click("#lang-switch")
    assert page.locator("header nav").inner_text().startswith("方案")

    # upload a workbook with Chinese headers; the bad row is listed and fixed on the page
    page.goto(base + "/scenarios/new")
    page.set_input_files("input[name=shops]", str(_workbook(tmp_path)))
    page.click("#upload")
    assert page.evaluate("window.__pwned") is None  # the hostile shop name in the preview is text
    assert page.locator(".bad-row").count() == 1
    assert "无" in page.locator(".bad-row").inner_text()
    assert page.locator("#save").count() == 0
    _shot(page, "upload")
    page.fill("input[name='fix:retailers:5:lat']", "30.62")
    page.click("#apply")
    assert page.locator("#no-bad-rows").is_visible()
    page.fill("input[name=name]", "城东片区")
    page.fill("input[name=month]", "2026-12")
    page.click("#save")
    assert "90" in page.locator("#scenario-figures").inner_text()
    slug = page.url.rsplit("/", 1)[1]
    # the office's rules for this small town: fewer stops and field hours, class A four times
    page.fill("#rules-form input[name=min_stops_per_day]", "8")
    page.fill("#rules-form input[name=min_field_minutes]", "90")
    page.fill("#rules-form input[name='class:A']", "4")
    page.click("#save-rules")
    assert "min_stops_per_day = 8" in (ws / "scenarios" / slug / "scenario.toml").read_text(encoding="utf-8")
    _shot(page, "scenario")

    # plan it; the run page follows the progress and shows the result
    page.fill("#plan-form input[name=time_limit]", "3")
    page.fill("#plan-form input[name=seed]", "4")
    page.select_option("#plan-form select[name=tiles]", "none")
    page.click("#start-plan")
    page.wait_for_selector("#verdict", timeout=240_000)
    assert "所有规则均满足" in page.locator("#verdict").inner_text()
    assert page.evaluate("window.__pwned") is None
    run_id = int(page.url.rsplit("/", 1)[1])
    _shot(page, "plan")

    # the same plan as the command line for the same seed
    out = tmp_path / "cli"
    args = ["plan", str(ws / "scenarios" / slug), "-o", str(out), "--time-limit", "3", "--seed", "4", "--workers",
            "1", "--reproducible", "--quiet", "--no-render"]  # fmt: skip
    assert main(args) == 0
    assert (ws / "plans" / str(run_id) / "visits.csv").read_text() == (out / "visits.csv").read_text()

    # the map draws the routes; a day sheet lists its stops, with the hostile name as text
    frame = page.frame_locator("#plan-map")
    frame.locator(".leaflet-container").wait_for()
    assert frame.locator("path.leaflet-interactive").count() > 0
    with page.expect_download() as got:
        page.click("#download-workbook")
    saved = tmp_path / "schedule.xlsx"
    got.value.save_as(saved)
    import openpyxl

    assert len(openpyxl.load_workbook(saved).sheetnames) == 3  # the overview and one sheet per manager
    page.locator("a.day-sheet").first.click()
    page.wait_for_load_state()
    assert page.locator("table").count() > 0 and page.evaluate("window.__pwned") is None
    page.go_back()

    # a what-if with two team sizes gives the comparison table
    page.goto(f"{base}/scenarios/{slug}")
    page.fill("#whatif-form input[name=sizes]", "1,2")
    page.fill("#whatif-form input[name=time_limit]", "3")
    page.click("#start-whatif")
    page.wait_for_selector("#comparison", timeout=240_000)
    assert page.locator("#comparison tr").first.locator("th").count() == 3
    _shot(page, "whatif")

    # a second plan of the scenario (another seed), then the two plans compared
    page.goto(f"{base}/scenarios/{slug}")
    page.fill("#plan-form input[name=time_limit]", "3")
    page.fill("#plan-form input[name=seed]", "9")
    page.select_option("#plan-form select[name=tiles]", "none")
    page.click("#start-plan")
    page.wait_for_selector("#verdict", timeout=240_000)
    page.goto(base + "/")
    assert page.locator("#runs tr").count() == 4  # header, two plans and the what-if
    page.locator("#runs input[name=runs]").nth(0).check()
    page.locator("#runs input[name=runs]").nth(1).check()
    _shot(page, "home")
    page.click("#compare")
    page.wait_for_selector("#comparison", timeout=240_000)
    assert page.locator("#comparison tr").first.locator("th").count() == 3
    assert page.evaluate("window.__pwned") is None
    assert page.errors == [] and page.refused == []


def test_hostile_scenario_name_stays_text(page, served, tmp_path: Path):
    base, ws = served
    folder = ws / "scenarios" / "hostile"
    workbook_scenario(folder)
    toml = folder / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8").replace('name = "Tiny town"', f"name = '{XSS}'"), encoding="utf-8")
    for url in ("/", "/scenarios/hostile"):
        page.goto(base + url)
        assert page.evaluate("window.__pwned") is None
    assert XSS in page.locator("h1").inner_text()
    assert page.errors == []


def test_token_csrf_and_oversize_in_the_browser(browser, tmp_path: Path):
    """A desk with a token: the login page first; a form whose CSRF token was tampered with is
    refused; an upload over the limit gets the desk's message, not a broken page."""
    from werkzeug.serving import make_server

    app = create_app(tmp_path / "ws", token="office-token-123456")
    app.config["MAX_CONTENT_LENGTH"] = 4096  # a small limit, so the test uploads little
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}"
    context = browser.new_context()
    page = context.new_page()
    try:
        page.goto(base + "/scenarios/new")
        assert "/login" in page.url
        page.fill("input[name=token]", "wrong")
        page.click("button[type=submit]")
        assert page.locator("#error").is_visible()
        page.fill("input[name=token]", "office-token-123456")
        page.click("button[type=submit]")
        assert page.url.endswith("/scenarios/new")
        big = tmp_path / "big.csv"
        big.write_text("id,name\n" + "x" * 10_000, encoding="utf-8")
        page.set_input_files("input[name=shops]", str(big))
        page.click("#upload")
        assert "too large" in page.locator("#message").inner_text()
        page.goto(base + "/scenarios/new")
        page.evaluate("document.querySelector('input[name=csrf_token]').value = 'forged'")
        small = tmp_path / "small.csv"
        small.write_text(
            "\n".join((TINY / "retailers.csv").read_text(encoding="utf-8").splitlines()[:3]), encoding="utf-8"
        )
        page.set_input_files("input[name=shops]", str(small))
        page.click("#upload")
        assert "CSRF" in page.locator("#message").inner_text()
        assert not any((tmp_path / "ws" / "uploads").iterdir())
    finally:
        context.close()
        server.shutdown()
        app.extensions["routeplan_desk"].close()
