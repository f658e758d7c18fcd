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

This module runs the import. Its parts stand in their own modules: reading the feed in
``ingest.feed_reading``, fetching files in ``ingest.downloads`` (where ``ItemError`` is
defined) and reading transcripts in ``ingest.transcript_files``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import urlsplit

import httpx
import numpy as np

from archive.records import Utterance, Voice
from archive.settings import Settings
from ingest.audio import Audio, AudioError, file_sha256, load_audio
from ingest.downloads import (
    MAX_BYTES,
    ItemError,
    audio_extension,
    download,
    download_target,
    fetch_bytes,
    local_path,
    make_client,
)
from ingest.feed_reading import Feed, FeedItem, read_feed
from ingest.transcript_files import Cue, TranscriptError, cues_to_utterances, parse_transcript, speaker_labels

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
