"""Reading a podcast's RSS feed into plain data: a ``Feed`` of ``FeedItem``s.

Each ``<item>`` gives its title, date, description (as plain text), guests and hosts
(``podcast:person``), its audio enclosure and the best transcript it links, with every link
resolved to an absolute URL; nothing but the feed itself is downloaded. The parsing is the
part of the import that meets hostile input, so it stands alone, to be read and tested on
strings. A feed that cannot be read at all ends in a ``FeedError`` (French message).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from typing import Literal
from urllib.parse import urljoin, urlsplit

import httpx

from archive.records import EpisodeMeta, Guest
from archive.release import latest_live_date
from ingest.downloads import ItemError, fetch_bytes, local_path

PODCAST_NAMESPACES = {
    "https://podcastindex.org/namespace/1.0",
    "http://podcastindex.org/namespace/1.0",
    "https://github.com/Podcastindex-org/podcast-namespace/blob/main/docs/1.0.md",
}
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
CONTENT_NS = "http://purl.org/rss/1.0/modules/content/"

# Transcript formats we can import, best first: WebVTT and JSON name their speakers most reliably.
TRANSCRIPT_FORMATS = {
    "text/vtt": "vtt",
    "application/json": "json",
    "application/x-subrip": "srt",
    "application/srt": "srt",
    "text/srt": "srt",
}
FORMAT_PREFERENCE = ("vtt", "json", "srt")


class FeedError(Exception):
    """The feed itself cannot be read; the message says why, in French."""


# -- the feed ------------------------------------------------------------------------


@dataclass(frozen=True)
class TranscriptLink:
    url: str
    format: Literal["vtt", "srt", "json"]


@dataclass(frozen=True)
class FeedItem:
    """What one ``<item>`` says, resolved to absolute URLs; nothing downloaded yet."""

    title: str
    description: str = ""
    date: dt.date | None = None
    guid: str | None = None
    episode_number: int | None = None
    season: int | None = None
    guests: tuple[str, ...] = ()
    hosts: tuple[str, ...] = ()
    audio_url: str | None = None
    audio_type: str = ""
    transcript: TranscriptLink | None = None

    def meta(self) -> EpisodeMeta:
        """The episode's metadata; the item's guid (or its audio's web address) stays its identity in our feed.

        A local file's path never becomes a guid: it would show in the public feed.
        """
        on_web = bool(self.audio_url) and urlsplit(self.audio_url).scheme in ("http", "https")
        guid = self.guid or (self.audio_url if on_web else None)
        return EpisodeMeta(self.title[:300], self.description, self.date or latest_live_date(),
                           tuple(Guest(name) for name in self.guests), False, self.episode_number, self.season,
                           guid[:500] if guid else None)


@dataclass(frozen=True)
class Feed:
    title: str
    items: tuple[FeedItem, ...]


def _local(element) -> str:
    tag = element.tag
    return tag.rsplit("}", 1)[-1] if isinstance(tag, str) else ""


def _namespace(element) -> str:
    tag = element.tag
    return tag[1:].split("}", 1)[0] if isinstance(tag, str) and tag.startswith("{") else ""


def _children(element, name: str, namespaces: set[str] | str | None = None) -> Iterator:
    """Child elements by local name, in one of ``namespaces`` (``""`` for none, ``None`` for any)."""
    wanted = {namespaces} if isinstance(namespaces, str) else namespaces
    for child in element:
        if _local(child) == name and (wanted is None or _namespace(child) in wanted):
            yield child


def _text(element) -> str:
    return "".join(element.itertext()).strip() if element is not None else ""


def _first_text(element, name: str, namespaces: set[str] | str | None = "") -> str:
    return next((text for child in _children(element, name, namespaces) if (text := _text(child))), "")


class _TextExtractor(HTMLParser):
    """Visible text of an HTML fragment: no tags, no scripts or styles, paragraphs kept as lines."""

    BLOCKS = {"p", "br", "div", "li", "ul", "ol", "tr", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6", "hr"}
    HIDDEN = {"script", "style", "template", "noscript", "iframe", "object"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.hidden:
            self.parts.append(data)


def html_to_text(fragment: str) -> str:
    """Plain text of a feed's HTML description (show notes are HTML; pages escape what we store)."""
    parser = _TextExtractor()
    parser.feed(fragment)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).split("\n"))
    return "\n".join(line for line in lines if line)


