"""Podcast Namespace JSON chapters (version 1.2.0): a pure function, chapters in, text out."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Protocol


class Part(Protocol):
    start: float
    end: float
    title: str


def to_chapters_json(chapters: Iterable[Part]) -> str:
    items = [{"startTime": round(c.start, 3), "endTime": round(c.end, 3), "title": c.title} for c in chapters]
    return json.dumps({"version": "1.2.0", "chapters": items}, ensure_ascii=False, indent=1)
