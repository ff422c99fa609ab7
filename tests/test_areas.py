"""Route areas and wedge territories: wedges around an office, the open-route estimate, and the
design's choice between wedges and compact territories."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from routeplan.check import check_plan
from routeplan.geo import nearest_neighbours
from routeplan.model import Rules
from routeplan.solve.areas import compact_areas, open_route_km, shorter_areas, wedge_areas, weeks_ridden
from routeplan.solve.design import design_territories, positions_km
from routeplan.solve.month import PlanParams, plan_month
from routeplan.solve.territory import balanced_clusters, smooth, wedges
from routeplan.synth import shape, synthetic_scenario


def _disk(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    r = 10 * np.sqrt(rng.random(n))
    a = rng.random(n) * 2 * np.pi
    return np.column_stack((r * np.cos(a), r * np.sin(a)))


def _angular_runs(xy: np.ndarray, labels: np.ndarray, centre: np.ndarray) -> int:
    """How many runs of equal labels the points make in order of angle around ``centre`` (a
    circle: the last run joins the first when they share a label)."""
    order = np.argsort(np.arctan2(xy[:, 1] - centre[1], xy[:, 0] - centre[0]), kind="stable")
    seq = labels[order]
    runs = 1 + int(np.sum(seq[1:] != seq[:-1]))
    return runs - 1 if len(set(seq)) > 1 and seq[0] == seq[-1] else runs


def test_wedges_are_one_angular_run_each_with_their_share_of_the_work():
    xy = _disk(400)
    weights = np.random.default_rng(1).uniform(1, 3, len(xy))
    shares = np.array([1.0, 1.0, 2.0, 1.0])
    labels = wedges(xy, weights, np.zeros(2), shares)
    assert _angular_runs(xy, labels, np.zeros(2)) == 4
    load = np.bincount(labels, weights=weights, minlength=4)
    target = weights.sum() * shares / shares.sum()
    assert np.all(np.abs(load - target) <= weights.max())


def test_balanced_clusters_keep_every_group_within_its_share_and_pins_where_they_are():
    xy = _disk(600, seed=3)
    weights = np.random.default_rng(4).uniform(0.5, 2.0, 600)
    shares = np.array([0.5, 0.25, 0.25])
    fixed = np.full(600, -1)
    fixed[:5] = 2
    labels = balanced_clusters(xy, weights, 3, np.random.default_rng(0), fixed=fixed, shares=shares)
    load = np.bincount(labels, weights=weights, minlength=3)
    assert (load <= weights.sum() * shares * 1.03 + weights.max()).all()  # the slack, and a shop's weight
    assert (labels[:5] == 2).all()
    near = nearest_neighbours(xy, 8)  # compact: a point's nearest points are mostly in its group
    assert (labels[near] == labels[:, None]).mean() > 0.9


def test_smooth_gives_an_enclave_to_the_group_around_it_unless_it_may_not_move():
    xy = np.array([[x, y] for x in range(10) for y in range(10)], dtype=float)
    labels = (xy[:, 0] >= 5).astype(np.int64)  # two halves
    inside = [int(np.flatnonzero((xy[:, 0] == 2) & (xy[:, 1] == y))[0]) for y in (4, 5)]
    labels[inside] = 1  # an island of the right half's group in the left half
    movable = np.ones(100, dtype=bool)
    assert (smooth(xy, labels, movable)[inside] == 0).all()
    movable[inside[0]] = False
    out = smooth(xy, labels, movable)
    assert out[inside[0]] == 1 and out[inside[1]] == 0
    assert (out[xy[:, 0] >= 5] == 1).all() and labels[inside].tolist() == [1, 1]  # the input is kept


def test_wedges_keep_pins_and_put_a_pinned_group_where_its_pins_are():
    xy = _disk(300, seed=3)
    east = np.flatnonzero((xy[:, 0] > 3) & (np.abs(xy[:, 1]) < 1))[:5]
    fixed = np.full(len(xy), -1)
    fixed[east] = 2
    labels = wedges(xy, np.ones(len(xy)), np.zeros(2), np.ones(3), fixed=fixed)
    assert (labels[east] == 2).all()
    assert _angular_runs(xy, labels, np.zeros(2)) == 3, "the pinned shops lie inside their group's wedge"


def test_wedges_of_odd_inputs():
    assert len(wedges(np.zeros((0, 2)), np.zeros(0), np.zeros(2), np.ones(3))) == 0
    one_place = wedges(np.ones((6, 2)), np.ones(6), np.ones(2), np.ones(3))  # every shop at the office
    assert sorted(np.bincount(one_place, minlength=3)) == [2, 2, 2]


def test_open_route_estimate_drives_out_and_ends_at_the_last_shop():
    office = np.zeros(2)
    xy = np.array([[6.0, 0.0], [3.0, 0.0], [4.0, 0.0], [0.0, 7.0], [0.0, 5.0]])
    areas = np.array([0, 0, 0, 1, 1])
    # area 0: 3 km out, then 3 km along to the farthest shop; area 1: 5 km out, then 2 km
    assert open_route_km(xy, office, areas) == pytest.approx(3 + 3 + 5 + 2)
    assert open_route_km(np.ones((4, 2)), np.ones(2), np.zeros(4, dtype=int)) == 0.0
    # a square of shops 1 km apart beside the office: out 1 km, then three sides, not back
    square = np.array([[1.0, 0.0], [2.0, 1.0], [1.0, 1.0], [2.0, 0.0]])
    assert open_route_km(square, office, np.zeros(4, dtype=int)) == pytest.approx(1 + 3)


def test_a_shop_riding_every_week_is_a_stop_of_each_week_route_of_its_weekday():
    office = np.zeros(2)
    xy = np.array([[3.0, 0.0], [0.0, 4.0], [0.0, 6.0], [5.0, 0.0], [0.0, 9.0]])
    areas = np.array([0, 1, 1, 2, 3])  # weekday 0: areas 0 (week 1) and 1 (week 2); weekday 1: 2 and 3
    once = open_route_km(xy, office, areas, weeks=2)
    assert once == pytest.approx(3 + 6 + 5 + 9)
    assert open_route_km(xy, office, areas) == pytest.approx(once), "one week: the areas as they are"
    # the shop at (3, 0) rides both weeks: week 2's route of weekday 0 now passes it too
    rides = np.array([2, 1, 1, 1, 1])
    assert open_route_km(xy, office, areas, weeks=2, rides=rides) == pytest.approx(3 + (3 + 5 + 2) + 5 + 9)
    # but never another weekday's route: riding both weeks of weekday 1 adds (5, 0) to area 3 only
    assert open_route_km(xy, office, areas, weeks=2, rides=np.array([1, 1, 1, 2, 1])) == pytest.approx(
        3 + 6 + 5 + (5 + np.hypot(5, 9))
    )
    # four weeks: a shop riding two rides its own week and the week two after it
    four = np.array([0, 2])
    pair = np.array([[1.0, 0.0], [0.0, 2.0]])
    assert open_route_km(pair, office, four, weeks=4, rides=np.array([2, 1])) == pytest.approx(1 + 1 + np.hypot(1, 2))
    assert open_route_km(pair, office, np.array([0, 1]), weeks=4, rides=np.array([2, 1])) == pytest.approx(1 + 2)


def test_weeks_ridden_follow_the_visits_a_month_needs():
    # two-week cycle: a route runs about twice a month, so 4 visits need both weeks, 2 need one
    assert weeks_ridden(np.array([1, 2, 3, 4, 8]), 2, 31).tolist() == [1, 1, 2, 2, 2]
    assert weeks_ridden(np.array([2, 4]), 2, 28).tolist() == [1, 2]
    # weekly cycle: every shop rides its one week; four-week cycle: twice a month, two weeks
    assert weeks_ridden(np.array([4]), 1, 31).tolist() == [1]
    assert weeks_ridden(np.array([1, 2, 4]), 4, 30).tolist() == [1, 2, 4]


def test_the_estimate_with_weekly_shops_prefers_wedges_where_compact_weeks_lie_apart():
    """Two weeks' compact areas of a weekday lie side by side; its weekly shops pull each week's
    route into the other's area, which thin neighbouring wedges barely notice."""
    xy = _disk(340, seed=5)
    weights = np.ones(len(xy))
    office = np.zeros(2)
    rides = np.where(np.random.default_rng(2).random(len(xy)) < 0.1, 2, 1)
    wedge = wedge_areas(xy, weights, office, 5, 2)
    compact = compact_areas(xy, weights, 5, 2, np.random.default_rng(0))
    added = {
        name: open_route_km(xy, office, areas, weeks=2, rides=rides) - open_route_km(xy, office, areas, weeks=2)
        for name, areas in (("wedge", wedge), ("compact", compact))
    }
    assert 0 < added["wedge"] < added["compact"]


