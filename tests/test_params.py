"""The search's parameters: validated data, and the phases (compiled loops included) read them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from routeplan import Continuing, LnsSchedule, Margins, Penalties, PlanParams, Rounds, TimeShares, Weights
from routeplan.check import check_plan
from routeplan.model import Scenario
from routeplan.solve import lns, month
from routeplan.solve.kernels import route_penalty
from routeplan.solve.lns import FreeDayProblem, solve_free_day
from routeplan.travel import travel_for


@pytest.mark.parametrize("value", [0, -0.1, 1.5, "half", None, True])
def test_a_time_share_outside_0_to_1_is_refused_naming_it(value: object) -> None:
    with pytest.raises(ValueError, match="time share per_manager"):
        TimeShares(per_manager=value)  # type: ignore[arg-type]


def _parts_improved(
    scenario: Scenario, params: PlanParams, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[month._Part], object]:
    """Every manager's part the per-manager phase improves, and the plan."""
    seen: list[month._Part] = []
    improve = month._improve_part

    def spy(part: month._Part) -> tuple[list[list[int]], object]:
        seen.append(part)
        return improve(part)

    monkeypatch.setattr(month, "_improve_part", spy)
    plan = month.plan_month(scenario, params, seed=0)
    monkeypatch.setattr(month, "_improve_part", improve)
    return seen, plan


def _phase_sizes(
    scenario: Scenario, params: PlanParams, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[tuple[int, int]], object]:
    """(compiled iterations, Python rounds) of every manager the per-manager phase improves, and the plan."""
    parts, plan = _parts_improved(scenario, params, monkeypatch)
    return [(part.lns_iterations, part.rounds) for part in parts], plan


