"""Road travel from OSRM: a server the user runs, or ``osrm-routed`` started here.

OSRM's maintained car profile (``car.lua``: one-way streets, turn restrictions, access tags,
traffic signals) makes the times. With ``osrm_url`` routeplan asks that server; otherwise it
prepares the extract once (``osrm-extract``, ``osrm-partition``, ``osrm-customize``, kept in the routeplan cache
beside the road matrices) and runs ``osrm-routed`` bound to 127.0.0.1 on a free port until
the process ends. The programs are found in ``ROUTEPLAN_OSRM_BIN``, in the ``osrm`` package
(``osrm-bindings``, Python 3.12+), or on the ``PATH`` (see the README for Python 3.11).
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
import json
import os
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .errors import InputError, RouteplanError
from .geo import LatLon, haversine_km
from .roads import cache_dir
from .travel import SNAP_KMH, MatrixLegs

#: Sources and destinations per table request to a server the user runs (OSRM's default
#: ``--max-table-size`` allows 100 x 100).
TABLE_BLOCK = 100
#: The server started here takes every place in each request, with this many sources at a time:
#: OSRM's multi-level Dijkstra pays per source and per request, so few large requests are
#: cheaper than many square blocks (300 shops on a city-sized grid: 23 s in 100-place blocks,
#: 10 s in one request).
SOURCE_BLOCK = 250
#: ``--max-table-size`` of the server started here.
OWN_TABLE_SIZE = 100000
#: Seconds to wait for a started server to answer.
START_TIMEOUT_S = 60.0


def find_programs() -> Path | None:
    """The folder holding ``osrm-extract``, ``osrm-contract`` and ``osrm-routed``, or None."""
    named = os.environ.get("ROUTEPLAN_OSRM_BIN")
    candidates = [Path(named)] if named else []
    spec = importlib.util.find_spec("osrm")
    if spec is not None and spec.submodule_search_locations:
        candidates += [Path(p) / "bin" for p in spec.submodule_search_locations]
    which = shutil.which("osrm-routed")
    if which:
        candidates.append(Path(which).parent)
    return next((c for c in candidates if (c / "osrm-routed").is_file()), None)


def _profile(programs: Path) -> Path:
    for p in (
        programs.parent / "share" / "profiles" / "car.lua",
        programs.parent / "share" / "osrm" / "profiles" / "car.lua",
    ):
        if p.is_file():
            return p
    raise RouteplanError(f"OSRM's car profile (car.lua) is not beside {programs}")


def prepare(extract: Path, programs: Path) -> Path:
    """The routable ``.osrm`` data of ``extract`` (made once, then taken from the cache)."""
    st = extract.stat()
    key = hashlib.sha256(f"{extract.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()[:24]
    folder = cache_dir().parent / "osrm-mld" / key
    base = folder / "city.osrm"
    if (folder / "ready").is_file():
        return base
    folder.mkdir(parents=True, exist_ok=True)
    suffix = ".osm.pbf" if extract.name.endswith(".pbf") else ".osm"
    shutil.copyfile(extract, folder / f"city{suffix}")
    # multi-level Dijkstra (partition + customize): seconds on any network, where contraction
    # hierarchies can take minutes on a regular street grid
    for cmd in ([programs / "osrm-extract", "-p", str(_profile(programs)), f"city{suffix}"],
                [programs / "osrm-partition", "city.osrm"], [programs / "osrm-customize", "city.osrm"]):  # fmt: skip
        done = subprocess.run([str(c) for c in cmd], cwd=folder, capture_output=True, text=True)
        if done.returncode:
            tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
            raise InputError(f"OSRM could not prepare it: {tail[0]}", file=str(extract), field="travel.osm")
    (folder / f"city{suffix}").unlink()
    (folder / "ready").write_text("", encoding="utf-8")
    return base


class OsrmServer:
    """``osrm-routed`` on 127.0.0.1, started for this process and stopped when it ends."""

    def __init__(self, data: Path, programs: Path) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.process = subprocess.Popen(
            [str(programs / "osrm-routed"), "--ip", "127.0.0.1", "--port", str(self.port), "--algorithm", "mld",
             "--max-table-size", str(OWN_TABLE_SIZE), "--max-viaroute-size", "100000", str(data)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        atexit.register(self.stop)
        self.url = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RouteplanError(f"osrm-routed stopped at once (exit {self.process.returncode})")
            try:
                urllib.request.urlopen(f"{self.url}/nearest/v1/driving/0,0", timeout=1).close()
                return
            except urllib.error.HTTPError:
                return  # it answers (with an error for that point): it is up
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RouteplanError(f"osrm-routed did not answer within {START_TIMEOUT_S:g} s")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()


@dataclass
class OsrmTravel(MatrixLegs):
    """The road travel model on an OSRM server (a :class:`routeplan.travel.TravelModel`)."""

    url: str
    server: OsrmServer | None = None
    _tables: list[tuple[dict[LatLon, int], np.ndarray, np.ndarray]] = field(default_factory=list, repr=False)
    snapped: dict[LatLon, float] = field(default_factory=dict, repr=False)
    unreachable: set[tuple[LatLon, LatLon]] = field(default_factory=set, repr=False)

    @classmethod
    def for_extract(cls, extract: str | Path) -> OsrmTravel:
        programs = find_programs()
        if programs is None:
            raise InputError("no OSRM programs found (set ROUTEPLAN_OSRM_BIN; see the README)", field="travel.engine")
        server = OsrmServer(prepare(Path(extract), programs), programs)
        return cls(server.url, server)

    def _get(self, path: str) -> dict:
        try:
            with urllib.request.urlopen(f"{self.url.rstrip('/')}{path}", timeout=600) as r:
                doc = json.loads(r.read().decode("utf-8"))
        except (OSError, ValueError) as exc:
            raise RouteplanError(f"OSRM at {self.url} did not answer: {exc}") from None
        if doc.get("code") != "Ok":
            raise RouteplanError(f"OSRM at {self.url}: {doc.get('code')}: {doc.get('message', '')}")
        return doc

    def matrices(self, points: Sequence[LatLon]) -> tuple[np.ndarray, np.ndarray]:
        points = list(points)
        n = len(points)
        km = np.zeros((n, n))
        minutes = np.zeros((n, n))
        snap = np.zeros(n)  # km from each place to the street OSRM snapped it to
        coords = [f"{p.lon:.6f},{p.lat:.6f}" for p in points]
        for rows, cols in self._blocks(n):
            both = list(dict.fromkeys([*rows, *cols]))
            at = {i: k for k, i in enumerate(both)}
            doc = self._get(
                "/table/v1/driving/" + ";".join(coords[i] for i in both)
                + "?annotations=duration,distance"
                + "&sources=" + ";".join(str(at[i]) for i in rows)
                + "&destinations=" + ";".join(str(at[j]) for j in cols)
            )  # fmt: skip
            dur = np.array(doc["durations"], dtype=float)
            dist = np.array(doc["distances"], dtype=float)
            minutes[rows.start : rows.stop, cols.start : cols.stop] = dur / 60.0
            km[rows.start : rows.stop, cols.start : cols.stop] = dist / 1000.0
            for j, place in zip(cols, doc.get("destinations", []), strict=True):
                snap[j] = place.get("distance", 0.0) / 1000.0
        # unroutable pairs (null in OSRM's answer): a straight line, slowly
        lats = np.array([p.lat for p in points])
        lons = np.array([p.lon for p in points])
        straight = haversine_km(lats[:, None], lons[:, None], lats[None, :], lons[None, :]) * 2.0
        bad = ~np.isfinite(km) | ~np.isfinite(minutes)
        km[bad], minutes[bad] = straight[bad], straight[bad] / SNAP_KMH * 60.0
        self.unreachable.update((points[i], points[j]) for i, j in zip(*np.nonzero(bad), strict=True))
        self.snapped.update(zip(points, snap.tolist(), strict=True))
        # the walk or crawl between each place and its street, as the graph engine drives it
        reach = snap[:, None] + snap[None, :]
        km[~bad] += reach[~bad]
        minutes[~bad] += reach[~bad] / SNAP_KMH * 60.0
        np.fill_diagonal(km, 0.0)
        np.fill_diagonal(minutes, 0.0)
        self._remember(points, km, minutes)
        return km, minutes

    def _blocks(self, n: int) -> list[tuple[range, range]]:
        """The (sources, destinations) of each table request: every place at once for the
        server started here, square blocks within OSRM's default table size for another."""
        if self.server is not None:
            return [(range(lo, min(n, lo + SOURCE_BLOCK)), range(n)) for lo in range(0, n, SOURCE_BLOCK)]
        return [
            (range(lo, min(n, lo + TABLE_BLOCK)), range(co, min(n, co + TABLE_BLOCK)))
            for lo in range(0, n, TABLE_BLOCK)
            for co in range(0, n, TABLE_BLOCK)
        ]

    def paths(self, legs: Sequence[tuple[LatLon, LatLon]]) -> list[list[LatLon]]:
        """Each leg's route as a line along the streets (OSRM's full geometry)."""
        out = []
        for a, b in legs:
            doc = self._get(f"/route/v1/driving/{a.lon:.6f},{a.lat:.6f};{b.lon:.6f},{b.lat:.6f}"
                            "?overview=full&geometries=geojson")  # fmt: skip
            line = doc["routes"][0]["geometry"]["coordinates"] if doc.get("routes") else []
            out.append([a, *(LatLon(float(y), float(x)) for x, y in line), b])
        return out
