"""The road travel model on a made-up street grid (every clone) and on Monaco (with ../shared)."""

from __future__ import annotations

import dataclasses
import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest

from conftest import SHARED, TINY
from routeplan.check import check_plan
from routeplan.errors import InputError
from routeplan.geo import LatLon
from routeplan.read import read_scenario
from routeplan.roads import RoadGraph, RoadTravel
from routeplan.solve.month import PlanParams, plan_month
from routeplan.travel import travel_for

MONACO = SHARED / "data" / "monaco.osm.pbf"


def grid_osm(path: Path, south: float, west: float, rows: int, cols: int, step: float, oneway_row: int = 1,
             private_col: int | None = None) -> Path:  # fmt: skip
    """A street grid: residential streets both ways, one row a one-way street (west to east), the
    first column a primary road, and optionally one column closed to cars (access=private)."""
    nodes, ways = [], []
    nid = lambda r, c: 1 + r * cols + c  # noqa: E731
    for r in range(rows):
        for c in range(cols):
            nodes.append(
                f'<node id="{nid(r, c)}" lat="{south + r * step:.7f}" lon="{west + c * step:.7f}" version="1"/>'
            )
    wid = 1000
    for r in range(rows):
        refs = "".join(f'<nd ref="{nid(r, c)}"/>' for c in range(cols))
        tags = '<tag k="highway" v="residential"/>' + ('<tag k="oneway" v="yes"/>' if r == oneway_row else "")
        ways.append(f'<way id="{wid}" version="1">{refs}{tags}</way>')
        wid += 1
    for c in range(cols):
        refs = "".join(f'<nd ref="{nid(r, c)}"/>' for r in range(rows))
        kind = "primary" if c == 0 else "residential"
        extra = '<tag k="access" v="private"/>' if c == private_col else ""
        ways.append(f'<way id="{wid}" version="1">{refs}<tag k="highway" v="{kind}"/>{extra}</way>')
        wid += 1
    path.write_text("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n" + "\n".join(nodes + ways)
                    + "\n</osm>\n", encoding="utf-8")  # fmt: skip
    return path


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUTEPLAN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_one_way_street_is_driven_around(tmp_path, cache):
    g = RoadGraph.from_osm(grid_osm(tmp_path / "g.osm", 10.0, 20.0, rows=3, cols=4, step=0.005))
    travel = RoadTravel(g)
    a, b = LatLon(10.005, 20.005), LatLon(10.005, 20.010)  # on the one-way row, a west of b
    km, minutes = travel.matrices([a, b])
    assert km[0, 1] == pytest.approx(0.55, abs=0.02)  # one block east
    assert km[1, 0] > 3 * km[0, 1]  # back west: round the block
    assert minutes[1, 0] > minutes[0, 1]
    assert travel.leg(b, a) == (km[1, 0], minutes[1, 0])


def test_private_roads_are_closed_and_far_shops_reported(tmp_path, cache):
    g = RoadGraph.from_osm(grid_osm(tmp_path / "g.osm", 10.0, 20.0, rows=3, cols=4, step=0.005, private_col=3))
    # no edge runs along the private column; the one-way row's east end can then be entered but
    # not left, so it is not part of the network places are snapped to
    lons = {round(x, 4) for x in g.lon[g.tail[g.lat[g.tail] != g.lat[g.head]]]}
    assert round(20.015, 4) not in lons
    assert len(g.main) == 11
    travel = RoadTravel(g)
    far = LatLon(10.02, 20.0)  # about 1.1 km north of the grid
    travel.matrices([LatLon(10.0, 20.0), far])
    assert list(travel.far_from_road()) == [far]


