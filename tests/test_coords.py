"""Chinese datums round-trip to WGS-84 within a metre."""

from __future__ import annotations

from geopy.distance import great_circle
from hypothesis import given
from hypothesis import strategies as st

from routeplan.coords import from_wgs84, to_wgs84
from routeplan.geo import LatLon


@given(st.floats(20, 45), st.floats(100, 122), st.sampled_from(["gcj02", "bd09"]))
def test_round_trip_in_china(lat, lon, datum):
    p = LatLon(lat, lon)
    shifted = from_wgs84(p, datum)
    assert great_circle(p, shifted).m > 50  # the offset is real
    back = to_wgs84(shifted, datum)
    assert great_circle(p, back).m < 1.0


def test_outside_china_gcj_is_identity():
    p = LatLon(55.95, -3.19)  # Edinburgh
    assert from_wgs84(p, "gcj02") == p
