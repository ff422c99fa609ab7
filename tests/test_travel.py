"""One travel model end to end: asymmetric times (one-way streets) are planned and checked alike."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from routeplan.check import check_plan
from routeplan.figures import day_km, return_legs
from routeplan.geo import LatLon
from routeplan.solve.kernels import improve_path
from routeplan.solve.month import PlanParams, plan_month
from routeplan.travel import GreatCircleTravel


@dataclass(frozen=True)
class Uphill:
    """A made-up asymmetric model: driving north costs 40% more than driving south."""

    base: GreatCircleTravel = field(default_factory=GreatCircleTravel)

    def _factor(self, a: LatLon, b: LatLon) -> float:
        return 1.4 if b.lat > a.lat else 1.0

    def matrices(self, points):
        km, minutes = self.base.matrices(points)
        lats = np.array([p.lat for p in points])
        factor = np.where(lats[None, :] > lats[:, None], 1.4, 1.0)
        return km * factor, minutes * factor

    def leg(self, a: LatLon, b: LatLon) -> tuple[float, float]:
        km, minutes = self.base.leg(a, b)
        f = self._factor(a, b)
        return km * f, minutes * f


def _cost(dist: np.ndarray, path: np.ndarray) -> float:
    return float(dist[path[:-1], path[1:]].sum())


@settings(max_examples=200, deadline=None)
@given(st.integers(4, 14), st.integers(0, 2**31 - 1))
def test_path_improvement_never_worsens_an_asymmetric_path(n, seed):
    rng = np.random.default_rng(seed)
    dist = rng.uniform(1, 10, size=(n, n)) * rng.choice([1.0, 3.0], size=(n, n))  # strongly one-way
    np.fill_diagonal(dist, 0.0)
    path = np.concatenate(([0], rng.permutation(np.arange(1, n - 1)), [n - 1])).astype(np.int64)
    better = improve_path(dist, path)
    assert better[0] == 0 and better[-1] == n - 1
    assert sorted(better.tolist()) == list(range(n))
    assert _cost(dist, better) <= _cost(dist, path) + 1e-9


def test_plan_and_check_with_one_asymmetric_model(tiny):
    travel = Uphill()
    plan = plan_month(tiny, PlanParams(time_limit_s=4, workers=1, clock=False), seed=0, travel=travel)
    assert check_plan(tiny, plan, travel=travel) == []
    # the plan's legs are the model's legs (the solver planned in the world the checker judges)
    where = {r.id: r.location for r in tiny.retailers}
    office = {m.id: m.office for m in tiny.managers}
    for (mid, _day), seq in plan.days().items():
        stops = [office[mid], *(where[v.retailer_id] for v in seq)]
        expect = [travel.leg(a, b)[0] for a, b in itertools.pairwise(stops)]
        assert np.allclose([v.travel_km for v in seq], expect, atol=2e-3)


def test_return_legs_use_the_model(tiny, tiny_plan):
    from dataclasses import replace

    back = replace(tiny, managers=tuple(replace(m, return_to_office=True) for m in tiny.managers))
    plain, uphill = return_legs(back, tiny_plan), return_legs(back, tiny_plan, Uphill())
    assert plain.keys() == uphill.keys() and plain
    assert any(uphill[k] > plain[k] * 1.3 for k in plain)  # some drives back go north
    days = day_km(back, tiny_plan)
    assert all(days[k] >= plain[k] for k in plain)


def test_kept_travel_computes_a_months_matrices_once_and_its_models_share_them(tiny):
    from routeplan.solve.month import MonthModel
    from routeplan.travel import KeptTravel

    asked: list[int] = []
    remembered: list[np.ndarray] = []

    class Counting:
        """Counts its matrices, and keeps them read-only for its own lookups as the road models do."""

        def matrices(self, points):
            asked.append(len(points))
            km, minutes = Uphill().matrices(points)
            for mat in (km, minutes):
                mat.setflags(write=False)
            remembered.extend((km, minutes))
            return km, minutes

        def leg(self, a, b):
            return Uphill().leg(a, b)

    kept = KeptTravel(Counting())
    first, second = MonthModel(tiny, kept), MonthModel(tiny, kept)
    assert asked == [len(tiny.retailers) + len(tiny.managers) + 1]  # shops, offices, the free end
    assert first.dist is second.dist and first.time is second.time  # one pair for both problems
    end = first.end_node
    assert not first.dist[end].any() and not first.dist[:, end].any() and not first.time[end].any()
    # the free end is written into the shared copy, never into the model's own read-only tables
    places = [*(r.location for r in tiny.retailers), *(m.office for m in tiny.managers), tiny.managers[0].office]
    expected = Uphill().matrices(places)
    assert expected[0][end].any()  # the end is a real place to the travel model
    assert all(np.array_equal(mat, want) for mat, want in zip(remembered, expected, strict=True))
    assert np.array_equal(first.dist[:end, :end], expected[0][:end, :end])
    # a territory design's smaller sets in between pass through, and the month's pair stays kept
    points = [LatLon(39.90 + i / 100, 116.40 + i / 150) for i in range(5)]
    assert all(np.array_equal(a, b) for a, b in zip(kept.matrices(points), Uphill().matrices(points), strict=True))
    assert asked[1:] == [5] and MonthModel(tiny, kept).dist is first.dist and len(asked) == 2
    assert kept.leg(points[0], points[1]) == Uphill().leg(points[0], points[1])
