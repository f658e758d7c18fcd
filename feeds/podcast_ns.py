"""A feedgen extension for the Podcast Namespace (``podcast:``) and a few iTunes tags:
``itunes:explicit``, which feedgen writes in an outdated form (yes/no/clean instead of
true/false), and the items' duration, season and episode number.

Registered on the generator as ``fg.podcastns`` and on each entry likewise; the feed
builder (feeds/rss.py) only sets values, this module writes the elements.
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


@dataclass(frozen=True)
class PersonCredit:
    name: str
    role: str = "guest"  # Podcast Taxonomy roles: "host", "guest"
    href: str | None = None
    group: str = "cast"


@dataclass(frozen=True)
class SoundbiteTag:
    start: float
    duration: float
    title: str


def _person(parent, credit: PersonCredit) -> None:
    element = xml_elem(f"{{{PODCAST_NS}}}person", parent)
    element.set("role", credit.role)
    element.set("group", credit.group)
    if credit.href:
        element.set("href", credit.href)
    element.text = credit.name[:128]


class PodcastNamespaceExtension(BaseExtension):
    def __init__(self) -> None:
        self.explicit: bool | None = None
        self.guid: str | None = None
        self.locked_owner: str | None = None
        self.people: list[PersonCredit] = []

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "itunes": ITUNES_NS}

    def extend_rss(self, rss_feed):
        channel = rss_feed[0]
        if self.explicit is not None:
            xml_elem(f"{{{ITUNES_NS}}}explicit", channel).text = "true" if self.explicit else "false"
        if self.guid:
            xml_elem(f"{{{PODCAST_NS}}}guid", channel).text = self.guid
        if self.locked_owner:
            locked = xml_elem(f"{{{PODCAST_NS}}}locked", channel)
            locked.set("owner", self.locked_owner)
            locked.text = "yes"
        for credit in self.people:
            _person(channel, credit)
        return rss_feed


class PodcastNamespaceEntryExtension(BaseEntryExtension):
    def __init__(self) -> None:
        self.duration: str | None = None  # itunes:duration, HH:MM:SS
        self.episode_number: int | None = None
        self.season: int | None = None
        self.transcripts: list[TranscriptLink] = []
        self.chapters_url: str | None = None
        self.people: list[PersonCredit] = []
        self.soundbite: SoundbiteTag | None = None

    def extend_ns(self) -> dict[str, str]:
        return {"podcast": PODCAST_NS, "itunes": ITUNES_NS}

    def extend_rss(self, entry):
        for name, value in (("duration", self.duration), ("season", self.season), ("episode", self.episode_number)):
            if value:
                xml_elem(f"{{{ITUNES_NS}}}{name}", entry).text = str(value)
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
        for credit in self.people:
            _person(entry, credit)
        if self.soundbite:
            element = xml_elem(f"{{{PODCAST_NS}}}soundbite", entry)
            element.set("startTime", f"{self.soundbite.start:.3f}")
            element.set("duration", f"{self.soundbite.duration:.3f}")
            element.text = self.soundbite.title[:128]
        return entry
