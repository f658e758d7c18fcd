"""Times are float seconds inside; these format them at the edge."""

from __future__ import annotations


def clock(seconds: float) -> str:
    """``1:02:03`` or ``02:03``: the timestamp people read beside a passage."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes:02d}:{secs:02d}"


def hhmmss(seconds: float) -> str:
    """``00:02:03`` (itunes:duration)."""
    total = max(0, int(round(seconds)))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}"


def webvtt(seconds: float) -> str:
    """``00:01:02.500``."""
    millis = max(0, int(round(seconds * 1000)))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs, millis = divmod(rest, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}.{millis:03d}"
