"""The plan map and the route sheets in a real headless Chromium, with the network off."""

from __future__ import annotations

import csv
import re
import shutil
from pathlib import Path

import pytest

from routeplan.cli import main
from routeplan.read import read_plan, read_scenario
from routeplan.render.pdf import find_browser

BROWSER = find_browser()
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(BROWSER is None, reason="no Chromium/Chrome found (.ci/run installs Debian's chromium)"),
]
XSS = '<img src=x onerror="window.__pwned=1">'


@pytest.fixture(scope="module")
def planned(tmp_path_factory) -> Path:
    """The tiny scenario, its first shop renamed to an HTML injection, planned and drawn by the CLI."""
    from conftest import TINY

    scen = tmp_path_factory.mktemp("scen") / "tiny"
    shutil.copytree(TINY, scen)
    rows = list(csv.reader((scen / "retailers.csv").read_text(encoding="utf-8").splitlines()))
    rows[1][1] = XSS
    with (scen / "retailers.csv").open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh, lineterminator="\n").writerows(rows)
    out = tmp_path_factory.mktemp("out") / "plan"
    args = ["plan", str(scen), "-o", str(out), "--time-limit", "5", "--workers", "1", "--quiet", "--tiles", "osm"]
    assert main(args) == 0
    return out


@pytest.fixture
def offline_page(browser):
    """A page with the network switched off, recording console errors and every request."""
    context = browser.new_context(offline=True, viewport={"width": 1300, "height": 900})
    page = context.new_page()
    page.errors, page.requests = [], []
    page.on("console", lambda m: page.errors.append((m.text, m.location.get("url", ""))) if m.type == "error" else None)
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.on("request", lambda r: page.requests.append(r.url))
    yield page
    context.close()


def _open(page, path: Path) -> None:
    page.goto(path.resolve().as_uri())
    page.wait_for_function("document.querySelectorAll('input[data-manager]').length > 0")


def test_plan_map_offline(planned, offline_page):
    assert main(["render", str(planned), "--tiles", "none", "--no-pdf", "--quiet"]) == 0
    page = offline_page
    _open(page, planned / "maps" / "plan.html")
    scenario = read_scenario(planned / "scenario")
    assert page.errors == []
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    shown = page.eval_on_selector_all("input[data-manager]", "els => els.map(e => e.dataset.manager)")
    assert shown == [m.id for m in scenario.managers], "every manager in the layer control"
    assert page.locator(".rp-offline").count() == 1, "says the background is missing instead of a blank map"

    # one route alone: one numbered marker per stop of that route, numbered in order
    plan = read_plan(planned)
    route_id = sorted({v.route_id for v in plan.visits})[0]
    page.click("button.rp-link >> nth=1")  # none
    assert page.locator(".rp-stop").count() == 0
    page.evaluate("document.querySelectorAll('details.rp-manager').forEach(d => { d.open = true; })")
    manager_id = route_id.split("-")[0]
    page.locator(f'input[data-manager="{manager_id}"]').check()
    for other in page.eval_on_selector_all("input[data-route]", "els => els.map(e => e.dataset.route)"):
        if other != route_id:
            page.locator(f'input[data-route="{other}"]').uncheck()
    stops = {v.retailer_id for v in plan.visits if v.route_id == route_id}
    numbers = page.eval_on_selector_all(".rp-stop", "els => els.map(e => e.textContent)")
    assert sorted(int(n) for n in numbers) == list(range(1, len(stops) + 1))


def test_tile_map_offline_still_draws(planned, offline_page):
    """With OpenStreetMap tiles and no network only the tile downloads fail; the plan is all there."""
    assert main(["render", str(planned), "--tiles", "osm", "--no-pdf", "--quiet"]) == 0
    page = offline_page
    _open(page, planned / "maps" / "plan.html")
    page.wait_for_selector(".rp-offline")
    # the map asks for OpenStreetMap's tiles; when they fail it says so (.rp-offline, above) and
    # draws the plan all the same. Whether the browser also logs the failed downloads is its own
    # affair, but no script of ours fails.
    assert "tile.openstreetmap.org" in (planned / "maps" / "plan.html").read_text(encoding="utf-8")
    ours = [e for e in page.errors if not (isinstance(e, tuple) and e[1].startswith("https://tile.openstreetmap.org/"))]
    assert ours == []
    plan = read_plan(planned)
    assert page.locator(".rp-stop").count() == len({(v.route_id, v.retailer_id) for v in plan.visits})