def test_the_per_manager_phase_is_sized_by_its_shares(tiny: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """Half the compiled ruin-and-recreate share gives its iterations half, the rest to the Python
    rounds; the plan still keeps every rule."""
    base = PlanParams(time_limit_s=20, workers=1, clock=False)
    default, _ = _phase_sizes(tiny, base, monkeypatch)
    halved = dataclasses.replace(base, shares=dataclasses.replace(base.shares, compiled_lns=0.4))
    seen, plan = _phase_sizes(tiny, halved, monkeypatch)
    assert default and len(seen) == len(default)
    for (lns_before, rounds_before), (lns_after, rounds_after) in zip(default, seen, strict=True):
        assert lns_after == pytest.approx(lns_before / 2, abs=1)
        assert rounds_after > rounds_before
    assert check_plan(tiny, plan) == []


def test_a_clock_share_cuts_the_safety_net_not_the_rounds(tiny: Scenario, monkeypatch: pytest.MonkeyPatch) -> None:
    """An office left a quarter of its time by the clock: the per-manager phase is sized for the
    same rounds, and stops by a quarter of the time limit."""
    import time

    limit = 20.0
    seen = {}
    for share in (1.0, 0.25):
        started = time.monotonic()
        parts, _ = _parts_improved(tiny, PlanParams(time_limit_s=limit, workers=1, clock_share=share), monkeypatch)
        # the first per-manager phase (the second look after it is sized for the time the clock left)
        first = parts[: len(tiny.managers)]
        seen[share] = ([part.rounds for part in first], max(part.deadline for part in first) - started)
        ran = time.monotonic() - started
        assert seen[share][1] <= share * limit + ran
    assert seen[1.0][0] and seen[1.0][0] == seen[0.25][0]
    assert seen[1.0][1] > 0.25 * limit + ran


@pytest.mark.parametrize("value", [0, -0.5, 1.5])
def test_a_clock_share_outside_0_to_1_is_refused(value: float) -> None:
    with pytest.raises(ValueError, match="clock_share"):
        PlanParams(clock_share=value)


def test_a_phase_within_the_clock_is_sized_for_the_clock_share() -> None:
    params = PlanParams(time_limit_s=100, clock_share=0.5)
    assert params.deadline(10.0) == 60.0 and params.deadline(10.0, 0.5) == 35.0
    assert params.within(30.0, 10.0) == 20.0  # 10 s of the clock at half the clock: a phase sized for 20 s
    assert params.within(30.0, 100.0) == 30.0 and params.within(30.0, -1.0) == 0.0


@pytest.mark.parametrize(("kind", "field"), [(Weights, "fragile_km"), (Margins, "safety")])
@pytest.mark.parametrize("value", [-1, "3", True, None])
def test_a_weight_or_margin_below_0_or_not_a_number_is_refused(kind: type, field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        kind(**{field: value})


def test_route_limits_keep_the_margins_asked_for(tiny: Scenario) -> None:
    """Every working route's floor sits ``safety`` above the field-time minimum and its ceiling
    ``safety`` below the day's field window."""
    travel = travel_for(tiny)
    for safety in (3.0, 12.0):
        params = PlanParams(margins=Margins(safety=safety))
        model = month.MonthModel(tiny, travel, params)
        specs = model.route_specs(np.zeros(model.k * model.s))
        working = [spec for spec in specs if spec.min_stops > 0]
        assert working
        for spec in working:
            assert spec.max_minutes == pytest.approx(tiny.rules.field_window_minutes - safety)
            assert spec.min_minutes == pytest.approx(tiny.rules.min_field_minutes + safety)


@pytest.mark.parametrize(("field", "value"), [("ruin_per_second", 0), ("lns_per_second", -5), ("reference_cores", 1.5),
                                              ("polish_seconds_per_route", "0.3"), ("reference_cores", True)])  # fmt: skip
def test_a_round_rate_not_above_0_or_not_whole_cores_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        Rounds(**{field: value})


def test_the_per_manager_phase_counts_its_rounds_from_the_rates(
    tiny: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Half the compiled rate halves every manager's compiled iterations, twice the Python rate
    doubles his Python rounds (sizes from the rates, not the clock); the plan keeps every rule."""
    base = PlanParams(time_limit_s=40, workers=1, clock=False)
    default, _ = _phase_sizes(tiny, base, monkeypatch)
    rates = Rounds(lns_per_second=base.rounds.lns_per_second / 2, ruin_per_second=base.rounds.ruin_per_second * 2)
    seen, plan = _phase_sizes(tiny, dataclasses.replace(base, rounds=rates), monkeypatch)
    assert default and len(seen) == len(default)
    for (lns_before, rounds_before), (lns_after, rounds_after) in zip(default, seen, strict=True):
        assert rounds_before > 20  # above the floor, so the rate decides
        assert lns_after == pytest.approx(lns_before / 2, abs=1)
        assert rounds_after == pytest.approx(rounds_before * 2, abs=1)
    assert check_plan(tiny, plan) == []


@pytest.mark.parametrize(("field", "value"), [("repair_move_km", -1), ("reorder_km", "5"), ("reopened_weight", -0.5),
                                              ("rebuild_neighbour_routes", 2.5)])  # fmt: skip
def test_a_continuing_price_below_0_or_not_whole_routes_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=field):
        Continuing(**{field: value})


@pytest.mark.parametrize(("field", "value"), [("over_km_per_min", -1), ("missing_stop_km", "60"),
                                              ("soft_km_per_min", float("inf")), ("under_km_per_min", True)])  # fmt: skip
def test_a_penalty_below_0_or_not_a_number_is_refused(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"penalty {field}"):
        Penalties(**{field: value})


def test_a_route_pays_each_broken_limit_at_its_price() -> None:
    prices = Penalties(over_km_per_min=2, under_km_per_min=3, missing_stop_km=7, soft_km_per_min=0.5).prices()
    # 10 km, 100 minutes: 10 over a 90-minute limit, 20 above a 80-minute soft ceiling
    assert route_penalty(10.0, 100.0, 5.0, 90.0, 0.0, 0.0, 80.0, prices) == pytest.approx(10 + 2 * 10 + 0.5 * 20)
    # 30 minutes short of a 130-minute minimum, 3 stops short of 8
    assert route_penalty(10.0, 100.0, 5.0, 200.0, 130.0, 8.0, np.inf, prices) == pytest.approx(10 + 3 * 30 + 7 * 3)
    # a phase's own shortfall price replaces the standard one, the others stay
    cheap = Penalties().prices(under_km_per_min=0.0)
    assert route_penalty(10.0, 100.0, 5.0, 200.0, 130.0, 8.0, np.inf, cheap) == pytest.approx(10 + 60.0 * 3)


def _two_routes() -> FreeDayProblem:
    """Two shops 1 km from office B and 10 km from office A; A's route must make 2 stops."""
    xy = np.array([[0.0, 0.0], [0.0, 0.1], [-10.0, 0.0], [1.0, 0.0]])  # shop, shop, office A, office B
    dist = np.sqrt(((xy[:, None] - xy[None]) ** 2).sum(-1))
    limits = np.array([[np.inf, 0.0, 2.0, np.inf, np.inf], [np.inf, 0.0, 0.0, np.inf, np.inf]])
    patterns = np.array([[[0], [1]], [[0], [1]]], dtype=np.int64)  # each shop: route A or route B
    return FreeDayProblem(
        dist, dist, np.zeros(4), np.zeros(4), np.array([2, 3], dtype=np.int64), np.array([2, 3], dtype=np.int64),
        limits, np.array([[0], [1]], dtype=np.int64), patterns, np.array([2, 2], dtype=np.int64), np.zeros((2, 2)),
    )  # fmt: skip


@pytest.mark.parametrize(("missing_stop_km", "route"), [(60.0, 0), (0.0, 1)])
def test_the_compiled_search_reads_the_prices_it_is_given(missing_stop_km: float, route: int) -> None:
    """A missing stop dearer than the 20 km detour sends both shops to A; free, to the near B."""
    prices = Penalties(missing_stop_km=missing_stop_km).prices()
    result = solve_free_day(_two_routes(), seed=0, iterations=200, prices=prices)
    assert sorted(result.routes[route]) == [0, 1]
    assert result.routes[1 - route] == []


@pytest.mark.parametrize(("field", "value"), [("ruin_min", 0), ("ruin_max", 2), ("granular", 2.5),
                                              ("temperature_end", 2.0), ("feasible_high", 0.2),
                                              ("weight_lower", 1.5), ("blink", 1.0), ("start_weight", 1e5)])  # fmt: skip
def test_an_lns_setting_out_of_range_is_refused_naming_it(field: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"LNS setting {field}"):
        LnsSchedule(**{field: value})


def test_the_compiled_loop_reads_each_lns_setting_at_its_place() -> None:
    values = LnsSchedule(ruin_min=4, ruin_max=9, blink=0.02, temperature_start=2.0, temperature_end=0.1,
                         start_weight=11.0, weight_min=0.2, weight_max=500.0, adapt_every=50, feasible_low=0.2,
                         feasible_high=0.5, weight_raise=1.5, weight_lower=0.5, neighbours=30, granular=10).array()  # fmt: skip
    expected = {"S_RUIN_MIN": 4, "S_RUIN_MAX": 9, "S_BLINK": 0.02, "S_T_START": 2.0, "S_T_END": 0.1,
                "S_START_WEIGHT": 11.0, "S_WEIGHT_MIN": 0.2, "S_WEIGHT_MAX": 500.0, "S_ADAPT_EVERY": 50,
                "S_FEASIBLE_LOW": 0.2, "S_FEASIBLE_HIGH": 0.5, "S_RAISE": 1.5, "S_LOWER": 0.5, "S_NEIGHBOURS": 30,
                "S_GRANULAR": 10}  # fmt: skip
    assert {name: values[getattr(lns, name)] for name in expected} == expected


def test_a_plan_takes_its_penalties_and_lns_schedule_from_the_params(
    tiny: Scenario, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked = (Penalties(over_km_per_min=30.0), LnsSchedule(ruin_max=12))
    params = PlanParams(time_limit_s=4, workers=1, penalties=asked[0], lns=asked[1])
    parts, plan = _parts_improved(tiny, params, monkeypatch)
    assert parts and all((part.penalties, part.schedule) == asked for part in parts)
    assert check_plan(tiny, plan) == []
