"""The planner's knobs: named parameter sets that :class:`routeplan.solve.month.PlanParams` holds.

Each is a small frozen dataclass whose defaults are the values the benchmarks were measured
with; a bad value is refused when the set is made, naming the field.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np


def check_numbers(params: object, what: str, ok: Callable[[float], bool], wording: str) -> None:
    """Every field of a parameter dataclass is a number (not a bool) that ``ok`` accepts."""
    for f in dataclasses.fields(params):  # type: ignore[arg-type]
        value = getattr(params, f.name)
        if isinstance(value, bool) or not isinstance(value, int | float) or not ok(value):
            raise ValueError(f"{what} {f.name} must be a number {wording}, not {value!r}")


def check_whole(params: object, what: str, names: tuple[str, ...], least: int | None = None) -> None:
    """The named fields (numbers already, see :func:`check_numbers`) are whole, and at least ``least``."""
    for name in names:
        value = getattr(params, name)
        if not float(value).is_integer() or (least is not None and value < least):
            floor = f" of at least {least}" if least is not None else ""
            raise ValueError(f"{what} {name} must be a whole number{floor}, not {value!r}")


#: The time limit the benchmarks plan with on the reference machine (2 cores), every rule kept:
#: 60 s up to 3,000 shops, 90 s at 6,000, 240 s at 12,000, 540 s at 30,000 (``benchmarks/scale.py``),
#: about this many seconds per 1,000 shops, and never less than :data:`SUGGESTED_LEAST_SECONDS`.
SUGGESTED_SECONDS_PER_1000_SHOPS = 18.0
SUGGESTED_LEAST_SECONDS = 30.0


def suggested_time_limit(shops: int) -> float:
    """Seconds of time limit worth giving a plan of ``shops`` shops on two cores: shorter limits
    give longer routes, and at a few seconds days that miss their minimums (whole seconds)."""
    return float(max(SUGGESTED_LEAST_SECONDS, math.ceil(shops * SUGGESTED_SECONDS_PER_1000_SHOPS / 1000 / 10) * 10))


@dataclass(frozen=True)
class TimeShares:
    """How a plan spends its time limit: each field a share of it (0 < share <= 1).

    Phases are sized in rounds from these shares; with the clock on, a phase also stops when
    its share of the limit from the start has passed (the ``*_end`` fields).
    """

    #: the first whole-plan local search ends here ...
    whole_plan_end: float = 0.3
    #: ... and, when swapping route slots found better days, its second pass here
    whole_plan_swapped_end: float = 0.35
    #: the make-up room of the routes is settled by here, before the per-manager phase
    make_up_room_end: float = 0.45
    #: the per-manager phase is sized for this share (the whole-plan phase before it usually
    #: converges well within its own)
    per_manager: float = 0.5
    #: of the per-manager phase, the share given to the compiled ruin-and-recreate (far more
    #: rounds a second than the Python one, which prices make-up visits and follows it)
    compiled_lns: float = 0.8
    #: a second per-manager phase, from the finished cycle, sized for this share (with the
    #: clock on, cut to what ends within the limit once the first cycle is laid onto the
    #: month); its cycle is a second candidate, kept only where the month it gives is better
    #: (the search's own cost and the month's km do not always agree, so the month judges)
    second_look: float = 0.3
    #: kept for the last whole-plan pass (moves between managers, make-up room): its local
    #: search ends halfway through, the last make-up room at ``last_settle_end``
    final: float = 0.2
    last_settle_end: float = 0.95
    #: with ``territories = "auto"``: the free search, tried when fixed territories break a
    #: rule; and for a month planned with its holidays when the laid standing cycle breaks one
    fallback: float = 0.5
    #: laying the standing cycle's routes onto the month (the rebuild of the managers whose
    #: lost runs break a route); the cycle gets the rest
    lay: float = 0.1
    #: continuing a plan: the rebuild of the whole team, times the share of managers rebuilt
    continued_rebuild: float = 0.2
    #: a company's offices and groups end this share of the limit before it: kept for checking
    #: their plans and joining them into one (about 2 s at 30,000 shops)
    company_join: float = 0.01

    def __post_init__(self) -> None:
        check_numbers(self, "time share", lambda x: 0 < x <= 1, "above 0 and at most 1")


@dataclass(frozen=True)
class Weights:
    """What the search's soft preferences cost, in km of one run (each at least 0)."""

    #: one extra route membership for the highest class; lower classes pay more, so the visits
    #: added to reach the daily minimum go to higher classes first
    extra_visit_km: float = 0.3
    #: a pattern whose lost run can be made up on one day only: such visits crowd that day
    forced_makeup_km: float = 4.0
    #: a *fragile* pattern (see :data:`routeplan.solve.month.ROBUST_MONTHS`), given only to a shop with no other
    fragile_km: float = 3.0
    #: while routes take shape, a minute of field time short of the minimum costs less than the
    #: km it would take to drive it (1 km = 2.4 min at 25 km/h), so days are filled with
    #: visits, not detours; the full weight returns for the last phase
    fill_under_km_per_min: float = 0.4
    #: placing a make-up visit: a day one hour fuller weighs like a 1.8 km longer detour
    makeup_load_km_per_min: float = 0.03

    def __post_init__(self) -> None:
        check_numbers(self, "weight", lambda x: x >= 0, "of at least 0")


