"""The analytics area's service: the numbers and their SVG charts, drawn at most once a minute per database."""
from __future__ import annotations

import time
from typing import Any

from sqlalchemy.engine import Engine

from bot.staff import charts, queries

ANALYTICS_TTL = 60.0  # seconds: drawing five charts costs ~0.5 s; several staff share one drawing a minute
_cache: dict[tuple[str, int], tuple[float, dict[str, Any], dict[str, str]]] = {}


def analytics_for(engine: Engine, days: int) -> tuple[dict[str, Any], dict[str, str], int]:
    """(numbers, charts, age in seconds) for the last `days` days."""
    key = (str(engine.url), days)
    cached = _cache.get(key)
    if cached is None or time.monotonic() - cached[0] > ANALYTICS_TTL:
        with engine.connect() as conn:
            numbers = queries.analytics(conn, days)
        cached = (time.monotonic(), numbers, charts.analytics_charts(numbers))
        _cache[key] = cached
    drawn_at, numbers, svgs = cached
    return numbers, svgs, int(time.monotonic() - drawn_at)
