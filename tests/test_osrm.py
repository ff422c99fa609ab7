"""The OSRM engine of the road model: started here on 127.0.0.1, same answers as the graph engine."""

from __future__ import annotations

import urllib.request

import numpy as np
import pytest

from routeplan.osrm import OsrmTravel, find_programs

pytestmark = pytest.mark.skipif(
    find_programs() is None, reason="no OSRM programs (ROUTEPLAN_OSRM_BIN; .ci/run unpacks them from osrm-bindings)"
)

from routeplan.geo import LatLon  # noqa: E402
from routeplan.roads import RoadGraph, RoadTravel  # noqa: E402
from test_roads import MONACO, _tiny_on_roads, grid_osm  # noqa: E402


@pytest.fixture
def cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ROUTEPLAN_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def test_osrm_agrees_with_the_graph_engine_and_stops(tmp_path, cache):
    path = grid_osm(tmp_path / "g.osm", 10.0, 20.0, rows=4, cols=5, step=0.005)
    points = [LatLon(10.005, 20.005), LatLon(10.005, 20.010), LatLon(10.015, 20.02), LatLon(10.0, 20.0)]
    osrm = OsrmTravel.for_extract(path)
    assert osrm.url.startswith("http://127.0.0.1:")
    km, minutes = osrm.matrices(points)
    assert minutes[1, 0] > minutes[0, 1]
    ref_km, _ = RoadTravel(RoadGraph.from_osm(path)).matrices(points)
    assert km[1, 0] > 3 * km[0, 1], "the one-way row is driven around"
    assert np.allclose(km, ref_km, atol=0.08), (km, ref_km)  # OSRM snaps to the street, not to a corner
    track = osrm.paths([(points[0], points[2])])[0]
    assert track[0] == points[0] and track[-1] == points[2] and len(track) > 3
    assert osrm.server is not None
    osrm.server.stop()
    assert osrm.server.process.poll() is not None, "osrm-routed has ended"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{osrm.server.port}/nearest/v1/driving/20,10", timeout=2)


@pytest.mark.skipif(not MONACO.is_file(), reason="../shared/data/monaco.osm.pbf is not beside this checkout")
def test_the_engines_agree_on_monaco_and_never_beat_the_straight_line(cache):
    """OSRM (car.lua, turn restrictions) and the graph engine on a real city: the same km to a few
    per cent for the typical pair, and neither drives a pair shorter than its straight line."""
    import csv

    from conftest import SHARED
    from routeplan.travel import GreatCircleTravel

    rows = list(csv.DictReader((SHARED / "data" / "monaco_shops_osm.csv").open(encoding="utf-8")))
    points = [LatLon(float(r["lat"]), float(r["lon"])) for r in rows[:80]]
    osrm = OsrmTravel.for_extract(MONACO)
    try:
        km, _ = osrm.matrices(points)
    finally:
        assert osrm.server is not None
        osrm.server.stop()
    graph_km, _ = RoadTravel(RoadGraph.from_osm(MONACO)).matrices(points)
    straight, _ = GreatCircleTravel(detour_factor=1.0).matrices(points)
    apart = straight > 0.3  # beyond the snap distances, which the engines measure differently
    assert 0.97 < np.median(km[apart] / graph_km[apart]) < 1.03
    for engine in (km, graph_km):
        assert (engine[apart] >= straight[apart] * 0.999).all()


def test_plan_and_check_on_osrm(tmp_path, cache):
    from routeplan.check import check_plan
    from routeplan.read import read_scenario
    from routeplan.solve.month import PlanParams, plan_month

    sc = read_scenario(_tiny_on_roads(tmp_path, engine="osrm"))
    plan = plan_month(sc, PlanParams(time_limit_s=3, workers=1, clock=False), seed=0)
    assert check_plan(sc, plan) == []


@pytest.mark.parametrize("engine", ["graph", "osrm"])
def test_road_scenario_end_to_end_through_the_cli(tmp_path, cache, engine):
    import json

    from routeplan.cli import main
    from routeplan.travel import _ROADS

    scen = _tiny_on_roads(tmp_path, engine=engine)
    out = tmp_path / "plan"
    assert main(["plan", str(scen), "-o", str(out), "--time-limit", "3", "--workers", "1", "--quiet", "--tiles",
                 "none", "--no-pdf", "--reproducible"]) == 0  # fmt: skip
    assert not _ROADS, "the command stopped what it started"
    copy = (out / "scenario" / "scenario.toml").read_text(encoding="utf-8")
    assert 'model = "road"' in copy and f'engine = "{engine}"' in copy
    html = (out / "maps" / "plan.html").read_text(encoding="utf-8")
    assert '"track":[[' in html
    assert main(["check", str(scen), str(out)]) == 0
    assert main(["compare", str(out), "-o", str(tmp_path / "cmp")]) == 0
    km = json.loads((out / "summary.json").read_text(encoding="utf-8"))["kpis"]["total"]["km"]
    assert km > 0