@dataclass(frozen=True)
class Margins:
    """Minutes a route keeps from the day's limits (each at least 0)."""

    #: kept free below the day's limit, and above the field-time minimum, for rounding
    safety: float = 3.0
    #: a route that loses a run to a holiday or day off is kept this near its minimum: its
    #: shops must fit into the other days of that week
    lost_run_slack: float = 30.0
    #: field time kept for managers who drive back to the office (the return is not field time)
    return_to_office: float = 20.0

    def __post_init__(self) -> None:
        check_numbers(self, "margin", lambda x: x >= 0, "of at least 0")


@dataclass(frozen=True)
class Rounds:
    """How much search a second of the time limit buys (each above 0).

    The per-manager phase counts its work in rounds from these rates, never from the clock,
    so a seed gives the same plan on any machine; the rates are measured on the reference
    machine (2 cores).
    """

    #: the per-manager phase is sized for this many cores; more cores finish it sooner
    reference_cores: int = 2
    #: time OR-Tools takes to polish one route's order (it runs when the time limit leaves room)
    polish_seconds_per_route: float = 0.3
    #: Python ruin-and-recreate rounds per second and per core
    ruin_per_second: float = 200.0
    #: compiled ruin-and-recreate iterations per second (3,500-5,500 on a manager's routes)
    lns_per_second: float = 5000.0

    def __post_init__(self) -> None:
        check_numbers(self, "round rate", lambda x: x > 0, "above 0")
        check_whole(self, "round rate", ("reference_cores",))


@dataclass(frozen=True)
class Continuing:
    """What a continued month's repair pays for changing a standing route book (each at least 0)."""

    #: while the routes of a manager with a broken route are rebuilt, a move costs this many km a
    #: month (or ``move_km``, if lower): a low price lets a hole left by closed shops be filled by
    #: a chain of near shops rather than by one far one
    repair_move_km: float = 1.0
    #: a standing route is re-ordered only where that saves at least this many km a month: a new
    #: order breaks what its manager learnt by heart, for every shop of the route
    reorder_km: float = 5.0
    #: a broken route is rebuilt together with this many routes of its manager next to it
    rebuild_neighbour_routes: int = 3
    #: how much dearer a move is for a shop back from suspension (it returns to its old place)
    reopened_weight: float = 4.0
    #: a route left short (or pushed past its day) is repaired by a chain of border shops
    #: handed one route along each (``chains.py``) of at most this many handovers
    chain_links: int = 4
    #: each handover costs this many km of one run on top of its detour: of two chains nearly
    #: as short, the one that moves fewer shops
    chain_link_km: float = 1.0
    #: a handover to another manager costs this many km of one run more: a shop keeps its
    #: manager where his own routes can repair the route
    other_manager_km: float = 2.0
    #: at most this many chains repair one route (each moves one stop in or out)
    chains_per_route: int = 12

    def __post_init__(self) -> None:
        check_numbers(self, "continuing price", lambda x: x >= 0, "of at least 0")
        check_whole(self, "continuing price", ("rebuild_neighbour_routes", "chain_links", "chains_per_route"))


