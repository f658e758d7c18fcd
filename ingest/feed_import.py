"""Importing the back catalogue of an existing podcast feed.

Each item of an RSS feed becomes an episode: its audio is downloaded (streamed, resumed
with HTTP ``Range`` after an interruption, bounded in size) into the data folder, checked
like any ingested file, and stored with the item's title, date, description, guests, numbers
and guid (so podcast apps do not see the episode twice). When the item links a transcript
(``podcast:transcript`` in WebVTT, SRT or Podcast Namespace JSON), that transcript becomes
the utterances and the speech model is not run; otherwise the item goes through the normal
pipeline. Items already in the archive (same guid or same audio) are skipped, so the import
can be run again. A broken item ends in an ``ItemError`` (French message) and leaves nothing
stored; a feed that cannot be read at all ends in a ``FeedError``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import re
import shutil
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from html.parser import HTMLParser
from pathlib import Path
from typing import Literal, NamedTuple
from urllib.parse import unquote, urljoin, urlsplit
from urllib.request import url2pathname

import httpx
import numpy as np

from archive.records import EpisodeMeta, Guest, Utterance, Voice, Word
from archive.settings import Settings
from ingest.audio import MIME_TYPES, Audio, AudioError, file_sha256, load_audio
from ingest.utterances import LONG_PAUSE, MAX_LENGTH, SENTENCE_ENDS

MAX_BYTES = 1_000_000_000  # largest audio file downloaded for one item (1 GB), unless told otherwise
MAX_TEXT_BYTES = 50_000_000  # a feed or a transcript larger than this is not a feed or a transcript
CHUNK = 1 << 16
DOWNLOAD_ATTEMPTS = 3  # an interrupted download resumes where it stopped, this many times in one run

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

# Audio types of an enclosure, for URLs whose name does not end in a known extension.
AUDIO_TYPES = {
    "audio/mpeg": "mp3", "audio/mp3": "mp3", "audio/mpeg3": "mp3", "audio/x-mpeg": "mp3",
    "audio/mp4": "m4a", "audio/x-m4a": "m4a", "audio/m4a": "m4a", "audio/aac": "aac", "audio/aacp": "aac",
    "audio/ogg": "ogg", "audio/opus": "opus", "audio/wav": "wav", "audio/x-wav": "wav", "audio/wave": "wav",
    "audio/flac": "flac", "audio/x-flac": "flac",
}
# What a server sends instead of audio when the link is broken (an error or login page, a feed).
NOT_AUDIO = ("text/", "application/json", "application/xml", "application/xhtml", "image/")

USER_AGENT = "Parole (import de flux podcast)"


class FeedError(Exception):
    """The feed itself cannot be read; the message says why, in French."""


class ItemError(Exception):
    """One item cannot be imported (the others still can); the message says why, in French."""


class TranscriptError(ItemError):
    """The item's transcript file is not a transcript we can read."""


