"""routeplan: monthly route plans for field sales teams.

The public API, in the order of the work: read a scenario, (design territories,) plan
the month (or continue last month's route book), check it, write and draw it, compare
variants and months.
"""

from .check import Violation, check_plan
from .compare import PlanFigures, comparison_rows, plan_figures, with_moves
from .errors import InputError, RouteplanError
from .figures import plan_kpis, total_km
from .model import Scenario
from .plan import Plan
from .read import read_plan, read_route_book, read_scenario
from .render import RenderOptions, render_plan
from .routebook import RouteBook, changes, stability
from .solve.continuation import continue_month, continued_calendar
from .solve.design import Territories, design_territories
from .solve.month import PlanParams, plan_month
from .solve.params import Continuing, LnsSchedule, Margins, Penalties, Rounds, TimeShares, Weights
from .whatif import VariantPlan, plan_variants, smallest_team, with_team_size
from .write import write_plan

__all__ = [
    "Continuing",
    "InputError",
    "LnsSchedule",
    "Margins",
    "Penalties",
    "Plan",
    "PlanFigures",
    "PlanParams",
    "RenderOptions",
    "Rounds",
    "RouteBook",
    "RouteplanError",
    "Scenario",
    "Territories",
    "TimeShares",
    "VariantPlan",
    "Violation",
    "Weights",
    "changes",
    "check_plan",
    "comparison_rows",
    "continue_month",
    "continued_calendar",
    "design_territories",
    "plan_figures",
    "plan_kpis",
    "plan_month",
    "plan_variants",
    "read_plan",
    "read_route_book",
    "read_scenario",
    "render_plan",
    "smallest_team",
    "stability",
    "total_km",
    "with_moves",
    "with_team_size",
    "write_plan",
]  # fmt: skip
