"""Chinese map datums: GCJ-02 ("Mars coordinates") and Baidu's BD-09, to and from WGS-84.

GCJ-02 is WGS-84 with a published, deterministic obfuscation applied inside
mainland China; BD-09 is a further offset of GCJ-02. The forward formulas are the
widely published ones (Krasovsky 1940 ellipsoid); the inverse is solved by fixed-point
iteration, which converges to well under a metre. Points outside China are unchanged.
No maintained package on the index does this, so it lives here.
"""

from __future__ import annotations

import math

from .geo import LatLon

#: Semi-major axis and eccentricity squared of the Krasovsky 1940 ellipsoid used by GCJ-02.
_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323
#: BD-09's constant rotation factor (published with the Baidu transform).
_BD_X_PI = math.pi * 3000.0 / 180.0

DATUMS = ("wgs84", "gcj02", "bd09")


def _outside_china(lat: float, lon: float) -> bool:
    return not (73.66 < lon < 135.05 and 3.86 < lat < 53.55)


def _delta(lat: float, lon: float) -> tuple[float, float]:
    x, y = lon - 105.0, lat - 35.0
    dlat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * math.sqrt(abs(x))
    dlat += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlat += (20.0 * math.sin(y * math.pi) + 40.0 * math.sin(y / 3.0 * math.pi)) * 2.0 / 3.0
    dlat += (160.0 * math.sin(y / 12.0 * math.pi) + 320 * math.sin(y * math.pi / 30.0)) * 2.0 / 3.0
    dlon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * math.sqrt(abs(x))
    dlon += (20.0 * math.sin(6.0 * x * math.pi) + 20.0 * math.sin(2.0 * x * math.pi)) * 2.0 / 3.0
    dlon += (20.0 * math.sin(x * math.pi) + 40.0 * math.sin(x / 3.0 * math.pi)) * 2.0 / 3.0
    dlon += (150.0 * math.sin(x / 12.0 * math.pi) + 300.0 * math.sin(x / 30.0 * math.pi)) * 2.0 / 3.0
    rad = lat / 180.0 * math.pi
    magic = 1 - _KRASOVSKY_EE * math.sin(rad) ** 2
    sqrt_magic = math.sqrt(magic)
    dlat = (dlat * 180.0) / ((_KRASOVSKY_A * (1 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * math.pi)
    dlon = (dlon * 180.0) / (_KRASOVSKY_A / sqrt_magic * math.cos(rad) * math.pi)
    return dlat, dlon


def wgs84_to_gcj02(p: LatLon) -> LatLon:
    if _outside_china(p.lat, p.lon):
        return p
    dlat, dlon = _delta(p.lat, p.lon)
    return LatLon(p.lat + dlat, p.lon + dlon)


def gcj02_to_wgs84(p: LatLon) -> LatLon:
    if _outside_china(p.lat, p.lon):
        return p
    guess = p
    for _ in range(10):
        fwd = wgs84_to_gcj02(guess)
        guess = LatLon(guess.lat + (p.lat - fwd.lat), guess.lon + (p.lon - fwd.lon))
    return guess


def gcj02_to_bd09(p: LatLon) -> LatLon:
    x, y = p.lon, p.lat
    z = math.sqrt(x * x + y * y) + 0.00002 * math.sin(y * _BD_X_PI)
    theta = math.atan2(y, x) + 0.000003 * math.cos(x * _BD_X_PI)
    return LatLon(z * math.sin(theta) + 0.006, z * math.cos(theta) + 0.0065)


def bd09_to_gcj02(p: LatLon) -> LatLon:
    x, y = p.lon - 0.0065, p.lat - 0.006
    z = math.sqrt(x * x + y * y) - 0.00002 * math.sin(y * _BD_X_PI)
    theta = math.atan2(y, x) - 0.000003 * math.cos(x * _BD_X_PI)
    return LatLon(z * math.sin(theta), z * math.cos(theta))


def to_wgs84(p: LatLon, datum: str) -> LatLon:
    """Convert a position given in ``datum`` to WGS-84."""
    if datum == "wgs84":
        return p
    if datum == "gcj02":
        return gcj02_to_wgs84(p)
    if datum == "bd09":
        return gcj02_to_wgs84(bd09_to_gcj02(p))
    raise ValueError(f"unknown datum '{datum}' (use {', '.join(DATUMS)})")


def from_wgs84(p: LatLon, datum: str) -> LatLon:
    """Convert a WGS-84 position to ``datum`` (for display on that datum's tiles)."""
    if datum == "wgs84":
        return p
    if datum == "gcj02":
        return wgs84_to_gcj02(p)
    if datum == "bd09":
        return gcj02_to_bd09(wgs84_to_gcj02(p))
    raise ValueError(f"unknown datum '{datum}' (use {', '.join(DATUMS)})")
