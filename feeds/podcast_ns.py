"""A feedgen extension for the Podcast Namespace (``podcast:``) and the iTunes tags that
feedgen's own podcast extension writes in an outdated form (``itunes:explicit`` true/false).

Registered on the generator as ``fg.podcastns`` and on each entry likewise.
"""

from __future__ import annotations

from dataclasses import dataclass

from feedgen.ext.base import BaseEntryExtension, BaseExtension
from feedgen.util import xml_elem

PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"


@dataclass(frozen=True)
class TranscriptLink:
    url: str
    type: str
    language: str = "fr"
    rel: str | None = None


class PodcastNamespaceExtension(BaseExtension):
    def __init__(self) -> None:
        self.explicit: bool | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "itunes": ITUNES_NS}

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self.explicit is not None:
            xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = "true" if self.explicit else "false"
        return rss_feed


class PodcastNamespaceEntryExtension(BaseEntryExtension):
    def __init__(self) -> None:
        self.transcripts: list[TranscriptLink] = []
        self.chapters_url: str | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS}

    def extend_rss(self, entry):
        for link in self.transcripts:
            element = xml_elem(f"{{{PODCAST_NS}}}transcript", entry)
            element.set("url", link.url)
            element.set("type", link.type)
            element.set("language", link.language)
            if link.rel:
                element.set("rel", link.rel)
        if self.chapters_url:
            element = xml_elem(f"{{{PODCAST_NS}}}chapters", entry)
            element.set("url", self.chapters_url)
            element.set("type", "application/json+chapters")
        return entry
