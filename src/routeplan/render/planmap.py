"""The interactive plan map (folium + Leaflet), self-contained so it opens offline.

Leaflet comes from the ``XStatic-Leaflet`` package installed with routeplan and is
inlined into the page: no CDN is contacted when the map is viewed. The plan reaches
the page as JSON and is drawn by ``static/planmap.js``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from html import escape
from importlib import resources
from typing import Any

import folium
from branca.element import Element, MacroElement
from jinja2 import Template

from .labels import labels
from .streets import Street
from .view import ManagerView, PlanView, positions


@dataclass(frozen=True)
class Tiles:
    """A background tile server and the datum its maps are drawn in."""

    url: str
    attribution: str
    datum: str
    subdomains: str = "abc"
    max_zoom: int = 19


TILES: dict[str, Tiles | None] = {
    "osm": Tiles(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        "wgs84",
    ),
    "amap": Tiles(
        "https://webrd0{s}.is.autonavi.com/appmaptile?lang=zh_cn&size=1&scale=1&style=8&x={x}&y={y}&z={z}",
        "&copy; AMap (高德地图)",
        "gcj02",
        subdomains="1234",
        max_zoom=18,
    ),
    "none": None,
}


def tiles_datum(tiles: str) -> str:
    """The datum positions must be drawn in on ``tiles`` (AMap is GCJ-02, the rest WGS-84)."""
    t = TILES[tiles]
    return t.datum if t else "wgs84"


@functools.cache
def leaflet_assets() -> tuple[str, str]:
    """Leaflet's JavaScript and CSS from the installed XStatic-Leaflet package."""
    import xstatic.pkg.leaflet as xleaflet

    base = resources.files(xleaflet).joinpath("data")
    return base.joinpath("leaflet.js").read_text(encoding="utf-8"), base.joinpath("leaflet.css").read_text(
        encoding="utf-8"
    )


@functools.cache
def _own(name: str) -> str:
    return resources.files("routeplan.render").joinpath("static").joinpath(name).read_text(encoding="utf-8")


def script_json(data: Any) -> str:
    """JSON safe inside a ``<script>`` element: no ``</script>``, no HTML entities at play."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _manager_data(m: ManagerView) -> dict[str, Any]:
    return {
        "id": m.id,
        "name": m.name,
        "color": m.color,
        "office": list(m.office),
        "outline": [list(p) for p in m.outline],
        "visit_dates": {k: [d.isoformat() for d in v] for k, v in m.visit_dates.items()},
        "routes": [
            {
                "id": r.id,
                "label": r.label,
                "color": r.color,
                "km": r.km,
                "leave": r.leave,
                "finish": r.finish,
                "dates": [d.isoformat() for d in r.dates],
                "track": [list(p) for p in r.track],
                "stops": [
                    {
                        "id": s.id,
                        "name": s.name,
                        "address": s.address,
                        "phone": s.phone,
                        "class": s.klass,
                        "at": list(s.at),
                    }
                    for s in r.stops
                ],
            }
            for r in m.routes
        ],
    }


class _PlanLayer(MacroElement):  # type: ignore[misc]
    """Puts the plan's JSON in the page and calls the drawing script on the folium map."""

    _template = Template(
        """
        {% macro html(this, kwargs) %}
        <script type="application/json" id="routeplan-data">{{ this.data_json }}</script>
        {% endmacro %}
        {% macro script(this, kwargs) %}
        routeplanDraw({{ this._parent.get_name() }},
            JSON.parse(document.getElementById("routeplan-data").textContent));
        {% endmacro %}
        """
    )

    def __init__(self, data_json: str) -> None:
        super().__init__()
        self._name = "RouteplanLayer"
        self.data_json = data_json


def plan_map_html(
    view: PlanView,
    *,
    tiles: str = "osm",
    lang: str = "en",
    streets: tuple[Street, ...] = (),
    manager_ids: tuple[str, ...] | None = None,
) -> str:
    """The HTML of the plan map, for every manager or only ``manager_ids``."""
    text = labels(lang)
    managers = [m for m in view.managers if manager_ids is None or m.id in manager_ids]
    points = positions(managers)
    lat = sum(p.lat for p in points) / len(points)
    lon = sum(p.lon for p in points) / len(points)
    fmap = folium.Map(location=[lat, lon], zoom_start=12, tiles=None, control_scale=True)
    fmap.default_js = []
    fmap.default_css = []
    js, css = leaflet_assets()
    root: Any = fmap.get_root()
    title = f"{text['plan_map']}: {view.scenario_name} {view.month}"
    if manager_ids is not None and len(managers) == 1:
        title = f"{text['plan_map']}: {managers[0].name} ({managers[0].id}) {view.month}"
    root.header.add_child(Element(f"<title>{escape(title)}</title>"), name="title")
    root.header.add_child(Element(f"<style>{css}</style>"), name="leaflet_css")
    root.header.add_child(Element(f"<style>{_own('planmap.css')}</style>"), name="routeplan_css")
    root.header.add_child(Element(f"<script>{js}</script>"), name="leaflet_js")
    root.header.add_child(Element(f"<script>{_own('planmap.js')}</script>"), name="routeplan_js")
    t = TILES[tiles]
    visits = sum(len(d.stops) for m in managers for d in m.days)
    km = sum(d.km for m in managers for d in m.days)
    data = {
        "title": title,
        "subtitle": f"{text['visits']}: {visits} · {text['total_km']}: {km:.0f}",
        "labels": {k: v for k, v in text.items() if isinstance(v, str)},
        "tiles": None
        if t is None
        else {"url": t.url, "attribution": t.attribution, "subdomains": t.subdomains, "max_zoom": t.max_zoom},
        "streets": [[list(p) for p in s] for s in streets],
        "managers": [_manager_data(m) for m in managers],
    }
    fmap.add_child(_PlanLayer(script_json(data)))
    return str(root.render())
