"""The search engine the settings choose: Whoosh by default, tantivy for a large archive."""

from __future__ import annotations

from archive.search import SearchEngine
from archive.settings import Settings


def open_search_index(settings: Settings) -> SearchEngine:
    if settings.search_engine == "tantivy":
        from archive.tantivy_index import TantivyIndex

        return TantivyIndex(settings.index_dir)
    from archive.whoosh_index import WhooshIndex

    return WhooshIndex(settings.index_dir)