def parse_date(text: str) -> dt.date | None:
    """``pubDate`` (RFC 822), or an ISO date; the day as the feed wrote it."""
    text = text.strip()
    if not text:
        return None
    try:
        return parsedate_to_datetime(text).date()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return dt.date.fromisoformat(text[:10])
    except ValueError:
        return None


def _positive_int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and 0 < int(text) < 1_000_000 else None


def _people(element) -> list[tuple[str, str]]:
    """``podcast:person`` as (name, role); the namespace's default role is "host"."""
    return [(_text(person), (person.get("role") or "host").strip().lower())
            for person in _children(element, "person", PODCAST_NAMESPACES) if _text(person)]


def _transcript(item, base_url: str) -> TranscriptLink | None:
    """The item's transcript in the format we read best, if it links one we can read."""
    found: dict[str, str] = {}
    for link in _children(item, "transcript", PODCAST_NAMESPACES):
        kind = TRANSCRIPT_FORMATS.get((link.get("type") or "").split(";")[0].strip().lower())
        url = (link.get("url") or "").strip()
        if kind and url:
            found.setdefault(kind, urljoin(base_url, url))
    kind = next((k for k in FORMAT_PREFERENCE if k in found), None)
    return TranscriptLink(found[kind], kind) if kind else None


def _enclosure(item, base_url: str) -> tuple[str | None, str]:
    """The item's audio URL and declared type (the first enclosure that says it is audio, else the first)."""
    enclosures = [e for e in _children(item, "enclosure", "") if (e.get("url") or "").strip()]
    if not enclosures:
        return None, ""
    chosen = next((e for e in enclosures if (e.get("type") or "").startswith("audio/")), enclosures[0])
    return urljoin(base_url, chosen.get("url").strip()), (chosen.get("type") or "").split(";")[0].strip().lower()


def parse_item(item, base_url: str, channel_hosts: Iterable[str] = ()) -> FeedItem:
    """One ``<item>`` element as plain data."""
    description = (_first_text(item, "description") or _first_text(item, "summary", ITUNES_NS)
                   or _first_text(item, "encoded", CONTENT_NS))
    people = _people(item)
    audio_url, audio_type = _enclosure(item, base_url)
    title = (" ".join(_first_text(item, "title").split()) or " ".join(_first_text(item, "title", ITUNES_NS).split())
             or "Épisode sans titre")
    return FeedItem(
        title=title,
        description=html_to_text(description),
        date=parse_date(_first_text(item, "pubDate")),
        guid=_first_text(item, "guid") or None,
        episode_number=_positive_int(_first_text(item, "episode", ITUNES_NS)),
        season=_positive_int(_first_text(item, "season", ITUNES_NS)),
        guests=tuple(dict.fromkeys(name for name, role in people if role == "guest")),
        hosts=tuple(dict.fromkeys([*channel_hosts, *(name for name, role in people if role == "host")])),
        audio_url=audio_url,
        audio_type=audio_type,
        transcript=_transcript(item, base_url),
    )


def parse_feed(data: bytes, base_url: str) -> Feed:
    """An RSS 2.0 podcast feed; relative links are resolved against ``base_url``.

    The XML parser never fetches anything and never expands entities, so a hostile feed
    cannot read local files or blow up memory.
    """
    from lxml import etree

    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_comments=True, remove_pis=True, recover=True)
    try:
        root = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as error:
        raise FeedError(f"Le flux n'est pas un document XML lisible ({error.msg}).") from error
    channel = next(_children(root, "channel"), None) if root is not None and _local(root) == "rss" else None
    if channel is None:
        raise FeedError("Ce document n'est pas un flux RSS (pas d'élément <rss><channel>).")
    hosts = [name for name, role in _people(channel) if role == "host"]
    items = tuple(parse_item(item, base_url, hosts) for item in _children(channel, "item"))
    return Feed(" ".join(_first_text(channel, "title").split()), items)


def read_feed(client: httpx.Client, source: str) -> Feed:
    """Fetch and parse the feed at a URL, a ``file://`` URL or a local path."""
    try:
        path = local_path(source)
        base_url = path.resolve().as_uri() if path is not None else source
        data = fetch_bytes(client, source)
    except ItemError as error:
        raise FeedError(f"Impossible de lire le flux « {source} » : {error}.") from error
    return parse_feed(data, base_url)