def test_popups_show_hostile_names_as_text(planned, offline_page):
    assert main(["render", str(planned), "--tiles", "none", "--no-pdf", "--quiet"]) == 0
    page = offline_page
    _open(page, planned / "maps" / "plan.html")
    page.click("button.rp-link >> nth=1")
    page.click("button.rp-link >> nth=0")
    # open every popup whose marker title is the hostile name
    page.evaluate(
        """() => { document.querySelectorAll('.rp-stop').forEach(m => {
              if (m.title && m.title.startsWith('<img')) m.click(); }); }"""
    )
    page.wait_for_selector(".rp-popup-title")
    assert XSS in page.locator(".leaflet-popup-content").first.inner_text()
    assert page.evaluate("typeof window.__pwned") == "undefined"
    assert page.errors == []


def test_sheet_page_offline(planned, offline_page):
    page = offline_page
    sheet = sorted((planned / "sheets").glob("*/2026-12-0*.html"))[0]
    page.goto(sheet.resolve().as_uri())
    assert page.errors == [] and page.evaluate("typeof window.__pwned") == "undefined"
    assert [u for u in page.requests if not u.startswith(("file:", "data:"))] == []
    assert page.locator("svg.map circle").count() == page.locator("table:not(.top):not(.calllist) tbody tr").count()


def test_pdf_has_a_page_per_day_with_every_shop_in_order(planned):
    from pypdf import PdfReader

    assert main(["render", str(planned), "--quiet"]) == 0
    plan = read_plan(planned)
    scenario = read_scenario(planned / "scenario")
    days = plan.days()
    hostile_seen = False
    for m in scenario.managers:
        reader = PdfReader(planned / "sheets" / f"{m.id}.pdf")
        working = scenario.working_days(m)
        assert len(reader.pages) == len(working), f"{m.id}: one page per working day"
        for page, day in zip(reader.pages, working, strict=True):
            text = page.extract_text()
            assert day.isoformat() in text
            at = 0
            for v in days.get((m.id, day), []):
                found = text.find(v.retailer_id, at)
                assert found >= 0, f"{m.id} {day}: {v.retailer_id} (stop {v.seq}) missing or out of order"
                at = found
            hostile_seen |= re.sub(r"\s+", "", XSS) in re.sub(r"\s+", "", text)  # wrapped over lines
    assert hostile_seen, "the hostile name is printed as text"


def test_company_map_draws_on_a_canvas_with_a_map_per_office(tmp_path: Path, offline_page):
    """A plan of thousands of stops draws them as canvas circles (a DOM marker each would take a
    browser minutes), and a company gets a map per office."""
    import dataclasses

    from routeplan.render import RenderOptions, render_plan
    from routeplan.solve.company import merge_plans, office_scenarios, share_among_offices
    from routeplan.solve.naive import plan_month_naive
    from routeplan.synth import company_scenario

    sc = company_scenario(3800, seed=1, offices=2)
    sc = dataclasses.replace(sc, managers=tuple(dataclasses.replace(m, name=XSS) for m in sc.managers))
    parts = office_scenarios(sc, share_among_offices(sc))
    plan = merge_plans(sc.name, [plan_month_naive(sub) for _, sub in parts], 0)
    assert sum(len(r.stops) for r in plan.routes) > 4000
    render_plan(tmp_path, sc, plan, RenderOptions(tiles="none", pdf=False))
    assert sorted(p.name for p in (tmp_path / "maps").glob("office-*.html")) == ["office-Office_1.html",
                                                                                  "office-Office_2.html"]  # fmt: skip
    page = offline_page
    _open(page, tmp_path / "maps" / "plan.html")
    assert page.locator(".rp-stop").count() == 0  # no DOM marker per stop
    assert page.locator(".leaflet-overlay-pane canvas").count() == 1
    assert page.eval_on_selector_all("input[data-manager]", "els => els.length") == len(sc.managers)
    assert page.evaluate("window.__pwned") is None
    assert page.errors == []
    _open(page, tmp_path / "maps" / "office-Office_1.html")
    shown = page.eval_on_selector_all("input[data-manager]", "els => els.map(e => e.dataset.manager)")
    assert shown == [m.id for m in sc.offices()["Office 1"]]
