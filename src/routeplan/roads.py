"""Road travel: km and minutes of the fastest drive, on an OpenStreetMap extract.

The in-process engine (the ``roads`` extra: scipy). pyosmium reads the drivable ways of an
``.osm.pbf`` with a car profile (speeds by road class or ``maxspeed``, one-way streets and
roundabouts, no-entry access tags; turn restrictions are not modelled) into a directed graph;
each place is snapped to the nearest node of the network's main strongly connected part (the
snap distance is kept and driven at :data:`SNAP_KMH`); many-to-many times come from scipy's
Dijkstra, and the km are those of the fastest route, not of the shortest. A matrix is cached on
disk, keyed by the extract and the points, so a second plan of the same city pays nothing.
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from numba import njit

from .errors import InputError
from .geo import LatLon, haversine_km
from .travel import SNAP_KMH, MatrixLegs

#: Free-flow speeds (km/h) by road class, as OpenStreetMap car profiles use (OSRM's car.lua).
SPEEDS_KMH = {
    "motorway": 90, "motorway_link": 45, "trunk": 85, "trunk_link": 40, "primary": 65, "primary_link": 30,
    "secondary": 55, "secondary_link": 25, "tertiary": 40, "tertiary_link": 20, "unclassified": 25,
    "residential": 25, "living_street": 10, "service": 15,
}  # fmt: skip
#: Access values that close a way to cars.
NO_ENTRY = frozenset({"no", "private", "agricultural", "forestry", "delivery", "emergency"})
#: Sources per Dijkstra batch: a batch holds (sources x network nodes) floats.
BATCH = 64


def cache_dir() -> Path:
    """Where road matrices are kept (``ROUTEPLAN_CACHE``, default ``~/.cache/routeplan``)."""
    base = os.environ.get("ROUTEPLAN_CACHE") or str(Path.home() / ".cache" / "routeplan")
    return Path(base) / "roads"


def _speed(tags: dict[str, str], highway: str) -> float:
    text = tags.get("maxspeed", "").strip().lower()
    try:
        if text.endswith("mph"):
            return float(text[:-3]) * 1.609
        if text:
            return float(text.split()[0])
    except ValueError:
        pass
    return float(SPEEDS_KMH[highway])


def _direction(tags: dict[str, str], highway: str) -> int:
    """1: only along the way, -1: only against it, 0: both ways."""
    oneway = tags.get("oneway", "").lower()
    if oneway in ("yes", "true", "1"):
        return 1
    if oneway in ("-1", "reverse"):
        return -1
    if oneway == "no":
        return 0
    if tags.get("junction") in ("roundabout", "circular") or highway in ("motorway", "motorway_link"):
        return 1
    return 0


@dataclass(frozen=True)
class RoadGraph:
    """The drivable network: nodes and directed edges with minutes and km."""

    source: str
    lat: np.ndarray
    lon: np.ndarray
    tail: np.ndarray
    head: np.ndarray
    minutes: np.ndarray
    km: np.ndarray
    #: nodes of the largest strongly connected part (where places are snapped)
    main: np.ndarray = field(repr=False)

    @classmethod
    def from_osm(cls, path: str | Path) -> RoadGraph:
        """Read an ``.osm.pbf`` (or ``.osm``) extract with the car profile."""
        import osmium

        path = Path(path)
        if not path.is_file():
            raise InputError("no such OpenStreetMap extract", file=str(path), field="travel.osm")
        ids: dict[int, int] = {}
        lat: list[float] = []
        lon: list[float] = []
        tail: list[int] = []
        head: list[int] = []
        kmh: list[float] = []

        def node(n: osmium.osm.NodeRef) -> int:
            i = ids.get(n.ref)
            if i is None:
                i = ids[n.ref] = len(lat)
                lat.append(n.lat)
                lon.append(n.lon)
            return i

        try:
            ways = osmium.FileProcessor(str(path)).with_locations().with_filter(osmium.filter.KeyFilter("highway"))
            for way in ways:
                if not isinstance(way, osmium.osm.Way):
                    continue
                tags = dict(way.tags)
                highway = tags.get("highway", "")
                if highway not in SPEEDS_KMH or NO_ENTRY & {
                    tags.get(k, "") for k in ("access", "motor_vehicle", "motorcar")
                }:
                    continue
                refs = [n for n in way.nodes if n.location.valid()]
                speed, direction = _speed(tags, highway), _direction(tags, highway)
                for a, b in itertools.pairwise(refs):
                    u, v = node(a), node(b)
                    for x, y, ok in ((u, v, direction >= 0), (v, u, direction <= 0)):
                        if ok:
                            tail.append(x)
                            head.append(y)
                            kmh.append(speed)
        except RuntimeError as exc:
            raise InputError(f"not a readable OpenStreetMap file ({exc})", file=str(path), field="travel.osm") from None
        if not tail:
            raise InputError("no drivable road in it", file=str(path), field="travel.osm")
        la, lo = np.array(lat), np.array(lon)
        t, h = np.array(tail, dtype=np.int64), np.array(head, dtype=np.int64)
        km = haversine_km(la[t], lo[t], la[h], lo[h])
        minutes = km / np.array(kmh) * 60.0
        return cls(str(path), la, lo, t, h, minutes, km, _main_part(len(la), t, h))

    @functools.cached_property
    def routing(self) -> tuple[Any, Any]:
        """Sparse matrices of the minutes and the km of each edge, built once: where two ways join the
        same nodes, the fastest is kept and its own km go with it (the two share one structure)."""
        from scipy.sparse import csr_matrix

        n = len(self.lat)
        order = np.lexsort((self.minutes, self.head, self.tail))
        t, h = self.tail[order], self.head[order]
        first = np.ones(len(t), dtype=bool)
        first[1:] = (t[1:] != t[:-1]) | (h[1:] != h[:-1])
        kept, t, h = order[first], t[first], h[first]
        times = csr_matrix((np.maximum(self.minutes[kept], 1e-9), (t, h)), shape=(n, n))
        km = csr_matrix((np.maximum(self.km[kept], 1e-9), (t, h)), shape=(n, n))
        return times, km

    @functools.cached_property
    def _nodes_index(self) -> tuple[Any, float]:
        """A KD-tree over the main part's nodes in local km, and the longitude scale it uses."""
        from scipy.spatial import cKDTree

        kx = 111.2 * math.cos(math.radians(float(np.mean(self.lat))))
        return cKDTree(np.column_stack((self.lat[self.main] * 111.2, self.lon[self.main] * kx))), kx

    def snap(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        """Each point's nearest node of the main part, and the km to it."""
        tree, kx = self._nodes_index
        q = np.array([(p.lat * 111.2, p.lon * kx) for p in points]).reshape(-1, 2)
        _, nearest = tree.query(q)
        nodes = self.main[nearest]
        lats = np.array([p.lat for p in points])
        lons = np.array([p.lon for p in points])
        return nodes, haversine_km(lats, lons, self.lat[nodes], self.lon[nodes])


def _main_part(n: int, tail: np.ndarray, head: np.ndarray) -> np.ndarray:
    from scipy.sparse import csr_matrix
    from scipy.sparse.csgraph import connected_components

    graph = csr_matrix((np.ones(len(tail)), (tail, head)), shape=(n, n))
    _, labels = connected_components(graph, directed=True, connection="strong")
    biggest = np.bincount(labels).argmax()
    return np.flatnonzero(labels == biggest)


@njit(cache=True)
def _km_along(pred, sources, targets, indptr, indices, km_data):
    """Km of the fastest route from each source to each target, walking the predecessor tree."""
    out = np.zeros((len(sources), len(targets)))
    for i in range(len(sources)):
        for j in range(len(targets)):
            v = targets[j]
            total = 0.0
            while v != sources[i] and v >= 0:
                u = pred[i, v]
                if u < 0:
                    total = np.inf
                    break
                best = np.inf
                for e in range(indptr[u], indptr[u + 1]):
                    if indices[e] == v and km_data[e] < best:
                        best = km_data[e]
                total += best
                v = u
            out[i, j] = total
    return out


@dataclass
class RoadTravel(MatrixLegs):
    """The road travel model (a :class:`routeplan.travel.TravelModel`)."""

    graph: RoadGraph
    #: the matrices computed so far (place -> row), where the checker's legs are looked up
    _tables: list[tuple[dict[LatLon, int], np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)
    #: snap km of every place seen, for the report of places far from a road
    snapped: dict[LatLon, float] = field(default_factory=dict, repr=False)
    unreachable: set[tuple[LatLon, LatLon]] = field(default_factory=set, repr=False)

    def matrices(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        points = list(points)
        nodes, snap_km = self.graph.snap(points)
        self.snapped.update(zip(points, snap_km.tolist(), strict=True))
        cached = self._load(points)
        if cached is None:
            cached = self._compute(points, nodes, snap_km)
            self._save(points, cached)
        km, minutes = cached
        self._remember(points, km, minutes)
        return km, minutes

    def paths(self, legs: Sequence[tuple[LatLon, LatLon]]) -> list[list[LatLon]]:
        """The fastest route of each leg as a line along the streets (from ``a``, via the network, to ``b``)."""
        from scipy.sparse.csgraph import dijkstra

        g = self.graph
        if not legs:
            return []
        ends = [p for leg in legs for p in leg]
        nodes, _ = g.snap(ends)
        src, dst = nodes[0::2], nodes[1::2]
        unique = np.unique(src)
        row = {int(u): i for i, u in enumerate(unique)}
        times, _ = g.routing
        out: list[list[LatLon]] = [[] for _ in legs]
        for lo in range(0, len(unique), BATCH):
            batch = unique[lo : lo + BATCH]
            _, pred = dijkstra(times, directed=True, indices=batch, return_predecessors=True)
            for k, (s_node, d_node) in enumerate(zip(src, dst, strict=True)):
                i = row[int(s_node)] - lo
                if not 0 <= i < len(batch):
                    continue
                chain = [int(d_node)]
                while chain[-1] != s_node and pred[i, chain[-1]] >= 0:
                    chain.append(int(pred[i, chain[-1]]))
                if chain[-1] != s_node:
                    chain = []  # unreachable: the straight line
                a, b = legs[k]
                out[k] = [a, *(LatLon(float(g.lat[v]), float(g.lon[v])) for v in reversed(chain)), b]
        return out

    def _compute(self, points: list[LatLon], nodes: np.ndarray, snap_km: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The matrices of ``points``, snapped to ``nodes`` at ``snap_km``."""
        from scipy.sparse.csgraph import dijkstra

        g = self.graph
        unique, where = np.unique(nodes, return_inverse=True)
        times, kms = g.routing
        n = len(unique)
        road_min = np.zeros((n, n))
        road_km = np.zeros((n, n))
        for lo in range(0, n, BATCH):
            src = unique[lo : lo + BATCH]
            dist, pred = dijkstra(times, directed=True, indices=src, return_predecessors=True)
            road_min[lo : lo + BATCH] = dist[:, unique]
            road_km[lo : lo + BATCH] = _km_along(pred.astype(np.int64), src, unique, times.indptr.astype(np.int64),
                                                 times.indices.astype(np.int64), kms.data)  # fmt: skip
        snap_min = snap_km / SNAP_KMH * 60.0
        km = road_km[np.ix_(where, where)] + snap_km[:, None] + snap_km[None, :]
        minutes = road_min[np.ix_(where, where)] + snap_min[:, None] + snap_min[None, :]
        # unreachable pairs (never within the main part, kept as a safety net): a straight line, slowly
        lats = np.array([p.lat for p in points])
        lons = np.array([p.lon for p in points])
        straight = haversine_km(lats[:, None], lons[:, None], lats[None, :], lons[None, :]) * 2.0
        bad = ~np.isfinite(minutes)
        km[bad] = straight[bad]
        minutes[bad] = straight[bad] / SNAP_KMH * 60.0
        # two places on one node: the straight hop between them
        same = where[:, None] == where[None, :]
        km[same] = straight[same] / 2.0
        minutes[same] = km[same] / SNAP_KMH * 60.0
        np.fill_diagonal(km, 0.0)
        np.fill_diagonal(minutes, 0.0)
        for i, j in zip(*np.nonzero(bad), strict=True):
            self.unreachable.add((points[i], points[j]))
        return km, minutes

    def _key(self, points: list[LatLon]) -> str:
        src = Path(self.graph.source).stat()
        h = hashlib.sha256(f"{Path(self.graph.source).resolve()}|{src.st_size}|{src.st_mtime_ns}|v1".encode())
        h.update(np.array([(p.lat, p.lon) for p in points], dtype=np.float64).tobytes())
        return h.hexdigest()[:32]

    def _load(self, points: list[LatLon]) -> tuple[np.ndarray, np.ndarray] | None:
        path = cache_dir() / f"{self._key(points)}.npz"
        try:
            with np.load(path) as data:
                return data["km"], data["minutes"]
        except (OSError, KeyError, ValueError):
            return None

    def _save(self, points: list[LatLon], matrices: tuple[np.ndarray, np.ndarray]) -> None:
        folder = cache_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            tmp = folder / f".{self._key(points)}.{os.getpid()}.npz"
            np.savez_compressed(tmp, km=matrices[0], minutes=matrices[1])
            os.replace(tmp, folder / f"{self._key(points)}.npz")
        except OSError:
            pass  # a cache that cannot be written only costs time


_GRAPHS: dict[tuple[str, int, int], RoadGraph] = {}


def road_graph(path: str | Path) -> RoadGraph:
    """The extract's graph, read once per process."""
    p = Path(path)
    if not p.is_file():
        raise InputError("no such OpenStreetMap extract", file=str(p), field="travel.osm")
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns)
    if key not in _GRAPHS:
        _GRAPHS[key] = RoadGraph.from_osm(p)
    return _GRAPHS[key]