def test_wedge_areas_drive_less_than_compact_ones_around_the_office():
    xy = _disk(340, seed=5)
    weights = np.ones(len(xy))
    wedge = wedge_areas(xy, weights, np.zeros(2), 5, 2)
    compact = compact_areas(xy, weights, 5, 2, np.random.default_rng(0))
    assert np.bincount(wedge, minlength=10).min() >= 33
    assert open_route_km(xy, np.zeros(2), wedge) < open_route_km(xy, np.zeros(2), compact)
    # neighbouring wedges are the same weekday in the cycle's two weeks
    assert _angular_runs(xy, wedge // 2, np.zeros(2)) == 5


@pytest.mark.parametrize("office", [np.zeros(2), np.array([25.0, 0.0])])
def test_a_territory_of_no_chosen_shape_gets_the_areas_the_estimate_finds_shorter(office: np.ndarray) -> None:
    """Around the office, wedges; beside the town, whichever cut drives less, balanced either way."""
    xy = _disk(340, seed=5)
    weights = np.ones(len(xy))
    chosen = shorter_areas(xy, weights, office, 5, 2, np.random.default_rng(0))
    wedge = wedge_areas(xy, weights, office, 5, 2)
    compact = compact_areas(xy, weights, 5, 2, np.random.default_rng(0))
    km = {name: open_route_km(xy, office, areas) for name, areas in (("wedge", wedge), ("compact", compact))}
    assert open_route_km(xy, office, chosen) == pytest.approx(min(km.values()))
    assert np.array_equal(chosen, wedge if km["wedge"] < km["compact"] else compact)
    if not office.any():
        assert np.array_equal(chosen, wedge)
    assert np.bincount(chosen, minlength=10).min() >= 30


def _city_around_its_office(seed: int = 0):
    rules = Rules(min_stops_per_day=8, min_field_minutes=90, max_day_minutes=600)
    sc = synthetic_scenario(shape("city", 400, 4), seed=seed, rules=rules)
    xy, _ = positions_km(sc)
    centre = xy.mean(axis=0)
    middle = sc.retailers[int(np.argmin(((xy - centre) ** 2).sum(axis=1)))].location
    return dataclasses.replace(sc, managers=tuple(dataclasses.replace(m, office=middle) for m in sc.managers))


def test_a_team_in_the_middle_of_its_shops_gets_wedges_and_keeps_every_rule():
    sc = _city_around_its_office()
    design = design_territories(sc, seed=0)
    assert design.wedges
    xy, offices = positions_km(sc)
    labels = np.array([sc.manager_index[design.manager_of[r.id]] for r in sc.retailers])
    assert _angular_runs(xy, labels, offices[0]) <= 4 + 2  # a wedge each, a few border shops rebalanced
    assert design.balance < 1.1
    plan = plan_month(sc, PlanParams(time_limit_s=4, workers=1, clock=False), seed=0)
    assert check_plan(sc, plan) == []
    again = plan_month(sc, PlanParams(time_limit_s=4, workers=1, clock=False), seed=0)
    assert again.visits == plan.visits, "same seed, same plan"


def test_a_redesign_of_a_current_split_stays_compact():
    """Wedges are for a new design: with a split in use, keeping shops with their managers wins."""
    sc = _city_around_its_office()
    first = design_territories(sc, seed=0)
    again = design_territories(sc, current=dict(first.manager_of), seed=0)
    assert not again.wedges
    assert again.moved == 0


def test_the_planner_may_ask_for_either_shape():
    sc = _city_around_its_office()
    assert not design_territories(sc, seed=0, shape="compact").wedges
    assert design_territories(sc, seed=0, shape="wedges").wedges
    with pytest.raises(ValueError, match="territory_shape"):
        PlanParams(territory_shape="round")


def test_plan_command_takes_the_territory_shape(tmp_path):
    from routeplan.cli import main
    from routeplan.read import read_plan, read_scenario
    from routeplan.write import write_scenario

    sc = _city_around_its_office()
    folder = tmp_path / "city"
    write_scenario(folder, sc)
    splits = {}
    for shape_name in ("compact", "wedges"):
        out = tmp_path / shape_name
        main(["plan", str(folder), "-o", str(out), "--time-limit", "3", "--workers", "1", "--quiet", "--no-render",
              "--reproducible", "--territory-shape", shape_name])  # fmt: skip
        splits[shape_name] = read_plan(out).manager_of()
    written = read_scenario(folder)
    xy, offices = positions_km(written)
    runs = {}
    for k, split in splits.items():
        labels = np.array([written.manager_index[split[r.id]] for r in written.retailers])
        runs[k] = _angular_runs(xy, labels, offices[0])
    assert runs["wedges"] >= 4 and 4 * runs["wedges"] < runs["compact"], runs  # wedges: a run each, give or take
    assert splits["compact"] != splits["wedges"]


def test_the_design_estimates_each_shop_on_as_many_weeks_as_its_visits_need(monkeypatch):
    import routeplan.solve.design as design

    sc = _city_around_its_office()
    seen = []
    estimate = design.open_route_km

    def spy(xy, office, areas, **kwargs):
        seen.append((len(xy), kwargs))
        return estimate(xy, office, areas, **kwargs)

    monkeypatch.setattr(design, "open_route_km", spy)
    design_territories(sc, seed=0)
    assert seen and all(kw["weeks"] == 2 for _, kw in seen)
    weekly = sum(r.visits_per_month == 4 for r in sc.retailers)
    assert 0 < weekly < len(sc.retailers)
    # each shape's estimate covers every shop once: the weekly ones ride 2 weeks, the others 1
    rides = [kw["rides"] for _, kw in seen]
    assert sum(int((r == 2).sum()) for r in rides) == 2 * weekly
    assert sum(len(r) for r in rides) == 2 * len(sc.retailers)
