"""Jinja2 set-up: autoescaping on, French date and time filters."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from fastapi.templating import Jinja2Templates

from archive.settings import Settings
from feeds.timefmt import clock
from web.views import search_url

TEMPLATES_DIR = Path(__file__).parent / "templates"
STATIC_DIR = Path(__file__).parent / "static"

_MONTHS = ["janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
           "octobre", "novembre", "décembre"]


def french_date(value: dt.date | str) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    day = "1er" if value.day == 1 else str(value.day)
    return f"{day} {_MONTHS[value.month - 1]} {value.year}"


def duration_words(seconds: float) -> str:
    minutes = round(seconds / 60)
    if minutes < 1:
        return f"{round(seconds)} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"


def seconds_attr(seconds: float) -> str:
    """A start time for ``#t=`` links: short, no float noise."""
    return f"{seconds:.1f}".rstrip("0").rstrip(".")


def make_templates(settings: Settings) -> Jinja2Templates:
    templates = Jinja2Templates(directory=str(TEMPLATES_DIR))
    templates.env.globals["settings"] = settings
    templates.env.globals["search_url"] = search_url
    templates.env.filters.update(clock=clock, french_date=french_date, duration=duration_words, t=seconds_attr)
    return templates
