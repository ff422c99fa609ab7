"""Every word printed on a map or a route sheet, in each supported language."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

LANGUAGES = ("en", "zh")

_EN = {
    "plan_map": "Route plan",
    "managers": "Managers and routes",
    "all": "all",
    "none": "none",
    "office": "Office",
    "territory": "Territory outline",
    "stop": "Stop (number = order on the route)",
    "makeup": "Make-up visit",
    "route": "Route",
    "routes": "Routes",
    "stops": "Stops",
    "km": "km",
    "planned_km": "Planned km",
    "leave": "Leave office",
    "finish": "Last visit ends",
    "field_minutes": "Field time",
    "dates": "Visit dates",
    "runs": "Runs on",
    "class": "Class",
    "address": "Address",
    "phone": "Phone",
    "shop": "Shop",
    "seq": "#",
    "arrival": "Arrive",
    "done": "Done",
    "notes": "Notes",
    "calls": "Phone visits today",
    "no_calls": "No phone visits today.",
    "sheet": "Daily route sheet",
    "manager": "Manager",
    "date": "Date",
    "offline": "No background map (offline)",
    "visits": "Visits",
    "total_km": "Total km",
    "north": "N",
    "min": "min",
    "signature": "Signature",
    "weekday": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"),
}

_ZH = {
    "plan_map": "线路计划",
    "managers": "客户经理与线路",
    "all": "全部",
    "none": "无",
    "office": "办公室",
    "territory": "片区轮廓",
    "stop": "拜访点（数字为线路顺序）",
    "makeup": "补访",
    "route": "线路",
    "routes": "线路",
    "stops": "拜访数",
    "km": "公里",
    "planned_km": "计划里程（公里）",
    "leave": "出发时间",
    "finish": "最后拜访结束",
    "field_minutes": "在外时间",
    "dates": "拜访日期",
    "runs": "执行日期",
    "class": "类别",
    "address": "地址",
    "phone": "电话",
    "shop": "零售户",
    "seq": "序号",
    "arrival": "到达",
    "done": "完成",
    "notes": "备注",
    "calls": "今日电话拜访",
    "no_calls": "今日无电话拜访。",
    "sheet": "每日拜访线路单",
    "manager": "客户经理",
    "date": "日期",
    "offline": "无底图（离线）",
    "visits": "拜访次数",
    "total_km": "总里程（公里）",
    "north": "北",
    "min": "分钟",
    "signature": "签字",
    "weekday": ("周一", "周二", "周三", "周四", "周五", "周六", "周日"),
}


def labels(lang: str) -> Mapping[str, object]:
    """The label table of ``lang`` (``en`` or ``zh``)."""
    table = {"en": _EN, "zh": _ZH}.get(lang)
    if table is None:
        raise ValueError(f"language '{lang}' is not one of {', '.join(LANGUAGES)}")
    return MappingProxyType(table)
