"""Rendering pages and reading the voter cookie."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, PackageLoader

COOKIE = "prefkit_voter"
VOTER_ID = re.compile(r"^[A-Za-z0-9_-]{20,64}$")

#: Autoescaping on for every template: model text always reaches the page as text.
TEMPLATES = Environment(
    loader=PackageLoader("prefkit.arena", "templates"),
    autoescape=True,
    auto_reload=False,
)


def page(name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render template ``name`` with ``context`` (autoescaped)."""
    html = TEMPLATES.get_template(name).render(**context)
    return HTMLResponse(html, status_code=status)


def message(title: str, message: str, status: int) -> HTMLResponse:
    """A page with one message and a status code."""
    return page("message.html", status, title=title, message=message)


def voter_id(request: Request) -> str | None:
    """The voter's cookie value, if present and well formed."""
    value = request.cookies.get(COOKIE)
    return value if value and VOTER_ID.match(value) else None


def set_voter(response: Response, voter_id: str) -> Response:
    """Set the voter cookie (HTTP-only, same-site strict) on ``response``."""
    response.set_cookie(
        COOKIE, voter_id, max_age=365 * 86400, httponly=True, samesite="strict"
    )
    return response
