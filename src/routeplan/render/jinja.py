"""The one Jinja2 environment for routeplan's HTML templates (autoescaped: names are user data)."""

from __future__ import annotations

import functools

from jinja2 import Environment, PackageLoader, Template, select_autoescape


@functools.cache
def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("routeplan.render", "templates"),
        autoescape=select_autoescape(["html", "j2"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def template(name: str) -> Template:
    """A template of ``render/templates``, compiled once per process."""
    return _environment().get_template(name)