@dataclass(frozen=True)
class Penalties:
    """What a broken limit costs inside the search, in km: dear enough that no detour is worth
    one, soft enough that the search can walk through a broken plan to a better one.

    The compiled loops take these as an array (numba would freeze module constants at
    compile time, so prices passed in can change without recompiling).
    """

    #: each minute a route runs over its day
    over_km_per_min: float = 20.0
    #: each minute of field time a route lacks below the day's minimum
    under_km_per_min: float = 5.0
    #: each stop a route lacks below the day's minimum
    missing_stop_km: float = 60.0
    #: each minute above a route's softer ceiling (routes that lose runs kept small)
    soft_km_per_min: float = 1.0

    def __post_init__(self) -> None:
        check_numbers(self, "penalty", lambda x: 0 <= x < math.inf, "of at least 0")

    def prices(self, under_km_per_min: float | None = None) -> np.ndarray:
        """The prices as the compiled loops read them (``under_km_per_min``: another shortfall price)."""
        under = self.under_km_per_min if under_km_per_min is None else under_km_per_min
        return np.array([self.over_km_per_min, under, self.missing_stop_km, self.soft_km_per_min])


@dataclass(frozen=True)
class LnsSchedule:
    """How the compiled ruin-and-recreate (``lns.py``) searches: removal sizes, the annealing
    temperatures and the adaptive penalty weights (SISR-style settings, tuned on the PVRP
    benchmark and the synthetic cities)."""

    #: customers removed per iteration, drawn uniformly between these
    ruin_min: int = 3
    ruin_max: int = 15
    #: chance that an insertion position is skipped while rebuilding (rebuilds then differ)
    blink: float = 0.01
    #: annealing temperature, as a share of the mean edge cost, at the start and at the end
    temperature_start: float = 1.5
    temperature_end: float = 0.05
    #: overtime and overload cost this much per unit at the start, then adapt within the bounds
    start_weight: float = 10.0
    weight_min: float = 0.1
    weight_max: float = 1e4
    #: every ``adapt_every`` rebuilds the weights rise (x ``weight_raise``) when fewer than
    #: ``feasible_low`` of them were feasible, and fall (x ``weight_lower``) above ``feasible_high``
    adapt_every: int = 100
    feasible_low: float = 0.25
    feasible_high: float = 0.45
    weight_raise: float = 1.2
    weight_lower: float = 0.85
    #: nearest customers a neighbourhood removal and the insertion look at
    neighbours: int = 40
    granular: int = 20

    def __post_init__(self) -> None:
        check_numbers(self, "LNS setting", lambda x: 0 <= x < math.inf, "of at least 0")
        check_whole(self, "LNS setting", ("ruin_min", "ruin_max", "adapt_every", "neighbours", "granular"), least=1)
        pairs = [
            (self.ruin_min <= self.ruin_max, "ruin_max", "at least ruin_min"),
            (0 < self.temperature_end <= self.temperature_start, "temperature_end", "above 0, at most the start's"),
            (0 < self.weight_min <= self.start_weight <= self.weight_max, "start_weight",
             "between weight_min (above 0) and weight_max"),
            (self.feasible_low <= self.feasible_high <= 1, "feasible_high", "at least feasible_low and at most 1"),
            (self.weight_raise >= 1, "weight_raise", "at least 1"),
            (0 < self.weight_lower <= 1, "weight_lower", "above 0 and at most 1"),
            (self.blink < 1, "blink", "below 1"),
        ]  # fmt: skip
        for ok, name, wording in pairs:
            if not ok:
                raise ValueError(f"LNS setting {name} must be {wording}, not {getattr(self, name)!r}")

    def array(self) -> np.ndarray:
        """The settings as the compiled loop reads them (indices ``lns.S_*``)."""
        return np.array([float(getattr(self, f.name)) for f in dataclasses.fields(self)])
