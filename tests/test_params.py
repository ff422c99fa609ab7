"""The search's parameters: the time shares are validated data, and the phases read them."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from routeplan import Continuing, Margins, PlanParams, Rounds, TimeShares, Weights
from routeplan.check import check_plan
from routeplan.model import Scenario
from routeplan.solve import month
from routeplan.travel import travel_for


@pytest.mark.parametrize("value", [0, -0.1, 1.5, "half", None, True])
def test_a_time_share_outside_0_to_1_is_refused_naming_it(value: object) -> None:
    with pytest.raises(ValueError, match="time share per_manager"):
        TimeShares(per_manager=value)  # type: ignore[arg-type]


def _phase_sizes(
    scenario: Scenario, params: PlanParams, monkeypatch: pytest.MonkeyPatch
) -> tuple[list[tuple[int, int]], object]:
    """(compiled iterations, Python rounds) of every manager the per-manager phase improves, and the plan."""
    seen: list[tuple[int, int]] = []
    improve = month._improve_part

    def spy(part: month._Part) -> tuple[list[list[int]], object]:
        seen.append((part.lns_iterations, part.rounds))
        return improve(part)

    monkeypatch.setattr(month, "_improve_part", spy)
    plan = month.plan_month(scenario, params, seed=0)
    monkeypatch.setattr(month, "_improve_part", improve)
    return seen, plan


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