class InterruptedDownload(ItemError):
    """The network failed mid-download; the partial file is kept so that the next run resumes it."""


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
        return EpisodeMeta(self.title[:300], self.description, self.date or dt.date.today(),
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


# -- fetching -----------------------------------------------------------------------


def local_path(location: str) -> Path | None:
    """The file a ``file://`` URL or a plain path names; None for a web address."""
    parts = urlsplit(location)
    if parts.scheme == "file":
        return Path(url2pathname(unquote(parts.path)))
    if parts.scheme in ("http", "https"):
        return None
    if len(parts.scheme) <= 1:  # no scheme, or a Windows drive letter
        return Path(location).expanduser()
    raise ItemError(f"adresse non prise en charge : {location} (http, https ou file seulement)")


def make_client() -> httpx.Client:
    return httpx.Client(follow_redirects=True, timeout=httpx.Timeout(30.0, read=120.0),
                        headers={"User-Agent": USER_AGENT})


HTTP_REASONS = {401: "accès refusé", 403: "accès refusé", 404: "introuvable", 410: "supprimé",
                429: "trop de requêtes"}


def _http_reason(response: httpx.Response) -> str:
    status = response.status_code
    reason = HTTP_REASONS.get(status) or ("erreur du serveur" if status >= 500 else "réponse inattendue")
    return f"le serveur a répondu {status} ({reason})"


def network_reason(error: httpx.HTTPError) -> str:
    """What went wrong on the network, in French, with the technical detail after it."""
    if isinstance(error, httpx.TimeoutException):
        what = "délai dépassé"
    elif isinstance(error, httpx.ConnectError):
        what = "connexion impossible"
    else:
        what = "erreur réseau"
    return f"{what} ({error})" if str(error) else what


def fetch_bytes(client: httpx.Client, location: str, limit: int = MAX_TEXT_BYTES) -> bytes:
    """A small file (feed, transcript) from the web or the disk, at most ``limit`` bytes."""
    path = local_path(location)
    if path is not None:
        if not path.is_file():
            raise ItemError(f"fichier introuvable : {path}")
        try:
            if path.stat().st_size > limit:
                raise ItemError(f"fichier trop volumineux ({path.stat().st_size} octets, {limit} au plus)")
            return path.read_bytes()
        except OSError as error:
            raise ItemError(f"fichier illisible : {path} ({error.strerror or error})") from error
    try:
        with client.stream("GET", location) as response:
            if response.status_code != 200:
                raise ItemError(_http_reason(response))
            body = bytearray()
            for chunk in response.iter_bytes(CHUNK):
                body += chunk
                if len(body) > limit:
                    raise ItemError(f"fichier trop volumineux (plus de {limit} octets)")
            return bytes(body)
    except httpx.HTTPError as error:
        raise ItemError(f"téléchargement impossible : {network_reason(error)}") from error


def read_feed(client: httpx.Client, source: str) -> Feed:
    """Fetch and parse the feed at a URL, a ``file://`` URL or a local path."""
    try:
        path = local_path(source)
        base_url = path.resolve().as_uri() if path is not None else source
        data = fetch_bytes(client, source)
    except ItemError as error:
        raise FeedError(f"Impossible de lire le flux « {source} » : {error}.") from error
    return parse_feed(data, base_url)


def audio_extension(url: str, declared_type: str) -> str:
    """The audio format an enclosure claims, from its file name or else its type; ItemError if none."""
    suffix = Path(unquote(urlsplit(url).path)).suffix.lower().lstrip(".")
    if suffix in MIME_TYPES:
        return suffix
    if declared_type in AUDIO_TYPES:
        return AUDIO_TYPES[declared_type]
    what = f"type « {declared_type} »" if declared_type else f"extension « .{suffix} »" if suffix else "type inconnu"
    raise ItemError(f"le fichier joint n'est pas un fichier audio pris en charge ({what})")


def _range_start(content_range: str | None) -> int | None:
    match = re.match(r"bytes\s+(\d+)-\d+/", content_range or "")
    return int(match.group(1)) if match else None


def _range_total(content_range: str | None) -> int | None:
    match = re.match(r"bytes\s+[^/]*/(\d+)", content_range or "")
    return int(match.group(1)) if match else None


def _too_big(size: int, max_bytes: int) -> ItemError:
    return ItemError(f"fichier audio trop volumineux ({size / 1e6:.0f} Mo, {max_bytes / 1e6:.0f} Mo au plus ; "
                     f"voir --max-bytes)")


def _stream_once(client: httpx.Client, url: str, part: Path, max_bytes: int) -> bool:
    """One request that appends to ``part`` (HTTP Range) or rewrites it; True when the file is complete."""
    offset = part.stat().st_size if part.exists() else 0
    headers = {"Accept-Encoding": "identity", **({"Range": f"bytes={offset}-"} if offset else {})}
    with client.stream("GET", url, headers=headers) as response:
        if offset and response.status_code == 416:
            if _range_total(response.headers.get("content-range")) == offset:
                return True  # the partial file was already whole
            part.unlink()
            return False
        if offset and response.status_code == 206 and _range_start(response.headers.get("content-range")) == offset:
            mode = "ab"
        elif response.status_code == 200:
            mode, offset = "wb", 0
        elif response.status_code == 206:  # a range we did not ask for: start again from the beginning
            part.unlink()
            return False
        else:
            raise ItemError(_http_reason(response))
        content_type = response.headers.get("content-type", "").split(";")[0].strip().lower()
        if content_type.startswith(NOT_AUDIO):
            raise ItemError(f"le serveur a renvoyé « {content_type} » au lieu d'un fichier audio")
        length = response.headers.get("content-length", "")
        if length.isdigit() and offset + int(length) > max_bytes:
            raise _too_big(offset + int(length), max_bytes)
        written = offset
        with part.open(mode) as out:
            for chunk in response.iter_raw(CHUNK):
                written += len(chunk)
                if written > max_bytes:
                    raise _too_big(written, max_bytes)
                out.write(chunk)
        if length.isdigit() and written != offset + int(length):
            raise httpx.ReadError(f"{written - offset} octets reçus sur {length} annoncés")
    return True


def download(client: httpx.Client, url: str, target: Path, max_bytes: int = MAX_BYTES) -> Path:
    """Download ``url`` to ``target`` through ``target.part``, resuming a partial download.

    A partial file left by an interrupted run (or an interrupted attempt of this one) is
    continued with an HTTP ``Range`` request when the server answers 206; a server without
    ranges sends the whole file again. Too big a file is refused as soon as that is known
    and nothing of it is kept; after a network failure the partial file stays for next time.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    source = local_path(url)
    try:
        if source is not None:
            if not source.is_file():
                raise ItemError(f"fichier introuvable : {source}")
            if source.stat().st_size > max_bytes:
                raise _too_big(source.stat().st_size, max_bytes)
            shutil.copyfile(source, part)
            return part.replace(target)
        failures = 0
        for _ in range(DOWNLOAD_ATTEMPTS * 2):
            try:
                if _stream_once(client, url, part, max_bytes):
                    return part.replace(target)
            except httpx.TransportError as error:
                failures += 1
                if failures >= DOWNLOAD_ATTEMPTS:
                    raise InterruptedDownload(f"téléchargement interrompu : {network_reason(error)} ; relancez la "
                                              "commande pour le reprendre là où il s'est arrêté") from error
        raise ItemError("le serveur ne livre pas le fichier en entier")
    except InterruptedDownload:
        raise  # keep the partial file: the next run resumes it
    except ItemError:
        part.unlink(missing_ok=True)
        raise
    except httpx.HTTPError as error:
        part.unlink(missing_ok=True)
        raise ItemError(f"téléchargement impossible : {network_reason(error)}") from error
    except OSError as error:  # a local file that cannot be read, a full disk
        part.unlink(missing_ok=True)
        raise ItemError(f"fichier impossible à lire ou à écrire ({error.strerror or error})") from error


# -- transcripts --------------------------------------------------------------------


class Cue(NamedTuple):
    """One timed piece of an imported transcript; ``speaker`` is the name the file gives, if any."""

    start: float
    end: float
    speaker: str | None
    text: str


_TIME = r"(?:\d+:)?\d{1,2}:\d{2}[.,]\d{1,3}"
_TIMING = re.compile(rf"^\s*({_TIME})\s*-->\s*({_TIME})")
_VOICE = re.compile(r"<v(?:\.[^\s>]*)?\s+([^>]*)>")
_TAG = re.compile(r"<[^>]*>")
_SRT_NAME = re.compile(r"^\s*([^\W\d_][^:]{0,39}?)\s?:\s+(\S.*)$")


def parse_time(text: str) -> float:
    """``01:02:03.500``, ``02:03.500`` or SRT's ``01:02:03,500`` in seconds."""
    clock, _, fraction = text.strip().replace(",", ".").partition(".")
    seconds = 0.0
    for part in clock.split(":"):
        seconds = seconds * 60 + int(part)
    return seconds + (int(fraction.ljust(3, "0")[:3]) / 1000 if fraction else 0.0)


def _blocks(text: str) -> list[list[str]]:
    """Blank-line separated blocks of lines (BOM and Windows line ends removed)."""
    text = text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    return [block.strip("\n").split("\n") for block in re.split(r"\n[ \t]*\n", text) if block.strip()]


def _timed_block(lines: list[str]) -> tuple[float, float, list[str]] | None:
    """A cue block's times and payload lines (the timing line may follow an identifier line)."""
    for index, line in enumerate(lines[:2]):
        match = _TIMING.match(line)
        if match:
            return parse_time(match.group(1)), parse_time(match.group(2)), lines[index + 1:]
    return None


def parse_vtt(text: str) -> list[Cue]:
    """WebVTT cues; the speaker comes from the ``<v Name>`` voice span, markup is dropped."""
    blocks = _blocks(text)
    if not blocks or not blocks[0][0].startswith("WEBVTT"):
        raise TranscriptError("transcription illisible : ce n'est pas un fichier WebVTT (« WEBVTT » manque en tête)")
    cues = []
    for lines in blocks:
        timed = _timed_block(lines)
        if timed is None:
            continue  # the header, NOTE, STYLE and REGION blocks
        start, end, payload = timed
        joined = " ".join(payload)
        voice = _VOICE.search(joined)
        words = html.unescape(_TAG.sub("", joined)).split()
        speaker = " ".join(html.unescape(voice.group(1)).split()) if voice else None
        cues.append(Cue(start, end, speaker or None, " ".join(words)))
    return cues


def srt_speaker(line: str) -> tuple[str | None, str]:
    """``Jo Spiegel: Bonjour`` → ("Jo Spiegel", "Bonjour"); a line that names nobody is left whole."""
    match = _SRT_NAME.match(line)
    if match:
        name = " ".join(match.group(1).split())
        if name[0].isupper() and len(name.split()) <= 4 and not any(c.isdigit() or c in ",;!?«»\"" for c in name):
            return name, match.group(2)
    return None, line


def parse_srt(text: str) -> list[Cue]:
    """SubRip cues; a ``Name:`` prefix on a cue's first line names its speaker."""
    cues = []
    for lines in _blocks(text):
        timed = _timed_block(lines)
        if timed is None:
            continue
        start, end, payload = timed
        payload = [" ".join(_TAG.sub("", line).split()) for line in payload]
        speaker, first = srt_speaker(payload[0]) if payload else (None, "")
        cues.append(Cue(start, end, speaker, " ".join(" ".join([first, *payload[1:]]).split())))
    if not cues:
        raise TranscriptError("transcription illisible : aucun sous-titre SRT trouvé")
    return cues


def _seconds(value) -> float:
    if isinstance(value, bool) or value is None:
        raise ValueError(value)
    return float(value)


def parse_json(text: str) -> list[Cue]:
    """Podcast Namespace JSON: ``{"version", "segments": [{startTime, endTime, body, speaker}]}``."""
    try:
        document = json.loads(text)
        segments = document["segments"]
        if not isinstance(segments, list):
            raise TypeError("segments")
        cues = []
        for segment in segments:
            body = segment.get("body")
            if not isinstance(body, str):
                raise TypeError("body")
            speaker = segment.get("speaker")
            speaker = " ".join(speaker.split()) if isinstance(speaker, str) else None
            cues.append(Cue(_seconds(segment["startTime"]), _seconds(segment["endTime"]), speaker or None,
                            " ".join(body.split())))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        raise TranscriptError("transcription illisible : ce n'est pas une transcription JSON du Podcast Namespace "
                              "(version, segments avec startTime, endTime et body)") from error
    return cues


PARSERS: dict[str, Callable[[str], list[Cue]]] = {"vtt": parse_vtt, "srt": parse_srt, "json": parse_json}


def decode_text(data: bytes) -> str:
    """UTF-8 (with or without BOM), else Windows-1252, which older French subtitle files use."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def parse_transcript(data: bytes, kind: str) -> list[Cue]:
    """Cues with text, in time order; TranscriptError when the file holds none or impossible times."""
    cues = [cue for cue in PARSERS[kind](decode_text(data)) if cue.text]
    if not cues:
        raise TranscriptError("transcription vide : aucun texte minuté")
    for cue in cues:
        if not (0 <= cue.start <= cue.end) or not np.isfinite(cue.end):
            raise TranscriptError(f"transcription invalide : temps impossibles ({cue.start:.3f} → {cue.end:.3f} s)")
    return sorted(cues, key=lambda cue: cue.start)


def speaker_labels(cues: Iterable[Cue]) -> dict[str, str]:
    """Each distinct speaker name → ``SPEAKER_1``, ``SPEAKER_2``… in order of first appearance."""
    labels: dict[str, str] = {}
    for cue in cues:
        if cue.speaker and cue.speaker not in labels:
            labels[cue.speaker] = f"SPEAKER_{len(labels) + 1}"
    return labels


def _utterance(pieces: list[Cue], speaker: str | None) -> Utterance:
    """Merged cues; when every cue is one word (word-level JSON), they are the utterance's words too."""
    words = ()
    if all(len(cue.text.split()) == 1 for cue in pieces):
        words = tuple(Word(f" {cue.text}", cue.start, cue.end, 1.0) for cue in pieces)
    return Utterance(speaker, pieces[0].start, max(c.end for c in pieces), " ".join(c.text for c in pieces), words)


def cues_to_utterances(cues: list[Cue], labels: dict[str, str], duration: float | None = None) -> list[Utterance]:
    """Join consecutive cues of one speaker into sentences, as the pipeline groups words.

    A cue that names nobody continues the previous speaker (SRT files name a speaker on their
    first cue only). Times are kept inside the audio; a transcript that starts after the end
    of the audio belongs to another file and is refused.
    """
    if duration is not None:
        late = [cue for cue in cues if cue.start > duration + 1.0]
        if late:
            raise TranscriptError(f"la transcription ne correspond pas à l'audio : elle va jusqu'à "
                                  f"{late[-1].start:.0f} s pour {duration:.0f} s d'audio")
        cues = [cue._replace(start=min(cue.start, duration), end=min(cue.end, duration)) for cue in cues]
    result: list[Utterance] = []
    current: list[Cue] = []
    speaker: str | None = None
    for cue in cues:
        label = labels.get(cue.speaker, speaker) if cue.speaker else speaker
        if current and (label != speaker or current[-1].text.endswith(SENTENCE_ENDS)
                        or cue.start - current[-1].end >= LONG_PAUSE or cue.end - current[0].start > MAX_LENGTH):
            result.append(_utterance(current, speaker))
            current = []
        speaker = label
        current.append(cue)
    if current:
        result.append(_utterance(current, speaker))
    return result


# -- voices -------------------------------------------------------------------------

VOICE_WINDOWS = 120  # windows per speaker at most: enough for a stable mean, bounded on a long episode
MIN_VOICE_SPAN = 0.5


def _spans(utterances: list[Utterance], label: str, duration: float) -> list[tuple[float, float]]:
    spans = []
    for utterance in utterances:
        if utterance.speaker != label:
            continue
        start, end = max(0.0, utterance.start), min(duration, utterance.end)
        if end - start < MIN_VOICE_SPAN:  # widen a very short cue around its middle
            middle = (start + end) / 2
            start, end = max(0.0, middle - MIN_VOICE_SPAN / 2), min(duration, middle + MIN_VOICE_SPAN / 2)
        if end > start:
            spans.append((start, end))
    return spans


def voice_embeddings(audio: Audio, utterances: list[Utterance]) -> list[Voice]:
    """A voice embedding per named speaker, from the audio where the transcript says they speak.

    The transcript replaces the speech model, not the speaker model: with a real embedding,
    the voice the transcript names teaches that person's voiceprint, and later episodes
    recognise them.
    """
    from ingest.diarize import FRAMES_PER_SECOND, HOP, WINDOW
    from ingest.fbank import fbank
    from ingest.speaker_model import embed

    labels = list(dict.fromkeys(u.speaker for u in utterances if u.speaker))
    if not labels:
        return []
    features = fbank(audio.samples, normalise=False)
    voices = []
    for label in labels:
        spans = _spans(utterances, label, audio.duration)
        windows: list[tuple[float, float]] = []
        for start, end in spans:
            if end - start <= WINDOW * 1.5:
                windows.append((start, end))
                continue
            position = start
            while position + WINDOW < end:
                windows.append((position, position + WINDOW))
                position += HOP
        if len(windows) > VOICE_WINDOWS:
            windows = [windows[int(i)] for i in np.linspace(0, len(windows) - 1, VOICE_WINDOWS)]
        pieces = [features[int(start * FRAMES_PER_SECOND):int(end * FRAMES_PER_SECOND)] for start, end in windows]
        pieces = [piece - piece.mean(axis=0, keepdims=True) for piece in pieces if len(piece) >= 10]
        if not pieces:
            continue  # too little audio to tell this voice: it stays unnamed rather than get a false voiceprint
        mean = embed(pieces).mean(axis=0)
        mean /= max(float(np.linalg.norm(mean)), 1e-12)
        talk = sum(end - start for start, end in spans)
        voices.append(Voice(label, tuple(float(x) for x in mean), talk))
    return voices


# -- one item -----------------------------------------------------------------------


@dataclass(frozen=True)
class ItemOutcome:
    title: str
    status: Literal["imported", "present", "failed"]
    slug: str | None = None
    reason: str = ""  # why it failed (French)
    from_transcript: bool = False  # the feed's transcript was imported; the speech model did not run
    utterance_count: int = 0
    speaker_count: int = 0
    chapter_count: int = 0
    notices: tuple[str, ...] = ()


def download_target(settings: Settings, url: str, extension: str) -> Path:
    """Where an enclosure downloads to: the same name on every run, so a partial download resumes."""
    key = hashlib.sha256(url.encode()).hexdigest()[:24]
    return settings.data_dir / "downloads" / f"{key}.{extension}"


def _store_with_transcript(item: FeedItem, audio: Audio, cues: list[Cue], archive, settings: Settings) -> ItemOutcome:
    """Save the episode with the feed's transcript as utterances, then name its speakers."""
    from ingest.topics import chapters

    labels = speaker_labels(cues)
    utterances = cues_to_utterances(cues, labels, audio.duration)
    voices = voice_embeddings(audio, utterances)
    parts = chapters(utterances, audio.duration, settings.chapter_min_share)
    saved = archive.save_episode(item.meta(), audio.source, utterances, voices, parts)
    if not saved.created:
        return ItemOutcome(item.title, "present", saved.slug)
    voiced = {voice.label for voice in voices}
    notices = []
    for name, label in labels.items():
        if label in voiced:
            archive.name_speaker(saved.id, label, name, host=name in item.hosts)
        else:
            notices.append(f"« {name} » parle trop peu pour reconnaître sa voix : ses passages restent anonymes.")
    return ItemOutcome(item.title, "imported", saved.slug, from_transcript=True, utterance_count=len(utterances),
                       speaker_count=len(voiced), chapter_count=len(parts), notices=tuple(notices))


def check_location(url: str, allow_files: bool) -> None:
    """A feed from the web may only point to the web: never let it read files on this machine."""
    if not allow_files and urlsplit(url).scheme not in ("http", "https"):
        raise ItemError(f"adresse refusée dans un flux distant : {url} (http ou https seulement)")


def import_item(item: FeedItem, archive, settings: Settings, client: httpx.Client,
                max_bytes: int = MAX_BYTES, allow_files: bool = False) -> ItemOutcome:
    """Import one item, or say it is already there; ItemError (French) when it cannot be imported.

    ``allow_files``: the feed is a local file, so its items may name local files too.
    """
    from ingest.pipeline import ingest_file

    meta = item.meta()
    present = archive.find_by_guid(meta.guid) if meta.guid else None
    if present:
        return ItemOutcome(item.title, "present", present.slug)
    if not item.audio_url:
        raise ItemError("aucun fichier audio (pas d'élément <enclosure>)")
    check_location(item.audio_url, allow_files)
    if item.transcript:
        check_location(item.transcript.url, allow_files)
    extension = audio_extension(item.audio_url, item.audio_type)
    cues = None
    if item.transcript:
        try:
            data = fetch_bytes(client, item.transcript.url)
        except ItemError as error:
            raise TranscriptError(f"transcription introuvable : {error}") from error
        cues = parse_transcript(data, item.transcript.format)
    path = download(client, item.audio_url, download_target(settings, item.audio_url, extension), max_bytes)
    try:
        existing = archive.find_by_audio(file_sha256(path))
        if existing:
            return ItemOutcome(item.title, "present", existing.slug)
        try:
            if cues is not None:
                return _store_with_transcript(item, load_audio(path), cues, archive, settings)
            result = ingest_file(path, meta, archive, settings)
        except AudioError as error:
            raise ItemError(str(error)) from error
        if not result.episode.created:
            return ItemOutcome(item.title, "present", result.episode.slug)
        return ItemOutcome(item.title, "imported", result.episode.slug, utterance_count=result.utterance_count,
                           speaker_count=result.speaker_count, chapter_count=result.chapter_count,
                           notices=result.notices)
    finally:
        path.unlink(missing_ok=True)


# -- the whole feed -----------------------------------------------------------------


@dataclass
class ImportReport:
    feed: Feed
    outcomes: list[ItemOutcome] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for outcome in self.outcomes if outcome.status == status)


