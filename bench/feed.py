"""How long the podcast feed takes for a large archive, built and cached, against plain feedgen.

An archive of 1,000 published episodes (three people each, 3 to 5 chapters, a soundbite,
numbers and seasons) is written to a fresh SQLite database. Measured in the same run:

- uncached: what the site does when the catalogue changed, reading the live episodes
  and building the whole feed with every iTunes and Podcast Namespace tag;
- cached: what the site does for every other request (two small SQL reads, then the
  feed from memory), in process and through a real ``parole serve`` over HTTP, with and
  without ``If-None-Match`` (304);
- the peer: the same 1,000 items built with plain feedgen and no extension (title, link,
  description, guid, enclosure, date only).

    python bench/feed.py [--episodes 1000] [--repeat 5]

Targets: cached under 5 ms, uncached under 500 ms.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from feedgen.feed import FeedGenerator  # noqa: E402

from archive import revisions  # noqa: E402
from archive.catalogue import feed_episodes, publication_time  # noqa: E402
from archive.db import Database  # noqa: E402
from archive.models import Chapter, Episode, EpisodePerson, Person  # noqa: E402
from archive.settings import Settings  # noqa: E402
from bench.topic_corpus import SUBJECTS  # noqa: E402
from feeds.rss import audio_url, episode_url  # noqa: E402
from tests.helpers import start_server  # noqa: E402
from web.feed_cache import FeedCache  # noqa: E402


def fill(settings: Settings, count: int, seed: int = 3) -> None:
    """``count`` published episodes with people, chapters and a soundbite, in one transaction."""
    rng = random.Random(seed)
    database = Database(settings)
    subjects = sorted(SUBJECTS)
    with database.sessions.begin() as session:
        people = [Person(slug=f"personne-{n}", name=f"Personne {n}", role="agent territorial") for n in range(60)]
        session.add_all(people)
        start = dt.date(2015, 1, 5)
        for number in range(count):
            chosen = rng.sample(subjects, rng.randint(3, 5))
            duration = rng.uniform(1800, 3000)
            episode = Episode(
                slug=f"episode-{number}", title=f"Épisode {number} : {chosen[0]}",
                date=start + dt.timedelta(days=3 * number),
                description=f"Des agents racontent {', '.join(chosen)}.", duration=duration,
                audio_sha256=f"{number:064d}", audio_ext="mp3", audio_mime="audio/mpeg",
                audio_size=rng.randint(20_000_000, 60_000_000), episode_number=number + 1, season=1 + number // 50,
                soundbite_start=120.0, soundbite_duration=45.0, soundbite_title=rng.choice(SUBJECTS[chosen[0]])[:120])
            for position, person in enumerate(rng.sample(people, 3)):
                episode.people.append(EpisodePerson(person=person, role="host" if position == 0 else "guest",
                                                    position=position))
            for index, subject in enumerate(chosen):
                episode.chapters.append(Chapter(start=index * duration / len(chosen),
                                                end=(index + 1) * duration / len(chosen), title=subject.capitalize(),
                                                keywords=subject.split()))
            session.add(episode)
        revisions.bump(session)
    database.dispose()


def plain_feed(settings: Settings, episodes: list) -> bytes:
    """The peer: the same items with feedgen alone, no iTunes or Podcast Namespace tag."""
    fg = FeedGenerator()
    fg.title(settings.programme_title)
    fg.description(settings.programme_tagline)
    fg.link(href=f"{settings.public_base_url}/", rel="alternate")
    fg.language("fr")
    for episode in sorted(episodes, key=lambda e: (e.date, e.id)):
        entry = fg.add_entry()
        entry.guid(episode.guid, permalink=False)
        entry.title(episode.title)
        entry.link(href=episode_url(settings, episode))
        entry.description(episode.description)
        entry.pubDate(publication_time(episode))
        entry.enclosure(audio_url(settings, episode), str(episode.audio_size), episode.audio_mime)
    return fg.rss_str(pretty=True)


def milliseconds(call, repeat: int) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        settings = Settings(data_dir=Path(folder))
        fill(settings, args.episodes)
        database = Database(settings)
        now = dt.datetime.now(dt.UTC)
        with database.session() as session:
            uncached = milliseconds(lambda: FeedCache(settings).get(session, now), args.repeat)
            cache = FeedCache(settings)
            size = len(cache.get(session, now).body)
            cached = milliseconds(lambda: cache.get(session, now), 200)
            episodes = feed_episodes(session, now)
            peer_build = milliseconds(lambda: plain_feed(settings, episodes), args.repeat)
            peer = milliseconds(lambda: plain_feed(settings, feed_episodes(session, now)), args.repeat)
        database.dispose()

        # tantivy indexes the 1,000 episodes in seconds when the server opens the archive.
        server = start_server(Path(folder), PAROLE_SEARCH_ENGINE="tantivy")
        try:
            with httpx.Client(base_url=server.base_url, timeout=30) as client:
                etag = client.get("/feed.xml").headers["etag"]
                http_full = milliseconds(lambda: client.get("/feed.xml"), 100)
                http_304 = milliseconds(lambda: client.get("/feed.xml", headers={"If-None-Match": etag}), 100)
        finally:
            server.stop()

    rows = [
        ("Parole, sans cache (lecture + construction)", uncached),
        ("Parole, en cache (en mémoire)", cached),
        ("Parole, en cache, HTTP 200", http_full),
        ("Parole, en cache, HTTP 304", http_304),
        ("feedgen seul (lecture + construction)", peer),
        ("feedgen seul (construction)", peer_build),
    ]
    print(f"\nFlux de {args.episodes} épisodes ({size / 1e6:.1f} Mo)")
    print(f"{'mesure':46} {'médiane ms':>11} {'p95 ms':>8}")
    for label, values in rows:
        ordered = sorted(values)
        print(f"{label:46} {statistics.median(values):11.2f} {ordered[round(0.95 * (len(ordered) - 1))]:8.2f}")
    ratio = statistics.median(uncached) / statistics.median(peer)
    print(f"Rapport sans cache Parole / feedgen seul : {ratio:.2f}")
    print(f"Objectifs : en cache < 5 ms ({'atteint' if statistics.median(cached) < 5 else 'manqué'}), "
          f"sans cache < 500 ms ({'atteint' if statistics.median(uncached) < 500 else 'manqué'})")


if __name__ == "__main__":
    main()
