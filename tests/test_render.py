"""Maps and route sheets, without a browser: content, escaping, layout fitting, atomic output."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from routeplan.coords import from_wgs84
from routeplan.errors import InputError
from routeplan.read import read_scenario
from routeplan.render import RenderOptions, render_plan, safe_filename
from routeplan.render.planmap import plan_map_html, script_json
from routeplan.render.sheets import BODY_MM, _calls_mm, _table_mm, fit_layout, sheet_pages, sheets_html
from routeplan.render.streets import read_streets
from routeplan.render.view import plan_view

XSS = '<img src=x onerror="window.__pwned=1">'


def _map_data(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="routeplan-data">(.*?)</script>', html, re.S)
    assert found, "the map carries its plan as JSON"
    return json.loads(found.group(1))


def test_view_regroups_every_visit(tiny, tiny_plan):
    view = plan_view(tiny, tiny_plan)
    assert sum(len(d.stops) for m in view.managers for d in m.days) == len(tiny_plan.visits)
    assert sum(len(d.calls) for m in view.managers for d in m.days) == len(tiny_plan.calls)
    for m in view.managers:
        visited = {s.shop.id for d in m.days for s in d.stops}
        for r in m.routes:
            assert len({s.id for s in r.stops}) == len(r.stops), "a route lists each shop once"
        assert visited == {s for r in m.routes for s in (x.id for x in r.stops)}
        for d in m.days:
            assert [s.seq for s in d.stops] == list(range(1, len(d.stops) + 1))


def test_map_is_self_contained(tiny, tiny_plan):
    html = plan_map_html(plan_view(tiny, tiny_plan), tiles="none")
    assert not re.search(r'<(script|link)[^>]+(src|href)="https?://', html), "no script or stylesheet from a CDN"
    assert "L.map(" in html and "routeplanDraw" in html
    data = _map_data(html)
    assert data["tiles"] is None
    assert [m["id"] for m in data["managers"]] == [m.id for m in tiny.managers]
    assert sum(len(r["stops"]) for m in data["managers"] for r in m["routes"]) >= len(tiny.retailers)


def test_amap_tiles_draw_in_gcj02(tiny, tiny_plan):
    data = _map_data(plan_map_html(plan_view(tiny, tiny_plan, "gcj02"), tiles="amap"))
    shop = tiny.retailers[0]
    expected = from_wgs84(shop.location, "gcj02")
    drawn = next(s["at"] for m in data["managers"] for r in m["routes"] for s in r["stops"] if s["id"] == shop.id)
    assert drawn == pytest.approx([expected.lat, expected.lon])
    assert abs(drawn[0] - shop.location.lat) + abs(drawn[1] - shop.location.lon) > 1e-3, "GCJ-02 is offset"
    assert "autonavi" in data["tiles"]["url"]


def test_script_json_cannot_close_the_script():
    text = script_json({"name": "</script><script>alert(1)</script>", "amp": "a&b"})
    assert "</script" not in text and "<" not in text and "&" not in text
    assert json.loads(text) == {"name": "</script><script>alert(1)</script>", "amp": "a&b"}


def test_user_data_is_escaped_in_sheets(tiny, tiny_plan):
    import dataclasses

    evil = dataclasses.replace(tiny.retailers[0], name=XSS, address="<b>addr</b>", phone="${1}`")
    scenario = dataclasses.replace(tiny, retailers=(evil, *tiny.retailers[1:]))
    view = plan_view(scenario, tiny_plan)
    manager = next(m for m in view.managers if any(s.shop.id == evil.id for d in m.days for s in d.stops))
    html = sheets_html(manager, sheet_pages(manager, None, "en"), "en")
    assert XSS not in html and "<b>addr</b>" not in html
    assert "&lt;img src=x onerror=&#34;window.__pwned=1&#34;&gt;" in html
    data = _map_data(plan_map_html(view, tiles="none"))
    assert any(s["name"] == XSS for m in data["managers"] for r in m["routes"] for s in r["stops"])


NAMES = st.lists(st.tuples(st.text(max_size=40), st.text(max_size=40)), min_size=1, max_size=60)


@given(NAMES, st.integers(0, 150))
def test_layout_fits_one_page(cells, calls):
    layout = fit_layout(cells, calls)
    if layout.table_pt > 5.0:  # the fallback is the smallest print there is
        room = BODY_MM - _table_mm(cells, layout.table_pt)
        assert layout.map_mm <= room
        assert _calls_mm(calls, layout.calls_pt, layout.call_cols) <= room


def test_busier_days_never_get_bigger_print():
    short = [("Shop", "1 Main St")]
    assert (
        fit_layout(short * 45, 90).table_pt <= fit_layout(short * 30, 40).table_pt <= fit_layout(short * 10, 0).table_pt
    )
    assert fit_layout([("长" * 40, "路" * 40)] * 30, 0).table_pt < fit_layout([("Shop", "")] * 30, 0).table_pt


@pytest.mark.parametrize("raw, safe", [("M01", "M01"), ("../x", "_x"), ("a/b", "a_b"), ("王伟", "王伟"), ("..", "_")])
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def _tiny_streets(path: Path, tiny) -> Path:
    import osmium
    from osmium.osm.mutable import Node, Way

    office = tiny.managers[0].office
    with osmium.SimpleWriter(str(path)) as w:
        w.add_node(Node(id=1, location=(office.lon - 0.01, office.lat)))
        w.add_node(Node(id=2, location=(office.lon + 0.01, office.lat)))
        w.add_node(Node(id=3, location=(office.lon, office.lat + 0.01)))
        w.add_node(Node(id=4, location=(office.lon + 3, office.lat + 3)))
        w.add_node(Node(id=5, location=(office.lon + 3.01, office.lat + 3)))
        w.add_way(Way(id=10, nodes=[1, 2], tags={"highway": "residential"}))
        w.add_way(Way(id=11, nodes=[2, 3], tags={"highway": "footway"}))
        w.add_way(Way(id=12, nodes=[4, 5], tags={"highway": "primary"}))
    return path


def test_streets_from_an_extract(tmp_path, tiny):
    pbf = _tiny_streets(tmp_path / "town.osm.pbf", tiny)
    office = tiny.managers[0].office
    box = (office.lat - 0.1, office.lon - 0.1, office.lat + 0.1, office.lon + 0.1)
    streets = read_streets(pbf, box)
    assert len(streets) == 1, "drivable ways touching the box only (no footway, nothing far away)"
    assert streets[0][0].lon == pytest.approx(office.lon - 0.01)
    with pytest.raises(InputError, match="streets"):
        read_streets(tmp_path / "missing.osm.pbf", box)
    (tmp_path / "bad.osm.pbf").write_bytes(b"not a pbf")
    with pytest.raises(InputError, match=r"bad\.osm\.pbf"):
        read_streets(tmp_path / "bad.osm.pbf", box)


def test_render_writes_maps_and_sheets(tmp_path, tiny, tiny_plan):
    pbf = _tiny_streets(tmp_path / "town.osm.pbf", tiny)
    out = tmp_path / "out"
    result = render_plan(out, tiny, tiny_plan, RenderOptions(lang="zh", tiles="none", streets=pbf, pdf=False))
    assert (out / "maps" / "plan.html").is_file()
    for m in tiny.managers:
        assert (out / "maps" / f"{m.id}.html").is_file()
        days = tiny.working_days(m)
        pages = sorted((out / "sheets" / m.id).glob("2026-*.html"))
        assert [p.stem for p in pages] == [d.isoformat() for d in days]
        sheet = pages[0].read_text(encoding="utf-8")
        assert "每日拜访线路单" in sheet and 'stroke="#bbb"' in sheet, "Chinese labels and the street background"
    assert all(f.exists() for f in result.files)
    assert not list(out.glob(".routeplan-*")), "no temp folder left behind"
    data = _map_data((out / "maps" / "plan.html").read_text(encoding="utf-8"))
    assert len(data["streets"]) == 1 and data["labels"]["office"] == "办公室"


def test_render_replaces_old_output_whole(tmp_path, tiny, tiny_plan):
    out = tmp_path / "out"
    render_plan(out, tiny, tiny_plan, RenderOptions(tiles="none", pdf=False))
    (out / "sheets" / "stale.html").write_text("old", encoding="utf-8")
    render_plan(out, tiny, tiny_plan, RenderOptions(tiles="none", pdf=False))
    assert not (out / "sheets" / "stale.html").exists()


def test_bad_render_options():
    with pytest.raises(InputError, match="lang"):
        RenderOptions(lang="fr")
    with pytest.raises(InputError, match="tiles"):
        RenderOptions(tiles="google")


def test_plan_folder_carries_its_scenario(tmp_path, tiny, tiny_plan):
    from routeplan.write import write_plan

    write_plan(tmp_path / "out", tiny, tiny_plan, [])
    again = read_scenario(tmp_path / "out" / "scenario")
    assert again.retailers == tiny.retailers
    assert again.managers == tiny.managers
    assert again.rules == tiny.rules and again.calendar == tiny.calendar