def test_matrices_are_cached_on_disk(tmp_path, cache, monkeypatch):
    path = grid_osm(tmp_path / "g.osm", 10.0, 20.0, rows=3, cols=4, step=0.005)
    points = [LatLon(10.0, 20.0), LatLon(10.01, 20.015), LatLon(10.005, 20.01)]
    first = RoadTravel(RoadGraph.from_osm(path)).matrices(points)
    assert list(cache.glob("roads/*.npz"))
    again = RoadTravel(RoadGraph.from_osm(path))
    monkeypatch.setattr(again, "_compute", lambda *args: pytest.fail("recomputed a cached matrix"))
    second = again.matrices(points)
    assert np.array_equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def _tiny_on_roads(tmp_path: Path, engine: str = "graph") -> Path:
    """The tiny scenario with a street grid laid over its shops, planned on the road model."""
    scen = tmp_path / "tiny-roads"
    shutil.copytree(TINY, scen)
    sc = read_scenario(scen)
    lats = [r.location.lat for r in sc.retailers] + [m.office.lat for m in sc.managers]
    lons = [r.location.lon for r in sc.retailers] + [m.office.lon for m in sc.managers]
    step = 0.004
    rows = int((max(lats) - min(lats)) / step) + 3
    cols = int((max(lons) - min(lons)) / step) + 3
    grid_osm(scen / "streets.osm", min(lats) - step, min(lons) - step, rows, cols, step, oneway_row=rows // 2)
    toml = scen / "scenario.toml"
    toml.write_text(toml.read_text(encoding="utf-8") + f'\n[travel]\nmodel = "road"\nosm = "streets.osm"\nengine = "{engine}"\n',
                    "utf-8")  # fmt: skip
    return scen


def test_plan_and_check_on_the_road_model(tmp_path, cache):
    sc = read_scenario(_tiny_on_roads(tmp_path))
    assert sc.travel_model == "road" and Path(sc.osm or "").is_absolute()
    plan = plan_month(sc, PlanParams(time_limit_s=4, workers=1, clock=False), seed=0)
    assert check_plan(sc, plan) == []
    # the legs are road legs: longer than the straight line, and equal to the model's
    travel = travel_for(sc)
    where = {r.id: r.location for r in sc.retailers}
    (_mid, _day), seq = next(iter(sorted(plan.days().items())))
    a, b = where[seq[0].retailer_id], where[seq[1].retailer_id]
    assert seq[1].travel_km == pytest.approx(travel.leg(a, b)[0], abs=2e-3)
    straight = dataclasses.replace(sc, travel_model="great-circle", osm=None)
    assert travel.leg(a, b)[0] >= travel_for(straight).leg(a, b)[0] / sc.rules.detour_factor


def test_a_month_model_leaves_the_road_legs_as_they_were(tmp_path, cache):
    """The month model zeroes its free end (a copy of the first office) in its matrices: the
    tables the road model looks legs up in keep the office's real legs."""
    from routeplan.solve.month import MonthModel

    sc = read_scenario(_tiny_on_roads(tmp_path))
    travel = travel_for(sc)
    office, shop = sc.managers[0].office, sc.retailers[0].location
    before = travel.leg(office, shop), travel.leg(shop, office)
    assert min(before[0][0], before[1][0]) > 0
    MonthModel(sc, travel)
    assert (travel.leg(office, shop), travel.leg(shop, office)) == before


def test_road_model_without_an_extract_is_refused(tmp_path):
    scen = tmp_path / "s"
    shutil.copytree(TINY, scen)
    toml = scen / "scenario.toml"
    base = toml.read_text(encoding="utf-8")
    toml.write_text(base + '\n[travel]\nmodel = "road"\n', "utf-8")
    with pytest.raises(InputError, match="needs an extract"):
        read_scenario(scen)
    toml.write_text(base + '\n[travel]\nmodel = "road"\nosm = "nowhere.osm.pbf"\n', "utf-8")
    with pytest.raises(InputError, match="no such OpenStreetMap extract"):
        read_scenario(scen)


@pytest.mark.skipif(not MONACO.is_file(), reason="../shared/data/monaco.osm.pbf is not beside this checkout")
def test_monaco_roads_are_longer_than_straight_lines(cache):
    import csv

    rows = list(csv.DictReader((SHARED / "data" / "monaco_shops_osm.csv").open(encoding="utf-8")))
    points = [LatLon(float(r["lat"]), float(r["lon"])) for r in rows[:60]]
    travel = RoadTravel(RoadGraph.from_osm(MONACO))
    km, _minutes = travel.matrices(points)
    from routeplan.travel import GreatCircleTravel

    straight, _ = GreatCircleTravel(detour_factor=1.0).matrices(points)
    apart = straight > 0.2
    ratio = np.median(km[apart] / straight[apart])
    assert 1.2 < ratio < 2.5
    assert np.abs(km - km.T).max() > 0.1, "one-way streets make some pairs asymmetric"


def test_calibrate_fits_the_grid(tmp_path, cache, capsys):
    from routeplan.calibrate import calibrate
    from routeplan.cli import main

    scen = _tiny_on_roads(tmp_path)
    sc = read_scenario(scen)
    c = calibrate(sc, travel_for(sc))
    # on a square grid a hop is 1 to sqrt(2) times the straight line (more round one-way blocks)
    assert c.ratio_quantiles[0] >= 1.0 and 1.05 < c.detour_fit < 1.6
    assert 10 < c.speed_fit < 25  # residential streets at 25 km/h, the snap to them slower
    assert c.error_fit <= c.error_now
    assert main(["calibrate", str(scen), "--osm", str(scen / "streets.osm")]) == 0
    assert f"detour_factor = {c.detour_fit:g}" in capsys.readouterr().out


def test_a_straight_line_plan_replayed_on_the_roads(tmp_path, cache):
    from routeplan.figures import replayed_km, total_km

    scen = _tiny_on_roads(tmp_path)
    roads_sc = read_scenario(scen)
    straight = dataclasses.replace(roads_sc, travel_model="great-circle", osm=None)
    plan = plan_month(straight, PlanParams(time_limit_s=3, workers=1, clock=False), seed=0)
    same = replayed_km(straight, plan, travel_for(straight))
    assert same == pytest.approx(total_km(straight, plan), rel=1e-3)  # replayed on its own model: no change
    on_roads = replayed_km(straight, plan, travel_for(roads_sc))
    assert on_roads > same / straight.rules.detour_factor  # a grid is never shorter than the straight line


def test_maps_and_sheets_draw_routes_along_the_streets(tmp_path, cache):
    import json
    import re

    from routeplan.render import RenderOptions, render_plan
    from routeplan.render.view import plan_view

    sc = read_scenario(_tiny_on_roads(tmp_path))
    plan = plan_month(sc, PlanParams(time_limit_s=3, workers=1, clock=False), seed=0)
    view = plan_view(sc, plan)
    route = view.managers[0].routes[0]
    # the track runs office -> every stop in order, through street corners between them
    assert route.track[0] == view.managers[0].office and len(route.track) > len(route.stops) + 1
    at = [s.at for s in route.stops]
    order = [route.track.index(p) for p in at]
    assert order == sorted(order)
    # on a street grid every step of the track is along a street: one coordinate stays put
    corners = route.track[1:-1]
    inner = [(a, b) for a, b in itertools.pairwise(corners) if a not in at and b not in at]
    assert inner and all(abs(a.lat - b.lat) < 1e-9 or abs(a.lon - b.lon) < 1e-9 for a, b in inner)
    render_plan(tmp_path / "out", sc, plan, RenderOptions(tiles="none", pdf=False))
    html = (tmp_path / "out" / "maps" / "plan.html").read_text(encoding="utf-8")
    data = json.loads(re.search(r'id="routeplan-data">(.*?)</script>', html, re.S).group(1))
    assert len(data["managers"][0]["routes"][0]["track"]) == len(route.track)


def test_workload_estimate_on_the_roads_makes_no_matrix_over_every_shop(tmp_path, cache, monkeypatch):
    """The territory design's workload estimate asks the road model for one matrix per area of
    shops (never one over every shop), and gets the same minutes as one whole matrix would give."""
    from routeplan.solve import design

    sc = read_scenario(_tiny_on_roads(tmp_path))
    travel = travel_for(sc)
    monkeypatch.setattr(design, "AREA_SHOPS", 8)
    sizes: list[int] = []
    asked = travel.matrices
    monkeypatch.setattr(travel, "matrices", lambda points: (sizes.append(len(points)), asked(points))[1])
    work = design.shop_work(sc, travel)
    n = len(sc.retailers)
    assert len(sizes) > 2 and max(sizes) < n
    xy, _ = design.positions_km(sc)
    nb = design.nearest_neighbours(xy, design.NEAR)
    _, minutes = asked([r.location for r in sc.retailers])
    near = minutes[np.arange(n)[:, None], nb].mean(axis=1)
    visits = np.array([r.visits_per_month for r in sc.retailers], dtype=float)
    service = np.array([r.service_minutes for r in sc.retailers], dtype=float)
    # the rest is each visit's share of the morning drive, by the same minutes per km as the hops
    xy, starts = design.positions_km(sc)
    hop_km = np.sqrt(((xy[:, None, :] - xy[nb]) ** 2).sum(-1)).mean(axis=1)
    drive = design._first_leg_share(sc, xy, starts, visits, float(near.sum() / hop_km.sum()))
    assert drive.min() >= 0 and drive.max() > 0
    assert np.allclose(work, visits * (service + near + drive))


def test_plan_names_the_shops_far_from_a_road(tmp_path, cache, capsys):
    """``plan`` on the road model names every shop snapped more than 200 m from a road."""
    import contextlib
    import csv

    from routeplan.cli import main

    scen = _tiny_on_roads(tmp_path)
    path = scen / "retailers.csv"
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    rows[0]["lon"] = f"{float(rows[0]['lon']) - 0.03:.6f}"  # ~3 km west of the street grid
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    sc = read_scenario(scen)
    _, snap_km = RoadGraph.from_osm(scen / "streets.osm").snap([r.location for r in sc.retailers])
    expected = sorted(r.id for r, km in zip(sc.retailers, snap_km, strict=True) if km > 0.2)
    assert rows[0]["id"] in expected
    with contextlib.suppress(SystemExit):  # the far shop may cost a rule; the report comes first
        main(["plan", str(scen), "-o", str(tmp_path / "plan"), "--time-limit", "2", "--workers", "1", "--quiet",
              "--no-render"])  # fmt: skip
    line = next(x for x in capsys.readouterr().out.splitlines() if "from a road" in x)
    assert line.startswith(f"{len(expected)} shops are more than 200 m from a road")
    assert line.split(": ")[-1].removesuffix(" ...").split(", ") == expected[:10]