def _plural(count: int, singular: str, plural: str) -> str:
    return f"{count} {singular if count < 2 else plural}"


def summary(report: ImportReport) -> str:
    """``2 épisodes importés, 1 déjà présent, 1 en échec`` (French: 0 and 1 take the singular)."""
    return (f"{_plural(report.count('imported'), 'épisode importé', 'épisodes importés')}, "
            f"{_plural(report.count('present'), 'déjà présent', 'déjà présents')}, "
            f"{report.count('failed')} en échec")


def import_feed(source: str, settings: Settings, max_bytes: int = MAX_BYTES,
                on_start: Callable[[int, int, FeedItem], None] | None = None,
                on_item: Callable[[ItemOutcome], None] | None = None) -> ImportReport:
    """Import every item of the feed at ``source``, one after the other, the broken ones reported.

    FeedError when the feed cannot be read. Errors that would fail every item alike (no
    speech model, a database fault) are not caught here: they stop the import.
    """
    from archive.store import Archive

    with make_client() as client:
        feed = read_feed(client, source)
        allow_files = local_path(source) is not None
        report = ImportReport(feed)
        archive = Archive(settings)
        try:
            for position, item in enumerate(feed.items, start=1):
                if on_start:
                    on_start(position, len(feed.items), item)
                try:
                    outcome = import_item(item, archive, settings, client, max_bytes, allow_files)
                except ItemError as error:
                    outcome = ItemOutcome(item.title, "failed", reason=str(error))
                report.outcomes.append(outcome)
                if on_item:
                    on_item(outcome)
        finally:
            archive.close()
    return report
