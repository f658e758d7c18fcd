"""Snippets: a passage's words as spoken, with the words the query found marked.

Built from the stored text and the analyser's character offsets, so accents and case
stay as spoken ("élus" is marked when "elu" was typed) and no engine-specific
highlighter is needed. Short passages are shown whole; long ones around the first match.
"""

from __future__ import annotations

from collections.abc import Collection

from markupsafe import escape

from archive.analysis import term_spans

WIDTH = 240
CONTEXT = 80


def snippet(text: str, terms: Collection[str], width: int = WIDTH, context: int = CONTEXT) -> str:
    """Escaped HTML of the passage (or a window of it) with ``<mark>`` around matched words."""
    spans = [(start, end) for term, start, end in term_spans(text) if term in terms] if terms else []
    start, end = _window(text, spans[0][0] if spans else 0, width, context)
    pieces, cursor = [], start
    for span_start, span_end in spans:
        if span_start < start or span_end > end:
            continue
        pieces.append(str(escape(text[cursor:span_start])))
        pieces.append(f"<mark>{escape(text[span_start:span_end])}</mark>")
        cursor = span_end
    pieces.append(str(escape(text[cursor:end])))
    return ("… " if start > 0 else "") + "".join(pieces).strip() + (" …" if end < len(text) else "")


def _window(text: str, anchor: int, width: int, context: int) -> tuple[int, int]:
    """At most ``width`` characters starting ``context`` before the anchor, cut between words."""
    if len(text) <= width:
        return 0, len(text)
    start = max(0, anchor - context)
    if start > 0:
        space = text.find(" ", start)
        start = space + 1 if 0 <= space < anchor else start
    end = min(len(text), start + width)
    if end < len(text):
        space = text.rfind(" ", start, end)
        end = space if space > anchor else end
    return start, end
